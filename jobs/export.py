"""The state of a batch export job: its cases and chunks, who is rendering what, and its file.

A job's cases are fixed, in order, when the clerk asks for it (only cases in the clerk's scope).
Workers render chunks of them into part files (annexes/batch.py); the last chunk to finish has the
parts assembled into the download. Every file is written under a temporary name and renamed when
complete, so a crash leaves at most a stray temporary file and never a half-written archive under
a real name. A chunk that was running when its worker died is found by its stale heartbeat and done
again.

The owner's scope is evaluated when the job is created, once more for the whole job when its
first chunk starts (a case moved away while the job waited in the queue is left out), and then
for the finished file whenever it is about to be delivered or swept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import socket
import zipfile
from pathlib import Path

from flask import current_app
from sqlalchemy import Select, false, func, select, update
from sqlalchemy import case as when

import audit
from annexes import batch
from extensions import db
from lifecycle.scope import scope_clause
from models import Case, ExportChunk, ExportJob, ExportJobCase, User
from models.enums import ExportFormat, ExportItemState, ExportStatus
from models.time import beijing_date, utcnow

log = logging.getLogger(__name__)

PENDING = ExportItemState.PENDING.value
RUNNING = ExportItemState.RUNNING.value
DONE = ExportItemState.DONE.value
FAILED = ExportItemState.FAILED.value
MAX_ATTEMPTS = 3
ACTIVE = (ExportStatus.QUEUED.value, ExportStatus.RUNNING.value)
# Also how a retried chunk tells the job's scope decision from its own earlier results.
OUT_OF_SCOPE = "案件已不在导出人的管辖范围内或已删除"


class Cancelled(Exception):
    """The clerk cancelled the job while a chunk was being rendered."""


def worker_name() -> str:
    """This process as the chunk table names it: host and process id ("export-2:4711")."""
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


# --- paths ------------------------------------------------------------------------------------
def export_dir() -> Path:
    path = Path(current_app.config["EXPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_dir(job_id: int) -> Path:
    path = export_dir() / f"job-{job_id}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def download_name(job: ExportJob, extension: str) -> str:
    day = beijing_date(job.created_at)
    return f"帮办代办表单_{day:%Y%m%d}_任务{job.id}.{extension}"


def remove_files(job_id: int) -> None:
    shutil.rmtree(export_dir() / f"job-{job_id}", ignore_errors=True)


def _remove_parts(job_id: int, keep: Path | None = None) -> None:
    for path in job_dir(job_id).iterdir():
        if path != keep:
            path.unlink(missing_ok=True)


# --- progress -----------------------------------------------------------------------------------
def counts(job_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(ExportJobCase.state, func.count()).where(ExportJobCase.job_id == job_id).group_by(ExportJobCase.state)
    ).all()
    found = {state: n for state, n in rows}
    return {state: found.get(state, 0) for state in (PENDING, RUNNING, DONE, FAILED)}


def _job_status(job_id: int) -> str | None:
    return db.session.scalar(select(ExportJob.status).where(ExportJob.id == job_id))


# --- the owner's scope --------------------------------------------------------------------------
def _readable(job: ExportJob) -> Select:
    """The ids of the job's cases its owner may read today (none once the owner is deactivated)."""
    if not job.user.active:
        return select(Case.id).where(false())
    job_cases = select(ExportJobCase.case_id).where(ExportJobCase.job_id == job.id)
    return select(Case.id).where(Case.id.in_(job_cases), scope_clause(Case, job.user))


def _leave_out_unreadable(job: ExportJob) -> None:
    """Mark the job's cases its owner may no longer read as failed, before any is rendered."""
    # NOT IN over readable ids, not NOT(scope): NOT of a scope clause is NULL for a NULL column.
    db.session.execute(
        update(ExportJobCase)
        .where(ExportJobCase.job_id == job.id, ExportJobCase.case_id.not_in(_readable(job)))
        .values(state=FAILED, reason=OUT_OF_SCOPE)
    )


def cases_out_of_scope(job: ExportJob) -> int:
    """How many cases in the job's file its owner may not read today (all of them once the owner is deactivated).

    The file was made within the owner's scope at the time; a move to another center, a new role
    or a deactivation during the retention period must not leave it downloadable.
    """
    return db.session.scalar(
        select(func.count())
        .select_from(ExportJobCase)
        .where(ExportJobCase.job_id == job.id, ExportJobCase.state == DONE)
        .where(ExportJobCase.case_id.not_in(_readable(job)))
    )


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


# --- creating and cancelling a job --------------------------------------------------------------
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


def cancel(job: ExportJob) -> bool:
    """Stop a job; workers notice at their next case. Returns False when it had already ended."""
    if job.status not in ACTIVE:
        return False
    job.status = ExportStatus.CANCELLED.value
    job.finished_at = utcnow()
    return True


