"""Closed means closed: finished cases are read-only, corrected only by an audited 更正; handed-off
cases are read-only for the center that handed them up."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, or_, select

from extensions import db
from lifecycle.corrections import CorrectionError, correct
from models import AuditLog, Case, CaseLog, Center, User
from tests.builders import login_as
from tests.scope_cases import row_of

XIASHAN = "峡山街道便民服务中心"
STALE = "该记录已被他人修改，请刷新后重试"
CLOSED_LABELS = {"completed": "已办结", "terminated": "已终止", "rejected": "不予受理", "archived": "已归档"}


def _xiashan_case(status: str, **where) -> Case:
    town = db.session.scalar(select(Center).where(Center.name == XIASHAN))
    query = (
        select(Case)
        .join(Case.center)
        .where(Case.status == status, or_(Center.id == town.id, Center.parent_id == town.id))
        .where(Case.origin_center_id == Case.center_id)
    )
    for key, value in where.items():
        query = query.where(getattr(Case, key) == value)
    case = db.session.scalar(query.order_by(Case.id).limit(1))
    assert case is not None, f"the demo data has a {status} case in 峡山"
    return case


def _logs(case_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(CaseLog).where(CaseLog.case_id == case_id))


@pytest.mark.parametrize("status", list(CLOSED_LABELS))
def test_a_closed_case_has_no_edit_button_no_log_form_and_refuses_its_edit_url(client, status):
    case = _xiashan_case(status)
    login_as(client, "xiashan_admin")
    details = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert case.number in details
    assert ">编辑</a>" not in details and "log-form" not in details
    refused = client.get(f"/admin/case/edit/?id={case.id}")
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/admin/case/details/?id={case.id}")
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert f"案件{case.number}{CLOSED_LABELS[status]}，不能再修改" in page
    before = row_of(Case, case.id)
    payload = {
        "summary": "办结后改写的摘要",
        "items": [str(i.id) for i in case.items],
        "applicant": str(case.applicant_id),
        "received_date": "2020-01-01",
        "promised_date": "2030-01-01",
        "materials-0-id": str(case.materials[0].id) if case.materials else "",
        "materials-0-name": "办结后改名的材料",
        "version": str(case.version),
    }
    client.post(f"/admin/case/edit/?id={case.id}", data=payload)
    assert row_of(Case, case.id) == before
    names = [m.name for m in case.materials]
    db.session.expire_all()
    assert [m.name for m in db.session.get(Case, case.id).materials] == names


def test_no_progress_log_entry_is_added_to_a_closed_case(client):
    case = _xiashan_case("completed")
    login_as(client, "xiashan_admin")
    before = _logs(case.id)
    response = client.post(f"/admin/case/log/?id={case.id}", data={"department": "0", "content": "办结后补记"})
    assert "不能再修改" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _logs(case.id) == before


def test_a_town_admin_corrects_the_wording_of_a_closed_case_with_a_reason(client):
    case = _xiashan_case("completed")
    material = case.materials[0]
    old_summary, old_material = case.summary, material.name
    status, closed, received, promised = case.status, case.closed_date, case.received_date, case.promised_date
    login_as(client, "xiashan_admin")
    details = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert f'href="/admin/case/correct/?id={case.id}"' in details and ">更正</a>" in details
    page = client.get(f"/admin/case/correct/?id={case.id}").get_data(as_text=True)
    assert "更正理由" in page and "情况摘要" in page and "办理结果" in page and old_material in page
    assert "受理日期、承诺办结日期、办结/终止日期、服务评价" in page  # said to be out of reach
    form = {name: getattr(case, name) or "" for name in ("completion_result", "handover_note", "termination_text")}
    form.update(
        {
            "summary": "委托代办：申请人林某某，材料齐全",
            f"material-{material.id}": "居民户口簿(复印件)",
            "reason": "摘要中申请人姓名录入错误",
            "version": str(case.version),
            # Posted by a crafted form: none of these may change.
            "status": "in_progress",
            "closed_date": "2099-01-01",
            "received_date": "2000-01-01",
            "promised_date": "2099-01-01",
            "mode": "on_site",
            "center": "1",
        }
    )
    response = client.post(f"/admin/case/correct/?id={case.id}", data=form)
    assert response.status_code == 302
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已更正：情况摘要、材料名称" in shown
    expected = (
        f"更正：情况摘要 {old_summary}→委托代办：申请人林某某，材料齐全；"
        f"材料名称 {old_material}→居民户口簿(复印件)；理由：摘要中申请人姓名录入错误"
    )
    assert expected in shown  # the progress log on the details page
    db.session.expire_all()
    saved = db.session.get(Case, case.id)
    assert saved.summary == "委托代办：申请人林某某，材料齐全" and saved.materials[0].name == "居民户口簿(复印件)"
    assert (saved.status, saved.closed_date, saved.received_date, saved.promised_date) == (
        status,
        closed,
        received,
        promised,
    )
    assert saved.logs[-1].content == expected and saved.logs[-1].author
    row = db.session.scalar(select(AuditLog).where(AuditLog.event == "correction", AuditLog.object_id == str(case.id)))
    assert row.username == "xiashan_admin" and "摘要中申请人姓名录入错误" in row.changes
    assert row.summary == f"{case.number} 更正：情况摘要、材料名称"


def test_a_correction_without_a_reason_is_refused_and_keeps_what_was_typed(client):
    case = _xiashan_case("terminated")
    login_as(client, "qu_admin")
    before = row_of(Case, case.id)
    body = client.post(
        f"/admin/case/correct/?id={case.id}",
        data={"termination_text": "申请人书面撤回申请(更正稿)", "reason": " ", "version": str(case.version)},
    ).get_data(as_text=True)
    assert "未更正：请填写更正理由" in body and "申请人书面撤回申请(更正稿)" in body
    assert row_of(Case, case.id) == before


def test_a_correction_on_a_page_loaded_before_another_change_is_refused(demo_app):
    case = _xiashan_case("completed")
    a, b = demo_app.test_client(), demo_app.test_client()
    login_as(a, "xiashan_admin")
    login_as(b, "qu_admin")
    a.get(f"/admin/case/correct/?id={case.id}")
    version = case.version
    b.post(
        f"/admin/case/correct/?id={case.id}",
        data={"summary": "区级先行更正的摘要", "reason": "核对原件", "version": str(version)},
    )
    body = a.post(
        f"/admin/case/correct/?id={case.id}",
        data={"summary": "镇级随后更正的摘要", "reason": "核对原件", "version": str(version)},
    ).get_data(as_text=True)
    assert STALE in body and "镇级随后更正的摘要" in body
    assert row_of(Case, case.id)["summary"] == "区级先行更正的摘要"


@pytest.mark.parametrize("username", ["xiashan_dongshan", "qu_audit"])
def test_village_operators_and_auditors_see_no_correction_and_get_403(client, username):
    case = _xiashan_case("completed", center_id=_center_id("东山社区便民服务站"))
    login_as(client, username)
    details = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert case.number in details and ">更正</a>" not in details
    before = row_of(Case, case.id)
    assert client.get(f"/admin/case/correct/?id={case.id}").status_code == 403
    response = client.post(f"/admin/case/correct/?id={case.id}", data={"summary": "越权更正", "reason": "试一试"})
    assert response.status_code == 403 and "越权更正" not in response.get_data(as_text=True)
    assert row_of(Case, case.id) == before


def _center_id(name: str) -> int:
    return db.session.scalar(select(Center.id).where(Center.name == name))


def test_another_towns_admin_cannot_correct_and_an_open_case_is_edited_not_corrected(client):
    closed = _xiashan_case("completed")
    login_as(client, "chendian_admin")
    before = row_of(Case, closed.id)
    response = client.post(
        f"/admin/case/correct/?id={closed.id}", data={"summary": "他镇更正", "reason": "试一试"}, follow_redirects=True
    )
    assert "记录不存在" in response.get_data(as_text=True) and row_of(Case, closed.id) == before
    client.post("/logout")
    login_as(client, "xiashan_admin")
    open_case = _xiashan_case("in_progress")
    response = client.get(f"/admin/case/correct/?id={open_case.id}", follow_redirects=True)
    assert "案件尚未办结，请直接编辑" in response.get_data(as_text=True)


def test_the_correction_rule_never_touches_what_decides_timeliness(demo_app):
    case = _xiashan_case("completed")
    admin = db.session.scalar(select(User).where(User.username == "qu_admin"))
    for field in ("status", "closed_date", "received_date", "promised_date", "mode", "center_id", "evaluation"):
        with pytest.raises(CorrectionError, match="不能更正"):
            correct(db.session, case, admin, {field: "2099-01-01"}, "核对原件")
    with pytest.raises(CorrectionError, match="没有需要更正的内容"):
        correct(db.session, case, admin, {"summary": case.summary}, "核对原件")
    assert case.closed_date != dt.date(2099, 1, 1)


# --- hand-offs ---------------------------------------------------------------------------------


def test_the_first_center_reads_a_handed_off_case_with_a_notice_and_nothing_to_press(client):
    case = db.session.scalar(select(Case).where(Case.origin_center_id != Case.center_id).order_by(Case.id).limit(1))
    operator = {
        "东山社区便民服务站": "xiashan_dongshan",
        "桃溪社区便民服务站": "xiashan_taoxi",
        "文光社区便民服务站": "chendian_wenguang",
    }[case.origin_center.name]
    login_as(client, operator)
    body = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert f"本案件已转办至{case.center.name}" in body and f"{case.origin_center.name}仅可查阅" in body
    assert ">编辑</a>" not in body and "transition-buttons" not in body and "log-form" not in body


def test_the_hand_off_page_names_the_receiving_center_before_it_is_confirmed(client):
    station = _center_id("东山社区便民服务站")
    case = db.session.scalar(
        select(Case)
        .where(Case.center_id == station, Case.status.in_(["submitted", "registered", "accepted", "in_progress"]))
        .order_by(Case.id)
        .limit(1)
    )
    login_as(client, "xiashan_dongshan")
    page = client.get(f"/admin/case/transition/hand_off/?id={case.id}").get_data(as_text=True)
    assert f"将转办至：{XIASHAN}" in page and "确认转办上级" in page
    assert row_of(Case, case.id)["center_id"] == station
