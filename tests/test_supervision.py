"""Evaluation through the one-time link and the paper form; the bad-review follow-up loop."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import current_app
from sqlalchemy import select

from extensions import db
from lifecycle.errors import TransitionError
from lifecycle.evaluation_links import token_for
from lifecycle.supervision import advance_followup
from models import AuditLog, Case, Evaluation, FollowUp, User
from models.enums import Status
from models.time import utcnow
from tests.builders import login_as


def _secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


@pytest.fixture
def unevaluated(demo_app):
    """A completed case with an unused evaluation link, handled at a 峡山街道 village."""
    case = db.session.scalar(
        select(Case)
        .where(
            Case.status == Status.COMPLETED.value,
            ~Case.evaluation.has(),
            Case.evaluation_link.has(),
            Case.center.has(name="东山社区便民服务站"),
        )
        .order_by(Case.closed_date.desc())
        .limit(1)
    )
    case.evaluation_link.expires_at = utcnow() + dt.timedelta(days=1)  # the demo data ages; keep this one live
    db.session.commit()
    return case


ALL_FIVE = {f: "5" for f in ("overall", "attitude", "efficiency", "competence", "communication", "integrity")}


def _link_url(case: Case) -> str:
    return f"/e/{token_for(case.evaluation_link, _secret())}"


def test_the_public_page_needs_no_login_and_is_in_chinese(demo_app, unevaluated):
    body = demo_app.test_client().get(_link_url(unevaluated)).get_data(as_text=True)
    # The plan's paper form is 委托代办服务评价表; an assisted service is rated on the same items.
    title = (
        '<h1 class="h4">' + ("委托代办服务评价表" if unevaluated.mode == "delegated" else "帮办服务评价表") + "</h1>"
    )
    assert title in body and unevaluated.number in body and "非常满意" in body
    assert unevaluated.applicant.name not in body  # no personal data on a public page
    assert 'name="viewport"' in body


def test_a_bad_rating_through_the_link_opens_a_follow_up_for_the_town_admin(demo_app, unevaluated):
    client = demo_app.test_client()
    response = client.post(
        _link_url(unevaluated),
        data={
            "overall": "2",
            "attitude": "2",
            "efficiency": "3",
            "competence": "3",
            "communication": "2",
            "integrity": "5",
            "comment": "等了很久没人告知进度",
            "consent_callback": "y",
        },
    )
    assert "评价已提交" in response.get_data(as_text=True)
    evaluation = db.session.scalar(select(Evaluation).where(Evaluation.case_id == unevaluated.id))
    assert evaluation.channel == "link" and evaluation.overall == 2
    followup = evaluation.followup
    assert followup.status == "open" and followup.assignee.username == "xiashan_admin"
    assert followup.due_date > dt.date(2026, 11, 20)
    again = client.get(_link_url(unevaluated))
    assert again.status_code == 410 and "该评价链接已使用" in again.get_data(as_text=True)


def test_asking_for_something_opens_a_follow_up_even_with_a_good_rating(demo_app, unevaluated):
    demo_app.test_client().post(_link_url(unevaluated), data={**ALL_FIVE, "asked_for_anything": "y"})
    evaluation = db.session.scalar(select(Evaluation).where(Evaluation.case_id == unevaluated.id))
    assert evaluation.asked_for_anything and evaluation.followup is not None


def test_a_good_rating_opens_nothing(demo_app, unevaluated):
    demo_app.test_client().post(_link_url(unevaluated), data=ALL_FIVE)
    evaluation = db.session.scalar(select(Evaluation).where(Evaluation.case_id == unevaluated.id))
    assert evaluation.overall == 5 and evaluation.followup is None


@pytest.mark.parametrize("token", ["1-" + "0" * 40, "abc", "999999-" + "a" * 40])
def test_unknown_or_forged_tokens_get_a_clear_message(demo_app, token):
    response = demo_app.test_client().get(f"/e/{token}")
    assert response.status_code == 404 and "该评价链接不存在或已失效" in response.get_data(as_text=True)


def test_an_expired_link_says_so(demo_app, unevaluated):
    unevaluated.evaluation_link.expires_at = dt.datetime(2020, 1, 1)
    db.session.commit()
    response = demo_app.test_client().get(_link_url(unevaluated))
    assert response.status_code == 410 and "已过期" in response.get_data(as_text=True)


def test_the_link_is_rate_limited(demo_app):
    client = demo_app.test_client()
    codes = [client.get("/e/1-" + "0" * 40).status_code for _ in range(35)]
    assert codes[:30] == [404] * 30 and 429 in codes[30:]


def test_a_missing_overall_rating_is_refused_in_chinese(demo_app, unevaluated):
    body = demo_app.test_client().post(_link_url(unevaluated), data={"comment": "x"}).get_data(as_text=True)
    assert "请选择总体评价" in body
    assert db.session.scalar(select(Evaluation).where(Evaluation.case_id == unevaluated.id)) is None


def test_a_paper_evaluation_entered_by_a_clerk_also_opens_the_follow_up(client, unevaluated):
    login_as(client, "xiashan_admin")
    response = client.post(
        "/admin/evaluation/new/",
        data={
            "case": unevaluated.id,
            "overall": "1",
            "attitude": "1",
            "efficiency": "1",
            "competence": "1",
            "communication": "1",
            "integrity": "1",
            "paper_ref": "PJ-2026-0001",
            "comment": "态度差",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    evaluation = db.session.scalar(select(Evaluation).where(Evaluation.case_id == unevaluated.id))
    assert evaluation.followup is not None and evaluation.followup.assignee.username == "xiashan_admin"


def test_an_open_case_cannot_be_evaluated(client):
    login_as(client, "qu_admin")
    open_case = db.session.scalar(select(Case).where(Case.status == Status.IN_PROGRESS.value).limit(1))
    body = client.post(
        "/admin/evaluation/new/",
        data={
            "case": open_case.id,
            "overall": "5",
            "attitude": "5",
            "efficiency": "5",
            "competence": "5",
            "communication": "5",
            "integrity": "5",
            "paper_ref": "PJ-2026-0002",
        },
    ).get_data(as_text=True)
    assert "案件办结或终止后才能评价" in body
    assert db.session.scalar(select(Evaluation).where(Evaluation.case_id == open_case.id)) is None


def _open_followup() -> FollowUp:
    return db.session.scalar(select(FollowUp).where(FollowUp.status == "open").limit(1))


def test_a_follow_up_goes_through_call_back_rectification_feedback_and_close(client):
    followup = _open_followup()
    admin = db.session.scalar(select(User).where(User.username == "qu_admin"))
    for step, data, status in [
        ("call_back", {"callback_record": "电话回访，申请人反映等候时间长"}, "called_back"),
        ("rectify", {"rectification": "增设取号提醒，立行立改"}, "rectified"),
        ("give_feedback", {"feedback": "已电话告知整改措施，申请人认可"}, "feedback_given"),
        ("close", {}, "closed"),
    ]:
        advance_followup(db.session, followup, step, admin, data)
        assert followup.status == status
    assert followup.closed_date is not None and followup.callback_by
    steps = db.session.scalars(
        select(AuditLog.changes).where(AuditLog.event == "followup", AuditLog.object_id == str(followup.id))
    ).all()
    assert len(steps) == 4


def test_follow_up_steps_keep_their_order_and_need_their_record(client):
    followup = _open_followup()
    admin = db.session.scalar(select(User).where(User.username == "qu_admin"))
    with pytest.raises(TransitionError, match="不能“办结回访”"):
        advance_followup(db.session, followup, "close", admin, {})
    with pytest.raises(TransitionError, match="请填写回访记录"):
        advance_followup(db.session, followup, "call_back", admin, {"callback_record": " "})
    assert followup.status == "open"


def test_an_appeal_marks_a_mistaken_review_and_closes(client):
    followup = _open_followup()
    admin = db.session.scalar(select(User).where(User.username == "qu_admin"))
    advance_followup(
        db.session, followup, "appeal", admin, {"appeal_outcome": "mistaken", "appeal_reason": "申请人误点评价"}
    )
    assert followup.status == "closed" and followup.appeal_outcome == "mistaken"


def test_the_auditor_cannot_work_a_follow_up(client):
    followup = _open_followup()
    auditor = db.session.scalar(select(User).where(User.username == "qu_audit"))
    with pytest.raises(TransitionError, match="不在您的办理范围内"):
        advance_followup(db.session, followup, "call_back", auditor, {"callback_record": "x"})


def test_follow_up_steps_from_the_console_and_the_overdue_flag(client):
    login_as(client, "qu_admin")
    followup = _open_followup()
    followup.due_date = dt.date(2026, 1, 5)
    db.session.commit()
    listing = client.get("/admin/followup/?flt0_due_date_overduefollowupfilter=overdue").get_data(as_text=True)
    assert "已超期" in listing and followup.evaluation.case.number in listing
    page = client.get(f"/admin/followup/details/?id={followup.id}").get_data(as_text=True)
    assert "回访" in page and "申诉复核" in page
    response = client.post(
        f"/admin/followup/step/call_back/?id={followup.id}",
        data={"callback_record": "已电话联系申请人"},
        follow_redirects=True,
    )
    assert "回访记录已保存" in response.get_data(as_text=True)
    assert db.session.get(FollowUp, followup.id).status == "called_back"


def test_a_follow_up_is_found_by_its_case_number_from_the_start(client):
    followup = db.session.scalars(select(FollowUp).order_by(FollowUp.id)).first()
    number = followup.case.number
    others = db.session.scalars(select(FollowUp).join(Case).where(~Case.number.startswith(number[:-2]))).all()
    assert others, "the demo data should have follow-ups of other cases"
    login_as(client, "qu_admin")
    body = client.get(f"/admin/followup/?search={number[:-2].lower()}").get_data(as_text=True)
    assert number in body
    assert all(other.case.number not in body for other in others)
