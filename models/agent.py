"""Agents (帮办代办员): the staff who help and act for applicants, and their training."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, LargeBinary, Numeric, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.center import Center
from models.service_item import ServiceItem
from models.time import utcnow

agent_item = Table(
    "agent_item",
    db.metadata,
    Column("agent_id", ForeignKey("agent.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("service_item.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Agent(db.Model):
    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), index=True)
    staff_no: Mapped[str] = mapped_column(String(20), unique=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True, index=True)
    # Edit forms carry it back; a save on a stale form is refused (optimistic locking).
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    __mapper_args__ = {"version_id_col": version}

    center: Mapped[Center] = relationship()
    items: Mapped[list[ServiceItem]] = relationship(secondary=agent_item, order_by="ServiceItem.id")
    trainings: Mapped[list[AgentTraining]] = relationship(
        back_populates="agent", cascade="all, delete-orphan", order_by="AgentTraining.date"
    )
    # Optional photo for the public roster (代办员公示); a row of its own so lists never load the image.
    photo: Mapped[AgentPhoto | None] = relationship(
        back_populates="agent", cascade="all, delete-orphan", uselist=False, lazy="select"
    )

    def __str__(self) -> str:
        return f"{self.name}({self.staff_no})"


# The only image types the roster accepts; stored value -> what the upload's bytes must be.
PHOTO_TYPES = ("image/jpeg", "image/png")


class AgentPhoto(db.Model):
    """An agent's photo, kept in the database so every app server behind the balancer serves the same one."""

    __tablename__ = "agent_photo"
    __table_args__ = (
        CheckConstraint("content_type IN ('image/jpeg', 'image/png')", name="content_type"),
        CheckConstraint("size > 0", name="size_positive"),
    )

    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int]
    # Names the exact bytes in the audit log and serves as the HTTP ETag.
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agent: Mapped[Agent] = relationship(back_populates="photo")

    def __str__(self) -> str:
        return f"{self.agent}的照片"


class AgentTraining(db.Model):
    __tablename__ = "agent_training"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"), index=True)
    date: Mapped[dt.date]
    topic: Mapped[str] = mapped_column(String(100))
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))

    agent: Mapped[Agent] = relationship(back_populates="trainings")

    def __str__(self) -> str:
        return f"{self.date} {self.topic}"
