"""Batch exports of annex PDFs: the job, its cases in order, and the chunks workers render."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.enums import ExportFormat, ExportItemState, ExportStatus, check_in, label
from models.time import utcnow
from models.user import User


class ExportJob(db.Model):
    """One "批量导出 PDF" request: which cases (fixed when it is made), which forms, which format."""

    __tablename__ = "export_job"
    __table_args__ = (
        CheckConstraint(check_in("status", ExportStatus), name="status"),
        CheckConstraint(check_in("format", ExportFormat), name="format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16), default=ExportStatus.QUEUED.value, index=True)
    format: Mapped[str] = mapped_column(String(16))
    annexes: Mapped[str] = mapped_column(String(16))  # "1,2,3"
    total: Mapped[int] = mapped_column(default=0)
    chunk_size: Mapped[int] = mapped_column(default=20)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    file_name: Mapped[str | None] = mapped_column(String(120))  # the download name
    file_path: Mapped[str | None] = mapped_column(String(255))  # relative to EXPORT_DIR
    file_size: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()

    @property
    def annex_numbers(self) -> list[int]:
        return [int(n) for n in self.annexes.split(",") if n]

    @property
    def status_label(self) -> str:
        return label(ExportStatus(self.status))

    @property
    def format_label(self) -> str:
        return label(ExportFormat(self.format))

    def __str__(self) -> str:
        return f"导出任务 #{self.id}"


class ExportJobCase(db.Model):
    """A case of a job, in the order it was listed; its state and, when it failed, why."""

    __tablename__ = "export_job_case"
    __table_args__ = (
        CheckConstraint(check_in("state", ExportItemState), name="state"),
        Index("ix_export_job_case_job_state", "job_id", "state"),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("export_job.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    chunk: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default=ExportItemState.PENDING.value)
    reason: Mapped[str | None] = mapped_column(Text)


class ExportChunk(db.Model):
    """A slice of a job's cases rendered by one task into one part file; redone whole after a crash."""

    __tablename__ = "export_chunk"
    __table_args__ = (CheckConstraint(check_in("state", ExportItemState), name="state"),)

    job_id: Mapped[int] = mapped_column(ForeignKey("export_job.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=ExportItemState.PENDING.value, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    enqueued_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    part: Mapped[str | None] = mapped_column(String(255))  # relative to EXPORT_DIR
    # "host:pid" of the worker that took the chunk last: workers run on several machines, and a
    # stale heartbeat or a slow chunk is traced to one of them.
    worker: Mapped[str | None] = mapped_column(String(80))
