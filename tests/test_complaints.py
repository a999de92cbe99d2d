"""Complaints (投诉) from any channel about any case, and the follow-up each opens."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from extensions import db
from lifecycle.errors import TransitionError
from lifecycle.supervision import advance_followup, record_complaint
from models import AuditLog, Case, Center, Complaint, FollowUp, User, refresh_derived
from models.enums import Status
from tests.builders import login_as


def _case(center: str, statuses: tuple[str, ...]) -> Case:
    case = db.session.scalar(
        select(Case)
        .where(Case.center.has(name=center), Case.status.in_(statuses), ~Case.complaints.any())
        .order_by(Case.id)
        .limit(1)
    )
    assert case is not None, (center, statuses)
    return case


@pytest.fixture
def open_case(demo_app):
    """A case still being handled at 东山社区便民服务站 (a 峡山街道 village station)."""
    return _case("东山社区便民服务站", ("submitted", "registered", "accepted", "in_progress"))


@pytest.fixture
def closed_case(demo_app):
    return _case("东山社区便民服务站", ("completed", "archived"))


def _complaints(case: Case) -> list[Complaint]:
    db.session.expire_all()
    return list(db.session.scalars(select(Complaint).where(Complaint.case_id == case.id)))


def _form(case: Case, **overrides) -> dict:
    return {
        "case": case.id,
        "channel": "hotline_12345",
        "reference": "GD12345-20261120-0456",
        "complainant_name": "吴女士",
        "complainant_phone": "13812345678",
        "content": "反映代办员未按约定时间上门收取材料。",
        **overrides,
    }


def test_a_town_admin_registers_a_12345_complaint_about_an_open_case(client, open_case):
    login_as(client, "xiashan_admin")
    response = client.post("/admin/complaint/new/", data=_form(open_case), follow_redirects=True)
    assert "投诉已登记，已生成回访工单" in response.get_data(as_text=True)
    [complaint] = _complaints(open_case)
    admin = db.session.scalar(select(User).where(User.username == "xiashan_admin"))
    assert (complaint.channel, complaint.reference, complaint.entered_by_id) == (
        "hotline_12345",
        "GD12345-20261120-0456",
        admin.id,
    )
    followup = complaint.followup
    assert followup.case_id == open_case.id and followup.evaluation_id is None
    assert followup.status == "open" and followup.assignee.username == "xiashan_admin"
    assert db.session.get(Case, open_case.id).status == open_case.status  # the case itself carries on
    rows = db.session.scalars(
        select(AuditLog.object_type).where(AuditLog.event == "create", AuditLog.username == "xiashan_admin")
    ).all()
    assert "complaint" in rows and "followup" in rows
    changes = db.session.scalar(
        select(AuditLog.changes).where(AuditLog.object_type == "complaint", AuditLog.object_id == str(complaint.id))
    )
    assert "13812345678" not in changes  # personal data masked in the log too


def test_a_complaint_follow_up_is_due_in_fifteen_working_days(demo_app, closed_case):
    admin = db.session.scalar(select(User).where(User.username == "xiashan_admin"))
    # Friday 2026-11-20 + 15 working days (no public holiday in between) = Friday 2026-12-11.
    complaint = record_complaint(
        db.session,
        closed_case,
        {"channel": "haochaping", "reference": "HCP-1", "content": "证照寄错地址"},
        admin,
        15,
        at=dt.datetime(2026, 11, 20, 2, 0),
    )
    assert complaint.followup.due_date == dt.date(2026, 12, 11)


# What a complaint needs: (overrides to the form, the Chinese message).
BAD_COMPLAINTS = [
    ({"complainant_phone": "12345"}, "手机号"),
    ({"reference": ""}, "12345热线和好差评系统转来的投诉须填写工单编号"),
    ({"content": ""}, "请填写投诉内容"),
    ({"channel": ""}, "请选择投诉渠道"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_COMPLAINTS)
def test_a_complaint_missing_what_it_needs_is_refused_in_chinese(client, closed_case, overrides, message):
    login_as(client, "xiashan_admin")
    body = client.post("/admin/complaint/new/", data=_form(closed_case, **overrides)).get_data(as_text=True)
    assert message in body
    assert _complaints(closed_case) == []


def test_a_complaint_from_the_window_needs_no_work_order(client, closed_case):
    login_as(client, "xiashan_dongshan")  # the station holding the case may register it too
    response = client.post("/admin/complaint/new/", data=_form(closed_case, channel="on_site", reference=""))
    assert response.status_code == 302
    [complaint] = _complaints(closed_case)
    assert complaint.reference is None and complaint.entered_by.username == "xiashan_dongshan"


# Who may register a complaint about a case held by 东山社区便民服务站.
REGISTER = [
    ("qu_admin", 302, None),
    ("xiashan_admin", 302, None),
    ("xiashan_dongshan", 302, None),
    ("xiashan_taoxi", 200, "所选案件不存在或不在您的办理范围内"),  # a sibling station
    ("chendian_admin", 200, "所选案件不存在或不在您的办理范围内"),  # another town
    ("qu_audit", 403, "您没有权限访问该页面"),
]


@pytest.mark.parametrize(("username", "status", "message"), REGISTER)
def test_who_may_register_a_complaint(client, closed_case, username, status, message):
    login_as(client, username)
    response = client.post("/admin/complaint/new/", data=_form(closed_case))
    assert response.status_code == status
    if message is None:
        assert [c.entered_by.username for c in _complaints(closed_case)] == [username]
    else:
        assert message in response.get_data(as_text=True)
        assert _complaints(closed_case) == []


def test_the_lifecycle_refuses_the_auditor(demo_app, closed_case):
    auditor = db.session.scalar(select(User).where(User.username == "qu_audit"))
    with pytest.raises(TransitionError, match="审计员只能查阅，不能登记投诉"):
        record_complaint(db.session, closed_case, _form(closed_case), auditor, 15)


def test_the_list_masks_the_phone_and_the_auditor_reads_it(client, closed_case):
    login_as(client, "xiashan_admin")
    client.post("/admin/complaint/new/", data=_form(closed_case))
    client.post("/logout")
    login_as(client, "qu_audit")
    listing = client.get("/admin/complaint/").get_data(as_text=True)
    assert closed_case.number in listing and "GD12345-20261120-0456" in listing and "12345热线" in listing
    assert "138****5678" in listing and "13812345678" not in listing
    assert "/admin/complaint/new/" not in listing  # no create button for the auditor


def test_the_case_page_offers_登记投诉_and_lists_the_complaints(client, closed_case):
    login_as(client, "xiashan_admin")
    page = client.get(f"/admin/case/details/?id={closed_case.id}").get_data(as_text=True)
    assert "登记投诉" in page and "暂无投诉" in page
    form = client.get(f"/admin/complaint/new/?case_id={closed_case.id}").get_data(as_text=True)
    assert closed_case.number in form  # the form opens with the case filled in
    client.post("/admin/complaint/new/", data=_form(closed_case))
    page = client.get(f"/admin/case/details/?id={closed_case.id}").get_data(as_text=True)
    assert "反映代办员未按约定时间上门收取材料。" in page and "投诉（1）" in page and "待回访" in page
    client.post("/logout")
    login_as(client, "qu_audit")
    assert "登记投诉" not in client.get(f"/admin/case/details/?id={closed_case.id}").get_data(as_text=True)


def test_a_complaint_follow_up_is_investigated_and_has_no_appeal(client, closed_case):
    login_as(client, "xiashan_admin")
    client.post("/admin/complaint/new/", data=_form(closed_case))
    [complaint] = _complaints(closed_case)
    followup = complaint.followup
    listing = client.get("/admin/followup/").get_data(as_text=True)
    assert "来源" in listing and "投诉" in listing and closed_case.number in listing
    row = listing[listing.index(closed_case.number) :].split("</tr>")[0]
    assert "投诉" in row and "不适用" in row  # no 申诉复核 on a complaint
    for step, data, label in [
        ("call_back", {"callback_record": "电话联系投诉人核实"}, "回访"),
        ("rectify", {"rectification": "经调查属实，已调整上门排班"}, "调查处理"),
        ("give_feedback", {"feedback": "已告知投诉人处理结果"}, "反馈投诉人"),
    ]:
        page = client.get(f"/admin/followup/details/?id={followup.id}").get_data(as_text=True)
        assert f"<h6>{label}</h6>" in page, label
        assert "申诉复核" not in page and "整改或解释" not in page
        assert "反映代办员未按约定时间上门收取材料。" in page and "GD12345-20261120-0456" in page
        response = client.post(f"/admin/followup/step/{step}/?id={followup.id}", data=data, follow_redirects=True)
        assert "回访记录已保存" in response.get_data(as_text=True)
    response = client.post(
        f"/admin/followup/step/appeal/?id={followup.id}",
        data={"appeal_outcome": "mistaken", "appeal_reason": "x"},
        follow_redirects=True,
    )
    assert "申诉复核只适用于差评，投诉不适用" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FollowUp, followup.id).status == "feedback_given"
    summaries = db.session.scalars(
        select(AuditLog.summary).where(AuditLog.event == "followup", AuditLog.object_id == str(followup.id))
    ).all()
    assert any("调查处理" in s for s in summaries)


def test_an_appeal_still_applies_to_a_bad_review(demo_app):
    followup = db.session.scalar(
        select(FollowUp).where(FollowUp.evaluation_id.is_not(None), FollowUp.status == "open").limit(1)
    )
    admin = db.session.scalar(select(User).where(User.username == "qu_admin"))
    advance_followup(db.session, followup, "appeal", admin, {"appeal_outcome": "mistaken", "appeal_reason": "误点"})
    assert followup.status == "closed"


# --- follow-ups take the write flag -----------------------------------------------------------------
def _handed_up_followup() -> FollowUp:
    """A 峡山街道 follow-up whose case has since been handed up to the district (set up directly)."""
    followup = db.session.scalar(
        select(FollowUp)
        .join(FollowUp.case)
        .join(Case.center)
        .where(FollowUp.status != "closed", Center.parent.has(name="峡山街道便民服务中心"))
        .order_by(FollowUp.id)
        .limit(1)
    )
    assert followup is not None
    district = db.session.scalar(select(Center.id).where(Center.name == "潮南区政务服务中心"))
    case = followup.case
    db.session.execute(
        update(Case).where(Case.id == case.id).values(origin_center_id=case.center_id, center_id=district)
    )
    # Past the ORM, so the copies of the case's centers on its records are re-derived as a hand-off would.
    refresh_derived(db.session.connection())
    db.session.commit()
    db.session.expire_all()
    return db.session.get(FollowUp, followup.id)


def test_a_town_that_handed_a_case_up_no_longer_edits_its_follow_up(client):
    followup = _handed_up_followup()
    due, assignee, version = followup.due_date, followup.assignee_id, followup.version
    login_as(client, "xiashan_admin")
    assert followup.case.number in client.get(f"/admin/followup/details/?id={followup.id}").get_data(as_text=True)
    response = client.post(
        f"/admin/followup/edit/?id={followup.id}",
        data={"due_date": "2030-01-01", "assignee": "", "version": version},
        follow_redirects=True,
    )
    assert "记录不存在" in response.get_data(as_text=True) or "不存在" in response.get_data(as_text=True)
    step = client.post(
        f"/admin/followup/step/call_back/?id={followup.id}", data={"callback_record": "越权回访"}, follow_redirects=True
    )
    assert "记录不存在" in step.get_data(as_text=True)
    db.session.expire_all()
    after = db.session.get(FollowUp, followup.id)
    assert (after.due_date, after.assignee_id, after.status) == (due, assignee, followup.status)
    client.post("/logout")
    login_as(client, "qu_admin")  # the district now holds it and may
    client.post(
        f"/admin/followup/edit/?id={followup.id}", data={"due_date": "2030-01-01", "assignee": "", "version": version}
    )
    db.session.expire_all()
    assert db.session.get(FollowUp, followup.id).due_date == dt.date(2030, 1, 1)


# --- demo data -------------------------------------------------------------------------------------
def test_the_demo_has_complaints_from_12345_and_haochaping_in_several_steps(demo_app):
    complaints = db.session.scalars(select(Complaint)).all()
    assert {"hotline_12345", "haochaping"} <= {c.channel for c in complaints}
    assert all(c.followup is not None and c.entered_by is not None for c in complaints)
    assert len({c.followup.status for c in complaints}) >= 3
    assert any(c.case.status not in (Status.COMPLETED, Status.TERMINATED, Status.ARCHIVED) for c in complaints)
