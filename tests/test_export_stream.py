"""Masked list exports stream in batches: known cells, constant queries per batch, XLSX that opens."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from extensions import db
from models import Applicant, AuditLog, Case, CaseLog, Center, Complaint, Department, Evaluation, FollowUp, ServiceItem
from tests.builders import login_as
from tests.querycount import count_request
from tests.test_registers import CASE_HEADER  # the case register's columns, in order


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def admin(client):
    login_as(client, "qu_admin")
    return client


# Labels as the plan and the register print them, written out by hand.
MODE_LABELS = {"on_site": "现场帮办", "remote": "远程帮办", "door_to_door": "上门帮办", "delegated": "委托代办"}
STATUS_LABELS = {"completed": "已办结", "archived": "已归档"}


@pytest.fixture
def known_case():
    """A closed village case with a counted bad review and its follow-up, the exported names set by hand."""
    station = db.session.scalar(select(Center).where(Center.name == "东山社区便民服务站"))
    case = db.session.scalar(
        select(Case)
        .where(Case.center_id == station.id, Case.agent_id.is_not(None), Case.status.in_(STATUS_LABELS))
        .order_by(Case.id)
        .limit(1)
    )
    handling, contacted = Department(name="测试甲局"), Department(name="测试乙局")
    item = ServiceItem(code="T-EXPORT-1", name="测试事项甲", department=handling, time_limit_days=5)
    item.centers = [station]
    db.session.add_all([handling, contacted, item])
    case.items = [item]
    case.logs.append(CaseLog(content="电话联系乙局核对材料", department=contacted))
    applicant = case.applicant
    applicant.kind, applicant.credit_code, applicant.gender = "person", None, "female"
    applicant.name, applicant.id_number, applicant.phone = "林晓燕", "440514197612030454", "13912345678"
    case.applicant_name = "林晓燕"
    case.agent.name = "郑代办"
    for old in case.evaluations:
        if old.followup is not None:
            db.session.delete(old.followup)
        db.session.delete(old)
    db.session.flush()
    evaluation = Evaluation(case=case, overall=2, channel="haochaping", counted=True)
    followup = FollowUp(case=case, evaluation=evaluation, status="called_back", due_date=case.closed_date)
    db.session.add_all([evaluation, followup])
    db.session.commit()
    return case


def _departments(case: Case) -> str:
    """The item's department, then those the log contacted in log order (the log is append-only)."""
    contacted = db.session.scalars(
        select(Department.name)
        .join(CaseLog, CaseLog.department_id == Department.id)
        .where(CaseLog.case_id == case.id)
        .order_by(CaseLog.at, CaseLog.id)
    ).all()
    return "、".join(dict.fromkeys(["测试甲局", *contacted]))


def _on_time(case: Case) -> str:
    """按时办结 as the register states it: a completed case closed by its promised date."""
    if case.termination_reason or case.rejection_reason:
        return ""
    return "是" if case.closed_date <= case.promised_date else "否"


def test_a_known_case_exports_its_chinese_cells_with_masked_numbers(admin, known_case):
    response = admin.post(f"/admin/case/export-masked/?search={known_case.number}", data={"format": "csv"})
    rows = _rows(response.data)
    assert rows[0] == CASE_HEADER
    assert rows[1:] == [
        [
            known_case.number,
            "东山社区便民服务站",
            "峡山街道便民服务中心",
            MODE_LABELS[known_case.mode],
            STATUS_LABELS[known_case.status],
            "测试事项甲",
            _departments(known_case),
            "林晓燕",
            "440514********0454",
            "139****5678",
            "郑代办",
            known_case.received_date.isoformat(),
            known_case.promised_date.isoformat(),
            known_case.closed_date.isoformat(),
            "",  # 是否超期 is for open cases; an ended one is judged by 按时办结
            _on_time(known_case),
            "是" if known_case.extended else "否",
            "不满意",
            "已回访",
        ]
    ]


def test_the_audit_row_is_committed_with_the_rows_written_and_the_rows_matched(admin, monkeypatch):
    from admin_views.case import CaseView

    monkeypatch.setattr(CaseView, "export_max", 25)
    total = db.session.scalar(select(func.count()).select_from(Case))
    response = admin.post("/admin/case/export-masked/?sort=0", data={"format": "xlsx"})
    assert response.status_code == 200
    row = db.session.scalar(select(AuditLog).where(AuditLog.event == "export"))
    changes = json.loads(row.changes)
    assert (changes["rows"], changes["matched"], changes["format"]) == (25, total, "xlsx")
    assert changes["filters"] == "sort=0" and "25 行" in row.summary
    assert len(list(load_workbook(io.BytesIO(response.data)).active.iter_rows())) == 26
    # The over-limit message waits on the next page.
    assert f"符合条件 {total} 行，单次最多导出 25 行" in admin.get("/admin/case/").get_data(as_text=True)


