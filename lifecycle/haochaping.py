"""The provincial 好差评 system in and out: import its evaluations and complaints, export 差评整改反馈.

The file's columns are the national field set (domain.md §2, §2.6), defined once in FIELDS: an
import reads them, the export writes them first and adds the follow-up's results after them, so
an exported file re-imports as "already imported". Each row is matched to a case by 办件编号 (our
case number) and recorded through lifecycle/supervision.py exactly as the other channels are: the
applicant's own rating counts over a paper form, a bad one opens a follow-up, a complaint always
does. 评价编号 is unique on the evaluation and complaint tables, so no row is recorded twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

import audit
from lifecycle.errors import RuleError, TransitionError
from lifecycle.scope import can_change_case, scope_clause
from lifecycle.supervision import evaluation_error, record_complaint, record_evaluation
from models import Case, Complaint, Evaluation, FollowUp, User
from models.enums import ADMIN_ROLES, ComplaintChannel, EvaluationChannel, FollowUpStatus, Rating, Status, label
from models.identifiers import mask_phone, normalize_phone, phone_error
from models.time import BEIJING, to_beijing, utcnow

# The national field set as the provincial system writes it (domain.md §2, §2.6), in file order.
# 类型 (评价/投诉) is ours: the system exports evaluations and complaints as separate lists, and a
# file without the column is read as evaluations. 评价人 and 联系电话 are optional as well.
FIELDS = ("评价编号", "类型", "办件编号", "事项", "评价渠道", "评价等级", "评价时间", "评价内容", "评价人", "联系电话")
REQUIRED = ("评价编号", "办件编号", "事项", "评价渠道", "评价等级", "评价时间", "评价内容")
# Header variants accepted as the field beside them. 事项名称 and 来源渠道 are the names the
# provincial interface itself uses (domain.md §2.6); the others are how the same columns are
# titled in other provinces' exports. Spaces and a trailing "(…)" note are ignored as well.
HEADER_VARIANTS = {
    "评价ID": "评价编号",
    "办件号": "办件编号",
    "事项名称": "事项",
    "来源渠道": "评价渠道",
    "评价来源": "评价渠道",
    "满意度": "评价等级",
    "评价日期": "评价时间",
    "评价意见": "评价内容",
    "评价人姓名": "评价人",
    "评价人电话": "联系电话",
}
# The follow-up's results after the national fields: what 差评整改反馈 reports back.
FEEDBACK_FIELDS = ("承办机构", "回访状态", "回访时间", "回访记录", "整改情况", "反馈结果", "回访办结日期")
EXPORT_HEADERS = FIELDS + FEEDBACK_FIELDS

KINDS = {"评价": "evaluation", "投诉": "complaint"}
# 1..5 as the national system codes them (domain.md §1.8); its own wording is read as well.
LEVEL_WORDS = {label(rating): int(rating) for rating in Rating}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
# A month of a district's ratings is a few thousand rows; anything larger is split by month.
MAX_FILE_BYTES = 1024 * 1024
MAX_ROWS = 5000
_NOTE = re.compile(r"[(（][^)）]*[)）]$")


class FileError(Exception):
    """The file as a whole cannot be read; the message says why, in Chinese."""


@dataclass
class RowResult:
    line: int
    number: str
    kind: str
    case_number: str
    reason: str = ""  # empty: imported
    followup_id: int | None = None

    @property
    def followup(self) -> bool:
        return self.followup_id is not None

    @property
    def imported(self) -> bool:
        return not self.reason

    @property
    def kind_label(self) -> str:
        return "投诉" if self.kind == "complaint" else "评价"


@dataclass
class ImportReport:
    file_name: str
    rows: list[RowResult] = field(default_factory=list)

    @property
    def imported(self) -> list[RowResult]:
        return [r for r in self.rows if r.imported]

    @property
    def skipped(self) -> list[RowResult]:
        return [r for r in self.rows if not r.imported]

    @property
    def already_imported(self) -> int:
        """Rows skipped because an earlier import recorded them: all of them when a file comes twice."""
        return sum(r.reason.startswith(ALREADY_IMPORTED) for r in self.rows)

    def summary(self) -> str:
        imported = self.imported
        evaluations = sum(r.kind == "evaluation" for r in imported)
        followups = sum(r.followup for r in imported)
        return (
            f"导入 {len(imported)} 条(评价 {evaluations}、投诉 {len(imported) - evaluations}，"
            f"新开回访 {followups})，未导入 {len(self.skipped)} 条"
        )


ALREADY_IMPORTED = "该评价编号已导入过"


# --- reading the file ---------------------------------------------------------------------------
def _header(raw: object) -> str:
    text = re.sub(r"\s+", "", str(raw or "")).lstrip("\ufeff")
    text = _NOTE.sub("", text)
    return HEADER_VARIANTS.get(text, text)


def _cell(value: object) -> object:
    """A cell as text, except date-times, which XLSX holds as such."""
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 5 and 20261120 as floats
    return str(value).strip()


def _csv_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is what the provincial system and Excel on Chinese Windows write; it includes GBK.
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FileError("无法识别文件编码：CSV 文件应为 UTF-8 或 GB18030(GBK)编码") from exc


def _csv_rows(data: bytes) -> Iterator[list[object]]:
    if b"\x00" in data:
        raise FileError("文件不是 CSV 或 XLSX 表格，请上传好差评系统导出的 CSV 或 XLSX 文件")
    try:
        yield from csv.reader(io.StringIO(_csv_text(data), newline=""))
    except csv.Error as exc:
        raise FileError(f"CSV 文件格式有误：{exc}") from exc


def _xlsx_rows(data: bytes) -> Iterator[list[object]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise FileError("XLSX 文件已损坏或不是 Excel 工作簿，请重新导出后上传") from exc
    try:
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell(value) for value in row]
    finally:
        workbook.close()


def read_rows(data: bytes) -> list[tuple[int, dict[str, object]]]:
    """(line number, {field: value}) for each non-blank row under the header, or FileError."""
    if not data:
        raise FileError("文件是空的")
    if len(data) > MAX_FILE_BYTES:
        raise FileError(f"文件过大(超过 {MAX_FILE_BYTES // 1024 // 1024} MB)，请按月份分批从好差评系统导出后导入")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileError("不支持旧版 Excel(.xls)文件，请在 Excel 中另存为 .xlsx 或 CSV(UTF-8)后导入")
    lines = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, object]]] = []
    for line, values in enumerate(lines, start=1):
        if line > 2 * MAX_ROWS:  # blank rows count too: a sheet of a million empty rows is refused, not read
            raise FileError(f"一次最多导入 {MAX_ROWS} 行，请分批导入")
        values = [v if isinstance(v, (dt.datetime, dt.date)) else str(v).strip() for v in values]
        if not any(values):
            continue
        if header is None:
            header = [_header(v) for v in values]
            _check_header(header)
            continue
        if len(rows) == MAX_ROWS:
            raise FileError(f"一次最多导入 {MAX_ROWS} 行，请分批导入")
        rows.append((line, {name: value for name, value in zip(header, values, strict=False) if name in FIELDS}))
    if header is None:
        raise FileError("文件是空的")
    return rows


def _check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise FileError(
            f"表头缺少：{'、'.join(missing)}。第一行应为表头，包含：{'、'.join(REQUIRED)}(可选：类型、评价人、联系电话)"
        )
    repeated = sorted({name for name in header if name in FIELDS and header.count(name) > 1})
    if repeated:
        raise FileError(f"表头重复：{'、'.join(repeated)}")


# --- one row's values ---------------------------------------------------------------------------
def parse_level(raw: object) -> int | None:
    text = str(raw or "").strip()
    if text in LEVEL_WORDS:
        return LEVEL_WORDS[text]
    return int(text) if text in {"1", "2", "3", "4", "5"} else None


def parse_time(raw: object) -> dt.datetime | None:
    """A Beijing wall-clock time from the file as a naive UTC datetime (how the database holds times)."""
    if isinstance(raw, dt.datetime):
        local = raw
    elif isinstance(raw, dt.date):
        local = dt.datetime.combine(raw, dt.time())
    else:
        text = str(raw or "").strip()
        local = None
        for fmt in TIME_FORMATS:
            try:
                local = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if local is None:
            return None
    return local.replace(tzinfo=BEIJING).astimezone(dt.UTC).replace(tzinfo=None)


def _text(row: dict[str, object], name: str) -> str:
    value = row.get(name, "")
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value).strip()


# --- import -------------------------------------------------------------------------------------
def may_import(user: User) -> bool:
    """District admins import for the district, town admins for their town; nobody else."""
    return user.role in ADMIN_ROLES


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _on_record(session: Session, numbers: list[str]) -> tuple[set[str], set[str]]:
    """(评价编号 already imported, 好差评 work-order numbers a clerk registered by hand as complaints)."""
    imported: set[str] = set()
    by_hand: set[str] = set()
    for chunk in _chunks(numbers):
        for model in (Evaluation, Complaint):
            imported.update(session.scalars(select(model.haochaping_number).where(model.haochaping_number.in_(chunk))))
        by_hand.update(
            session.scalars(
                select(Complaint.reference).where(
                    Complaint.channel == ComplaintChannel.HAOCHAPING.value, Complaint.reference.in_(chunk)
                )
            )
        )
    return imported, by_hand


def _cases(session: Session, numbers: list[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    for chunk in _chunks(numbers):
        found.update((case.number, case) for case in session.scalars(select(Case).where(Case.number.in_(chunk))))
    return found


def import_file(
    session: Session, data: bytes, file_name: str, user: User, days: int, now: dt.datetime | None = None
) -> ImportReport:
    """Record the file's rows that can be recorded, report the others with their reasons; audited.

    Each row commits on its own (through record_evaluation / record_complaint), so a row refused
    by the database, a second import running at the same moment, say, costs that row only.
    Raises FileError for a file that cannot be read at all, TransitionError for a user who may not import.
    """
    if not may_import(user):
        raise TransitionError("只有区级管理员和镇街管理员可以导入好差评数据")
    rows = read_rows(data)
    now = now or utcnow()
    numbers = [_text(row, "评价编号") for _, row in rows]
    imported, by_hand = _on_record(session, [n for n in numbers if n])
    cases = _cases(session, sorted({_text(row, "办件编号").upper() for _, row in rows} - {""}))
    report = ImportReport(file_name)
    first_line: dict[str, int] = {}
    for line, row in rows:
        result = RowResult(line, _text(row, "评价编号"), "evaluation", _text(row, "办件编号").upper())
        report.rows.append(result)
        kind = KINDS.get(_text(row, "类型") or "评价")  # a blank 类型 is an evaluation, as a file without the column
        if kind is not None:
            result.kind = kind
        if result.number in first_line:
            result.reason = f"重复：与本文件第 {first_line[result.number]} 行的评价编号相同"
            continue
        if result.number:
            first_line[result.number] = line
        result.reason = _refusal(result, row, kind, imported, by_hand, cases, user, now)
        if result.reason:
            continue
        result.reason, result.followup_id = _record(session, result, row, cases[result.case_number], user, days, now)
        if not result.reason:
            imported.add(result.number)
    counts = Counter(r.reason.split("：")[0] for r in report.skipped)
    audit.record(
        session,
        audit.AuditEvent.HAOCHAPING_IMPORT,
        summary=f"好差评导入 {file_name[:60]}：{report.summary()}",
        changes={
            "file": file_name[:120],
            "rows": len(report.rows),
            "imported": len(report.imported),
            "evaluations": sum(r.kind == "evaluation" for r in report.imported),
            "complaints": sum(r.kind == "complaint" for r in report.imported),
            "followups": sum(r.followup for r in report.imported),
            "skipped": len(report.skipped),
            "reasons": dict(counts),
        },
    )
    session.commit()
    return report


def _refusal(
    result: RowResult,
    row: dict[str, object],
    kind: str | None,
    imported: set[str],
    by_hand: set[str],
    cases: dict[str, Case],
    user: User,
    now: dt.datetime,
) -> str:
    """Why the row cannot be recorded, checked before anything is written; empty when it can."""
    if not result.number:
        return "缺少评价编号"
    if len(result.number) > 40:
        return "评价编号过长(最多 40 个字符)"
    if result.number in imported:
        return f"{ALREADY_IMPORTED}，不重复导入"
    if result.number in by_hand:
        return f"{ALREADY_IMPORTED}：已在“投诉登记”中以该工单编号手工登记，不重复导入"
    if kind is None:
        return "类型有误：应为“评价”或“投诉”"
    if not result.case_number:
        return "缺少办件编号"
    case = cases.get(result.case_number)
    if case is None:
        return "办件编号不存在：系统中没有该案件"
    if not can_change_case(user, case):
        return "案件不在您的管辖范围内：请由案件承办机构所属的镇街管理员或区级管理员导入"
    when = parse_time(row.get("评价时间"))
    if when is None:
        return "评价时间有误：应为“2026-11-20 10:30:00”格式的北京时间"
    if when > now:
        return "评价时间有误：晚于当前时间"
    phone = _text(row, "联系电话")
    if phone and phone_error(phone):
        return f"联系电话有误：{phone_error(phone)}"
    if kind == "complaint":
        return "" if _text(row, "评价内容") else "投诉内容为空"
    if parse_level(row.get("评价等级")) is None:
        return "评价等级有误：应为 1–5(5 非常满意、4 满意、3 基本满意、2 不满意、1 非常不满意)"
    if Status(case.status) not in (Status.COMPLETED, Status.TERMINATED, Status.ARCHIVED):
        return f"案件尚不能评价：办结或终止后才能评价(当前状态：{label(Status(case.status))})"
    problem = evaluation_error(case, EvaluationChannel.HAOCHAPING.value)
    if problem:
        return f"案件已有申请人本人的评价：{problem}"
    return ""


def _record(
    session: Session, result: RowResult, row: dict[str, object], case: Case, user: User, days: int, now: dt.datetime
) -> tuple[str, int | None]:
    """Record one checked row; (reason it was refused after all, the follow-up it opened if any)."""
    when = parse_time(row.get("评价时间"))
    phone = _text(row, "联系电话")
    source = {"haochaping_number": result.number, "haochaping_channel": _text(row, "评价渠道")[:32] or None}
    try:
        if result.kind == "complaint":
            values = {
                "channel": ComplaintChannel.HAOCHAPING.value,
                # The provincial record's number is the work order's number (12345 and 好差评 work orders).
                "reference": result.number,
                "complainant_name": _text(row, "评价人")[:32],
                "complainant_phone": phone,
                "content": _text(row, "评价内容"),
                "received_at": when,
                **source,
            }
            complaint = record_complaint(session, case, values, user, days, at=now)
            return "", complaint.followup.id
        level = parse_level(row.get("评价等级"))
        values = {
            "overall": level,
            # The provincial system gives one overall level; 评价表's other items are not in its
            # field set and carry the same level, so no item reads better than the whole.
            **{name: level for name in ("attitude", "efficiency", "competence", "communication", "integrity")},
            "comment": _text(row, "评价内容"),
            "evaluator_name": _text(row, "评价人")[:32],
            "evaluator_phone": normalize_phone(phone) if phone else "",
            **source,
        }
        evaluation = record_evaluation(session, case, values, EvaluationChannel.HAOCHAPING.value, days, at=when)
        return "", evaluation.followup.id if evaluation.followup else None
    except IntegrityError:
        # Another import of the same row committed first (the unique 评价编号).
        session.rollback()
        return f"{ALREADY_IMPORTED}，不重复导入", None
    except (TransitionError, RuleError) as exc:
        session.rollback()
        return f"未能登记：{exc}", None


# --- export (差评整改反馈) ---------------------------------------------------------------------------
def _utc_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Beijing days start..end inclusive as naive UTC bounds [from, to)."""

    def utc(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), BEIJING).astimezone(dt.UTC).replace(tzinfo=None)

    return utc(start), utc(end + dt.timedelta(days=1))


