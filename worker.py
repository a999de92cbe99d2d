"""The task-queue worker's entry module: huey_consumer worker.huey -k process -w 2

It creates the app from the same environment as the web process (DATABASE_URL, TASK_QUEUE_URL,
EXPORT_DIR, SECRET_KEY ...), applies the xhtml2pdf patches and hands the app to jobs.tasks, whose
tasks then run inside it. The consumer forks its workers after importing this module.
"""

from __future__ import annotations

import os

from annexes.render import install_xhtml2pdf_patches
from app import create_app
from extensions import db
from jobs import tasks
from jobs.queue import huey

app = create_app()
install_xhtml2pdf_patches()  # create_app has done so already; said here because the worker renders
tasks.use_app(app)


def _fresh_connections_after_fork() -> None:
    # A forked worker must not share the parent's pooled connections (SQLAlchemy's advice for
    # multiprocessing); close=False leaves the parent's own connections alone.
    with app.app_context():
        db.engine.dispose(close=False)


os.register_at_fork(after_in_child=_fresh_connections_after_fork)

__all__ = ["app", "huey"]
