"""The 月度统计表 (issue 12): XLSX and one-page PDF of the month's figures, per login's scope, audited.

The expected figures are read from the home page over HTTP for the same month (the issue: the table
is the home page's breakdown, signed off), never from lifecycle/statistics.py directly.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from annexes.render import render_monthly_report
from extensions import db
from lifecycle.monthly_report import COLUMNS, MonthlyReport, ReportRow
from models import AuditLog, Center
from tests import pdftext
from tests.builders import login_as

MONTH = "2026-11"  # the demo data (anchored to seed/demo.py's reference date) is busy that month
TITLE = "潮南区帮办代办服务月度统计表 2026年11月"
HEADERS = [
    "受理量",
    "办结量",
    "终止量",
    "按时办结量",
    "按时办结率",
    "平均办理时长(工作日)",
    "在办数*",
    "超期数*",
    "评价数",
    "满意率",
    "差评数",
    "投诉数",
    "回访工单",
    "回访率",
    "超期回访*",
]
HEADER_ROW = 3


def _cell_text(cell: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", cell).split())


def home_rows(client, period: str = MONTH) -> dict[str, list[str]]:
    """The home page's breakdown table (rows, total, reference), as the 15 columns of the monthly table."""
    body = client.get(f"/admin/?period={period}").get_data(as_text=True)
    table = body.split('class="table table-sm table-striped mb-0 level-table"')[1].split("</table>")[0]
    rows: dict[str, list[str]] = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("</thead>")[1], re.S):
        label = _cell_text(re.search(r'<th scope="row">(.*?)</th>', tr, re.S).group(1))
        cells = [_cell_text(c) for c in re.findall(r'<td class="text-right">(.*?)</td>', tr, re.S)]
        # 受理 办结 终止 在办 超期 即将超期 按时办结率(按时/办结) 平均时长(n件) 评价 满意率 差评 投诉 回访率(按期/工单) 超期回访
        received, completed, terminated, running, overdue, _due_soon, on_time, days, evaluations = cells[:9]
        satisfied, bad, complaints, callback, followups_overdue = cells[9:]
        # A rate cell reads "75.0% ( 6 / 8 )": the rate, then its part and whole.
        on_time_rate, on_time_count, _ = [on_time.split(" ")[0], *re.findall(r"\d+", on_time.split(" ", 1)[1])]
        callback_rate, _, followups = [callback.split(" ")[0], *re.findall(r"\d+", callback.split(" ", 1)[1])]
        satisfaction_rate = satisfied.split(" ")[0]
        rows[label] = [
            received,
            completed,
            terminated,
            on_time_count,
            on_time_rate,
            days.split(" ")[0],
            running,
            overdue,
            evaluations,
            satisfaction_rate,
            bad,
            complaints,
            followups,
            callback_rate,
            followups_overdue,
        ]
    return rows


def _as_text(value, header: str) -> str:
    if value == "—":
        return "—"
    if header.endswith("率"):
        return f"{value * 100:.1f}%"
    if header.startswith("平均"):
        return f"{value:.1f}"
    return str(value)


def xlsx_rows(data: bytes) -> tuple[list[str], dict[str, list[str]], object]:
    sheet = load_workbook(io.BytesIO(data)).active
    headers = [c.value for c in sheet[HEADER_ROW]]
    rows: dict[str, list[str]] = {}
    for line in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if not line[0]:
            break
        rows[line[0]] = [_as_text(value, header) for value, header in zip(line[1:], headers[1:], strict=True)]
    return headers, rows, sheet