def _beijing(value: dt.datetime | None) -> str:
    local = to_beijing(value)
    return local.strftime("%Y-%m-%d %H:%M:%S") if local else ""


def _feedback(case: Case, followup: FollowUp | None) -> list[object]:
    if followup is None:
        return [case.center.name, "无需回访", "", "", "", "", ""]
    return [
        case.center.name,
        label(FollowUpStatus(followup.status)),
        _beijing(followup.callback_at),
        followup.callback_record or "",
        followup.rectification or "",
        followup.feedback or "",
        followup.closed_date.isoformat() if followup.closed_date else "",
    ]


def _items(case: Case) -> str:
    return "、".join(item.name for item in case.items)


def _evaluation_row(e: Evaluation) -> list[object]:
    channel = e.haochaping_channel or label(EvaluationChannel(e.channel))
    return [
        e.haochaping_number or "",
        "评价",
        e.case.number,
        _items(e.case),
        channel,
        e.overall,
        _beijing(e.created_at),
        e.comment,
        e.evaluator_name,
        mask_phone(e.evaluator_phone),
        *_feedback(e.case, e.followup),
    ]


def _complaint_row(c: Complaint) -> list[object]:
    channel = c.haochaping_channel or label(ComplaintChannel(c.channel))
    return [
        c.haochaping_number or "",
        "投诉",
        c.case.number,
        _items(c.case),
        channel,
        "",
        _beijing(c.received_at),
        c.content,
        c.complainant_name,
        mask_phone(c.complainant_phone),
        *_feedback(c.case, c.followup),
    ]


