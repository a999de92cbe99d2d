"""The 台账 registers (issue 12): cases, evaluations, follow-ups and complaints as XLSX and CSV.

Expected cells are written from the rules as the console states them: a running case past its
promised date is overdue (已超期), a suspended one is paused (中止停表), never overdue; a completed
case is on time (按时办结) when it closed on or before its promised date, which already carries an
approved extension; terminated cases are neither. A follow-up is due FOLLOWUP_WORKING_DAYS after it
opened and is late when closed after that day.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tracemalloc

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from extensions import db
from models import AuditLog, Complaint, Evaluation, FollowUp
from models.enums import Role, Tier
from models.time import today_beijing
from tests.builders import (
    login_as,
    make_applicant,
    make_case,
    make_center,
    make_district,
    make_item,
    make_user,
    valid_id_number,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TODAY = today_beijing()
DAY = dt.timedelta(days=1)
ID_NUMBER = valid_id_number(birth="19761203", seq="045")
PHONE = "13912345678"
MASKED_ID = ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]
MASKED_PHONE = "139****5678"

CASE_HEADER = [
    "案件编号",
    "受理机构",
    "所属镇(街道)",
    "服务方式",
    "状态",
    "申请事项",
    "办理部门",
    "申请人",
    "证件号码",
    "联系电话",
    "代办员",
    "受理日期",
    "承诺办结日期",
    "办结/终止日期",
    "是否超期",
    "按时办结",
    "已延期",
    "评价",
    "回访",
]
# The 评价表's five items in its wording and order (附件6), then 总体评价.
EVALUATION_HEADER = [
    "案件编号",
    "受理机构",
    "所属镇(街道)",
    "申请事项",
    "服务方式",
    "评价渠道",
    "服务态度",
    "办事效率(是否按时)",
    "业务水平",
    "进度告知",
    "廉洁自律",
    "总体评价",
    "是否有索要财物/吃拿卡要",
    "计入评价结果",
    "评价日期",
    "差评回访",
]
FOLLOWUP_HEADER = [
    "案件编号",
    "受理机构",
    "所属镇(街道)",
    "来源",
    "回访责任人",
    "回访状态",
    "办理期限",
    "回访时间",
    "整改情况",
    "反馈结果",
    "办结日期",
    "按期情况",
]
COMPLAINT_HEADER = [
    "案件编号",
    "受理机构",
    "所属镇(街道)",
    "投诉渠道",
    "工单编号",
    "投诉人",
    "投诉人电话",
    "投诉内容",
    "收到时间",
    "回访状态",
]


@pytest.fixture
def world(app):
    """Two towns with a station each; cases whose deadline cells the rules decide, one of each kind."""
    district = make_district()
    xiashan = make_center(district, Tier.TOWN, "峡山街道便民服务中心")
    dongshan = make_center(xiashan, Tier.VILLAGE, "东山社区便民服务站")
    chendian = make_center(district, Tier.TOWN, "陈店镇便民服务中心")
    wenguang = make_center(chendian, Tier.VILLAGE, "文光社区便民服务站")
    item = make_item([dongshan, xiashan, wenguang], code="T-REG-1", name="城乡居民养老保险参保登记")
    person = make_applicant(dongshan, name="林晓燕", id_number=ID_NUMBER, phone=PHONE)
    received = dt.date(2026, 9, 28)

    def case(number, at=dongshan, promised_date=None, **values):
        made = make_case(at, [item], person, number=number, received_date=received, **values)
        # The registration derives the promised date from the item's limit; here it is set to the
        # date the case would hold after its history (suspensions added, extensions approved).
        made.promised_date = promised_date
        db.session.flush()
        return made

    cases = {
        "overdue": case("CN-V-REG-0001", status="in_progress", promised_date=TODAY - 3 * DAY),
        "running": case("CN-V-REG-0002", status="in_progress", promised_date=TODAY + 5 * DAY),
        "suspended": case("CN-V-REG-0003", status="suspended", promised_date=TODAY - 3 * DAY),
        "late": case(
            "CN-V-REG-0004", status="completed", promised_date=dt.date(2026, 10, 9), closed_date=dt.date(2026, 10, 15)
        ),
        "on time": case(
            "CN-V-REG-0005", status="completed", promised_date=dt.date(2026, 10, 20), closed_date=dt.date(2026, 10, 20)
        ),
        # Late against the first date, on time against the extended one: the extension counts.
        "extended": case(
            "CN-V-REG-0006",
            status="completed",
            promised_date=dt.date(2026, 10, 23),
            closed_date=dt.date(2026, 10, 21),
            extended=True,
        ),
        "archived late": case(
            "CN-V-REG-0007", status="archived", promised_date=dt.date(2026, 10, 9), closed_date=dt.date(2026, 10, 12)
        ),
        "terminated": case(
            "CN-V-REG-0008",
            status="terminated",
            promised_date=dt.date(2026, 10, 9),
            closed_date=dt.date(2026, 10, 12),
            termination_reason="withdrawn",
            termination_text="委托人申请终止",
        ),
        "other town": case("CN-V-REG-0009", at=wenguang, status="in_progress", promised_date=TODAY - 3 * DAY),
        "other town done": case(
            "CN-V-REG-0010",
            at=wenguang,
            status="completed",
            promised_date=dt.date(2026, 10, 9),
            closed_date=dt.date(2026, 10, 9),
        ),
    }
    late = cases["late"]
    town_admin = make_user("xiashan_admin", Role.TOWN_ADMIN, xiashan)
    town_admin.full_name = "黄主任"
    district_admin = make_user("qu_admin", Role.DISTRICT_ADMIN, district)
    make_user("qu_audit", Role.AUDITOR, district)
    make_user("xiashan_dongshan", Role.VILLAGE_OPERATOR, dongshan)
    bad = Evaluation(
        case=late,
        overall=2,
        attitude=3,
        efficiency=1,
        competence=4,
        communication=5,
        integrity=3,
        channel="link",
        counted=True,
        created_at=dt.datetime(2026, 10, 16, 17, 30),  # UTC: the 17th in Beijing
    )
    paper = Evaluation(case=late, overall=4, channel="paper", counted=False, paper_ref="PJ-001", entered_by=town_admin)
    elsewhere = Evaluation(
        case=cases["other town done"],
        overall=5,
        channel="paper",
        counted=True,
        paper_ref="PJ-002",
        entered_by=district_admin,
    )
    bad_followup = FollowUp(
        case=late,
        evaluation=bad,
        assignee=town_admin,
        status="closed",
        due_date=dt.date(2026, 11, 6),
        callback_at=dt.datetime(2026, 11, 2, 2, 0),
        rectification="已约谈代办员，改进告知流程",
        feedback="已电话告知申请人整改情况",
        closed_date=dt.date(2026, 11, 9),
    )
    complaint = Complaint(
        case=cases["on time"],
        channel="hotline_12345",
        reference="12345-2026-001",
        complainant_name="林晓燕",
        complainant_phone=PHONE,
        content="反映办理进度慢",
        received_at=dt.datetime(2026, 10, 21, 1, 0),
    )
    complaint_followup = FollowUp(
        case=cases["on time"], complaint=complaint, status="open", due_date=TODAY - 2 * DAY, assignee=town_admin
    )
    db.session.add_all([bad, paper, elsewhere, bad_followup, complaint, complaint_followup])
    db.session.commit()
    return cases


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _by_number(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    header = rows[0]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def _export(client, endpoint: str, file_format: str = "csv", query: str = ""):
    response = client.post(f"/admin/{endpoint}/export-masked/{query}", data={"format": file_format})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


@pytest.fixture
def district_admin(app, world):
    client = app.test_client()
    login_as(client, "qu_admin")
    return client


# --- the case register --------------------------------------------------------------------


def test_the_case_register_marks_overdue_and_on_time_by_the_consoles_rules(district_admin, world):
    rows = _by_number(_csv(_export(district_admin, "case").data))
    marks = {name: (rows[case.number]["是否超期"], rows[case.number]["按时办结"]) for name, case in world.items()}
    assert marks == {
        "overdue": ("是", ""),
        "running": ("否", ""),
        "suspended": ("否(中止停表)", ""),
        "late": ("", "否"),
        "on time": ("", "是"),
        "extended": ("", "是"),
        "archived late": ("", "否"),
        "terminated": ("", ""),
        "other town": ("是", ""),
        "other town done": ("", "是"),
    }
    assert rows[world["extended"].number]["已延期"] == "是" and rows[world["late"].number]["已延期"] == "否"


def test_the_case_register_as_xlsx_has_chinese_headers_a_frozen_row_and_fitting_widths(district_admin, world):
    response = _export(district_admin, "case", "xlsx")
    assert response.headers["Content-Type"].startswith(XLSX)
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == CASE_HEADER
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b
    widths = {header: sheet.column_dimensions[chr(ord("A") + index)].width for index, header in enumerate(CASE_HEADER)}
    # Every column has a width; a CJK cell counts two per character: 城乡居民养老保险参保登记 is 12
    # characters, 24 cells, wider than the 8-cell header 申请事项; 是否超期 (8) fits its 是/否 under it.
    assert all(width for width in widths.values()), widths
    assert widths["申请事项"] >= 24 > widths["是否超期"] >= 8
    assert widths["案件编号"] >= len("CN-V-REG-0001")
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number[world["overdue"].number][14] == "是"
    assert by_number[world["late"].number][15] == "否"


def test_the_csv_register_starts_with_a_bom(district_admin, world):
    data = _export(district_admin, "case").data
    assert data.startswith(b"\xef\xbb\xbf")
    assert data[3:].decode("utf-8").startswith(",".join(CASE_HEADER[:3]))


def test_a_town_admins_register_holds_only_its_towns_rows(app, world):
    client = app.test_client()
    login_as(client, "xiashan_admin")
    numbers = {row[0] for row in _csv(_export(client, "case").data)[1:]}
    assert numbers == {case.number for name, case in world.items() if not name.startswith("other town")}
    evaluations = _csv(_export(client, "evaluation").data)[1:]
    assert [row[0] for row in evaluations] == [world["late"].number] * 2


# --- personal numbers: masked unless revealed with a reason -------------------------------


def test_personal_numbers_are_masked_by_default(district_admin, world):
    row = _by_number(_csv(_export(district_admin, "case").data))[world["late"].number]
    assert (row["证件号码"], row["联系电话"]) == (MASKED_ID, MASKED_PHONE)
    assert ID_NUMBER not in _export(district_admin, "case").data.decode("utf-8-sig")


def test_full_numbers_need_a_typed_reason_and_the_export_is_audited(district_admin, world):
    url = f"/admin/case/export-full/?search={world['late'].number}"
    form = district_admin.get(url).get_data(as_text=True)
    assert "含完整证件号码" in form and "导出理由" in form
    refused = district_admin.post(url, data={"format": "csv", "reason": " "})
    body = refused.get_data(as_text=True)
    assert refused.mimetype == "text/html" and "请填写导出完整证件号码的理由" in body
    assert 'value="csv" checked' in body and 'value="xlsx" checked' not in body  # the choice is kept
    assert db.session.scalar(select(AuditLog).where(AuditLog.event == "export_unmasked")) is None

    response = district_admin.post(url, data={"format": "csv", "reason": "移交区档案室核对身份"})
    assert "%E5%90%AB%E5%AE%8C%E6%95%B4" in response.headers["Content-Disposition"]  # 含完整 in the file name
    rows = _csv(response.data)
    assert rows[0] == CASE_HEADER
    assert [(r[0], r[8], r[9]) for r in rows[1:]] == [(world["late"].number, ID_NUMBER, PHONE)]
    row = db.session.scalar(select(AuditLog).where(AuditLog.event == "export_unmasked"))
    changes = json.loads(row.changes)
    assert (changes["reason"], changes["rows"], changes["format"]) == ("移交区档案室核对身份", 1, "csv")
    assert "移交区档案室核对身份" in row.summary and "1 行" in row.summary and "含完整证件号码" in row.summary


def test_the_complaint_register_reveals_the_complainants_phone_only_with_a_reason(district_admin, world):
    masked = _csv(_export(district_admin, "complaint").data)
    assert masked[0] == COMPLAINT_HEADER
    assert masked[1][6] == MASKED_PHONE
    full = _csv(district_admin.post("/admin/complaint/export-full/", data={"format": "csv", "reason": "回访核实"}).data)
    assert full[1][6] == PHONE


@pytest.mark.parametrize("username", ["qu_audit"])
def test_a_role_not_allowed_to_reveal_is_refused_and_the_refusal_audited(app, world, username):
    client = app.test_client()
    login_as(client, username)
    assert "export-full" not in client.get("/admin/case/").get_data(as_text=True)
    response = client.post("/admin/case/export-full/", data={"format": "csv", "reason": "查看"})
    assert response.status_code == 403
    assert db.session.scalar(select(AuditLog).where(AuditLog.event == "export_unmasked")) is None
    assert db.session.scalar(select(AuditLog).where(AuditLog.event == "forbidden")) is not None
    # The case page offers no reveal either, and its endpoint refuses.
    case = world["late"]
    assert "reveal-form" not in client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert client.post(f"/admin/case/reveal/?id={case.id}", data={"reason": "查看"}).status_code == 403


def test_a_register_without_personal_numbers_offers_no_full_export(district_admin, world):
    assert "export-full" not in district_admin.get("/admin/evaluation/").get_data(as_text=True)
    assert district_admin.get("/admin/evaluation/export-full/").status_code == 403


def test_the_village_clerk_may_export_full_numbers_of_its_own_cases(app, world):
    client = app.test_client()
    login_as(client, "xiashan_dongshan")
    assert "export-full" in client.get("/admin/case/").get_data(as_text=True)
    rows = _csv(client.post("/admin/case/export-full/", data={"format": "csv", "reason": "核对身份"}).data)
    assert world["other town"].number not in {row[0] for row in rows[1:]}
    assert {row[8] for row in rows[1:]} == {ID_NUMBER}


# --- evaluations and follow-ups -------------------------------------------------------------


def test_the_evaluation_register_uses_the_forms_wording(district_admin, world):
    rows = _csv(_export(district_admin, "evaluation").data)
    assert rows[0] == EVALUATION_HEADER
    by_channel = {row[5]: row for row in rows[1:] if row[0] == world["late"].number}
    assert by_channel["一次性评价链接"] == [
        world["late"].number,
        "东山社区便民服务站",
        "峡山街道便民服务中心",
        "城乡居民养老保险参保登记",
        "现场帮办",
        "一次性评价链接",
        "基本满意",
        "非常不满意",
        "满意",
        "非常满意",
        "基本满意",
        "不满意",
        "否",
        "是",
        "2026-10-17",
        "已办结",
    ]
    # The paper form stops counting once the applicant rated the case through the link.
    assert by_channel["纸质评价表"][13] == "否" and by_channel["纸质评价表"][15] == ""


def test_the_follow_up_register_states_source_assignee_and_timeliness(district_admin, world):
    response = _export(district_admin, "followup", "xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == FOLLOWUP_HEADER and sheet.freeze_panes == "A2"
    by_source = {row[3]: row for row in rows[1:]}
    assert by_source["差评(一次性评价链接)"] == [
        world["late"].number,
        "东山社区便民服务站",
        "峡山街道便民服务中心",
        "差评(一次性评价链接)",
        "黄主任",
        "已办结",
        "2026-11-06",
        "2026-11-02 10:00:00 +08:00",
        "已约谈代办员，改进告知流程",
        "已电话告知申请人整改情况",
        "2026-11-09",
        "逾期办结",
    ]
    complaint = by_source["投诉(12345热线)"]
    assert (complaint[5], complaint[7], complaint[10], complaint[11]) == ("待回访", None, None, "已超期未办结")


# --- flat memory: the writers hold a batch, never the file's rows -----------------------------


def _register_batches(rows: int, size: int = 1000):
    """Rows shaped like the case register's, produced a batch at a time as the exports read them."""
    for start in range(0, rows, size):
        yield [
            [f"CN-V-20261207-{n:06d}", "东山社区便民服务站", "城乡居民养老保险参保登记", MASKED_ID, "2026-10-09", "是"]
            + ["峡山街道便民服务中心"] * 13
            for n in range(start, min(rows, start + size))
        ]