# --- rendering a chunk --------------------------------------------------------------------------
def _start(job: ExportJob) -> None:
    """Move a queued job to running; the one worker that does so checks the owner's scope for the whole job.

    One transaction: a worker that lost the race reads its chunk's cases only after the winner's
    decision is committed.
    """
    started = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job.id, ExportJob.status == ExportStatus.QUEUED.value)
        .values(status=ExportStatus.RUNNING.value, started_at=utcnow())
    ).rowcount
    if started:
        _leave_out_unreadable(job)
    db.session.commit()


def _claim_chunk(job_id: int, index: int) -> bool:
    """Take a pending chunk (one worker wins) and reset its cases, in one short transaction."""
    claimed = db.session.execute(
        update(ExportChunk)
        .where(ExportChunk.job_id == job_id, ExportChunk.index == index, ExportChunk.state == PENDING)
        .values(state=RUNNING, heartbeat_at=utcnow(), attempts=ExportChunk.attempts + 1, worker=worker_name())
    ).rowcount
    if claimed:
        db.session.execute(
            update(ExportJobCase)
            .where(ExportJobCase.job_id == job_id, ExportJobCase.chunk == index)
            .where(ExportJobCase.reason.is_distinct_from(OUT_OF_SCOPE))
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
    # Committed right away: on SQLite a transaction left open across a render would hold the
    # database's write lock for the other workers.
    db.session.execute(
        update(ExportChunk)
        .where(ExportChunk.job_id == job_id, ExportChunk.index == index)
        .values(heartbeat_at=utcnow())
    )
    db.session.commit()
    if _job_status(job_id) not in ACTIVE:
        raise Cancelled


def _chunk_cases(job_id: int, index: int) -> list[tuple[int, Case]]:
    """The chunk's cases left to render, in order; a case that no longer exists is marked failed."""
    rows = db.session.execute(
        select(ExportJobCase.position, ExportJobCase.case_id)
        .where(ExportJobCase.job_id == job_id, ExportJobCase.chunk == index, ExportJobCase.state == PENDING)
        .order_by(ExportJobCase.position)
    ).all()
    cases = []
    for position, case_id in rows:
        case = db.session.get(Case, case_id)
        if case is None:
            _set_case(job_id, position, FAILED, OUT_OF_SCOPE)
        else:
            cases.append((position, case))
    db.session.commit()
    return cases


def render_chunk(job_id: int, index: int) -> bool:
    """Render one chunk into its part file. Returns True when this was the job's last chunk."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.status not in ACTIVE:
        return False
    if not _claim_chunk(job_id, index):
        return False  # done, running elsewhere, or given up
    chunk = db.session.get(ExportChunk, (job_id, index))
    if job.status == ExportStatus.QUEUED:
        _start(job)
    if chunk.attempts > MAX_ATTEMPTS:
        _give_up(job_id, index)
        return _finish_chunk(job_id, index, None)
    cases = _chunk_cases(job_id, index)
    extension = "zip" if job.format == ExportFormat.ZIP else "pdf"
    final = job_dir(job_id) / f"part-{index:05d}.{extension}"
    temporary = batch.temporary_path(final)
    rendered: list[str] = []
    try:
        parts = batch.render_part(job.format, job.annex_numbers, job.user, cases, temporary)
        with contextlib.closing(parts):
            for outcome in parts:
                _set_case(
                    job_id, outcome.position, DONE if outcome.rendered else FAILED, outcome.reason or outcome.note
                )
                if outcome.rendered:
                    rendered.append(outcome.number)
                _beat(job_id, index)
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


def _give_up(job_id: int, index: int) -> None:
    db.session.execute(
        update(ExportJobCase)
        .where(ExportJobCase.job_id == job_id, ExportJobCase.chunk == index, ExportJobCase.state == PENDING)
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
def _parts(job_id: int) -> list[tuple[int, Path]]:
    rows = db.session.execute(
        select(ExportChunk.index, ExportChunk.part)
        .where(ExportChunk.job_id == job_id, ExportChunk.part.is_not(None))
        .order_by(ExportChunk.index)
    ).all()
    return [(index, export_dir() / part) for index, part in rows]


def _manifest(job: ExportJob) -> bytes:
    rows = db.session.execute(
        select(ExportJobCase.position, Case.number, ExportJobCase.state == DONE, ExportJobCase.reason)
        .join(Case, Case.id == ExportJobCase.case_id)
        .where(ExportJobCase.job_id == job.id)
        .order_by(ExportJobCase.position)
    )
    return batch.manifest(rows)


def assemble(job_id: int) -> None:
    """Join the parts into the download, then mark the job done (or failed when nothing came out)."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.status not in ACTIVE:
        return
    tally = counts(job_id)
    parts = _parts(job_id)
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
        temporary = batch.temporary_path(final)
        batch.merge_pdfs([path for _, path in parts], temporary)
        name = download_name(job, "pdf")
    else:
        final = job_dir(job_id) / "export.zip"
        temporary = batch.temporary_path(final)
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as archive:
            if job.format == ExportFormat.ZIP:
                for _, path in parts:
                    batch.copy_entries(path, archive)
            else:
                batch.write_volumes(parts, archive, job.chunk_size, job.total, volume_cases, job_dir(job_id))
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