def _selects(user: User, start: dt.date, end: dt.date, only_imported: bool):
    """The evaluations and complaints of the Beijing days start..end in the user's scope."""
    low, high = _utc_bounds(start, end)
    evaluations = select(Evaluation).where(
        scope_clause(Evaluation, user), Evaluation.created_at >= low, Evaluation.created_at < high
    )
    complaints = select(Complaint).where(
        scope_clause(Complaint, user), Complaint.received_at >= low, Complaint.received_at < high
    )
    if only_imported:
        evaluations = evaluations.where(Evaluation.haochaping_number.is_not(None))
        complaints = complaints.where(Complaint.haochaping_number.is_not(None))
    return evaluations, complaints


def count_feedback(session: Session, user: User, start: dt.date, end: dt.date, only_imported: bool) -> int:
    """How many rows the export of this range would write, in the user's scope."""
    return sum(
        session.scalar(select(func.count()).select_from(query.subquery()))
        for query in _selects(user, start, end, only_imported)
    )


def feedback_batches(
    session: Session, user: User, start: dt.date, end: dt.date, only_imported: bool, batch_rows: int
) -> Iterator[list[list[object]]]:
    """The export's rows (EXPORT_HEADERS order): evaluations then complaints, each by time, in batches.

    The scope is read from `user` here, when called: a streamed CSV runs the returned iterator
    after the view has returned, when the user's row is no longer attached to a session.
    """
    evaluations, complaints = _selects(user, start, end, only_imported)
    # Every row reads its case's center and items and its follow-up: loaded a batch at a time.
    evaluations = evaluations.options(
        selectinload(Evaluation.case).selectinload(Case.center),
        selectinload(Evaluation.case).selectinload(Case.items),
        selectinload(Evaluation.followup),
    ).order_by(Evaluation.created_at, Evaluation.id)
    complaints = complaints.options(
        selectinload(Complaint.case).selectinload(Case.center),
        selectinload(Complaint.case).selectinload(Case.items),
        selectinload(Complaint.followup),
    ).order_by(Complaint.received_at, Complaint.id)
    return _batches(session, ((evaluations, _evaluation_row), (complaints, _complaint_row)), batch_rows)


def _batches(session: Session, queries, batch_rows: int) -> Iterator[list[list[object]]]:
    for query, to_row in queries:
        batch: list[list[object]] = []
        for record in session.scalars(query.execution_options(yield_per=batch_rows)):
            batch.append(to_row(record))
            if len(batch) == batch_rows:
                yield batch
                batch = []
        if batch:
            yield batch
