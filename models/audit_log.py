"""The append-only audit log, HMAC-chained (audit.py) so a row altered behind the app's back is found."""

import datetime as dt

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.time import utcnow

GENESIS_HASH = "0" * 64


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(32), default="", index=True)
    role: Mapped[str] = mapped_column(String(20), default="")
    event: Mapped[str] = mapped_column(String(32), index=True)
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(32), default="")
    summary: Mapped[str] = mapped_column(String(200), default="")
    changes: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    prev_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH, server_default=GENESIS_HASH)
    hash: Mapped[str] = mapped_column(String(64), default="", server_default="")

    def __str__(self) -> str:
        return f"{self.event} {self.object_type}#{self.object_id}"


class AuditHead(db.Model):
    """One row holding the chain's tip; updating it first serialises concurrent appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    row_count: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
