"""Batch export of annex PDFs, run by the task queue (jobs/tasks.py) in chunks.

A job's cases are fixed, in order, when the clerk asks for it (only cases in the clerk's scope).
Workers render chunks of them into part files; the last chunk to finish has the parts assembled
into the download. Every file is written under a temporary name and renamed when complete, so a
crash leaves at most a stray temporary file and never a half-written archive under a real name.
A chunk that was running when its worker died is found by its stale heartbeat and done again.

Formats:
- zip: one folder per case ("<case number>_<applicant>"), one PDF per form, plus a manifest;
  written entry by entry, so memory does not grow with the number of cases;
- merged: each chunk is one xhtml2pdf document (the font subset is embedded once per chunk) with
  a bookmark per case and per form; chunks are joined into volumes of at most EXPORT_VOLUME_CASES
  cases (one PDF when the job is that small, else a ZIP of volumes), which bounds memory too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import re
import shutil
import uuid
import zipfile
from pathlib import Path

from flask import current_app
from pypdf import PdfWriter
from sqlalchemy import case as when
from sqlalchemy import func, select, update

import audit
from annexes.catalog import refusal
from annexes.render import Sheet, render_sheets, sheet
from extensions import db
from lifecycle.scope import can_change_case, scope_clause
from models import Case, ExportChunk, ExportJob, ExportJobCase, User
from models.enums import ExportFormat, ExportItemState, ExportStatus
from models.time import BEIJING, utcnow

log = logging.getLogger(__name__)

PENDING = ExportItemState.PENDING.value
RUNNING = ExportItemState.RUNNING.value
DONE = ExportItemState.DONE.value
FAILED = ExportItemState.FAILED.value
MAX_ATTEMPTS = 3
ACTIVE = (ExportStatus.QUEUED.value, ExportStatus.RUNNING.value)


class Cancelled(Exception):
    """The clerk cancelled the job while a chunk was being rendered."""


# --- paths ------------------------------------------------------------------------------------
def export_dir() -> Path:
    path = Path(current_app.config["EXPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_dir(job_id: int) -> Path:
    path = export_dir() / f"job-{job_id}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _temporary(final: Path) -> Path:
    return final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")


def _safe(text: str) -> str:
    """A file or folder name from user text: no separators, control characters or leading dots."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", text).strip(" .")
    return cleaned[:60] or "_"


def download_name(job: ExportJob, extension: str) -> str:
    day = job.created_at.replace(tzinfo=dt.UTC).astimezone(BEIJING)
    return f"帮办代办表单_{day:%Y%m%d}_任务{job.id}.{extension}"


# --- progress -----------------------------------------------------------------------------------
def counts(job_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(ExportJobCase.state, func.count()).where(ExportJobCase.job_id == job_id).group_by(ExportJobCase.state)
    ).all()
    found = {state: n for state, n in rows}
    return {state: found.get(state, 0) for state in (PENDING, RUNNING, DONE, FAILED)}


def _job_status(job_id: int) -> str | None:
    return db.session.scalar(select(ExportJob.status).where(ExportJob.id == job_id))


