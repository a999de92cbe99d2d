"""Approval departments that service items are handled by."""

from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db


class Department(db.Model):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    contact: Mapped[str] = mapped_column(String(32), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    # Edit forms carry it back; a save on a stale form is refused (optimistic locking).
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return self.name
