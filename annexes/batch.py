"""The documents of a batch export: a chunk of cases rendered into one part file, and the parts
joined into the download. The job's state (claims, heartbeats, recovery) lives in jobs/export.py.

Formats:
- zip: one folder per case ("<case number>_<applicant>"), one PDF per form, plus a manifest;
  written entry by entry, so memory does not grow with the number of cases;
- merged: each chunk is one xhtml2pdf document (the font subset is embedded once per chunk) with
  a bookmark per case and per form; chunks are joined into volumes of at most EXPORT_VOLUME_CASES
  cases (one PDF when the job is that small, else a ZIP of volumes), which bounds memory too.
Every file is written under a temporary name and renamed by the caller when complete.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import shutil
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfWriter

from annexes.catalog import refusal
from annexes.render import Sheet, render_sheets, sheet
from lifecycle.scope import can_change_case
from models import Case, User
from models.enums import ExportFormat
from models.time import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of one case of a chunk: in the part file, or left out and why (in Chinese)."""

    position: int
    number: str
    reason: str | None = None  # why the case was left out
    note: str | None = None  # for a case put in: which of the chosen forms did not apply, and why

    @property
    def rendered(self) -> bool:
        return self.reason is None


def temporary_path(final: Path) -> Path:
    """A hidden name next to `final` to write under until the file is complete."""
    return final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")


def safe_name(text: str) -> str:
    """A file or folder name from user text: no separators, control characters or leading dots."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", text).strip(" .")
    return cleaned[:60] or "_"


def _sheets_for(case: Case, numbers: list[int], now: dt.datetime, user: User) -> list[Sheet]:
    """The case's sheets among `numbers`; the first carries the case's bookmark in a merged document."""
    applicable = [n for n in numbers if refusal(case, n) is None]
    allowed = can_change_case(user, case)
    return [sheet(case, n, now=now, case_mark=i == 0, link_allowed=allowed) for i, n in enumerate(applicable)]


def _not_applicable(case: Case, numbers: list[int]) -> str:
    reasons = dict.fromkeys(refusal(case, n) or "" for n in numbers)
    return ("所选表单均不适用：" + "".join(reasons))[:400]


def _skipped(case: Case, numbers: list[int]) -> str | None:
    """The chosen forms left out of a case that is put in (the export form promises to say so)."""
    reasons = dict.fromkeys(r for n in numbers if (r := refusal(case, n)))
    return ("部分表单未生成：" + "".join(reasons))[:400] if reasons else None


def render_part(
    file_format: str, numbers: list[int], user: User, cases: list[tuple[int, Case]], target: Path
) -> Iterator[Outcome]:
    """Render the forms `numbers` of `cases` ((position, case), in order) into `target`, one outcome per case.

    A generator, so the caller can record each outcome (and notice a cancel) as it comes; closing
    it early closes the part file, which the caller then deletes.
    """
    now = utcnow()
    if file_format == ExportFormat.ZIP:
        yield from _render_zip(numbers, user, cases, target, now)
    else:
        yield from _render_merged(numbers, user, cases, target, now)


def _render_zip(
    numbers: list[int], user: User, cases: list[tuple[int, Case]], target: Path, now: dt.datetime
) -> Iterator[Outcome]:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for position, case in cases:
            sheets = _sheets_for(case, numbers, now, user)
            if not sheets:
                yield Outcome(position, case.number, _not_applicable(case, numbers))
                continue
            try:
                folder = f"{case.number}_{safe_name(case.applicant.name)}"
                for one in sheets:
                    data = render_sheets([one])
                    archive.writestr(f"{folder}/附件{one.annex.number}_{one.annex.title}.pdf", data)
            except Exception as exc:  # one bad case must not sink the batch
                log.exception("批量导出：%s 生成失败", case.number)
                yield Outcome(position, case.number, f"生成失败：{exc}"[:400])
            else:
                yield Outcome(position, case.number, note=_skipped(case, numbers))


def _render_merged(
    numbers: list[int], user: User, cases: list[tuple[int, Case]], target: Path, now: dt.datetime
) -> Iterator[Outcome]:
    own: list[tuple[int, Case, list[Sheet]]] = []
    for position, case in cases:
        sheets = _sheets_for(case, numbers, now, user)
        if sheets:
            own.append((position, case, sheets))
        else:
            yield Outcome(position, case.number, _not_applicable(case, numbers))
    if not own:
        return
    try:
        target.write_bytes(render_sheets([s for _, _, sheets in own for s in sheets], batch=True))
    except Exception:
        # Find the case that cannot be printed and leave it out; the others go in one document.
        log.exception("批量导出：%s 件合并生成失败，逐件排查", len(own))
        good: list[tuple[int, Case, list[Sheet]]] = []
        failed: list[Outcome] = []
        for position, case, sheets in own:
            try:
                render_sheets(sheets, batch=True)
            except Exception as exc:
                failed.append(Outcome(position, case.number, f"生成失败：{exc}"[:400]))
            else:
                good.append((position, case, sheets))
        yield from failed
        own = good
        if not own:
            return
        target.write_bytes(render_sheets([s for _, _, sheets in own for s in sheets], batch=True))
    for position, case, _ in own:
        yield Outcome(position, case.number, note=_skipped(case, numbers))


def manifest(rows: Iterable[tuple[int, str, bool, str | None]]) -> bytes:
    """The CSV listing every case of the job: (position, case number, rendered, reason) in order."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号", "案件编号", "结果", "说明"])
    for position, number, rendered, reason in rows:
        writer.writerow([position + 1, number, "已生成" if rendered else "未生成", reason or ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def copy_entries(source: Path, target: zipfile.ZipFile) -> None:
    """Copy every entry of the ZIP `source` into `target`, streamed."""
    with zipfile.ZipFile(source) as part:
        for info in part.infolist():
            with part.open(info) as reader, target.open(info.filename, "w") as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)


def merge_pdfs(paths: list[Path], target: Path) -> None:
    """One PDF of `paths` in order, their bookmarks kept."""
    writer = PdfWriter()
    for path in paths:
        writer.append(str(path), import_outline=True)
    with open(target, "wb") as out:
        writer.write(out)


def write_volumes(
    parts: list[tuple[int, Path]],
    archive: zipfile.ZipFile,
    chunk_size: int,
    total: int,
    volume_cases: int,
    scratch: Path,
) -> None:
    """Merge the chunk parts ((chunk index, path)) into volumes of at most `volume_cases` cases inside `archive`."""
    per_volume = max(1, volume_cases // chunk_size)
    volumes = [parts[i : i + per_volume] for i in range(0, len(parts), per_volume)]
    for number, volume in enumerate(volumes, start=1):
        first, last = volume[0][0] * chunk_size + 1, min((volume[-1][0] + 1) * chunk_size, total)
        temporary = temporary_path(scratch / f"volume-{number}.pdf")
        try:
            merge_pdfs([path for _, path in volume], temporary)
            archive.write(temporary, f"第{number:02d}册_第{first}至{last}件.pdf")
        finally:
            temporary.unlink(missing_ok=True)
