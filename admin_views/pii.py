"""Personal-information paths: masked exports, exact ID-number lookup, audited reveal."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import typing as t
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, request, stream_with_context, url_for
from flask_admin import expose
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import bindparam, func, inspect, or_, select

import audit
from admin_views.base import forbid
from extensions import db
from lifecycle.scope import scope_clause
from models import Applicant
from models.enums import REVEAL_ROLES, Role
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
    text = "" if value is None else str(value)
    if not text.isprintable():  # the common case skips the regular expression (exports run it per cell)
        text = _CONTROL.sub("", text)
    if text.startswith(_FORMULA_START) or text.lstrip().startswith(_FORMULA_START):
        return "'" + text
    return text


def _csv_line(row: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralise(value) for value in row])
    return buffer.getvalue()


def _csv_chunks(headers: list[str], batches: Iterable[list[list[object]]]) -> Iterator[bytes]:
    """The CSV file, one chunk per batch of rows, so that it is never held whole in memory."""
    # The BOM makes Excel on Chinese Windows read the file as UTF-8 instead of GBK.
    yield ("\ufeff" + _csv_line(headers)).encode("utf-8")
    for rows in batches:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow([neutralise(value) for value in row])
        yield buffer.getvalue().encode("utf-8")


def _csv_bytes(headers: list[str], rows: Iterable[list[object]]) -> bytes:
    return b"".join(_csv_chunks(headers, [list(rows)]))


# Column widths: openpyxl's write-only sheet needs them before the first row, and the rows are
# streamed, so they come from the headers and the first rows (a bounded sample), within bounds.
WIDTH_SAMPLE_ROWS = 200
MIN_WIDTH = 6
MAX_WIDTH = 60


def display_width(text: str) -> int:
    """Character cells a text takes in a spreadsheet column: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


def column_widths(headers: list[str], sample: Iterable[list[str]]) -> list[int]:
    """Widths that fit the headers and the sampled cells (their longest line), plus a margin."""
    widths = [display_width(header) for header in headers]
    for row in sample:
        for index, cell in enumerate(row):
            if cell:
                widths[index] = max(widths[index], *(display_width(line) for line in cell.split("\n")))
    return [min(max(width + 2, MIN_WIDTH), MAX_WIDTH) for width in widths]


