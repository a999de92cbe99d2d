"""好差评 in and out: the provincial system's file imported, matched, reported; 差评整改反馈 exported."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from urllib.parse import quote

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from extensions import db
from lifecycle.haochaping import EXPORT_HEADERS, feedback_batches
from lifecycle.supervision import advance_followup
from models import AuditLog, Case, Complaint, Evaluation, FollowUp
from models.time import BEIJING
from tests.builders import center, login_as, user

# The national field set as issue 12 and domain.md §2/§2.6 name it, plus 类型 (评价/投诉).
HEADER = ["评价编号", "类型", "办件编号", "事项", "评价渠道", "评价等级", "评价时间", "评价内容", "评价人", "联系电话"]
# What the export adds for 差评整改反馈 (issue 12: 回访时间, 整改情况, 反馈结果).
FEEDBACK = ["承办机构", "回访状态", "回访时间", "回访记录", "整改情况", "反馈结果", "回访办结日期"]
CLOSED = ("completed", "archived")


def _yesterday(hour: int = 10) -> str:
    day = dt.datetime.now(BEIJING).date() - dt.timedelta(days=1)
    return f"{day} {hour:02d}:30:00"


def _cases(center: str, statuses: tuple[str, ...], count: int, evaluated: bool = False) -> list[Case]:
    query = select(Case).where(Case.center.has(name=center), Case.status.in_(statuses)).order_by(Case.id)
    if not evaluated:
        query = query.where(~Case.evaluations.any())
    found = list(db.session.scalars(query.limit(count)))
    assert len(found) == count, (center, statuses)
    return found


@pytest.fixture
def story(demo_app):
    """Cases of 峡山街道 (xiashan_admin's town) and one of 陈店镇 (not his)."""
    good, good2, bad = _cases("东山社区便民服务站", CLOSED, 3)
    [running] = _cases("桃溪社区便民服务站", ("accepted",), 1)
    [complained] = _cases("峡山街道便民服务中心", ("in_progress",), 1)
    [elsewhere] = _cases("文光社区便民服务站", CLOSED, 1)
    return {
        "good": good,
        "good2": good2,
        "bad": bad,
        "running": running,
        "complained": complained,
        "elsewhere": elsewhere,
    }


def _rows(story) -> list[list[str]]:
    when = _yesterday()
    return [
        [
            "HCP-2026-0001",
            "评价",
            story["good"].number,
            "社会保障卡申领",
            "粤省事",
            "5",
            when,
            "服务很好",
            "陈先生",
            "13812345678",
        ],
        ["HCP-2026-0002", "评价", story["good2"].number, "社会保障卡申领", "窗口评价器", "4", when, "", "", ""],
        [
            "HCP-2026-0003",
            "评价",
            story["bad"].number,
            "社会保障卡申领",
            "广东政务服务网",
            "2",
            when,
            "等了很久",
            "",
            "",
        ],
        [
            "HCP-2026-0004",
            "投诉",
            story["complained"].number,
            "",
            "12345热线",
            "",
            when,
            "代办员态度冷淡",
            "吴女士",
            "",
        ],
        ["HCP-2026-0005", "评价", "CN-C-20990101-9999", "", "粤省事", "5", when, "", "", ""],
        ["HCP-2026-0006", "评价", story["elsewhere"].number, "", "粤省事", "1", when, "", "", ""],
        ["HCP-2026-0001", "评价", story["good"].number, "", "粤省事", "5", when, "", "", ""],
        ["HCP-2026-0007", "评价", story["running"].number, "", "粤省事", "3", when, "", "", ""],
        ["HCP-2026-0008", "评价", story["good"].number, "", "粤省事", "6", when, "", "", ""],
        ["HCP-2026-0009", "评价", story["good"].number, "", "粤省事", "3", "2026-13-45", "", "", ""],
    ]


def _csv(rows: list[list[str]], encoding: str = "utf-8-sig", header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(client, data: bytes, name: str = "好差评2026年11月.csv") -> str:
    response = client.post(
        "/admin/haochaping/import/",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _skipped(body: str) -> dict[str, str]:
    """评价编号 → reason, read from the result page's table of rows not imported."""
    table = body.split('class="table table-sm table-bordered table-story skipped-rows"', 1)[1].split("</table>")[0]
    found = {}
    for cells in re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>.*?<td class=\"text-danger\">([^<]*)</td>", table):
        found[f"{cells[0]}:{cells[1]}"] = cells[2]
    return found


def _evaluation(case: Case) -> Evaluation | None:
    return db.session.scalar(
        select(Evaluation).where(Evaluation.case_id == case.id, Evaluation.channel == "haochaping")
    )


def test_a_town_admin_imports_what_matches_and_is_told_why_the_rest_was_not(client, story):
    login_as(client, "xiashan_admin")
    body = _upload(client, _csv(_rows(story)))

    assert "导入 4 条(评价 3、投诉 1，新开回访 2)，未导入 6 条" in body
    assert _skipped(body) == {
        "6:HCP-2026-0005": "办件编号不存在：系统中没有该案件",
        "7:HCP-2026-0006": "案件不在您的管辖范围内：请由案件承办机构所属的镇街管理员或区级管理员导入",
        "8:HCP-2026-0001": "重复：与本文件第 2 行的评价编号相同",
        "9:HCP-2026-0007": "案件尚不能评价：办结或终止后才能评价(当前状态：已受理)",
        "10:HCP-2026-0008": "评价等级有误：应为 1–5(5 非常满意、4 满意、3 基本满意、2 不满意、1 非常不满意)",
        "11:HCP-2026-0009": "评价时间有误：应为“2026-11-20 10:30:00”格式的北京时间",
    }

    good = _evaluation(story["good"])
    assert (good.overall, good.haochaping_number, good.haochaping_channel, good.counted) == (
        5,
        "HCP-2026-0001",
        "粤省事",
        True,
    )
    assert good.followup is None and good.evaluator_phone == "13812345678"
    assert good.created_at.replace(tzinfo=dt.UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") == _yesterday()
    bad = _evaluation(story["bad"])
    assert bad.overall == 2 and bad.followup.status == "open"
    assert bad.followup.assignee.username == "xiashan_admin"
    [complaint] = db.session.scalars(select(Complaint).where(Complaint.haochaping_number == "HCP-2026-0004"))
    assert (complaint.case_id, complaint.channel, complaint.reference, complaint.content) == (
        story["complained"].id,
        "haochaping",
        "HCP-2026-0004",
        "代办员态度冷淡",
    )
    assert complaint.followup.status == "open" and complaint.entered_by.username == "xiashan_admin"
    for case in (story["elsewhere"], story["running"]):
        assert not db.session.scalar(select(func.count()).select_from(Evaluation).where(Evaluation.case_id == case.id))

    # One audit row for the import with its counts; the records audited as the console's own are.
    [row] = db.session.scalars(select(AuditLog).where(AuditLog.event == "haochaping_import"))
    assert row.username == "xiashan_admin" and "导入 4 条" in row.summary
    assert '"imported": 4' in row.changes and '"skipped": 6' in row.changes
    created = db.session.scalars(
        select(AuditLog.object_type).where(AuditLog.event == "create", AuditLog.username == "xiashan_admin")
    ).all()
    assert sorted(created) == ["complaint", "evaluation", "evaluation", "evaluation", "followup", "followup"]

    # The console's own lists show them, over HTTP.
    listing = client.get(f"/admin/evaluation/?search={story['bad'].number}").get_data(as_text=True)
    assert "好差评系统导入" in listing and "不满意" in listing
    listing = client.get(f"/admin/complaint/?search={story['complained'].number}").get_data(as_text=True)
    assert "好差评系统" in listing and "HCP-2026-0004" in listing and "待回访" in listing
    listing = client.get("/admin/followup/?flt0_status_filterequal=open").get_data(as_text=True)
    assert story["bad"].number in listing and story["complained"].number in listing
    details = client.get(f"/admin/evaluation/details/?id={good.id}").get_data(as_text=True)
    assert "好差评评价编号" in details and "HCP-2026-0001" in details and "粤省事" in details
    assert "13812345678" not in details and "138****5678" in details
    details = client.get(f"/admin/followup/details/?id={bad.followup.id}").get_data(as_text=True)
    assert "差评回访" in details and "好差评系统导入" in details and "等了很久" in details


def test_importing_the_same_file_again_imports_nothing_and_says_so(client, story):
    login_as(client, "xiashan_admin")
    data = _csv(_rows(story))
    _upload(client, data)
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (Evaluation, Complaint, FollowUp)]

    body = _upload(client, data)

    assert "本次未导入任何记录：其中 4 条此前已导入过" in body
    assert "导入 0 条(评价 0、投诉 0，新开回访 0)，未导入 10 条" in body
    assert _skipped(body)["2:HCP-2026-0001"] == "该评价编号已导入过，不重复导入"
    assert _skipped(body)["5:HCP-2026-0004"] == "该评价编号已导入过，不重复导入"
    assert [db.session.scalar(select(func.count()).select_from(m)) for m in (Evaluation, Complaint, FollowUp)] == counts
    assert db.session.scalar(select(func.count()).where(AuditLog.event == "haochaping_import")) == 2


def test_a_district_admin_imports_every_town_and_reads_gb18030_and_xlsx(client, story):
    login_as(client, "qu_admin")
    when = _yesterday(9)
    gb = _csv(
        [["HCP-GB-1", "评价", story["elsewhere"].number, "", "粤省事", "非常不满意", when, "材料被退回三次", "", ""]],
        encoding="gb18030",
    )
    assert gb.decode("gb18030").encode("gb18030") == gb and not gb.startswith(b"\xef\xbb\xbf")
    body = _upload(client, gb, "好差评.csv")
    assert "导入 1 条(评价 1、投诉 0，新开回访 1)" in body
    evaluation = _evaluation(story["elsewhere"])
    assert evaluation.overall == 1 and evaluation.comment == "材料被退回三次"
    assert evaluation.followup.assignee.username == "chendian_admin"  # the town admin of 文光's town owns it

    local = dt.datetime.now(BEIJING).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=2)
    xlsx = _xlsx(
        [
            ["HCP-X-1", "评价", story["good"].number, "", "窗口评价器", 4, local, "", "", ""],
            ["HCP-X-2", "投诉", story["running"].number, "", "粤省事", None, local, "未告知办理进度", "", ""],
        ]
    )
    body = _upload(client, xlsx, "好差评.xlsx")
    assert "导入 2 条(评价 1、投诉 1，新开回访 1)" in body
    from_xlsx = _evaluation(story["good"])
    assert from_xlsx.overall == 4 and from_xlsx.followup is None
    assert from_xlsx.created_at.replace(tzinfo=dt.UTC).astimezone(BEIJING).replace(tzinfo=None) == local
    complaint = db.session.scalar(select(Complaint).where(Complaint.haochaping_number == "HCP-X-2"))
    assert complaint.case_id == story["running"].id and complaint.followup.status == "open"


def test_the_applicants_own_rating_from_the_province_counts_over_a_paper_form(client, demo_app):
    [case] = db.session.scalars(
        select(Case)
        .where(
            Case.center.has(name="东山社区便民服务站"),
            Case.evaluations.any(Evaluation.channel == "paper"),
            ~Case.evaluations.any(Evaluation.channel != "paper"),
        )
        .limit(1)
    )
    login_as(client, "xiashan_admin")
    body = _upload(client, _csv([["HCP-P-1", "评价", case.number, "", "粤省事", "3", _yesterday(), "", "", ""]]))
    assert "导入 1 条" in body
    db.session.expire_all()
    counted = {
        e.channel: e.counted for e in db.session.scalars(select(Evaluation).where(Evaluation.case_id == case.id))
    }
    assert counted == {"paper": False, "haochaping": True}


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        ("评价编号,办件编号,评价等级\nA,B,5\n".encode(), "x.csv", "表头缺少：事项、评价渠道、评价时间、评价内容"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "x.png", "文件不是 CSV 或 XLSX 表格"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "x.xls", "不支持旧版 Excel(.xls)文件"),
        (b"PK\x03\x04" + b"broken" * 10, "x.xlsx", "XLSX 文件已损坏或不是 Excel 工作簿"),
        (b"", "x.csv", "文件是空的"),
        (",".join(HEADER).encode() + b"\n" + b"x" * (1024 * 1024 + 10), "x.csv", "文件过大(超过 1 MB)"),
        (",".join(HEADER).encode() + b"\n" + b"H,,,,,5\n" * 5001, "x.csv", "一次最多导入 5000 行，请分批导入"),
    ],
    ids=["wrong headers", "not a table", "old excel", "broken xlsx", "empty", "too big", "too many rows"],
)
def test_a_file_that_cannot_be_read_gets_a_chinese_message_and_imports_nothing(client, data, name, message):
    login_as(client, "qu_admin")
    before = db.session.scalar(select(func.count()).select_from(Evaluation))
    body = _upload(client, data, name)
    assert "未导入：" in body and message in body
    assert 'enctype="multipart/form-data"' in body  # the form is back, ready for another file
    assert db.session.scalar(select(func.count()).select_from(Evaluation)) == before
    [row] = db.session.scalars(select(AuditLog).where(AuditLog.event == "haochaping_import"))
    assert row.summary.startswith(f"好差评导入未执行 {name}：")


