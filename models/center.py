"""Service centers: the district center, town/subdistrict centers and village stations."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.enums import Tier, check_in, label


class Center(db.Model):
    __tablename__ = "center"
    __table_args__ = (CheckConstraint(check_in("tier", Tier), name="tier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("center.id"), index=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    division_code: Mapped[str | None] = mapped_column(String(12))
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    hotline: Mapped[str] = mapped_column(String(20), default="12345")
    # Edit forms carry it back; a save on a stale form is refused (optimistic locking).
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    __mapper_args__ = {"version_id_col": version}

    parent: Mapped[Center | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Center]] = relationship(back_populates="parent", order_by="Center.id")

    @property
    def town(self) -> Center | None:
        """The town center this center belongs to (itself for a town)."""
        if self.tier == Tier.TOWN:
            return self
        if self.tier == Tier.VILLAGE:
            return self.parent
        return None

    @property
    def tier_label(self) -> str:
        return label(Tier(self.tier))

    def __str__(self) -> str:
        return self.name
