"""The bureau's own holiday table: days off and adjusted working days, and which years are confirmed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.time import utcnow


class HolidayYear(db.Model):
    """A year of the bureau's calendar; confirmed once the State Council's notice is entered."""

    __tablename__ = "holiday_year"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    confirmed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    notice_ref: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"{self.year}年"


class HolidayDay(db.Model):
    """One day that differs from Monday-Friday: a day off (放假) or a worked weekend day (调休上班)."""

    __tablename__ = "holiday_day"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(String(32), default="")
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"{self.day} {self.name}{'(调休上班)' if self.is_workday else '(放假)'}"
