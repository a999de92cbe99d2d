"""Working-day arithmetic on the Chinese statutory calendar (holidays and adjusted workdays).

Three sources, in this order for a given day's year:
1. the bureau's own holiday table (models/calendar.py) once the year is marked confirmed;
2. chinese-calendar, which carries the State Council's notices for 2004-2026;
3. otherwise the table's known statutory days plus Monday-Friday: an ASSUMED result, since the
   adjusted working Saturdays (调休) are only known from the year's notice (domain.md section 7).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import HolidayDay, HolidayYear

log = logging.getLogger(__name__)

_LIBRARY_YEARS = frozenset(day.year for day in chinese_calendar.holidays)
# One warning per year per process: a deadline list must not print a line per day counted.
_warned_years: set[int] = set()


@dataclass(frozen=True)
class BureauCalendar:
    """The bureau's holiday table as loaded for one computation: confirmed years and known days."""

    confirmed_years: frozenset[int] = frozenset()
    days: Mapping[dt.date, bool] = field(default_factory=dict)  # day -> is_workday


NO_TABLE = BureauCalendar()


@dataclass(frozen=True)
class Deadline:
    """A computed date, and whether any day counted lay in a year whose calendar is assumed."""

    date: dt.date
    assumed: bool


def load_calendar(session: Session | None) -> BureauCalendar:
    """Read the bureau's holiday table (a few dozen rows a year) for the computations that follow."""
    if session is None:
        return NO_TABLE
    with session.no_autoflush:
        confirmed = session.scalars(select(HolidayYear.year).where(HolidayYear.confirmed.is_(True))).all()
        days = session.execute(select(HolidayDay.day, HolidayDay.is_workday)).all()
    return BureauCalendar(frozenset(confirmed), {day: workday for day, workday in days})


def is_assumed_year(year: int, calendar: BureauCalendar = NO_TABLE) -> bool:
    """True if neither a confirmed bureau year nor the library's data covers `year`."""
    return year not in calendar.confirmed_years and year not in _LIBRARY_YEARS


def _day(day: dt.date, calendar: BureauCalendar) -> tuple[bool, bool]:
    """(is a working day, the answer is assumed)."""
    if day.year in calendar.confirmed_years:
        return calendar.days.get(day, day.weekday() < 5), False
    if day.year in _LIBRARY_YEARS:
        return chinese_calendar.is_workday(day), False
    if day.year not in _warned_years:
        _warned_years.add(day.year)
        log.warning(
            "no confirmed holiday notice for %s: counting Monday-Friday plus the statutory days on record",
            day.year,
        )
    return calendar.days.get(day, day.weekday() < 5), True


def is_workday(day: dt.date, calendar: BureauCalendar = NO_TABLE) -> bool:
    """True if this is a working day (see the module docstring for where the answer comes from)."""
    return _day(day, calendar)[0]


def working_deadline(start: dt.date, days: int, calendar: BureauCalendar = NO_TABLE) -> Deadline:
    """The date `days` working days after `start` (start itself does not count), flagged if assumed."""
    current = start
    remaining = days
    assumed = False
    while remaining > 0:
        current += dt.timedelta(days=1)
        workday, guessed = _day(current, calendar)
        assumed = assumed or guessed
        if workday:
            remaining -= 1
    return Deadline(current, assumed)


def add_working_days(start: dt.date, days: int, calendar: BureauCalendar = NO_TABLE) -> dt.date:
    """The date that is `days` working days after `start` (start itself does not count)."""
    return working_deadline(start, days, calendar).date


def working_days_between(start: dt.date, end: dt.date, calendar: BureauCalendar = NO_TABLE) -> int:
    """Working days after `start` up to and including `end` (0 if end is not after start)."""
    count = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        if _day(current, calendar)[0]:
            count += 1
    return count


DUE_SOON_WORKING_DAYS = 2
OVERDUE = "overdue"
DUE_SOON = "due_soon"
ON_TIME = "on_time"
PAUSED = "paused"
DEADLINE_LABELS = {OVERDUE: "已超期", DUE_SOON: "即将超期", ON_TIME: "正常", PAUSED: "中止停表"}
ASSUMED_NOTE = "按周一至周五推算，待节假日安排公布后复核"


def due_soon_limit(today: dt.date, calendar: BureauCalendar = NO_TABLE) -> dt.date:
    """Cases promised on or before this date (and not yet overdue) are due soon."""
    return add_working_days(today, DUE_SOON_WORKING_DAYS, calendar)
