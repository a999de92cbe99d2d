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