# --- creating a job -----------------------------------------------------------------------------
def create_job(user: User, case_ids: list[int], annexes: list[int], file_format: str, chunk_size: int) -> ExportJob:
    """Record a job for the in-scope cases among `case_ids` (kept in the given order); the caller commits."""
    wanted = list(dict.fromkeys(case_ids))
    in_scope = set(db.session.scalars(select(Case.id).where(Case.id.in_(wanted), scope_clause(Case, user))))
    ordered = [case_id for case_id in wanted if case_id in in_scope]
    job = ExportJob(
        user=user,
        format=ExportFormat(file_format).value,
        annexes=",".join(str(n) for n in sorted(set(annexes))),
        total=len(ordered),
        chunk_size=chunk_size,
    )
    db.session.add(job)
    db.session.flush()
    chunks = (len(ordered) + chunk_size - 1) // chunk_size
    # Bulk inserts: thousands of bookkeeping rows; the job itself is what the audit log records.
    if ordered:
        db.session.execute(
            ExportJobCase.__table__.insert(),
            [
                {"job_id": job.id, "position": i, "case_id": case_id, "chunk": i // chunk_size, "state": PENDING}
                for i, case_id in enumerate(ordered)
            ],
        )
        db.session.execute(
            ExportChunk.__table__.insert(),
            [{"job_id": job.id, "index": i, "state": PENDING, "attempts": 0} for i in range(chunks)],
        )
    audit.record(
        db.session,
        audit.AuditEvent.BATCH_EXPORT,
        job,
        f"批量导出表单 {len(ordered)} 件（附件{job.annexes}，{job.format_label}）",
        changes={"requested": len(wanted), "in_scope": len(ordered)},
    )
    return job


def chunk_indexes(job_id: int) -> list[int]:
    return list(db.session.scalars(select(ExportChunk.index).where(ExportChunk.job_id == job_id)))


def mark_enqueued(job_id: int, index: int) -> None:
    db.session.execute(
        update(ExportChunk).where(ExportChunk.job_id == job_id, ExportChunk.index == index).values(enqueued_at=utcnow())
    )


# --- rendering a chunk --------------------------------------------------------------------------
def _sheets_for(case: Case, numbers: list[int], now: dt.datetime, user: User) -> list[Sheet]:
    """The case's sheets among `numbers`; the first carries the case's bookmark in a merged document."""
    applicable = [n for n in numbers if refusal(case, n) is None]
    allowed = can_change_case(user, case)
    return [sheet(case, n, now=now, case_mark=i == 0, link_allowed=allowed) for i, n in enumerate(applicable)]


def _not_applicable(case: Case, numbers: list[int]) -> str:
    reasons = dict.fromkeys(refusal(case, n) or "" for n in numbers)
    return ("所选表单均不适用：" + "".join(reasons))[:400]


def _claim_chunk(job_id: int, index: int) -> bool:
    """Take a pending chunk (one worker wins) and reset its cases, in one short transaction."""
    claimed = db.session.execute(
        update(ExportChunk)
        .where(ExportChunk.job_id == job_id, ExportChunk.index == index, ExportChunk.state == PENDING)
        .values(state=RUNNING, heartbeat_at=utcnow(), attempts=ExportChunk.attempts + 1)
    ).rowcount
    if claimed:
        db.session.execute(
            update(ExportJobCase)
            .where(ExportJobCase.job_id == job_id, ExportJobCase.chunk == index)
            .values(state=PENDING, reason=None)
        )
    db.session.commit()
    return claimed == 1


def _release_chunk(job_id: int, index: int) -> None:
    """Hand a chunk whose render raised back to the queue's retry."""
    db.session.rollback()
    db.session.execute(
        update(ExportChunk)
        .where(ExportChunk.job_id == job_id, ExportChunk.index == index, ExportChunk.state == RUNNING)
        .values(state=PENDING)
    )
    db.session.commit()


def _set_case(job_id: int, position: int, state: str, reason: str | None = None) -> None:
    db.session.execute(
        update(ExportJobCase)
        .where(ExportJobCase.job_id == job_id, ExportJobCase.position == position)
        .values(state=state, reason=reason)
    )


def _beat(job_id: int, index: int) -> None:
    db.session.execute(
        update(ExportChunk)
        .where(ExportChunk.job_id == job_id, ExportChunk.index == index)
        .values(heartbeat_at=utcnow())
    )
    db.session.commit()
    if _job_status(job_id) not in ACTIVE:
        raise Cancelled


def render_chunk(job_id: int, index: int) -> bool:
    """Render one chunk into its part file. Returns True when this was the job's last chunk."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.status not in ACTIVE:
        return False
    if not _claim_chunk(job_id, index):
        return False  # done, running elsewhere, or given up
    chunk = db.session.get(ExportChunk, (job_id, index))
    if job.status == ExportStatus.QUEUED:
        db.session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.QUEUED.value)
            .values(status=ExportStatus.RUNNING.value, started_at=utcnow())
        )
        db.session.commit()
    if chunk.attempts > MAX_ATTEMPTS:
        _give_up(job_id, index)
        return _finish_chunk(job_id, index, None)
    rows = db.session.execute(
        select(ExportJobCase.position, ExportJobCase.case_id)
        .where(ExportJobCase.job_id == job_id, ExportJobCase.chunk == index)
        .order_by(ExportJobCase.position)
    ).all()
    extension = "zip" if job.format == ExportFormat.ZIP else "pdf"
    final = job_dir(job_id) / f"part-{index:05d}.{extension}"
    temporary = _temporary(final)
    try:
        rendered = _render_rows(job, index, rows, temporary)
    except Cancelled:
        temporary.unlink(missing_ok=True)
        return False
    except Exception:
        temporary.unlink(missing_ok=True)
        _release_chunk(job_id, index)
        raise
    part = None
    if rendered:
        os.replace(temporary, final)
        part = str(final.relative_to(export_dir()))
    else:
        temporary.unlink(missing_ok=True)
    audit.record(
        db.session,
        audit.AuditEvent.PDF,
        job,
        f"批量导出任务#{job_id} 第{index + 1}块生成 {len(rendered)} 件",
        changes={"cases": rendered, "annexes": job.annex_numbers},
        actor=job.user,
    )
    db.session.commit()
    return _finish_chunk(job_id, index, part)


def _render_rows(job: ExportJob, index: int, rows: list, temporary: Path) -> list[str]:
    """Render the rows into `temporary`; returns the numbers of the cases rendered."""
    now = utcnow()
    numbers = job.annex_numbers
    scope = scope_clause(Case, job.user) if job.user.active else None
    rendered: list[str] = []
    merged: list[Sheet] = []
    merged_positions: list[tuple[int, Case]] = []
    archive = zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) if job.format == ExportFormat.ZIP else None
    try:
        # Writes are committed right away (by _beat): on SQLite a transaction left open across a
        # render would hold the database's write lock for the other workers.
        for position, case_id in rows:
            case = None
            if scope is not None:
                case = db.session.scalar(select(Case).where(Case.id == case_id, scope))
            if case is None:
                _set_case(job.id, position, FAILED, "案件已不在导出人的管辖范围内或已删除")
                _beat(job.id, index)
                continue
            sheets = _sheets_for(case, numbers, now, job.user)
            if not sheets:
                _set_case(job.id, position, FAILED, _not_applicable(case, numbers))
                _beat(job.id, index)
                continue
            if archive is None:
                merged.extend(sheets)
                merged_positions.append((position, case))
                continue
            try:
                folder = f"{case.number}_{_safe(case.applicant.name)}"
                for one in sheets:
                    data = render_sheets([one])
                    archive.writestr(f"{folder}/附件{one.annex.number}_{one.annex.title}.pdf", data)
            except Exception as exc:  # one bad case must not sink the batch
                log.exception("批量导出：%s 生成失败", case.number)
                _set_case(job.id, position, FAILED, f"生成失败：{exc}"[:400])
            else:
                _set_case(job.id, position, DONE)
                rendered.append(case.number)
            _beat(job.id, index)
        if archive is None and merged:
            rendered = _render_merged(job, index, merged, merged_positions, temporary)
    finally:
        if archive is not None:
            archive.close()
    return rendered


def _render_merged(job: ExportJob, index: int, sheets: list[Sheet], cases: list, temporary: Path) -> list[str]:
    try:
        temporary.write_bytes(render_sheets(sheets, batch=True))
    except Exception:
        # Find the case that cannot be printed and leave it out; the others go in one document.
        log.exception("批量导出：任务#%s 第%s块合并生成失败，逐件排查", job.id, index)
        good: list[Sheet] = []
        for position, case in cases:
            own = [s for s in sheets if s.case is case]
            try:
                render_sheets(own, batch=True)
            except Exception as exc:
                _set_case(job.id, position, FAILED, f"生成失败：{exc}"[:400])
                cases = [c for c in cases if c[1] is not case]
            else:
                good.extend(own)
        if not good:
            return []
        temporary.write_bytes(render_sheets(good, batch=True))
    for position, _ in cases:
        _set_case(job.id, position, DONE)
    _beat(job.id, index)
    return [case.number for _, case in cases]


def _give_up(job_id: int, index: int) -> None:
    db.session.execute(
        update(ExportJobCase)
        .where(ExportJobCase.job_id == job_id, ExportJobCase.chunk == index, ExportJobCase.state != DONE)
        .values(state=FAILED, reason=f"处理多次中断（{MAX_ATTEMPTS}次），已跳过")
    )
    db.session.commit()


def _finish_chunk(job_id: int, index: int, part: str | None) -> bool:
    db.session.execute(
        update(ExportChunk)
        .where(ExportChunk.job_id == job_id, ExportChunk.index == index)
        .values(state=DONE, part=part, heartbeat_at=utcnow())
    )
    db.session.commit()
    left = db.session.scalar(
        select(func.count()).select_from(ExportChunk).where(ExportChunk.job_id == job_id, ExportChunk.state != DONE)
    )
    return left == 0


# --- assembling the download --------------------------------------------------------------------
def _parts(job_id: int) -> list[tuple[int, Path | None]]:
    rows = db.session.execute(
        select(ExportChunk.index, ExportChunk.part).where(ExportChunk.job_id == job_id).order_by(ExportChunk.index)
    ).all()
    return [(index, export_dir() / part if part else None) for index, part in rows]


def _manifest(job: ExportJob) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号", "案件编号", "结果", "说明"])
    rows = db.session.execute(
        select(ExportJobCase.position, Case.number, ExportJobCase.state, ExportJobCase.reason)
        .join(Case, Case.id == ExportJobCase.case_id)
        .where(ExportJobCase.job_id == job.id)
        .order_by(ExportJobCase.position)
    )
    for position, number, state, reason in rows:
        writer.writerow([position + 1, number, "已生成" if state == DONE else "未生成", reason or ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _copy_entries(source: Path, target: zipfile.ZipFile) -> None:
    with zipfile.ZipFile(source) as part:
        for info in part.infolist():
            with part.open(info) as reader, target.open(info.filename, "w") as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)


def _merge(paths: list[Path], target: Path) -> None:
    writer = PdfWriter()
    for path in paths:
        writer.append(str(path), import_outline=True)
    with open(target, "wb") as out:
        writer.write(out)


def assemble(job_id: int) -> None:
    """Join the parts into the download, then mark the job done (or failed when nothing came out)."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.status not in ACTIVE:
        return
    tally = counts(job_id)
    parts = [(index, path) for index, path in _parts(job_id) if path is not None]
    if tally[DONE] == 0:
        job.status = ExportStatus.FAILED.value
        job.error = "没有生成任何表单：所选案件均失败或所选表单均不适用，详见失败清单。"
        job.finished_at = utcnow()
        audit.record(db.session, audit.AuditEvent.BATCH_EXPORT, job, f"导出任务 #{job_id} 失败：没有生成任何表单")
        db.session.commit()
        _remove_parts(job_id)
        return
    volume_cases = current_app.config["EXPORT_VOLUME_CASES"]
    if job.format == ExportFormat.MERGED and job.total <= volume_cases:
        final = job_dir(job_id) / "export.pdf"
        temporary = _temporary(final)
        _merge([path for _, path in parts], temporary)
        name = download_name(job, "pdf")
    else:
        final = job_dir(job_id) / "export.zip"
        temporary = _temporary(final)
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as archive:
            if job.format == ExportFormat.ZIP:
                for _, path in parts:
                    _copy_entries(path, archive)
            else:
                _write_volumes(job, parts, archive, volume_cases)
            archive.writestr("导出清单.csv", _manifest(job))
        name = download_name(job, "zip")
    if _job_status(job_id) not in ACTIVE:  # cancelled, or finished by another assembler meanwhile
        temporary.unlink(missing_ok=True)
        return
    os.replace(temporary, final)
    retention = dt.timedelta(hours=current_app.config["EXPORT_RETENTION_HOURS"])
    done = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status.in_(ACTIVE))
        .values(
            status=ExportStatus.DONE.value,
            finished_at=utcnow(),
            expires_at=utcnow() + retention,
            file_name=name,
            file_path=str(final.relative_to(export_dir())),
            file_size=final.stat().st_size,
        )
    ).rowcount
    if done:
        audit.record(
            db.session,
            audit.AuditEvent.BATCH_EXPORT,
            job,
            f"导出任务 #{job_id} 完成：{tally[DONE]} 件已生成，{tally[FAILED]} 件未生成",
            changes={"file": name, "bytes": final.stat().st_size},
        )
    db.session.commit()
    if done:
        _remove_parts(job_id, keep=final)
    elif _job_status(job_id) == ExportStatus.CANCELLED.value:
        remove_files(job_id)


