"""Ratings supervision can trust: a blank public form, paper forms marked as staff-entered, the
applicant's own rating counting, and the one-time link only in the holding center's hands."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from flask import current_app
from sqlalchemy import func, select, update

from extensions import db
from lifecycle.errors import TransitionError
from lifecycle.evaluation_links import token_for
from lifecycle.supervision import record_evaluation
from models import AuditLog, Case, Center, Evaluation, EvaluationLink, User, refresh_derived
from models.enums import Status
from models.time import utcnow
from tests.builders import login_as
from tests.pdftext import text as pdf_text

ITEMS = ("overall", "attitude", "efficiency", "competence", "communication", "integrity")
# The Chinese message each missing item gets (the labels of domain.md §1.8, written out by hand).
MISSING_MESSAGES = {
    "overall": "请选择总体评价",
    "attitude": "请选择服务态度",
    "efficiency": "请选择办事效率(是否按时)",
    "competence": "请选择业务水平",
    "communication": "请选择进度告知",
    "integrity": "请选择廉洁自律",
}
ALL_FIVE = dict.fromkeys(ITEMS, "5")
ALL_ONE = dict.fromkeys(ITEMS, "1")


def _secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


def _link_url(case: Case) -> str:
    return f"/e/{token_for(case.evaluation_link, _secret())}"


def _unrated(center: str, *, delegated: bool = False) -> Case:
    """A completed case of `center` with an unused link and no rating; its link kept live."""
    query = select(Case).where(
        Case.status == Status.COMPLETED.value,
        ~Case.evaluations.any(),
        Case.evaluation_link.has(EvaluationLink.used_at.is_(None)),
        Case.center.has(name=center),
    )
    if delegated:
        query = query.where(Case.mode == "delegated")
    case = db.session.scalar(query.order_by(Case.id).limit(1))
    assert case is not None
    case.evaluation_link.expires_at = utcnow() + dt.timedelta(days=3)
    db.session.commit()
    return case


@pytest.fixture
def closed_case(demo_app):
    """A completed case of 东山社区便民服务站 (a 峡山街道 village station), not yet rated."""
    return _unrated("东山社区便民服务站")


@pytest.fixture
def town_case(demo_app):
    """A completed delegated case (it has the printed forms) of 峡山街道便民服务中心, not yet rated."""
    return _unrated("峡山街道便民服务中心", delegated=True)


def _paper(case: Case, **overrides) -> dict:
    return {"case": case.id, **ALL_FIVE, "paper_ref": "PJ-2026-1120-01", "comment": "", **overrides}


def _evaluations(case: Case) -> list[Evaluation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Evaluation).where(Evaluation.case_id == case.id).order_by(Evaluation.id)))


# --- 1. the public page starts blank ---------------------------------------------------------------
class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            self.inputs.append(dict(attrs))


def _inputs(body: str) -> list[dict[str, str | None]]:
    parser = _Inputs()
    parser.feed(body)
    return parser.inputs


def test_the_public_form_starts_with_no_rating_chosen_and_no_consent_ticked(demo_app, closed_case):
    body = demo_app.test_client().get(_link_url(closed_case)).get_data(as_text=True)
    inputs = _inputs(body)
    radios = [i for i in inputs if i.get("type") == "radio"]
    assert {r["name"] for r in radios} == set(ITEMS) and len(radios) == 6 * 5
    assert [r for r in radios if "checked" in r] == []
    consent = next(i for i in inputs if i.get("name") == "consent_callback")
    assert consent["type"] == "checkbox" and "checked" not in consent


def test_each_missing_item_is_named_in_chinese_and_what_was_typed_stays(demo_app, closed_case):
    response = demo_app.test_client().post(
        _link_url(closed_case),
        data={"overall": "2", "comment": "等候时间太长", "evaluator_name": "陈先生", "consent_callback": "y"},
    )
    body = response.get_data(as_text=True)
    for item in ITEMS[1:]:
        assert MISSING_MESSAGES[item] in body, item
    assert MISSING_MESSAGES["overall"] not in body
    inputs = _inputs(body)
    assert [i["value"] for i in inputs if i.get("name") == "overall" and "checked" in i] == ["2"]
    assert "checked" in next(i for i in inputs if i.get("name") == "consent_callback")
    assert "等候时间太长" in body and 'value="陈先生"' in body
    assert _evaluations(closed_case) == []
    assert db.session.get(Case, closed_case.id).evaluation_link.used_at is None


def test_without_a_tick_the_applicant_has_not_agreed_to_a_call_back(demo_app, closed_case):
    demo_app.test_client().post(_link_url(closed_case), data=ALL_FIVE)
    [evaluation] = _evaluations(closed_case)
    assert evaluation.consent_callback is False


def test_a_ticked_box_records_consent(demo_app, closed_case):
    demo_app.test_client().post(_link_url(closed_case), data={**ALL_FIVE, "consent_callback": "y"})
    [evaluation] = _evaluations(closed_case)
    assert evaluation.consent_callback is True


# --- 2. paper forms: entered by staff, the applicant's own rating counts ----------------------------
def test_a_paper_form_is_marked_as_entered_by_staff_and_leaves_the_link_open(client, closed_case):
    login_as(client, "xiashan_admin")
    response = client.post("/admin/evaluation/new/", data=_paper(closed_case, comment="纸质表：服务热情"))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    [paper] = _evaluations(closed_case)
    clerk = db.session.scalar(select(User).where(User.username == "xiashan_admin"))
    assert (paper.channel, paper.entered_by_id, paper.paper_ref, paper.counted) == (
        "paper",
        clerk.id,
        "PJ-2026-1120-01",
        True,
    )
    audit_row = db.session.scalar(
        select(AuditLog).where(
            AuditLog.event == "create", AuditLog.object_type == "evaluation", AuditLog.object_id == str(paper.id)
        )
    )
    assert audit_row is not None and audit_row.username == "xiashan_admin"
    # The applicant's own link is untouched and still opens the form.
    assert db.session.get(Case, closed_case.id).evaluation_link.used_at is None
    assert "服务评价表" in client.get(_link_url(closed_case)).get_data(as_text=True)
    listing = client.get(f"/admin/evaluation/?search={closed_case.number}").get_data(as_text=True)
    assert "录入人" in listing and str(clerk) in listing and "纸质评价表" in listing
    details = client.get(f"/admin/evaluation/details/?id={paper.id}").get_data(as_text=True)
    assert "纸质评价表编号" in details and "PJ-2026-1120-01" in details and str(clerk) in details
    case_page = client.get(f"/admin/case/details/?id={closed_case.id}").get_data(as_text=True)
    assert "工作人员录入" in case_page and "PJ-2026-1120-01" in case_page
    assert "evaluation-url" in case_page  # the applicant may still rate


def test_the_applicants_own_rating_then_takes_the_count_from_the_paper_form(client, town_case):
    login_as(client, "qu_admin")
    client.post("/admin/evaluation/new/", data=_paper(town_case, **ALL_ONE, comment="纸质表：态度差"))
    home = client.get("/admin/").get_data(as_text=True)
    bad_before = int(re.search(r"差评\(不满意/非常不满意\)</div><div class=\"h3 mb-0\">(\d+)<", home).group(1))
    response = client.post(_link_url(town_case), data={**ALL_FIVE, "comment": "本人评价：很满意"})
    assert "评价已提交" in response.get_data(as_text=True)
    paper, own = _evaluations(town_case)
    assert (paper.channel, paper.counted, own.channel, own.counted) == ("paper", False, "link", True)
    assert db.session.get(Case, town_case.id).evaluation.id == own.id
    assert paper.followup is not None  # the bad paper review is still followed up
    home = client.get("/admin/").get_data(as_text=True)
    bad_after = int(re.search(r"差评\(不满意/非常不满意\)</div><div class=\"h3 mb-0\">(\d+)<", home).group(1))
    assert bad_after == bad_before - 1
    case_page = client.get(f"/admin/case/details/?id={town_case.id}").get_data(as_text=True)
    assert "非常满意（一次性评价链接" in case_page and "不计入评价结果" in case_page
    assert "evaluation-url" not in case_page  # the link has been used
    form6 = pdf_text(client.get(f"/admin/case/annex/6/?id={town_case.id}").get_data())
    assert "本表据一次性评价链接" in form6


def test_a_paper_form_entered_after_the_applicants_own_is_kept_uncounted(client, closed_case):
    client.post(_link_url(closed_case), data=ALL_FIVE)
    login_as(client, "xiashan_admin")
    response = client.post("/admin/evaluation/new/", data=_paper(closed_case, **ALL_ONE))
    assert response.status_code == 302
    own, paper = _evaluations(closed_case)
    assert (own.channel, own.counted, paper.channel, paper.counted) == ("link", True, "paper", False)
    assert paper.followup is not None and paper.followup.assignee.username == "xiashan_admin"
    listing = client.get(f"/admin/evaluation/?search={closed_case.number}").get_data(as_text=True)
    assert "否(以申请人本人评价为准)" in listing


def test_a_paper_form_needs_its_reference(client, closed_case):
    login_as(client, "xiashan_admin")
    body = client.post("/admin/evaluation/new/", data=_paper(closed_case, paper_ref="")).get_data(as_text=True)
    assert "请填写纸质评价表编号" in body
    assert _evaluations(closed_case) == []


def test_a_second_paper_form_for_the_same_case_is_refused(client, closed_case):
    login_as(client, "xiashan_admin")
    client.post("/admin/evaluation/new/", data=_paper(closed_case))
    body = client.post("/admin/evaluation/new/", data=_paper(closed_case, paper_ref="PJ-2")).get_data(as_text=True)
    assert "该案件已录入纸质评价表，不能重复录入" in body
    assert len(_evaluations(closed_case)) == 1


# Who may type in the paper form of a case handled by 东山社区便民服务站 (a 峡山街道 village).
PAPER_ENTRY = [
    ("qu_admin", 302, "saved"),
    ("xiashan_admin", 302, "saved"),
    ("xiashan_dongshan", 403, "您没有权限访问该页面"),  # the station that handled it
    ("qu_audit", 403, "您没有权限访问该页面"),
    ("chendian_admin", 200, "所选案件不存在或不在您的办理范围内"),  # another town: the case is not offered
]


@pytest.mark.parametrize(("username", "status", "outcome"), PAPER_ENTRY)
def test_who_may_enter_a_paper_form_of_a_village_case(client, closed_case, username, status, outcome):
    login_as(client, username)
    response = client.post("/admin/evaluation/new/", data=_paper(closed_case))
    assert response.status_code == status
    if outcome == "saved":
        [paper] = _evaluations(closed_case)
        assert paper.entered_by.username == username
    else:
        assert outcome in response.get_data(as_text=True)
        assert _evaluations(closed_case) == []


def test_a_town_center_does_not_enter_the_rating_of_its_own_case(client):
    town_case = db.session.scalar(
        select(Case)
        .where(
            Case.status == Status.COMPLETED.value,
            ~Case.evaluations.any(),
            Case.center.has(name="峡山街道便民服务中心"),
        )
        .order_by(Case.id)
        .limit(1)
    )
    login_as(client, "xiashan_admin")
    body = client.post("/admin/evaluation/new/", data=_paper(town_case)).get_data(as_text=True)
    assert "本机构承办的案件不能由本机构录入评价表" in body
    assert _evaluations(town_case) == []
    client.post("/logout")
    login_as(client, "qu_admin")
    assert client.post("/admin/evaluation/new/", data=_paper(town_case)).status_code == 302
    assert [e.entered_by.username for e in _evaluations(town_case)] == ["qu_admin"]


def test_the_lifecycle_refuses_a_stations_own_paper_form(demo_app, closed_case):
    operator = db.session.scalar(select(User).where(User.username == "xiashan_dongshan"))
    with pytest.raises(TransitionError, match="本机构承办的案件不能由本机构录入评价表"):
        record_evaluation(db.session, closed_case, {"overall": 5}, "paper", 15, entered_by=operator, paper_ref="PJ-1")
    db.session.rollback()
    assert _evaluations(closed_case) == []


# --- 3. the link and its QR only for the center holding the case -----------------------------------
def _hand_up_to_district(case: Case) -> None:
    """The case as if 峡山街道 had handed it up: the district now holds it, 峡山街道 keeps reading it (首问负责)."""
    district = db.session.scalar(select(Center.id).where(Center.name == "潮南区政务服务中心"))
    db.session.execute(
        update(Case).where(Case.id == case.id).values(origin_center_id=case.center_id, center_id=district)
    )
    # Past the ORM, so the copies of the case's centers on its records are re-derived as a hand-off would.
    refresh_derived(db.session.connection())
    db.session.commit()
    db.session.expire_all()


# (who, handed up first?, sees the link) for a case received by 峡山街道便民服务中心.
LINK_VISIBILITY = [
    ("xiashan_admin", False, True),  # the center holding it
    ("qu_admin", False, True),  # the district admin above it
    ("qu_audit", False, False),
    ("xiashan_admin", True, False),  # handed up: reads the case, no longer hands out the link
    ("qu_admin", True, True),  # now holding it
    ("qu_audit", True, False),
]


@pytest.mark.parametrize(("username", "handed_up", "sees_link"), LINK_VISIBILITY)
def test_the_link_and_its_qr_are_for_the_center_holding_the_case(client, town_case, username, handed_up, sees_link):
    if handed_up:
        _hand_up_to_district(town_case)
    token = token_for(town_case.evaluation_link, _secret())
    login_as(client, username)
    page = client.get(f"/admin/case/details/?id={town_case.id}").get_data(as_text=True)
    assert town_case.number in page  # every one of them reads the case
    assert (token in page) is sees_link
    slip = pdf_text(client.get(f"/admin/case/annex/5/?id={town_case.id}").get_data())
    assert town_case.number in slip
    if sees_link:
        assert "请用手机扫描左侧二维码" in slip and "评价二维码由承办机构提供" not in slip
    else:
        assert "评价二维码由承办机构提供" in slip and "扫描左侧二维码" not in slip


def test_a_batch_export_prints_the_qr_only_for_the_holding_center(demo_app, town_case):
    from annexes.batch import _sheets_for

    auditor = db.session.scalar(select(User).where(User.username == "qu_audit"))
    holder = db.session.scalar(select(User).where(User.username == "xiashan_admin"))
    [for_auditor] = _sheets_for(town_case, [5], utcnow(), auditor)
    [for_holder] = _sheets_for(town_case, [5], utcnow(), holder)
    assert for_auditor.evaluation_url is None and for_auditor.evaluation_note == "评价二维码由承办机构提供。"
    assert for_holder.evaluation_url and token_for(town_case.evaluation_link, _secret()) in for_holder.evaluation_url


# --- 5. demo data ---------------------------------------------------------------------------------
def test_the_demo_has_staff_entered_paper_forms_and_a_case_rated_both_ways(demo_app):
    papers = db.session.scalars(select(Evaluation).where(Evaluation.channel == "paper")).all()
    assert papers and all(e.entered_by is not None and e.paper_ref for e in papers)
    both = db.session.scalars(
        select(Case).where(
            Case.evaluations.any(Evaluation.channel == "paper"), Case.evaluations.any(Evaluation.channel == "link")
        )
    ).all()
    assert len(both) >= 1
    for case in both:
        assert case.evaluation.channel == "link"
    assert db.session.scalar(select(func.count()).select_from(Evaluation).where(Evaluation.counted.is_(False))) >= 1
