"""Agents (帮办代办员): the staff who help and act for applicants, and their training."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Numeric, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.center import Center
from models.service_item import ServiceItem

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

    def __str__(self) -> str:
        return f"{self.name}({self.staff_no})"


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