def _peak(write) -> int:
    tracemalloc.start()
    try:
        write()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_csv_writer_holds_the_same_memory_for_100000_rows_as_for_10000():
    from admin_views.pii import _csv_chunks

    def write(rows: int):
        return lambda: sum(len(chunk) for chunk in _csv_chunks(CASE_HEADER, _register_batches(rows)))

    small, large = _peak(write(10_000)), _peak(write(100_000))
    assert large - small < 256 * 1024, (small, large)


def test_the_xlsx_writer_holds_the_same_memory_for_six_times_the_rows(tmp_path):
    from admin_views.pii import _write_xlsx

    def write(rows: int):
        def run():
            with open(tmp_path / f"{rows}.xlsx", "wb") as target:
                _write_xlsx(target, "案件台账", CASE_HEADER, _register_batches(rows, size=250))

        return run

    # openpyxl under tracemalloc writes about 700 rows a second: sizes kept small, the ratio large,
    # in batches of 250 so that both files hold several (the first batch is also the width sample).
    small, large = _peak(write(500)), _peak(write(3_000))
    assert large - small < 256 * 1024, (small, large)
    sheet = load_workbook(tmp_path / "3000.xlsx", read_only=True).active
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 3_001


# --- the rules on their own, every status -----------------------------------------------------

