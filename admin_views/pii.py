"""Personal-information paths: masked exports, exact ID-number lookup, audited reveal."""

from __future__ import annotations

import csv
import io
import re
import typing as t
from collections.abc import Callable, Iterable
from urllib.parse import quote

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy import or_, select

import audit
from extensions import db
from lifecycle.scope import scope_clause
from models import Applicant
from models.identifiers import normalize_id_number
from models.time import today_beijing

# Cells a spreadsheet would run as a formula (OWASP CSV injection); prefixed with a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_FORMATS = {"csv", "xlsx"}
# Control characters other than tab, LF and CR: XLSX cannot hold them (openpyxl raises), and
# removing them must happen before the formula check ("\x01=..." is "=..." once cleaned).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Column = tuple[str, Callable[[t.Any], object]]


def neutralise(value: object) -> str:
    """A cell's text, quoted when a spreadsheet could evaluate it: every exported cell is text.

    Numbers and other values are written as their text too ("-3" starts like a formula). Blanks
    in front do not protect: LibreOffice's "trim spaces" CSV option removes them first.
    """
    text = _CONTROL.sub("", "" if value is None else str(value))
    if text.startswith(_FORMULA_START) or text.lstrip().startswith(_FORMULA_START):
        return "'" + text
    return text


def _csv_bytes(headers: list[str], rows: Iterable[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    # The BOM makes Excel on Chinese Windows read the file as UTF-8 instead of GBK.
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _xlsx_bytes(title: str, headers: list[str], rows: Iterable[list[object]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(headers)
    for row in rows:
        sheet.append([neutralise(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(data: bytes, filename: str, mimetype: str) -> Response:
    """A download with a Chinese file name (RFC 5987 filename*) and an ASCII fallback."""
    ascii_name = "export." + filename.rsplit(".", 1)[-1]
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": disposition})


class ExportMixin:
    """POST-only export of the current filtered list, capped, masked and audited."""

    export_columns: list[Column] = []
    export_title = "导出"
    export_max = 5000

    @property
    def can_export_post(self) -> bool:
        return current_user.is_authenticated

    @expose("/export-masked/", methods=["POST"])
    def export_masked(self):
        file_format = request.form.get("format", "")
        if file_format not in EXPORT_FORMATS:
            abort(400)
        count, models = self.filtered_list(self.export_max)
        headers = [header for header, _ in self.export_columns]
        rows = [[getter(model) for _, getter in self.export_columns] for model in models]
        audit.record(
            db.session,
            audit.AuditEvent.EXPORT,
            summary=f"导出{self.export_title} {len(rows)} 行({file_format})",
            changes={
                "filters": request.query_string.decode("utf-8", "replace")[:500],
                "rows": len(rows),
                "matched": count,
                "format": file_format,
            },
        )
        db.session.commit()
        if count and count > len(rows):
            flash(f"符合条件 {count} 行，单次最多导出 {self.export_max} 行，请缩小筛选范围分批导出。", "warning")
        filename = f"{self.export_title}_{today_beijing():%Y%m%d}.{file_format}"
        if file_format == "csv":
            return download(_csv_bytes(headers, rows), filename, "text/csv; charset=utf-8")
        return download(
            _xlsx_bytes(self.export_title, headers, rows),
            filename,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )


class IdNumberSearchMixin:
    """Exact lookup by a full ID number or credit code, posted so the number never enters a URL."""

    id_search_filter_arg = ""

    @property
    def supports_id_search(self) -> bool:
        return True

    def applicant_filter_url(self, applicant_ids: list[int]) -> str:
        raise NotImplementedError

    @expose("/find-by-id/", methods=["POST"])
    def find_by_id(self):
        number = normalize_id_number(request.form.get("id_number", ""))
        if len(number) < 15:
            flash("请输入完整的证件号码或统一社会信用代码。", "error")
            return redirect(url_for(".index_view"))
        matches = db.session.scalars(
            select(Applicant.id).where(
                or_(
                    Applicant.id_number == number,
                    Applicant.credit_code == number,
                    Applicant.contact_id_number == number,
                ),
                scope_clause(Applicant, current_user),
            )
        ).all()
        from models.identifiers import mask_id_number

        audit.record(
            db.session,
            audit.AuditEvent.SEARCH_ID,
            summary=f"按证件号码查找 {mask_id_number(number)}：{len(matches)} 人",
        )
        db.session.commit()
        if not matches:
            flash("未找到该证件号码对应的申请人(或不在您的管辖范围内)。", "warning")
            return redirect(url_for(".index_view"))
        return redirect(self.applicant_filter_url(list(matches)))
