"""The 月度统计表 downloads (issue 12): the table of lifecycle/monthly_report.py as XLSX and as PDF."""

from __future__ import annotations

import io

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from admin_views.pii import display_width, download, neutralise
from annexes.render import render_monthly_report
from lifecycle.monthly_report import COLUMNS, MonthlyReport

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_ROW = 3  # title, sign-off line, then the headers; the rows above the data stay in view
NUMBER_FORMATS = {"count": "0", "rate": "0.0%", "days": "0.0"}
_THIN = Side(style="thin", color="000000")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_SHADE = {"total": PatternFill("solid", fgColor="E4E4E4"), "reference": PatternFill("solid", fgColor="F4F4F4")}


def file_name(report: MonthlyReport, extension: str) -> str:
    return f"{report.full_title.replace(' ', '_')}_{report.issuer.name}.{extension}"


def xlsx_bytes(report: MonthlyReport) -> bytes:
    """One sheet: title, issuer and date, Chinese headers (frozen), a row per unit, the total, the sign-off."""
    # The table has a few dozen rows at most, so the ordinary (not write-only) workbook is used:
    # it allows merged title cells and per-cell styles.
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = report.month_label
    width = len(report.headers)
    last = get_column_letter(width)
    sheet["A1"] = report.full_title
    sheet["A1"].font = Font(size=14, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.merge_cells(f"A1:{last}1")
    sheet["A2"] = (
        f"制表单位：{report.issuer.name}　统计期：{report.start:%Y-%m-%d}至{report.end:%Y-%m-%d}"
        f"　制表日期：{report.made_on:%Y-%m-%d}"
    )
    sheet.merge_cells(f"A2:{last}2")
    for index, header in enumerate(report.headers, start=1):
        cell = sheet.cell(HEADER_ROW, index, header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.fill = PatternFill("solid", fgColor="EEEEEE")
        cell.border = _GRID
    for offset, row in enumerate(report.rows, start=1):
        at = HEADER_ROW + offset
        # Center names are typed by administrators: written as text a spreadsheet will not evaluate.
        sheet.cell(at, 1, neutralise(row.label)).border = _GRID
        for index, (column, value) in enumerate(zip(COLUMNS, row.values, strict=True), start=2):
            cell = sheet.cell(at, index, "—" if value is None else value)
            cell.number_format = NUMBER_FORMATS[column.kind]
            cell.alignment = Alignment(horizontal="right")
            cell.border = _GRID
        if row.role in _SHADE:
            for index in range(1, width + 1):
                sheet.cell(at, index).fill = _SHADE[row.role]
    foot = HEADER_ROW + len(report.rows) + 2
    sheet.cell(foot, 1, "标 * 的在办数、超期数、超期回访为截至制表日期的实时数；其余按统计期计。")
    sheet.cell(foot + 1, 1, "制表人：")
    sheet.cell(foot + 1, 6, "审核人：")
    sheet.cell(foot + 1, 11, f"{report.issuer.name}（盖章）")
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 2)  # headers and the unit column stay in view
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    # Widths: the unit column fits the longest name; figure columns fit their header, wrapped on two lines.
    names = [report.headers[0], *(row.label for row in report.rows)]
    sheet.column_dimensions["A"].width = max(display_width(name) for name in names) + 2
    for index, header in enumerate(report.headers[1:], start=2):
        sheet.column_dimensions[get_column_letter(index)].width = max(8, (display_width(header) + 1) // 2 + 2)
    sheet.row_dimensions[HEADER_ROW].height = 30
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def send_monthly_report(report: MonthlyReport, file_format: str) -> Response:
    if file_format == "xlsx":
        return download(xlsx_bytes(report), file_name(report, "xlsx"), XLSX_TYPE)
    return download(render_monthly_report(report), file_name(report, "pdf"), "application/pdf")
