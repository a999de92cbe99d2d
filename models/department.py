"""Approval departments that service items are handled by."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db


class Department(db.Model):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    contact: Mapped[str] = mapped_column(String(32), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")

    def __str__(self) -> str:
        return self.name
