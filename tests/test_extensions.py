"""Extensions (延期): who may ask, who decides, and what the record keeps."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from extensions import db
from models import AuditLog, Case, CaseExtension, CaseLog, Center
from models.enums import Status
from tests.builders import login_as

DONGSHAN = "东山社区便民服务站"
XIASHAN = "峡山街道便民服务中心"


OPEN = [Status.REGISTERED.value, Status.ACCEPTED.value, Status.IN_PROGRESS.value]


def _open_case(center: str) -> Case:
    case = db.session.scalar(
        select(Case)
        .join(Case.center)
        .where(Center.name == center, Case.status.in_(OPEN), Case.promised_date.is_not(None))
        .order_by(Case.id)
        .limit(1)
    )
    assert case is not None, center
    return case


def _client(demo_app, username: str):
    client = demo_app.test_client()
    login_as(client, username)
    return client


def _ask(client, case: Case, new_date: dt.date, reason: str = "部门需现场核查，材料补正耗时较长"):
    return client.post(
        f"/admin/case_extension/request/?case_id={case.id}",
        data={"new_date": new_date.isoformat(), "reason": reason},
        follow_redirects=True,
    )


def _decide(client, extension_id: int, decision: str, note: str = ""):
    return client.post(
        f"/admin/case_extension/decide/?id={extension_id}",
        data={"decision": decision, "note": note},
        follow_redirects=True,
    )


def _logs(case: Case, prefix: str) -> list[str]:
    return [
        e.content
        for e in db.session.scalars(select(CaseLog).where(CaseLog.case_id == case.id))
        if e.content.startswith(prefix)
    ]


def _audit(event: str, case: Case) -> list[AuditLog]:
    return db.session.scalars(select(AuditLog).where(AuditLog.event == event, AuditLog.object_id == str(case.id))).all()


def test_a_village_request_is_decided_by_its_own_town_admin_only(demo_app):
    case = _open_case(DONGSHAN)
    case_id, old = case.id, case.promised_date
    new = old + dt.timedelta(days=14)
    operator = _client(demo_app, "xiashan_dongshan")
    page = operator.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True)
    assert "申请延期" in page and "延期后的承诺办结日期" in page

    body = _ask(operator, case, new).get_data(as_text=True)
    assert "已提交延期申请，待审批" in body
    extension = db.session.scalar(select(CaseExtension).where(CaseExtension.case_id == case_id))
    assert (extension.status, extension.old_date, extension.new_date) == ("pending", old, new)
    assert _logs(case, "申请延期：") == [f"申请延期：拟由{old}延至{new}，理由：部门需现场核查，材料补正耗时较长"]
    assert len(_audit("extension_request", case)) == 1
    # Nothing moved yet, and the requester has no decision buttons.
    assert db.session.get(Case, case_id).promised_date == old
    page = operator.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True)
    assert "待审批" in page and "批准</button>" not in page

    # The village operator cannot decide, not even by posting.
    assert (
        operator.post(f"/admin/case_extension/decide/?id={extension.id}", data={"decision": "approve"}).status_code
        == 403
    )
    # Another town's admin does not even find the request.
    other = _client(demo_app, "chendian_admin")
    assert "记录不存在" in _decide(other, extension.id, "approve").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CaseExtension, extension.id).status == "pending"

    town = _client(demo_app, "xiashan_admin")
    page = town.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True)
    assert "批准</button>" in page and "不批准</button>" in page
    body = _decide(town, extension.id, "approve").get_data(as_text=True)
    assert "已批准延期" in body
    case = db.session.get(Case, case_id)
    assert case.promised_date == new and case.extended is True and case.promised_assumed is False
    approved = _logs(case, "延期：")
    assert len(approved) == 1
    assert approved[0].startswith(f"延期：由{old}延至{new}，理由：部门需现场核查，材料补正耗时较长，批准人：")
    assert db.session.get(CaseExtension, extension.id).status == "approved"
    assert len(_audit("extension_approve", case)) == 1

    # The register shows it: a badge in the deadline column and a filter.
    listing = town.get("/admin/case/?flt0_extended_extendedfilter=1").get_data(as_text=True)
    assert case.number in listing and "已延期" in listing
    listing = town.get("/admin/case/?flt0_extended_extendedfilter=0").get_data(as_text=True)
    assert case.number not in listing


def test_a_town_center_case_is_decided_by_the_district_admin_not_the_town_admin(demo_app):
    case = _open_case(XIASHAN)
    case_id, old = case.id, case.promised_date
    town = _client(demo_app, "xiashan_admin")
    _ask(town, case, old + dt.timedelta(days=7))
    extension = db.session.scalar(select(CaseExtension).where(CaseExtension.case_id == case_id))

    body = _decide(town, extension.id, "approve").get_data(as_text=True)
    assert "镇(街道)和区级机构办理的案件，由区级管理员审批延期" in body
    assert db.session.get(Case, case_id).promised_date == old

    district = _client(demo_app, "qu_admin")
    assert "已批准延期" in _decide(district, extension.id, "approve").get_data(as_text=True)
    assert db.session.get(Case, case_id).promised_date == old + dt.timedelta(days=7)


def test_a_refusal_needs_a_note_and_is_logged_and_audited(demo_app):
    case = _open_case(DONGSHAN)
    case_id, old = case.id, case.promised_date
    _ask(_client(demo_app, "xiashan_dongshan"), case, old + dt.timedelta(days=5))
    extension = db.session.scalar(select(CaseExtension).where(CaseExtension.case_id == case_id))
    district = _client(demo_app, "qu_admin")

    assert "不予批准须填写审批意见" in _decide(district, extension.id, "refuse").get_data(as_text=True)
    body = _decide(district, extension.id, "refuse", note="材料已齐，应按期办结").get_data(as_text=True)
    assert "已记录不予批准" in body
    case = db.session.get(Case, case_id)
    assert case.promised_date == old and case.extended is False
    assert db.session.get(CaseExtension, extension.id).status == "refused"
    refused = _logs(case, "延期申请未批准：")
    assert len(refused) == 1 and refused[0].endswith("意见：材料已齐，应按期办结")
    assert len(_audit("extension_refuse", case)) == 1


@pytest.mark.parametrize(
    ("shift", "reason", "message"),
    [
        (0, "部门核查", "延期后的日期须晚于当前承诺办结日期"),
        (-3, "部门核查", "延期后的日期须晚于当前承诺办结日期"),
        (5, "", "请填写延期理由"),
    ],
)
def test_a_request_needs_a_later_date_and_a_reason(demo_app, shift, reason, message):
    case = _open_case(DONGSHAN)
    body = _ask(_client(demo_app, "xiashan_dongshan"), case, case.promised_date + dt.timedelta(days=shift), reason)
    assert message in body.get_data(as_text=True)
    assert db.session.scalar(select(CaseExtension).where(CaseExtension.case_id == case.id)) is None


def test_the_auditor_and_another_town_cannot_request(demo_app):
    case = _open_case(DONGSHAN)
    assert (
        _client(demo_app, "qu_audit")
        .post(f"/admin/case_extension/request/?case_id={case.id}", data={"new_date": "2030-01-01", "reason": "x"})
        .status_code
        == 403
    )
    body = _ask(_client(demo_app, "chendian_wenguang"), case, case.promised_date + dt.timedelta(days=3))
    assert "记录不存在" in body.get_data(as_text=True)
    assert db.session.scalar(select(CaseExtension).where(CaseExtension.case_id == case.id)) is None


def test_a_hand_off_keeps_an_extended_date(demo_app):
    case = _open_case(DONGSHAN)
    case_id, new = case.id, case.promised_date + dt.timedelta(days=20)
    operator = _client(demo_app, "xiashan_dongshan")
    _ask(operator, case, new)
    extension = db.session.scalar(select(CaseExtension).where(CaseExtension.case_id == case_id))
    _decide(_client(demo_app, "xiashan_admin"), extension.id, "approve")
    response = operator.post(
        f"/admin/case/transition/hand_off/?id={case_id}", data={"reason": "本站无法办理，转镇中心兜底"}
    )
    assert response.status_code == 302
    case = db.session.get(Case, case_id)
    assert case.center.name == XIASHAN and case.promised_date == new


def test_acceptance_does_not_overwrite_a_date_an_approved_extension_set(demo_app):
    case = db.session.scalar(
        select(Case)
        .join(Case.center)
        .where(Case.status == "submitted", Case.mode == "delegated", Center.name == XIASHAN, Case.agent_id.is_not(None))
        .order_by(Case.id)
        .limit(1)
    )
    agreed = case.received_date + dt.timedelta(days=60)
    case.promised_date, case.extended = agreed, True
    db.session.commit()
    town = _client(demo_app, "xiashan_admin")
    response = town.post(
        f"/admin/case/transition/accept/?id={case.id}",
        data={"application_confirmed": "y", "undertaking_confirmed": "y", "agreement_signed": "y"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    case = db.session.get(Case, case.id)
    assert case.status == "accepted" and case.promised_date == agreed
    assert _logs(case, "受理：")[-1].endswith(f"承诺{agreed}前办结")


def test_the_request_list_is_scoped_and_shows_what_awaits_the_approver(demo_app):
    case = _open_case(DONGSHAN)
    _ask(_client(demo_app, "xiashan_dongshan"), case, case.promised_date + dt.timedelta(days=9))
    town = _client(demo_app, "xiashan_admin")
    awaiting = town.get("/admin/case_extension/?flt0_status_awaitingmefilter=yes").get_data(as_text=True)
    assert case.number in awaiting and "待审批" in awaiting
    pending = town.get("/admin/case_extension/?flt0_status_filterequal=pending").get_data(as_text=True)
    assert case.number in pending
    assert case.number not in town.get("/admin/case_extension/?flt0_status_filterequal=approved").get_data(as_text=True)
    # Another town sees nothing of it; the station sees it but has nothing awaiting its decision.
    assert case.number not in _client(demo_app, "chendian_admin").get("/admin/case_extension/").get_data(as_text=True)
    station = _client(demo_app, "xiashan_dongshan")
    assert case.number in station.get("/admin/case_extension/").get_data(as_text=True)
    assert case.number not in station.get("/admin/case_extension/?flt0_status_awaitingmefilter=yes").get_data(
        as_text=True
    )
