"""Nobody overwrites anybody: stale edit forms and racing transitions are refused with one message."""

from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from extensions import db
from models import AuditLog, Case, CaseLog, Center
from tests.builders import login_as

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
