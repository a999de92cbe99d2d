"""The lifecycle in the console: buttons, confirmation pages, bulk actions, hand-written log entries."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Case, CaseLog, Center
from models.enums import Status
from tests.builders import login_as


def _case(status: str, center: str = "峡山街道便民服务中心", mode: str | None = None) -> Case:
    query = select(Case).join(Case.center).where(Case.status == status, Center.name == center)
    if mode:
        query = query.where(Case.mode == mode)
    return db.session.scalar(query.order_by(Case.id).limit(1))


@pytest.fixture
def operator(client):
    login_as(client, "xiashan_admin")
    return client


def test_details_show_the_step_bar_and_only_the_allowed_buttons(operator):
    case = _case("in_progress", mode="delegated") or _case("in_progress")
    body = operator.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert 'class="step-bar"' in body and "step-current" in body
    for label in ("办结", "转办上级"):
        assert f">{label}</a>" in body
    assert ">受理</" not in body and ">归档</" not in body


def test_the_auditor_sees_no_buttons_and_cannot_post_a_transition(client):
    login_as(client, "qu_audit")
    case = _case("in_progress")
    body = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "transition-buttons" not in body
    response = client.post(f"/admin/case/transition/start/?id={case.id}", follow_redirects=True)
    assert response.status_code == 403
    assert db.session.get(Case, case.id).status == "in_progress"


def test_completing_goes_through_a_confirmation_page_that_validates_on_the_server(operator):
    case = _case("in_progress", mode="delegated")
    page = operator.get(f"/admin/case/transition/complete/?id={case.id}").get_data(as_text=True)
    assert "提交后不能撤回" in page and "申请人已在《代办服务办结单》上签字确认" in page
    refused = operator.post(
        f"/admin/case/transition/complete/?id={case.id}", data={"ids": str(case.id), "completion_result": "准予许可"}
    ).get_data(as_text=True)
    assert "“办结”未执行：须经申请人在《代办服务办结单》上签字确认" in refused
    assert db.session.get(Case, case.id).status == "in_progress"
    done = operator.post(
        f"/admin/case/transition/complete/?id={case.id}",
        data={
            "ids": str(case.id),
            "completion_result": "准予许可，已发证",
            "completion_signed": "y",
            "materials_returned": "y",
            "result_delivery": "window",
        },
    )
    assert done.status_code == 302
    saved = db.session.get(Case, case.id)
    assert saved.status == "completed" and saved.completion_result == "准予许可，已发证"
    assert all(m.returned for m in saved.materials if m.form == "original")
    details = operator.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "一次性评价链接" in details and "/e/" in details


def test_a_one_click_transition_is_a_post(operator):
    case = _case("registered") or _case("accepted")
    assert operator.get(f"/admin/case/transition/start/?id={case.id}").status_code == 200  # shows, changes nothing
    assert db.session.get(Case, case.id).status != "in_progress"
    operator.post(f"/admin/case/transition/start/?id={case.id}", data={"ids": str(case.id)})
    assert db.session.get(Case, case.id).status == "in_progress"


def test_bulk_actions_report_what_changed_and_why_others_were_skipped(client):
    login_as(client, "xiashan_admin")
    registered = db.session.scalars(
        select(Case)
        .join(Case.center)
        .where(
            Case.status == "registered",
            Center.parent.has(name="峡山街道便民服务中心") | (Center.name == "峡山街道便民服务中心"),
        )
    ).all()
    completed = _case("completed")
    foreign = _case("registered", center="陈店镇便民服务中心") or db.session.scalar(
        select(Case).join(Case.center).where(Center.name.like("%陈店%")).limit(1)
    )
    ids = [str(c.id) for c in registered] + [str(completed.id), str(foreign.id)]
    response = client.post("/admin/case/action/", data={"action": "start", "rowid": ids}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert f"已开始办理 {len(registered)} 件" in body
    assert f"{completed.number} 未开始办理：案件当前为“已办结”" in body
    assert "另有 1 条记录不存在或不在您的办理范围内" in body and foreign.number not in body
    for case in registered:
        assert db.session.get(Case, case.id).status == "in_progress"
    assert db.session.get(Case, foreign.id).status == foreign.status


def test_a_bulk_action_that_needs_data_collects_it_once_for_all_rows(client):
    login_as(client, "qu_admin")
    rows = db.session.scalars(select(Case).where(Case.status == "in_progress", Case.mode == "delegated").limit(3)).all()
    ids = ",".join(str(c.id) for c in rows)
    first = client.post("/admin/case/action/", data={"action": "suspend", "rowid": [str(c.id) for c in rows]})
    assert first.status_code == 302 and "/admin/case/transition/suspend/" in first.headers["Location"]
    client.post("/admin/case/transition/suspend/", data={"ids": ids, "reason": "等待部门出具意见"})
    for case in rows:
        saved = db.session.get(Case, case.id)
        assert saved.status == "suspended" and saved.suspension_reason == "等待部门出具意见"


def test_a_clerk_adds_a_progress_log_entry_by_hand(operator):
    case = _case("in_progress")
    before = db.session.scalar(select(func.count()).select_from(CaseLog).where(CaseLog.case_id == case.id))
    operator.post(f"/admin/case/log/?id={case.id}", data={"department": "0", "content": "电话联系区人社局核对参保信息"})
    entries = db.session.scalars(select(CaseLog).where(CaseLog.case_id == case.id).order_by(CaseLog.id)).all()
    assert len(entries) == before + 1 and entries[-1].content == "电话联系区人社局核对参保信息"
    assert entries[-1].author  # who wrote it


def test_a_handed_off_case_is_read_only_for_the_first_center_and_invisible_to_another_town(client):
    case = db.session.scalar(select(Case).where(Case.origin_center_id != Case.center_id).limit(1))
    assert case is not None, "the demo data hands some village cases up to their town"
    origin_operator = {
        "东山社区便民服务站": "xiashan_dongshan",
        "桃溪社区便民服务站": "xiashan_taoxi",
        "文光社区便民服务站": "chendian_wenguang",
    }[case.origin_center.name]
    login_as(client, origin_operator)
    body = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert case.number in body and "转办记录" in body and "transition-buttons" not in body
    assert (
        client.get(f"/admin/case/edit/?id={case.id}", follow_redirects=True).get_data(as_text=True).count("记录不存在")
        == 1
    )
    client.post("/logout")
    other = "chendian_admin" if "峡山" in case.center.name else "xiashan_admin"
    login_as(client, other)
    assert case.number not in client.get("/admin/case/?page_size=100").get_data(as_text=True)
    town = {"峡山街道便民服务中心": "xiashan_admin", "陈店镇便民服务中心": "chendian_admin"}[case.center.name]
    client.post("/logout")
    login_as(client, town)
    assert ">受理</a>" in client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True) or (
        case.status != Status.SUBMITTED
    )
