"""Applicants: natural persons and organizations who ask for help or entrust a case."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.center import Center
from models.enums import ApplicantKind, check_in


class Applicant(db.Model):
    __tablename__ = "applicant"
    __table_args__ = (
        CheckConstraint(check_in("kind", ApplicantKind), name="kind"),
        CheckConstraint("gender IS NULL OR gender IN ('male', 'female')", name="gender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=ApplicantKind.PERSON.value, index=True)
    # The center that registered the applicant; scope for lower-tier logins starts here.
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    gender: Mapped[str | None] = mapped_column(String(8))
    id_type: Mapped[str | None] = mapped_column(String(24))
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200), default="")
    is_elderly: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    is_pregnant: Mapped[bool] = mapped_column(default=False)
    has_limited_mobility: Mapped[bool] = mapped_column(default=False)

    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    legal_representative: Mapped[str | None] = mapped_column(String(32))
    contact_name: Mapped[str | None] = mapped_column(String(32))
    contact_id_number: Mapped[str | None] = mapped_column(String(18))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_title: Mapped[str | None] = mapped_column(String(32))
    # Edit forms carry it back; a save on a stale form is refused (optimistic locking).
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    __mapper_args__ = {"version_id_col": version}

    center: Mapped[Center] = relationship()

    @property
    def is_person(self) -> bool:
        return self.kind == ApplicantKind.PERSON

    @property
    def special_groups(self) -> list[str]:
        flags = [
            (self.is_elderly, "老年人"),
            (self.is_disabled, "残疾人"),
            (self.is_pregnant, "孕妇"),
            (self.has_limited_mobility, "行动不便"),
        ]
        return [name for on, name in flags if on]

    def __str__(self) -> str:
        return self.name