D = dt.date(2026, 10, 20)


@pytest.mark.parametrize(
    ("status", "promised", "closed", "ended_by", "overdue", "on_time"),
    [
        ("submitted", None, None, None, "否", ""),  # the delegated clock starts at acceptance
        ("registered", D - DAY, None, None, "是", ""),
        ("accepted", D, None, None, "否", ""),  # due today is not yet overdue
        ("in_progress", D - DAY, None, None, "是", ""),
        ("suspended", D - DAY, None, None, "否(中止停表)", ""),
        ("completed", D, D, None, "", "是"),
        ("completed", D, D + DAY, None, "", "否"),
        ("archived", D, D + DAY, None, "", "否"),
        ("archived", D, D, "termination", "", ""),
        ("terminated", D, D + DAY, "termination", "", ""),
        ("rejected", None, D, "rejection", "", ""),
        ("archived", None, D, "rejection", "", ""),
    ],
)
def test_overdue_and_on_time_marks_for_every_status(status, promised, closed, ended_by, overdue, on_time):
    from lifecycle.register import on_time_mark, overdue_mark

    termination = "withdrawn" if ended_by == "termination" else None
    rejection = "材料不属于受理范围" if ended_by == "rejection" else None
    # Judged on day D.
    assert overdue_mark(status, promised, D) == overdue
    assert on_time_mark(status, promised, closed, termination, rejection) == on_time


@pytest.mark.parametrize(
    ("status", "closed", "today", "expected"),
    [
        ("closed", D, D + 9 * DAY, "按期办结"),
        ("closed", D + DAY, D + DAY, "逾期办结"),
        ("feedback_given", None, D + DAY, "已超期未办结"),
        ("open", None, D, "未到期"),
    ],
)
def test_a_follow_ups_timeliness_against_its_due_date(status, closed, today, expected):
    from lifecycle.register import followup_timeliness

    assert followup_timeliness(status, D, closed, today) == expected


def test_the_applicant_roster_offers_the_same_full_export(district_admin, world):
    masked = _csv(_export(district_admin, "applicant").data)
    assert [row[2:4] for row in masked[1:]] == [[MASKED_ID, MASKED_PHONE]]
    full = district_admin.post("/admin/applicant/export-full/", data={"format": "csv", "reason": "核对身份"})
    assert [row[2:4] for row in _csv(full.data)[1:]] == [[ID_NUMBER, PHONE]]
    assert db.session.scalar(select(AuditLog.summary).where(AuditLog.event == "export_unmasked")).startswith(
        "导出申请人名册(含完整证件号码) 1 行"
    )