def test_header_variants_and_spaces_are_read_as_the_national_fields(client, story):
    login_as(client, "xiashan_admin")
    header = ["评价ID", "办件号", "事项名称", "来源渠道", " 评价等级(1-5) ", "评价时间", "评价内容", "申请人证件号"]
    row = ["HCP-V-1", story["good"].number, "", "粤省事", "5", _yesterday(), "", "440514198001011232"]
    body = _upload(client, _csv([row], header=header))
    assert "导入 1 条(评价 1、投诉 0，新开回访 0)" in body
    assert _evaluation(story["good"]).haochaping_number == "HCP-V-1"


@pytest.mark.parametrize("username", ["xiashan_dongshan", "qu_audit"])
def test_village_clerks_and_the_auditor_may_not_import_or_export(client, story, username):
    login_as(client, username)
    assert client.get("/admin/haochaping/").status_code == 403
    response = client.post(
        "/admin/haochaping/import/",
        data={"file": (io.BytesIO(_csv(_rows(story))), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    response = client.post(
        "/admin/haochaping/export/", data={"start": "2026-01-01", "end": "2026-12-31", "format": "csv"}
    )
    assert response.status_code == 403
    assert not db.session.scalar(
        select(func.count()).select_from(Evaluation).where(Evaluation.haochaping_number.is_not(None))
    )
    assert (
        db.session.scalar(select(func.count()).where(AuditLog.event == "forbidden", AuditLog.username == username)) == 3
    )
    assert "好差评导入导出" not in client.get("/admin/").get_data(as_text=True)


def test_the_forms_carry_csrf_and_a_post_without_it_is_refused(demo_app_csrf):
    client = demo_app_csrf.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "qu_admin", "password": "Chaonan#2024", "csrf_token": token})
    body = client.get("/admin/haochaping/").get_data(as_text=True)
    assert body.count('name="csrf_token"') >= 2 and "导入省好差评系统的评价和投诉" in body
    response = client.post(
        "/admin/haochaping/import/", data={"file": (io.BytesIO(b"x"), "x.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert not db.session.scalar(select(func.count()).where(AuditLog.event == "haochaping_import"))


# --- export -------------------------------------------------------------------------------------
def _export(client, file_format: str, source: str = "haochaping", start: str | None = None, end: str | None = None):
    today = dt.datetime.now(BEIJING).date()
    data = {
        "start": start or str(today - dt.timedelta(days=7)),
        "end": end or str(today),
        "format": file_format,
        "source": source,
    }
    return client.post("/admin/haochaping/export/", data=data)


def _table(response, file_format: str) -> list[list[str]]:
    if file_format == "csv":
        assert response.data.startswith(b"\xef\xbb\xbf")
        return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_export_gives_back_the_national_fields_with_the_follow_up_results(client, story, file_format):
    login_as(client, "xiashan_admin")
    _upload(client, _csv(_rows(story)))
    followup = _evaluation(story["bad"]).followup
    admin = user("xiashan_admin")
    advance_followup(db.session, followup, "call_back", admin, {"callback_record": "电话回访申请人，核实属实"})
    advance_followup(db.session, followup, "rectify", admin, {"rectification": "已约谈代办员并整改"})
    advance_followup(db.session, followup, "give_feedback", admin, {"feedback": "申请人表示认可"})

    response = _export(client, file_format)

    assert response.status_code == 200
    assert f"filename*=UTF-8''{quote('好差评差评整改反馈')}" in response.headers["Content-Disposition"]
    header, *rows = _table(response, file_format)
    assert header == HEADER + FEEDBACK
    by_number = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_number) == {"HCP-2026-0001", "HCP-2026-0002", "HCP-2026-0003", "HCP-2026-0004"}
    bad = by_number["HCP-2026-0003"]
    assert (bad["类型"], bad["办件编号"], bad["评价渠道"], bad["评价等级"], bad["评价时间"]) == (
        "评价",
        story["bad"].number,
        "广东政务服务网",
        "2",
        _yesterday(),
    )
    assert (bad["回访状态"], bad["整改情况"], bad["反馈结果"]) == ("已反馈", "已约谈代办员并整改", "申请人表示认可")
    assert bad["回访时间"].startswith(str(dt.datetime.now(BEIJING).date())) and bad["承办机构"] == "东山社区便民服务站"
    assert by_number["HCP-2026-0001"]["联系电话"] == "138****5678"  # masked as every export is
    assert by_number["HCP-2026-0001"]["回访状态"] == "无需回访"
    complaint = by_number["HCP-2026-0004"]
    assert (complaint["类型"], complaint["评价内容"], complaint["回访状态"]) == ("投诉", "代办员态度冷淡", "待回访")

    [row] = db.session.scalars(select(AuditLog).where(AuditLog.event == "export", AuditLog.username == "xiashan_admin"))
    assert "好差评差评整改反馈" in row.summary and "4 行" in row.summary

    if file_format == "csv":
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        # Round trip: the exported file is in the import's field set; every row is already on record.
        body = _upload(client, response.data, "回传.csv")
        assert "本次未导入任何记录：其中 4 条此前已导入过" in body


def test_the_export_reads_the_scope_when_asked_not_when_the_file_is_streamed(demo_app):
    # A streamed CSV is written after the view has returned and its session is gone (the
    # development server showed DetachedInstanceError on every CSV); the test client keeps the
    # session, so the detached user is made here by hand.
    admin = user("xiashan_admin")
    today = dt.datetime.now(BEIJING).date()
    batches = feedback_batches(db.session, admin, today - dt.timedelta(days=365), today, False, 50)
    db.session.expire(admin)
    db.session.expunge(admin)
    rows = [row for batch in batches for row in batch]
    town = center("峡山街道便民服务中心")
    assert rows
    assert {row[EXPORT_HEADERS.index("承办机构")] for row in rows} <= {town.name, *(c.name for c in town.children)}


def test_the_export_holds_the_users_scope_only_and_neutralises_formulas(client, story):
    login_as(client, "qu_admin")
    rows = [
        ["HCP-S-1", "评价", story["elsewhere"].number, "", "粤省事", "5", _yesterday(), "=HYPERLINK(1)", "", ""],
        ["HCP-S-2", "评价", story["good"].number, "", "粤省事", "5", _yesterday(), "", "", ""],
    ]
    _upload(client, _csv(rows))
    district = {row[0]: row for row in _table(_export(client, "csv"), "csv")[1:]}
    assert set(district) == {"HCP-S-1", "HCP-S-2"}
    assert district["HCP-S-1"][7] == "'=HYPERLINK(1)"

    client.post("/logout")
    login_as(client, "xiashan_admin")
    town = [row[0] for row in _table(_export(client, "xlsx"), "xlsx")[1:]]
    assert town == ["HCP-S-2"]
    # 全部: the town's own paper and link ratings too (no 评价编号), still nothing of 陈店.
    everything = _table(_export(client, "csv", source="all", start="2020-01-01"), "csv")[1:]
    assert "HCP-S-2" in [row[0] for row in everything] and "HCP-S-1" not in [row[0] for row in everything]
    assert {"纸质评价表", "一次性评价链接"} <= {row[4] for row in everything}
    assert not {row[2] for row in everything} & {story["elsewhere"].number}


def test_a_bad_export_range_is_refused_in_chinese_keeping_what_was_typed(client, demo_app):
    login_as(client, "xiashan_admin")
    body = _export(client, "csv", start="2026-11-30", end="2026-11-01").get_data(as_text=True)
    assert "结束日期不能早于开始日期" in body
    assert 'value="2026-11-30"' in body and 'value="2026-11-01"' in body
    body = _export(client, "csv", start="2026-02-30").get_data(as_text=True)
    assert "请填写开始日期(如 2026-11-01)" in body and 'value="2026-02-30"' in body
    assert not db.session.scalar(select(func.count()).where(AuditLog.event == "export"))


def test_a_row_recorded_by_another_import_in_between_is_reported_not_doubled(client, story, monkeypatch):
    """Two imports of one file at the same moment: the unique 评价编号 keeps the loser's rows out."""
    import lifecycle.haochaping as haochaping

    login_as(client, "xiashan_admin")
    data = _csv(_rows(story)[:4])
    _upload(client, data)
    # The second import looked before the first one committed: it saw nothing on record.
    monkeypatch.setattr(haochaping, "_on_record", lambda session, numbers: (set(), set()))
    body = _upload(client, data)
    assert "本次未导入任何记录：其中 1 条此前已导入过" in body
    reasons = _skipped(body)
    assert reasons["5:HCP-2026-0004"] == "该评价编号已导入过，不重复导入"
    assert reasons["2:HCP-2026-0001"] == "案件已有申请人本人的评价：该案件已评价，每件只能评价一次"
    assert db.session.scalar(select(func.count()).where(Complaint.haochaping_number == "HCP-2026-0004")) == 1


def test_a_work_order_a_clerk_registered_by_hand_is_not_imported_again(client, story):
    login_as(client, "xiashan_admin")
    client.post(
        "/admin/complaint/new/",
        data={
            "case": story["complained"].id,
            "channel": "haochaping",
            "reference": "HCP-2026-0004",
            "content": "代办员态度冷淡",
        },
    )
    body = _upload(client, _csv(_rows(story)[3:4]))
    assert _skipped(body)["2:HCP-2026-0004"] == ("该评价编号已导入过：已在“投诉登记”中以该工单编号手工登记，不重复导入")
    assert db.session.scalar(select(func.count()).where(Complaint.reference == "HCP-2026-0004")) == 1
