"""The tasks workers run. Start workers with: huey_consumer worker.huey -k process -w 2

Each task runs inside a Flask app context: the one already pushed (tests run tasks in-process) or,
in a worker, the app worker.py created and registered with `use_app`. This package never imports
app.py: the app imports the views, which import these tasks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator

from flask import Flask, current_app, has_app_context
from huey import crontab

import audit
from extensions import db
from jobs import export
from jobs.queue import huey

log = logging.getLogger(__name__)
_app: Flask | None = None


def use_app(app: Flask) -> None:
    """Run the tasks of this process in `app` (worker.py calls it once, before any task runs)."""
    global _app
    _app = app


@contextlib.contextmanager
def app_context() -> Iterator[Flask]:
    if has_app_context():
        yield current_app._get_current_object()
        return
    if _app is None:
        raise RuntimeError("No app for the task queue: start workers with `huey_consumer worker.huey`.")
    with _app.app_context():
        try:
            with audit.acting_as("导出任务"):
                yield _app
        finally:
            db.session.remove()


def _stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["EXPORT_STALE_SECONDS"])


def enqueue_job(job_id: int) -> None:
    """Hand every chunk of a new job to the queue (called after the job is committed).

    Enqueued first, marked after: a chunk whose mark is missing (the web process died in between)
    is enqueued again by the recovery, and a chunk runs once however often it is enqueued.
    """
    indexes = export.chunk_indexes(job_id)
    if not indexes:
        assemble_export(job_id)
        return
    for index in indexes:
        render_chunk(job_id, index)
    for index in indexes:
        export.mark_enqueued(job_id, index)
    db.session.commit()


@huey.task(retries=2, retry_delay=5)
def render_chunk(job_id: int, index: int) -> None:
    with app_context():
        if export.render_chunk(job_id, index):
            assemble_export(job_id)


@huey.task(retries=2, retry_delay=5)
def assemble_export(job_id: int) -> None:
    with app_context():
        export.assemble(job_id)


@huey.task()
def remove_export_files(job_id: int) -> None:
    with app_context():
        export.remove_files(job_id)


def recover() -> dict[str, int]:
    """Re-enqueue what a dead worker left: stale chunks, and jobs rendered but never assembled."""
    with app_context():
        stale = _stale_after()
        chunks = export.stale_chunks(stale)
        jobs = export.unassembled_jobs(stale)
    for job_id, index in chunks:
        render_chunk(job_id, index)
    for job_id in jobs:
        assemble_export(job_id)
    if chunks or jobs:
        log.warning("导出任务恢复：重新排队 %s 个分块、%s 个待合并任务", len(chunks), len(jobs))
    return {"chunks": len(chunks), "jobs": len(jobs)}


@huey.on_startup()
def recover_on_startup() -> None:
    recover()


@huey.periodic_task(crontab(minute="*"))
def recover_every_minute() -> None:
    recover()


@huey.periodic_task(crontab(minute="*/10"))
def expire_old_exports() -> None:
    with app_context():
        removed = export.expire_finished()
    if removed:
        log.info("已删除 %s 个超过保留期或超出导出人数据范围的导出文件", removed)
