"""Nobody overwrites anybody: stale edit forms and racing transitions are refused with one message."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Agent, Applicant, AuditLog, Case, CaseLog, Center, Department, FollowUp, ServiceItem, User
from tests.builders import login_as
from tests.scope_cases import form_of, row_of

STALE = "该记录已被他人修改，请刷新后重试"


def _version_in(body: str) -> int:
    return int(re.search(r'name="version" value="(\d+)"', body).group(1))


def test_eight_clerks_starting_one_case_over_http_leave_one_winner_and_seven_conflict_messages(demo_app):
    case = db.session.scalar(
        select(Case)
        .join(Case.center)
        .where(Case.status == "registered", Center.name == "峡山街道便民服务中心")
        .order_by(Case.id)
        .limit(1)
    )
    case_id, number = case.id, case.number
    starts_before = db.session.scalar(
        select(func.count()).select_from(CaseLog).where(CaseLog.case_id == case_id, CaseLog.content.like("开始办理%"))
    )
    db.session.rollback()
    clerks = []
    for i in range(8):
        client = demo_app.test_client()
        login_as(client, "qu_admin" if i % 2 else "xiashan_admin")
        page = client.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True)
        clerks.append((client, _version_in(page)))
    barrier = threading.Barrier(8)
    responses: list = [None] * 8

    def press_start(index: int) -> None:
        client, version = clerks[index]
        with demo_app.app_context():  # the test client expires its caller's session after each request
            barrier.wait()
            responses[index] = client.post(
                f"/admin/case/transition/start/?id={case_id}", data={"ids": str(case_id), "version": str(version)}
            )

    threads = [threading.Thread(target=press_start, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [r.status_code for r in responses] == [302] * 8, [r.get_data(as_text=True)[:300] for r in responses]
    assert all(r.headers["Location"].endswith(f"/admin/case/details/?id={case_id}") for r in responses)
    pages = [client.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True) for client, _ in clerks]
    assert sum(f"{number} 已开始办理。" in page for page in pages) == 1
    assert sum(f"“开始办理”未执行：{STALE}" in page for page in pages) == 7
    db.session.expire_all()
    assert db.session.get(Case, case_id).status == "in_progress"
    starts = db.session.scalar(
        select(func.count()).select_from(CaseLog).where(CaseLog.case_id == case_id, CaseLog.content.like("开始办理%"))
    )
    assert starts == starts_before + 1
    audited = db.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.event == "transition", AuditLog.object_id == str(case_id), AuditLog.changes.contains('"start"'))
    )
    assert audited == 1


# --- edit forms carry the version they were loaded at -----------------------------------------


def _open_case(center: str = "峡山街道便民服务中心", status: str = "in_progress") -> Case:
    return db.session.scalar(
        select(Case).join(Case.center).where(Case.status == status, Center.name == center).order_by(Case.id).limit(1)
    )


def _two_clerks(demo_app, first: str = "xiashan_admin", second: str = "qu_admin"):
    a, b = demo_app.test_client(), demo_app.test_client()
    login_as(a, first)
    login_as(b, second)
    return a, b


def test_the_second_save_of_a_case_loaded_by_two_clerks_is_refused_and_keeps_what_was_typed(demo_app):
    case = _open_case()
    a, b = _two_clerks(demo_app)
    form_a = form_of(a, f"/admin/case/edit/?id={case.id}")
    form_b = form_of(b, f"/admin/case/edit/?id={case.id}")
    assert form_a["version"] == form_b["version"] == str(case.version)
    form_a.setlist("summary", ["甲：申请人补充了户口簿复印件"])
    assert a.post(f"/admin/case/edit/?id={case.id}", data=form_a).status_code == 302
    form_b.setlist("summary", ["乙：申请人电话改约下周取件"])
    response = b.post(f"/admin/case/edit/?id={case.id}", data=form_b)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and STALE in body
    assert "乙：申请人电话改约下周取件" in body and 'name="summary"' in body  # the form, as typed
    assert row_of(Case, case.id)["summary"] == "甲：申请人补充了户口簿复印件"
    summaries = db.session.scalars(
        select(AuditLog.changes).where(
            AuditLog.event == "update", AuditLog.object_type == "case", AuditLog.object_id == str(case.id)
        )
    ).all()
    assert sum("甲：申请人补充了户口簿复印件" in c for c in summaries) == 1
    assert not any("乙：申请人电话改约下周取件" in c for c in summaries)


def test_a_case_form_loaded_before_a_transition_cannot_save_over_the_new_status(demo_app):
    case = _open_case(status="registered")
    a, b = _two_clerks(demo_app)
    form_a = form_of(a, f"/admin/case/edit/?id={case.id}")
    details = b.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    b.post(f"/admin/case/transition/start/?id={case.id}", data={"ids": str(case.id), "version": _version_in(details)})
    assert row_of(Case, case.id)["status"] == "in_progress"
    form_a.setlist("summary", ["受理时的情况摘要(旧页面)"])
    body = a.post(f"/admin/case/edit/?id={case.id}", data=form_a).get_data(as_text=True)
    assert STALE in body and "受理时的情况摘要(旧页面)" in body
    saved = row_of(Case, case.id)
    assert saved["status"] == "in_progress" and saved["summary"] != "受理时的情况摘要(旧页面)"


def test_an_edit_of_only_the_materials_makes_older_forms_stale(demo_app):
    case = _open_case()
    a, b = _two_clerks(demo_app)
    form_a = form_of(a, f"/admin/case/edit/?id={case.id}")
    form_b = form_of(b, f"/admin/case/edit/?id={case.id}")
    form_a.setlist("materials-0-custody", ["已入档案柜A-3"])
    assert a.post(f"/admin/case/edit/?id={case.id}", data=form_a).status_code == 302
    form_b.setlist("materials-0-custody", ["由代办员随身保管"])
    assert STALE in b.post(f"/admin/case/edit/?id={case.id}", data=form_b).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).materials[0].custody == "已入档案柜A-3"


def test_a_post_without_the_record_version_is_refused(demo_app):
    case = _open_case()
    a, _ = _two_clerks(demo_app)
    payload = form_of(a, f"/admin/case/edit/?id={case.id}")
    payload.pop("version")
    payload.setlist("summary", ["无版本号的提交"])
    body = a.post(f"/admin/case/edit/?id={case.id}", data=payload).get_data(as_text=True)
    assert "表单缺少记录版本，请刷新页面后重试" in body
    assert row_of(Case, case.id)["summary"] != "无版本号的提交"


def _first(model, *where):
    return db.session.scalar(select(model).where(*where).order_by(model.id).limit(1))


# Every other view with an edit form: (endpoint, model, which record, field, first text, second text).
EDITABLE = [
    ("applicant", Applicant, (), "address", "东山路1号(甲)", "东山路2号(乙)"),
    ("agent", Agent, (), "name", "吴少雄甲", "吴少雄乙"),
    ("center", Center, (), "address", "峡山大道1号(甲)", "峡山大道2号(乙)"),
    ("service_item", ServiceItem, (), "notes", "甲：窗口可代收材料", "乙：须本人到场"),
    ("department", Department, (), "contact", "陈甲", "陈乙"),
    ("user", User, (User.username == "xiashan_taoxi",), "full_name", "林甲", "林乙"),
    ("followup", FollowUp, (FollowUp.status != "closed",), "due_date", "2099-01-04", "2099-02-05"),
]


@pytest.mark.parametrize(
    ("endpoint", "model", "where", "field", "first", "second"), EDITABLE, ids=[e[0] for e in EDITABLE]
)
def test_every_edit_form_refuses_a_stale_second_save(demo_app, endpoint, model, where, field, first, second):
    record = _first(model, *where)
    a, b = _two_clerks(demo_app, "qu_admin", "qu_admin")
    url = f"/admin/{endpoint}/edit/?id={record.id}"
    form_a, form_b = form_of(a, url), form_of(b, url)
    form_a.setlist(field, [first])
    saved = a.post(url, data=form_a)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    form_b.setlist(field, [second])
    body = b.post(url, data=form_b).get_data(as_text=True)
    assert STALE in body and second in body
    assert str(row_of(model, record.id)[field]) == first


def test_a_login_between_loading_and_saving_a_user_does_not_make_the_form_stale(demo_app):
    record = _first(User, User.username == "xiashan_taoxi")
    a, _ = _two_clerks(demo_app, "qu_admin", "qu_admin")
    url = f"/admin/user/edit/?id={record.id}"
    payload = form_of(a, url)
    demo_app.test_client().post("/login", data={"username": "xiashan_taoxi", "password": "错误的密码"})
    assert row_of(User, record.id)["failed_logins"] == 1
    payload.setlist("full_name", ["林晓桃"])
    assert a.post(url, data=payload).status_code == 302
    assert row_of(User, record.id)["full_name"] == "林晓桃"


def test_four_clerks_saving_one_case_at_once_leave_one_save_and_three_refusals(demo_app):
    case = _open_case()
    clerks = []
    for i in range(4):
        client = demo_app.test_client()
        login_as(client, "qu_admin" if i % 2 else "xiashan_admin")
        payload = form_of(client, f"/admin/case/edit/?id={case.id}")
        payload.setlist("summary", [f"第{i + 1}位办事员的摘要"])
        clerks.append((client, payload))
    barrier = threading.Barrier(4)
    responses: list = [None] * 4

    def save(index: int) -> None:
        client, payload = clerks[index]
        with demo_app.app_context():
            barrier.wait()
            responses[index] = client.post(f"/admin/case/edit/?id={case.id}", data=payload)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 200, 302], [r.get_data(as_text=True)[:300] for r in responses]
    winner = next(i for i, r in enumerate(responses) if r.status_code == 302)
    assert all(STALE in r.get_data(as_text=True) for r in responses if r.status_code == 200)
    assert row_of(Case, case.id)["summary"] == f"第{winner + 1}位办事员的摘要"


def test_a_transition_page_loaded_before_an_edit_is_refused_and_keeps_the_typed_reason(demo_app):
    case = _open_case()
    a, b = _two_clerks(demo_app)
    page = a.get(f"/admin/case/transition/suspend/?id={case.id}").get_data(as_text=True)
    version = _version_in(page)
    form_b = form_of(b, f"/admin/case/edit/?id={case.id}")
    form_b.setlist("summary", ["区级更新的摘要"])
    assert b.post(f"/admin/case/edit/?id={case.id}", data=form_b).status_code == 302
    response = a.post(
        f"/admin/case/transition/suspend/?id={case.id}",
        data={"ids": str(case.id), "version": str(version), "reason": "等待区民政局出具核查意见"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f"“中止”未执行：{STALE}" in body
    assert "等待区民政局出具核查意见" in body
    assert row_of(Case, case.id)["status"] == "in_progress"


def test_four_staff_recording_one_call_back_at_once_leave_one_record_and_no_server_error(demo_app):
    followup = db.session.scalar(
        select(FollowUp).where(FollowUp.status == "open", FollowUp.complaint_id.is_(None)).order_by(FollowUp.id)
    )
    followup_id = followup.id
    db.session.rollback()
    staff = []
    for _ in range(4):
        client = demo_app.test_client()
        login_as(client, "qu_admin")
        staff.append(client)
    barrier = threading.Barrier(4)
    responses: list = [None] * 4

    def record(index: int) -> None:
        with demo_app.app_context():
            barrier.wait()
            responses[index] = staff[index].post(
                f"/admin/followup/step/call_back/?id={followup_id}",
                data={"callback_record": f"第{index}位工作人员的回访记录"},
            )

    threads = [threading.Thread(target=record, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [r.status_code for r in responses] == [302] * 4, [r.get_data(as_text=True)[:300] for r in responses]
    pages = [client.get(f"/admin/followup/details/?id={followup_id}").get_data(as_text=True) for client in staff]
    assert sum("回访记录已保存。" in page for page in pages) == 1
    # A loser either lost at the write (the version moved) or came after the winner (no longer 待回访).
    assert sum(f"未保存：{STALE}" in page or "未保存：回访当前为" in page for page in pages) == 3
    db.session.expire_all()
    saved = db.session.get(FollowUp, followup_id)
    assert saved.status == "called_back" and saved.callback_record.startswith("第")
    steps = db.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.event == "followup", AuditLog.object_id == str(followup_id), AuditLog.changes.contains("call_back")
        )
    )
    assert steps == 1