def pdf_layout_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def download(client, file_format: str, period: str = MONTH):
    response = client.get(f"/admin/monthly-report.{file_format}?period={period}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


@pytest.mark.parametrize(
    ("username", "caption", "some_rows", "foreign"),
    [
        ("qu_admin", "镇(街道)", ["潮南区政务服务中心", "峡山街道便民服务中心", "司马浦镇便民服务中心"], []),
        (
            "xiashan_admin",
            "机构",
            ["峡山街道便民服务中心", "已转办上级的首问件"],
            ["陈店镇便民服务中心", "潮南区政务服务中心"],
        ),
    ],
)
def test_the_xlsx_rows_equal_the_home_pages_figures_for_the_month(client, username, caption, some_rows, foreign):
    login_as(client, username)
    expected = home_rows(client)
    response = download(client, "xlsx")
    assert "attachment" in response.headers["Content-Disposition"]
    assert "%E6%9C%88%E5%BA%A6%E7%BB%9F%E8%AE%A1%E8%A1%A8" in response.headers["Content-Disposition"]  # 月度统计表
    headers, rows, sheet = xlsx_rows(response.data)
    assert sheet["A1"].value == TITLE
    assert "制表单位" in sheet["A2"].value and "制表日期" in sheet["A2"].value
    assert headers == [caption, *HEADERS]
    assert sheet.freeze_panes == "B4"
    assert rows == expected
    assert list(rows)[-1] == "合计"
    for name in some_rows:
        assert name in rows
    assert not set(foreign) & set(rows)
    assert int(rows["合计"][0]) > 0  # the month has cases: the comparison above is not of zeros
    assert sheet.column_dimensions["A"].width >= 2 * max(len(name) for name in rows)


def test_a_village_clerks_file_holds_only_its_station_and_its_town(client):
    login_as(client, "xiashan_dongshan")
    expected = home_rows(client)
    _, rows, sheet = xlsx_rows(download(client, "xlsx").data)
    assert rows == expected
    labels = list(rows)
    assert labels[-1] == "峡山街道便民服务中心(全镇参照)"
    assert labels[-2] == "合计"
    others = [label for label in labels[:-2] if label != "已转办上级的首问件"]
    assert len(others) == 1 and "东山" in others[0]
    assert f"制表单位：{others[0]}" in sheet["A2"].value
    text = pdftext.text(download(client, "pdf").data)
    assert others[0] in text and "峡山街道便民服务中心(全镇参照)" in text
    stations = db.session.scalars(select(Center.name).where(Center.name.not_in([others[0]]))).all()
    assert not [name for name in stations if name in text and name != "峡山街道便民服务中心"]


def test_the_pdf_is_one_page_with_the_title_each_towns_received_and_the_sign_off(client):
    login_as(client, "qu_admin")
    expected = home_rows(client)
    data = download(client, "pdf").data
    assert len(pdftext.reader(data).pages) == 1
    assert set(pdftext.fonts(data).values()) == {True}
    text = pdftext.text(data)
    assert "潮南区帮办代办服务月度统计表2026年11月" in text
    assert "制表单位：潮南区政务服务中心" in text
    for words in ("制表日期", "制表人", "审核人", "（盖章）", "2026年11月01日至2026年11月30日"):
        assert words in text
    layout = pdf_layout_text(data)
    for name, figures in expected.items():
        line = next(line for line in layout.splitlines() if line.strip().startswith(name))
        assert line.split()[1] == figures[0], (name, line)  # the first figure after the name: 受理量
    assert len(expected) == 13  # the district center, 11 towns and the total


def test_every_download_is_audited_with_its_month(client):
    login_as(client, "xiashan_admin")
    download(client, "xlsx")
    download(client, "pdf")
    rows = db.session.scalars(select(AuditLog).where(AuditLog.event == "export").order_by(AuditLog.id)).all()
    mine = [row for row in rows if "月度统计表" in row.summary]
    assert [row.username for row in mine] == ["xiashan_admin", "xiashan_admin"]
    assert [json.loads(row.changes)["format"] for row in mine] == ["xlsx", "pdf"]
    assert all(json.loads(row.changes)["month"] == MONTH and "2026年11月" in row.summary for row in mine)


def test_the_home_page_offers_the_downloads_for_the_chosen_month_only(client):
    login_as(client, "qu_admin")
    body = client.get(f"/admin/?period={MONTH}").get_data(as_text=True)
    assert "导出月度统计表 XLSX" in body and "导出月度统计表 PDF" in body
    assert f"/admin/monthly-report.pdf?period={MONTH}" in body
    body = client.get("/admin/?period=2026-Q4").get_data(as_text=True)
    assert "导出月度统计表 PDF" not in body and "月度统计表按月导出" in body


@pytest.mark.parametrize(
    ("period", "message"),
    [("2026-Q4", "月度统计表按自然月导出"), ("2026-13", "月份应为1至12"), ("2099-01", "之间开始")],
)
def test_a_period_that_is_not_a_month_is_refused_in_chinese_and_nothing_is_audited(client, period, message):
    login_as(client, "qu_admin")
    response = client.get(f"/admin/monthly-report.xlsx?period={period}", follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert not db.session.scalars(select(AuditLog).where(AuditLog.summary.like("%月度统计表%"))).all()
    assert client.get(f"/admin/monthly-report.doc?period={MONTH}").status_code == 404


def test_signing_out_closes_the_downloads(client):
    response = client.get(f"/admin/monthly-report.pdf?period={MONTH}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_town_with_forty_stations_still_fits_one_page(demo_app):
    # Chaonan's larger towns have 30 and more villages and communities (domain.md §7): the table
    # tightens its rows rather than run onto a second page.
    figures = [3, 2, 0, 2, 1.0, 4.5, 1, 0, 2, 1.0, 0, 0, 0, None, 0]
    rows = [ReportRow(f"两英镇第{n}村便民服务站", figures) for n in range(1, 41)]
    rows += [ReportRow("已转办上级的首问件", figures), ReportRow("合计", figures, "total")]
    issuer = Center(name="两英镇便民服务中心", hotline="0754-87000000")
    report = MonthlyReport(
        "潮南区帮办代办服务月度统计表",
        "2026年11月",
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
        "机构",
        issuer,
        dt.date(2026, 12, 1),
        rows,
    )
    assert len(figures) == len(COLUMNS)
    data = render_monthly_report(report)
    assert len(pdftext.reader(data).pages) == 1
    text = pdftext.text(data)
    assert "两英镇第40村便民服务站" in text and "审核人" in text
