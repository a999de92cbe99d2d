"""Complaints (投诉) about a case, from any channel; each opens a follow-up."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.case_centers import CaseCenters
from models.enums import ComplaintChannel, check_in, label
from models.time import utcnow


class Complaint(CaseCenters, db.Model):
    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint(check_in("channel", ComplaintChannel), name="channel"),
        Index("ix_complaint_received_at_id_centers", "received_at", "id", "center_id", "origin_center_id"),
        Index("ix_complaint_center_id", "center_id"),
        Index("ix_complaint_origin_center_id", "origin_center_id", "center_id"),
        # A 好差评 row is recorded once however often its file is imported (lifecycle/haochaping.py).
        Index("uq_complaint_haochaping_number", "haochaping_number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    complainant_name: Mapped[str] = mapped_column(String(32), default="")
    complainant_phone: Mapped[str] = mapped_column(String(20), default="")
    content: Mapped[str] = mapped_column(Text)
    # The 12345 or 好差评 work-order number, where the complaint came through one.
    reference: Mapped[str | None] = mapped_column(String(40))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Imported from the provincial 好差评 system: its 评价编号 and the channel it names.
    haochaping_number: Mapped[str | None] = mapped_column(String(40))
    haochaping_channel: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    case: Mapped[Case] = relationship(back_populates="complaints")  # noqa: F821
    entered_by: Mapped[User | None] = relationship()  # noqa: F821
    followup: Mapped[FollowUp | None] = relationship(back_populates="complaint")  # noqa: F821

    __mapper_args__ = {"version_id_col": version}

    @property
    def channel_label(self) -> str:
        return label(ComplaintChannel(self.channel))

    def __str__(self) -> str:
        return f"{self.case} 投诉({self.channel_label})"
