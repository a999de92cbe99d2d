"""Service items (事项), their required materials and the centers they are stationed at."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Numeric, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.center import Center
from models.department import Department
from models.enums import MaterialForm, check_in

item_center = Table(
    "item_center",
    db.metadata,
    Column("item_id", ForeignKey("service_item.id", ondelete="CASCADE"), primary_key=True),
    Column("center_id", ForeignKey("center.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ServiceItem(db.Model):
    __tablename__ = "service_item"
    __table_args__ = (
        CheckConstraint("time_limit_days >= 1", name="time_limit_positive"),
        CheckConstraint("fee_amount IS NULL OR fee_amount >= 0", name="fee_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    time_limit_days: Mapped[int] = mapped_column(default=20)
    fee_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    fee_basis: Mapped[str] = mapped_column(String(200), default="")
    online_declarable: Mapped[bool] = mapped_column(default=False, index=True)
    in_person_verification: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Edit forms carry it back; a save on a stale form is refused (optimistic locking).
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    __mapper_args__ = {"version_id_col": version}

    department: Mapped[Department] = relationship()
    centers: Mapped[list[Center]] = relationship(secondary=item_center, order_by="Center.id")
    materials: Mapped[list[ServiceItemMaterial]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ServiceItemMaterial.id"
    )

    @property
    def has_fee(self) -> bool:
        return self.fee_amount is not None and self.fee_amount > 0

    def is_stationed_at(self, center: Center) -> bool:
        return any(c is center or (c.id is not None and c.id == center.id) for c in self.centers)

    def __str__(self) -> str:
        return self.name


class ServiceItemMaterial(db.Model):
    __tablename__ = "service_item_material"
    __table_args__ = (CheckConstraint(check_in("form", MaterialForm), name="form"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    form: Mapped[str] = mapped_column(String(16), default=MaterialForm.ORIGINAL.value)
    copies: Mapped[int] = mapped_column(default=1)

    item: Mapped[ServiceItem] = relationship(back_populates="materials")

    def __str__(self) -> str:
        return self.name