def _write_volumes(job: ExportJob, parts: list, archive: zipfile.ZipFile, volume_cases: int) -> None:
    per_volume = max(1, volume_cases // job.chunk_size)
    volumes = [parts[i : i + per_volume] for i in range(0, len(parts), per_volume)]
    for number, volume in enumerate(volumes, start=1):
        first, last = volume[0][0] * job.chunk_size + 1, min((volume[-1][0] + 1) * job.chunk_size, job.total)
        temporary = _temporary(job_dir(job.id) / f"volume-{number}.pdf")
        try:
            _merge([path for _, path in volume], temporary)
            archive.write(temporary, f"第{number:02d}册_第{first}至{last}件.pdf")
        finally:
            temporary.unlink(missing_ok=True)


def _remove_parts(job_id: int, keep: Path | None = None) -> None:
    for path in job_dir(job_id).iterdir():
        if path != keep:
            path.unlink(missing_ok=True)


def remove_files(job_id: int) -> None:
    shutil.rmtree(export_dir() / f"job-{job_id}", ignore_errors=True)


# --- after a crash, and after the retention period ------------------------------------------------
def stale_chunks(stale_after: dt.timedelta) -> list[tuple[int, int]]:
    """Chunks to hand to a worker again: running with no heartbeat lately, or pending and never taken."""
    now = utcnow()
    rows = db.session.execute(
        select(ExportChunk.job_id, ExportChunk.index, ExportChunk.state, ExportChunk.heartbeat_at)
        .join(ExportJob, ExportJob.id == ExportChunk.job_id)
        .where(ExportJob.status.in_(ACTIVE), ExportChunk.state.in_((PENDING, RUNNING)))
        .where(
            ((ExportChunk.state == RUNNING) & (ExportChunk.heartbeat_at < now - stale_after))
            | ((ExportChunk.state == PENDING) & (ExportChunk.enqueued_at.is_(None)))
            | ((ExportChunk.state == PENDING) & (ExportChunk.enqueued_at < now - 20 * stale_after))
        )
    ).all()
    reclaimed = []
    for job_id, index, state, heartbeat in rows:
        condition = [ExportChunk.job_id == job_id, ExportChunk.index == index, ExportChunk.state == state]
        if state == RUNNING:
            condition.append(ExportChunk.heartbeat_at == heartbeat)
        taken = db.session.execute(
            update(ExportChunk).where(*condition).values(state=PENDING, enqueued_at=now)
        ).rowcount
        if taken:
            reclaimed.append((job_id, index))
    db.session.commit()
    return reclaimed


def unassembled_jobs(stale_after: dt.timedelta) -> list[int]:
    """Running jobs whose chunks are all done but which were never assembled (the assembler died)."""
    finished = (
        select(ExportChunk.job_id)
        .group_by(ExportChunk.job_id)
        .having(func.sum(when((ExportChunk.state != DONE, 1), else_=0)) == 0)
        # Assembling a large job takes a while and beats no heart: wait ten times as long.
        .having(func.max(ExportChunk.heartbeat_at) < utcnow() - 10 * stale_after)
    )
    return list(
        db.session.scalars(
            select(ExportJob.id).where(ExportJob.status == ExportStatus.RUNNING.value, ExportJob.id.in_(finished))
        )
    )


def expire_finished() -> int:
    """Delete the files of jobs past their retention period, or no longer within their owner's scope; returns how many."""
    jobs = db.session.scalars(
        select(ExportJob).where(ExportJob.status == ExportStatus.DONE.value, ExportJob.expires_at < utcnow())
    ).all()
    for job in jobs:
        remove_files(job.id)
        job.status = ExportStatus.EXPIRED.value
        job.file_path = None
    finished = db.session.scalars(select(ExportJob).where(ExportJob.status == ExportStatus.DONE.value)).all()
    voided = sum(1 for job in finished if void_if_out_of_scope(job))
    db.session.commit()
    return len(jobs) + voided


# --- the owner's scope, again, for as long as the file exists ------------------------------------
def cases_out_of_scope(job: ExportJob) -> int:
    """How many cases in the job's file its owner may not read today (all of them once the owner is deactivated).

    The file was made within the owner's scope at the time; a move to another center, a new role
    or a deactivation during the retention period must not leave it downloadable.
    """
    in_file = (
        select(func.count())
        .select_from(ExportJobCase)
        .where(ExportJobCase.job_id == job.id, ExportJobCase.state == DONE)
    )
    total = db.session.scalar(in_file)
    if not job.user.active:
        return total
    # Counted as total minus readable: NOT of a scope clause is NULL (not true) for a NULL column.
    readable = db.session.scalar(
        in_file.join(Case, Case.id == ExportJobCase.case_id).where(scope_clause(Case, job.user))
    )
    return total - readable


def void(job: ExportJob, reason: str) -> None:
    """Withdraw a finished job's file at once: deleted, the job marked expired with the reason, audited.

    The file goes first: a failure after it leaves a job without a file, never a file without a job.
    The caller commits.
    """
    remove_files(job.id)
    job.status = ExportStatus.EXPIRED.value
    job.file_path = None
    job.error = reason
    audit.record(
        db.session,
        audit.AuditEvent.EXPORT_VOIDED,
        job,
        f"导出任务 #{job.id} 作废：{reason}",
        changes={"owner": job.user_id},
    )


def void_if_out_of_scope(job: ExportJob) -> int:
    """Void a finished job whose file holds cases its owner may no longer read; returns how many cases that was."""
    if job.status != ExportStatus.DONE:
        return 0
    outside = cases_out_of_scope(job)
    if outside:
        if job.user.active:
            reason = f"导出人的岗位或所属机构已变更，{outside} 件案件已不在其当前管辖范围内，导出文件已删除。"
        else:
            reason = "导出人的账号已停用，导出文件已删除。"
        void(job, reason)
    return outside


def void_out_of_scope_jobs(user: User) -> int:
    """After a change to a user's role, center or status: void their finished jobs now outside it; the caller commits."""
    jobs = db.session.scalars(
        select(ExportJob).where(ExportJob.user_id == user.id, ExportJob.status == ExportStatus.DONE.value)
    ).all()
    return sum(1 for job in jobs if void_if_out_of_scope(job))


def cancel(job: ExportJob) -> bool:
    """Stop a job; workers notice at their next case. Returns False when it had already ended."""
    if job.status not in ACTIVE:
        return False
    job.status = ExportStatus.CANCELLED.value
    job.finished_at = utcnow()
    return True