def test_an_xlsx_export_opens_and_holds_every_filtered_row(admin, known_case):
    status = known_case.status
    expected = db.session.scalars(select(Case.number).where(Case.status == status)).all()
    response = admin.post(f"/admin/case/export-masked/?flt0_status_filterequal={status}", data={"format": "xlsx"})
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert int(response.headers["Content-Length"]) == len(response.data)
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert list(rows[0]) == CASE_HEADER
    assert sorted(row[0] for row in rows[1:]) == sorted(expected)
    mine = next(row for row in rows if row[0] == known_case.number)
    assert mine[6:10] == (_departments(known_case), "林晓燕", "440514********0454", "139****5678")
    assert all(row[4] == STATUS_LABELS[status] for row in rows[1:])


def _export_queries(client, endpoint: str, rows: int, monkeypatch, view_class) -> int:
    monkeypatch.setattr(view_class, "export_max", rows)
    count, response = count_request(client, "POST", f"/admin/{endpoint}/export-masked/", data={"format": "csv"})
    assert len(_rows(response.data)) == rows + 1
    return count


@pytest.mark.parametrize("username", ["qu_admin", "xiashan_admin"])
def test_case_export_queries_do_not_grow_with_rows(client, demo_app, monkeypatch, username):
    from admin_views.case import CaseView

    login_as(client, username)
    assert _export_queries(client, "case", 10, monkeypatch, CaseView) == _export_queries(
        client, "case", 70, monkeypatch, CaseView
    )


def test_case_export_queries_grow_by_batches_not_rows(client, demo_app, monkeypatch):
    from admin_views.case import CaseView

    login_as(client, "qu_admin")
    demo_app.config["EXPORT_BATCH_ROWS"] = 10
    counts = {rows: _export_queries(client, "case", rows, monkeypatch, CaseView) for rows in (20, 100, 200)}
    # queries = a + b x batches, with the same a and b for every size and b a handful (no per-row query).
    per_batch = (counts[200] - counts[100]) / (math.ceil(200 / 10) - math.ceil(100 / 10))
    fixed = counts[20] - per_batch * 2
    assert per_batch <= 4, counts
    assert counts == {rows: fixed + per_batch * math.ceil(rows / 10) for rows in counts}


def test_applicant_export_queries_do_not_grow_with_rows(client, demo_app, monkeypatch):
    from admin_views.people import ApplicantView

    login_as(client, "qu_admin")
    assert _export_queries(client, "applicant", 20, monkeypatch, ApplicantView) == _export_queries(
        client, "applicant", 150, monkeypatch, ApplicantView
    )


def test_the_row_limit_comes_from_the_configuration(admin, demo_app):
    demo_app.config["EXPORT_MAX_ROWS"] = 7
    rows = _rows(admin.post("/admin/applicant/export-masked/", data={"format": "csv"}).data)
    assert len(rows) == 8 and rows[0][0] == "姓名/单位名称"


def test_a_village_clerk_exports_only_its_station_in_the_lists_order(client):
    login_as(client, "xiashan_dongshan")
    station = db.session.scalar(select(Center).where(Center.name == "东山社区便民服务站"))
    own = db.session.scalars(
        select(Case.number)
        .where((Case.center_id == station.id) | (Case.origin_center_id == station.id))
        .order_by(Case.received_date.desc(), Case.id.desc())
    ).all()
    rows = _rows(client.post("/admin/case/export-masked/", data={"format": "csv"}).data)
    assert [row[0] for row in rows[1:]] == own


def test_an_applicant_export_sorted_by_name_keeps_the_lists_order(admin):
    names = db.session.scalars(select(Applicant.name).order_by(Applicant.name, Applicant.id)).all()
    rows = _rows(admin.post("/admin/applicant/export-masked/?sort=0", data={"format": "csv"}).data)
    assert sorted(row[0] for row in rows[1:]) == sorted(names)
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])


REGISTERS = ["evaluation", "followup", "complaint"]


@pytest.mark.parametrize("endpoint", REGISTERS)
def test_supervision_registers_run_a_fixed_number_of_statements_per_batch(client, demo_app, monkeypatch, endpoint):
    """The evaluation, follow-up and complaint registers: a cell that read a relationship per row
    (an N+1) would make 5 rows cost more than 3 batches of up to 2 rows each allow."""
    from admin_views.supervision import ComplaintView, EvaluationView, FollowUpView

    view = {"evaluation": EvaluationView, "followup": FollowUpView, "complaint": ComplaintView}[endpoint]
    model = {"evaluation": Evaluation, "followup": FollowUp, "complaint": Complaint}[endpoint]
    assert db.session.scalar(select(func.count()).select_from(model)) >= 5  # the demo data holds enough rows
    login_as(client, "qu_admin")
    demo_app.config["EXPORT_BATCH_ROWS"] = 2
    # 1, 3 and 5 rows: one, two and three batches.
    counts = {rows: _export_queries(client, endpoint, rows, monkeypatch, view) for rows in (1, 3, 5)}
    per_batch = counts[3] - counts[1]
    assert per_batch <= 2, counts
    assert counts[5] - counts[3] == per_batch, counts
