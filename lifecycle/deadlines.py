"""Working-day arithmetic on the Chinese statutory calendar (holidays and adjusted workdays)."""

import datetime as dt
import logging

import chinese_calendar

log = logging.getLogger(__name__)


def is_workday(day: dt.date) -> bool:
    """True if the State Council calendar makes this a working day.

    chinese-calendar covers the years whose holiday notice has been published; beyond them
    we fall back to Monday-Friday and log it, so a deadline is never refused for lack of data.
    """
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        log.warning("no holiday data for %s; counting Monday-Friday as working days", day.year)
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date that is `days` working days after `start` (start itself does not count)."""
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_workday(current):
            remaining -= 1
    return current


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 if end is not after start)."""
    count = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        if is_workday(current):
            count += 1
    return count


DUE_SOON_WORKING_DAYS = 2
OVERDUE = "overdue"
DUE_SOON = "due_soon"
ON_TIME = "on_time"
PAUSED = "paused"
DEADLINE_LABELS = {OVERDUE: "已超期", DUE_SOON: "即将超期", ON_TIME: "正常", PAUSED: "中止停表"}
# Only these states run against the clock; a suspended case's clock is stopped.
RUNNING_STATUSES = ("submitted", "registered", "accepted", "in_progress")


def due_soon_limit(today: dt.date) -> dt.date:
    """Cases promised on or before this date (and not yet overdue) are due soon."""
    return add_working_days(today, DUE_SOON_WORKING_DAYS)


def deadline_state(status: str, promised: dt.date | None, today: dt.date) -> str | None:
    """overdue / due_soon / on_time / paused for an open case; None once it is closed."""
    if status == "suspended":
        return PAUSED
    if status not in RUNNING_STATUSES or promised is None:
        return None
    if promised < today:
        return OVERDUE
    if promised <= due_soon_limit(today):
        return DUE_SOON
    return ON_TIME
