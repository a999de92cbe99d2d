"""The lifecycle in the console: buttons, confirmation pages, bulk actions, hand-written log entries."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from extensions import db
from models import AuditLog, Case, CaseLog, Center
from models.enums import Status
from tests import pdftext
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
    for label in ("登记办理结果", "登记终止", "转办上级"):
        assert f">{label}</a>" in body
    # Nothing to confirm yet: no result or termination is on record.
    for label in ("受理", "归档", "确认办结", "确认终止"):
        assert f">{label}</" not in body


def test_a_rejected_case_shows_a_step_bar_that_ends_at_the_archive(client):
    login_as(client, "qu_admin")
    case = db.session.scalar(select(Case).where(Case.status == "rejected").order_by(Case.id).limit(1))
    body = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    bar = body.split('<ol class="step-bar">')[1].split("</ol>")[0]
    # Not accepted (不予受理): the case is filed, never worked or completed.
    assert bar == (
        '\n  <li class="step-done">待受理</li><li class="step-current">不予受理</li><li class="step-todo">已归档</li>\n'
    )


def test_the_auditor_sees_no_buttons_and_cannot_post_a_transition(client):
    login_as(client, "qu_audit")
    case = _case("in_progress")
    body = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "transition-buttons" not in body
    response = client.post(f"/admin/case/transition/start/?id={case.id}", follow_redirects=True)
    assert response.status_code == 403
    assert db.session.get(Case, case.id).status == "in_progress"


def _annex_text(client, case: Case, number: int) -> str:
    response = client.get(f"/admin/case/annex/{number}/?id={case.id}")
    assert response.mimetype == "application/pdf", response.get_data(as_text=True)[:300]
    return pdftext.text(response.get_data())


def _flat(text: str) -> str:
    return "".join(text.split())


def test_completion_is_recorded_printed_for_signature_then_confirmed(operator):
    case = _case("in_progress", mode="delegated")
    url = f"/admin/case/transition/{{}}/?id={case.id}"
    # Nothing recorded: no 确认办结, and no 办结单 to print.
    refused = operator.post(url.format("complete"), data={"ids": str(case.id), "completion_signed": "y"})
    assert "“确认办结”未执行：尚未登记办理结果" in refused.get_data(as_text=True)
    early = operator.get(f"/admin/case/annex/5/?id={case.id}", follow_redirects=True).get_data(as_text=True)
    assert "在登记办理结果后打印" in early

    page = operator.get(url.format("record_result")).get_data(as_text=True)
    assert "原件退还方式" in page and "结果寄递运单号" in page and "提交后不能撤回" not in page
    record = {
        "ids": str(case.id),
        "completion_result": "准予登记，已发放营业执照",
        "result_delivery": "post",
        "tracking_out": "EMS1100000000001",
        "handover_note": "营业执照正本一份随件寄出",
        "materials_return_note": "随办理结果一并寄回",
    }
    missing = operator.post(url.format("record_result"), data=record).get_data(as_text=True)
    assert "“登记办理结果”未执行：请选择原件退还方式" in missing
    assert db.session.get(Case, case.id).result_recorded_at is None
    assert (
        operator.post(url.format("record_result"), data={**record, "materials_return_method": "post"}).status_code
        == 302
    )
    saved = db.session.get(Case, case.id)
    assert saved.status == "in_progress" and saved.result_recorded_at is not None
    assert saved.logs[-1].content.startswith(
        "登记办理结果：准予登记，已发放营业执照；邮寄送达（运单号EMS1100000000001）"
    )
    audit = db.session.scalar(select(AuditLog).where(AuditLog.event == "transition").order_by(AuditLog.id.desc()))
    assert audit.object_id == str(case.id) and '"record_result"' in audit.changes
    details = operator.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "待申请人签字确认" in details and ">确认办结</a>" in details

    signing = _annex_text(operator, case, 5)
    assert "待签字确认" in signing and case.number in signing

    confirm = operator.get(url.format("complete")).get_data(as_text=True)
    assert "准予登记，已发放营业执照" in confirm and "打印待签字的《代办服务办结单》" in confirm
    assert "申请人已在打印的《代办服务办结单》上签字确认" in confirm and 'name="completion_result"' not in confirm
    unsigned = operator.post(url.format("complete"), data={"ids": str(case.id), "materials_returned": "y"})
    assert "“确认办结”未执行：须经申请人在《代办服务办结单》上签字确认" in unsigned.get_data(as_text=True)
    done = operator.post(
        url.format("complete"),
        data={"ids": str(case.id), "completion_signed": "y", "materials_returned": "y", "completion_result": "别的"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Case, case.id)
    assert saved.status == "completed" and saved.completion_signed
    assert (saved.completion_result, saved.result_delivery, saved.materials_return_method) == (
        "准予登记，已发放营业执照",
        "post",
        "post",
    )
    assert all(m.returned for m in saved.materials if m.form == "original" and m.received)
    final = _annex_text(operator, saved, 5)
    assert "待签字确认" not in final and "本件已办结" in final
    # The slip the applicant signed and the one on file say what the record says.
    for text in (signing, final):
        for value in ("准予登记，已发放营业执照", "EMS1100000000001", "营业执照正本一份随件寄出", "随办理结果一并寄回"):
            assert value in text
        assert "■邮寄送达" in text and "■邮寄退还" in text and "■窗口领取" not in text
    details = operator.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "一次性评价链接" in details and "/e/" in details and "申请人已签字确认" in details


def test_an_unreachable_applicant_is_terminated_unsigned_and_the_slip_says_so(operator):
    case = db.session.scalars(
        select(Case)
        .join(Case.center)
        .where(Case.status == "in_progress", Case.mode == "delegated", Center.name == "峡山街道便民服务中心")
        .order_by(Case.id)
    ).all()[1]
    url = f"/admin/case/transition/{{}}/?id={case.id}"
    record = {
        "ids": str(case.id),
        "termination_reason": "materials_not_supplied",
        "termination_text": "一次性告知后超过15个工作日未补齐材料",
        "materials_return_method": "unreachable",
        "materials_return_note": "三次电话未接通，原件存中心档案柜",
    }
    assert operator.post(url.format("record_termination"), data=record).status_code == 302
    signing = _annex_text(operator, case, 4)
    assert "待签字确认" in signing and "■无法联系，材料由本机构保管" in signing
    both = operator.post(url.format("terminate"), data={"ids": str(case.id), "termination_signed": "y"})
    assert "不能同时确认委托人已签收" in both.get_data(as_text=True)
    assert operator.post(url.format("terminate"), data={"ids": str(case.id)}).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Case, case.id)
    assert saved.status == "terminated" and not saved.termination_signed
    kept = [m for m in saved.materials if m.form == "original" and m.received]
    assert all(not m.returned and m.custody == "无法联系委托人，由峡山街道便民服务中心保管" for m in kept)
    final = _annex_text(operator, saved, 4)
    assert "待签字确认" not in final and "无法联系，未签收" in final and "本单未经委托人签收" in final
    details = operator.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "委托人无法联系，未签收（原件由本机构保管）" in details


def test_bulk_confirmation_closes_only_the_cases_whose_result_is_recorded(client):
    login_as(client, "qu_admin")
    ready, bare = db.session.scalars(
        select(Case).where(Case.status == "in_progress", Case.mode == "delegated").order_by(Case.id).limit(2)
    ).all()
    client.post(
        f"/admin/case/transition/record_result/?id={ready.id}",
        data={
            "ids": str(ready.id),
            "completion_result": "准予许可",
            "result_delivery": "window",
            "materials_return_method": "in_person",
        },
    )
    first = client.post("/admin/case/action/", data={"action": "complete", "rowid": [str(ready.id), str(bare.id)]})
    assert "/admin/case/transition/complete/" in first.headers["Location"]
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "尚未登记办理结果" in page
    body = client.post(
        "/admin/case/transition/complete/",
        data={"ids": f"{ready.id},{bare.id}", "completion_signed": "y", "materials_returned": "y"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"已确认办结 1 件：{ready.number}" in body
    assert f"{bare.number} 未确认办结：尚未登记办理结果" in body
    assert db.session.get(Case, ready.id).status == "completed"
    assert db.session.get(Case, bare.id).status == "in_progress"


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
    client.post(
        "/admin/case/transition/suspend/",
        data={"ids": ids, "reason": "等待部门出具意见", "resume_expected_on": "2099-01-05"},
    )
    for case in rows:
        saved = db.session.get(Case, case.id)
        assert saved.status == "suspended" and saved.suspension_reason == "等待部门出具意见"
        assert saved.resume_expected_on == dt.date(2099, 1, 5)


def test_a_clerk_adds_a_progress_log_entry_by_hand(operator):
    case = _case("in_progress")
    before = db.session.scalar(select(func.count()).select_from(CaseLog).where(CaseLog.case_id == case.id))
    operator.post(f"/admin/case/log/?id={case.id}", data={"department": "0", "content": "电话联系区人社局核对参保信息"})
    entries = db.session.scalars(select(CaseLog).where(CaseLog.case_id == case.id).order_by(CaseLog.id)).all()
    assert len(entries) == before + 1 and entries[-1].content == "电话联系区人社局核对参保信息"
    assert entries[-1].author  # who wrote it


def test_a_handed_off_case_is_read_only_for_the_first_center_and_invisible_to_another_town(client):
    operators = {
        "东山社区便民服务站": "xiashan_dongshan",
        "桃溪社区便民服务站": "xiashan_taoxi",
        "文光社区便民服务站": "chendian_wenguang",
    }
    # A station with a demo login; without ORDER BY PostgreSQL may hand back any handed-off case.
    case = db.session.scalar(
        select(Case)
        .join(Center, Center.id == Case.origin_center_id)
        .where(Case.origin_center_id != Case.center_id, Center.name.in_(operators))
        .order_by(Case.id)
        .limit(1)
    )
    assert case is not None, "the demo data hands some village cases up to their town"
    origin_operator = operators[case.origin_center.name]
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


def test_a_case_edit_cannot_move_it_to_another_center_or_change_its_mode(operator):
    case = _case("in_progress", mode="delegated")
    form = operator.get(f"/admin/case/edit/?id={case.id}").get_data(as_text=True)
    assert 'name="center"' not in form and 'name="mode"' not in form
    village = db.session.scalar(select(Center).where(Center.name == "东山社区便民服务站"))
    version = case.version
    operator.post(
        f"/admin/case/edit/?id={case.id}",
        data={
            "center": village.id,
            "mode": "on_site",
            "items": [i.id for i in case.items],
            "applicant": case.applicant_id,
            "received_date": case.received_date.isoformat(),
            "delegation_scope": case.delegation_scope,
            "version": version,
        },
    )
    saved = db.session.get(Case, case.id)
    assert saved.version == version + 1  # the save went through, without the two fields
    assert saved.center.name == "峡山街道便民服务中心" and saved.mode == "delegated"


def test_the_progress_log_is_append_only(operator):
    from lifecycle.errors import RuleError

    case = _case("in_progress")
    entry = case.logs[0]
    entry.content = "改写历史"
    with pytest.raises(RuleError, match="办理过程记录不能修改"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(CaseLog, entry.id))
    with pytest.raises(RuleError, match="办理过程记录不能删除"):
        db.session.commit()
    db.session.rollback()
    assert 'name="logs-0-content"' not in operator.get(f"/admin/case/edit/?id={case.id}").get_data(as_text=True)


def test_edit_forms_show_personal_numbers_masked_and_keep_them(client):
    from models import Applicant

    login_as(client, "xiashan_dongshan")
    applicant = db.session.scalar(
        select(Applicant).where(Applicant.center.has(name="东山社区便民服务站"), Applicant.kind == "person").limit(1)
    )
    # Known numbers, so that the masked form is written out by hand (first 6 and last 4 digits kept).
    full_id, full_phone = "440514196804123175", "13712340000"
    applicant.id_number, applicant.gender, applicant.phone = full_id, "male", full_phone
    db.session.commit()
    masked_id = "440514********3175"
    page = client.get(f"/admin/applicant/edit/?id={applicant.id}").get_data(as_text=True)
    assert full_id not in page and full_phone not in page and masked_id in page
    client.post(
        f"/admin/applicant/edit/?id={applicant.id}",
        data={
            "kind": "person",
            "center": applicant.center_id,
            "name": applicant.name,
            "gender": applicant.gender,
            "id_type": "resident_id",
            "id_number": masked_id,
            "phone": page.split('name="phone"')[1].split('value="')[1].split('"')[0],
            "address": "东山路88号",
            "version": applicant.version,
        },
    )
    saved = db.session.get(Applicant, applicant.id)
    assert saved.address == "东山路88号" and saved.id_number == full_id and saved.phone == full_phone


def test_the_reviewed_station_cannot_rewrite_or_appeal_its_bad_review(client):
    from models import Evaluation, FollowUp

    followup = db.session.scalar(select(FollowUp).where(FollowUp.status != "closed").limit(1))
    login_as(client, "xiashan_dongshan")
    assert client.get(f"/admin/evaluation/edit/?id={followup.evaluation_id}").status_code == 403
    assert client.post(f"/admin/followup/edit/?id={followup.id}", data={"due_date": "2099-01-01"}).status_code == 403
    assert db.session.get(Evaluation, followup.evaluation_id).overall <= 2 or followup.evaluation.asked_for_anything