def _write_xlsx(target: t.IO[bytes], title: str, headers: list[str], batches: Iterable[list[list[object]]]) -> None:
    # openpyxl's write-only sheet streams rows to its own temporary file and writes strings inline
    # (no shared-string table), so memory stays flat however many rows there are.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    batches = iter(batches)
    first = [[neutralise(value) for value in row] for row in next(batches, [])]
    for index, width in enumerate(column_widths(headers, first[:WIDTH_SAMPLE_ROWS]), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    # The header row stays in view while scrolling and is printed again on every page.
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in first:
        sheet.append(row)
    for rows in batches:
        for row in rows:
            sheet.append([neutralise(value) for value in row])
    workbook.save(target)


def _xlsx_bytes(title: str, headers: list[str], rows: Iterable[list[object]]) -> bytes:
    buffer = io.BytesIO()
    _write_xlsx(buffer, title, headers, [list(rows)])
    return buffer.getvalue()


def _disposition(filename: str) -> str:
    ascii_name = "export." + filename.rsplit(".", 1)[-1]
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def download(data: bytes | t.Iterable[bytes] | t.IO[bytes], filename: str, mimetype: str) -> Response:
    """A download with a Chinese file name (RFC 5987 filename*) and an ASCII fallback."""
    return Response(data, content_type=mimetype, headers={"Content-Disposition": _disposition(filename)})


def _file_chunks(handle: t.IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()  # a TemporaryFile disappears from the disk when closed


def in_batch(column, ids: list[int]):
    """`column IN (ids)` for one batch of an export."""
    # The batch's ids are integers read from the database, rendered into the statement: a thousand
    # bound parameters cost more to convert than the query takes to run.
    return column.in_(bindparam("batch_ids", ids, expanding=True, literal_execute=True))


def id_batches(query, key, batch_rows: int) -> Iterator[list[int]]:
    """The keys of `query`'s rows in its order, a batch at a time (yield_per: never all at once)."""
    batch: list[int] = []
    for (row_id,) in query.with_entities(key).yield_per(batch_rows):
        batch.append(row_id)
        if len(batch) == batch_rows:
            yield batch
            batch = []
    if batch:
        yield batch


def send_table(
    title: str, headers: list[str], batches: Iterable[list[list[object]]], file_format: str, suffix: str = ""
) -> Response:
    """A table as a download named "<title><suffix>_<today>.<csv|xlsx>": CSV streamed as it is
    written, XLSX written to a temporary file first (a zip cannot be sent before it is finished)."""
    filename = f"{title}{suffix}_{today_beijing():%Y%m%d}.{file_format}"
    if file_format == "csv":
        return download(stream_with_context(_csv_chunks(headers, batches)), filename, "text/csv; charset=utf-8")
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        _write_xlsx(handle, title, headers, batches)
        size = handle.tell()
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    response = download(
        _file_chunks(handle), filename, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.content_length = size
    return response


class ExportMixin:
    """POST-only export of the current filtered list, capped, masked, audited and streamed.

    Rows are read in batches of EXPORT_BATCH_ROWS (yield_per): each batch costs one fetch plus one
    query per selectinload in export_loader_options(), whatever the number of rows, and only the
    batch in hand is held in memory. CSV goes out as it is written; XLSX is written to a temporary
    file (a zip cannot be sent before it is finished) that is removed once sent.

    A view whose columns mask personal numbers names their full values in export_full_columns;
    the roles allowed to reveal (REVEAL_ROLES) may then export them, for a typed reason that is
    audited with the row count (export_full).
    """

    export_columns: list[Column] = []
    # Header -> the getter of the unmasked value, for the masked columns among export_columns.
    export_full_columns: dict[str, Callable[[t.Any], object]] = {}
    export_title = "导出"
    # None: the app's EXPORT_MAX_ROWS. A view (or a test) may set its own.
    export_max: int | None = None

    @property
    def can_export_post(self) -> bool:
        return current_user.is_authenticated

    @property
    def can_export_full(self) -> bool:
        return (
            bool(self.export_full_columns) and current_user.is_authenticated and Role(current_user.role) in REVEAL_ROLES
        )

    def export_loader_options(self) -> list:
        """Loader options for everything export_columns read, so that no cell runs a query."""
        return []

    def export_limit(self) -> int:
        return self.export_max or current_app.config["EXPORT_MAX_ROWS"]

    def export_records(self, query, batch_rows: int) -> Iterator[list[t.Any]]:
        """The rows of `query`, in its order, as batches of whatever export_columns' getters read.

        Here: models, read with yield_per so that each batch costs one fetch plus one query per
        selectinload. A view with many rows and joined columns (the case register) overrides this
        with plain column rows, which are several times cheaper than building models.
        """
        batch: list[t.Any] = []
        for model in query.options(*self.export_loader_options()).yield_per(batch_rows):
            batch.append(model)
            if len(batch) == batch_rows:
                yield batch
                batch = []
        if batch:
            yield batch

    def _export_batches(self, query, batch_rows: int, full: bool = False) -> Iterator[list[list[object]]]:
        replaced = self.export_full_columns if full else {}
        getters = [replaced.get(header, getter) for header, getter in self.export_columns]
        for records in self.export_records(query, batch_rows):
            yield [[getter(record) for getter in getters] for record in records]

    @expose("/export-masked/", methods=["POST"])
    def export_masked(self):
        file_format = request.form.get("format", "")
        if file_format not in EXPORT_FORMATS:
            abort(400)
        return self._export(file_format)

    @expose("/export-full/", methods=["GET", "POST"])
    def export_full(self):
        """含完整证件号码: the register with full numbers, for a typed reason (PIPL art. 51, GB/T 35273 §7.1 b)."""
        if not self.can_export_full:
            forbid()
        typed = {"format": request.form.get("format", "xlsx"), "reason": (request.form.get("reason") or "").strip()}
        if request.method == "GET":
            return self._export_full_form(typed)
        if typed["format"] not in EXPORT_FORMATS:
            abort(400)
        if len(typed["reason"]) < 2:
            return self._export_full_form(typed, "请填写导出完整证件号码的理由(至少2个字)。")
        return self._export(typed["format"], reason=typed["reason"][:100])

    def _export_full_form(self, typed: dict[str, str], error: str | None = None):
        return self.render(
            "admin/export_full.html",
            typed=typed,
            error=error,
            full_headers=list(self.export_full_columns),
            formats=[("xlsx", "Excel 表格 (.xlsx)"), ("csv", "CSV (Excel 可直接打开)")],
        )

    def _export(self, file_format: str, reason: str | None = None):
        """The filtered list as a file: masked, or with full numbers when a reason is given."""
        full = reason is not None
        limit = self.export_limit()
        matched, query = self.filtered_list(limit, execute=False)
        # The rows this export writes, counted on the export's own query (capped one past the
        # limit), whatever kind of count the list itself shows.
        key = inspect(self.model).primary_key[0]
        capped_query = query.limit(None).order_by(None).with_entities(key).limit(limit + 1)
        capped = db.session.scalar(select(func.count()).select_from(capped_query.subquery()))
        rows = min(capped, limit)
        if matched is None or capped <= limit:
            matched = capped
        changes = {
            "filters": request.query_string.decode("utf-8", "replace")[:500],
            "rows": rows,
            "matched": matched,
            "format": file_format,
        }
        if full:
            changes["reason"] = reason
            audit.record(
                db.session,
                audit.AuditEvent.EXPORT_UNMASKED,
                summary=f"导出{self.export_title}(含完整证件号码) {rows} 行({file_format})：{reason}"[:200],
                changes=changes,
            )
        else:
            audit.record(
                db.session,
                audit.AuditEvent.EXPORT,
                summary=f"导出{self.export_title} {rows} 行({file_format})",
                changes=changes,
            )
        # Committed before the first byte goes out: a download cut short is still on record.
        db.session.commit()
        if capped > limit:
            flash(f"符合条件 {matched} 行，单次最多导出 {limit} 行，请缩小筛选范围分批导出。", "warning")
        headers = [header for header, _ in self.export_columns]
        batches = self._export_batches(query, current_app.config["EXPORT_BATCH_ROWS"], full=full)
        return send_table(self.export_title, headers, batches, file_format, suffix="_含完整证件号码" if full else "")


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
