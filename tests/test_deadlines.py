"""Working days on the State Council calendar: holidays skipped, adjusted weekend workdays counted."""

import datetime as dt
import logging

import pytest

from lifecycle import deadlines
from lifecycle.clock import deadline_state
from lifecycle.deadlines import (
    DUE_SOON,
    ON_TIME,
    OVERDUE,
    PAUSED,
    BureauCalendar,
    Deadline,
    add_working_days,
    is_workday,
    working_days_between,
    working_deadline,
)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # National Day 2026: 10-01..10-07 off, Saturday 10-10 an adjusted working day.
        (dt.date(2026, 9, 30), 1, dt.date(2026, 10, 8)),
        (dt.date(2026, 9, 30), 3, dt.date(2026, 10, 10)),
        (dt.date(2026, 9, 30), 4, dt.date(2026, 10, 12)),
        # Spring Festival 2026: 02-15..02-23 off; Saturday 02-14 and Saturday 02-28 adjusted working days.
        (dt.date(2026, 2, 13), 1, dt.date(2026, 2, 14)),
        (dt.date(2026, 2, 14), 1, dt.date(2026, 2, 24)),
        (dt.date(2026, 2, 26), 2, dt.date(2026, 2, 28)),
        # An ordinary week: Friday plus one working day is Monday.
        (dt.date(2026, 11, 20), 1, dt.date(2026, 11, 23)),
    ],
)
def test_adding_working_days_follows_the_holiday_calendar(start, days, expected):
    assert add_working_days(start, days) == expected


def test_adjusted_saturdays_are_working_days_and_holidays_are_not():
    assert is_workday(dt.date(2026, 10, 10)) and is_workday(dt.date(2026, 2, 28))
    assert not is_workday(dt.date(2026, 10, 5)) and not is_workday(dt.date(2026, 2, 17))


def test_a_year_without_published_holidays_falls_back_to_weekdays():
    assert is_workday(dt.date(2027, 3, 3)) and not is_workday(dt.date(2027, 3, 6))


def test_working_days_between_counts_the_end_not_the_start():
    assert working_days_between(dt.date(2026, 9, 28), dt.date(2026, 10, 9)) == 4
    assert working_days_between(dt.date(2026, 10, 9), dt.date(2026, 10, 9)) == 0


@pytest.mark.parametrize(
    ("status", "promised", "expected"),
    [
        ("in_progress", dt.date(2026, 11, 25), OVERDUE),
        ("in_progress", dt.date(2026, 11, 27), DUE_SOON),  # Thu 11-26 + 2 working days = Mon 11-30
        ("accepted", dt.date(2026, 11, 30), DUE_SOON),
        ("registered", dt.date(2026, 12, 1), ON_TIME),
        ("suspended", dt.date(2026, 11, 1), PAUSED),
        ("completed", dt.date(2026, 11, 1), None),
    ],
)
def test_deadline_states(status, promised, expected):
    assert deadline_state(status, promised, dt.date(2026, 11, 26)) == expected


# --- years beyond chinese-calendar: the bureau's table, and the assumed flag ---------------------
def _statutory_2027(**extra) -> BureauCalendar:
    # Written by hand from the regulation (domain.md section 7): 元旦 1 January 2027.
    days = {dt.date(2027, 1, 1): False, **extra.pop("days", {})}
    return BureauCalendar(days=days, **extra)


def test_a_year_beyond_the_library_counts_its_statutory_days_and_is_assumed():
    # Wed 2026-12-30 + 5: Thu 12-31, (Fri 01-01 元旦, weekend), Mon 01-04, Tue 01-05, Wed 01-06, Thu 01-07.
    assert working_deadline(dt.date(2026, 12, 30), 5, _statutory_2027()) == Deadline(dt.date(2027, 1, 7), True)
    # Without the table the day off is not known at all.
    assert working_deadline(dt.date(2026, 12, 30), 5) == Deadline(dt.date(2027, 1, 6), True)


def test_a_count_inside_the_library_years_is_not_assumed():
    assert working_deadline(dt.date(2026, 9, 30), 4, _statutory_2027()) == Deadline(dt.date(2026, 10, 12), False)


def test_a_confirmed_year_follows_the_table_including_an_adjusted_saturday():
    calendar = _statutory_2027(days={dt.date(2027, 1, 2): True}, confirmed_years=frozenset({2027}))
    # Saturday 01-02 worked in exchange: 12-31, 01-02, 01-04, 01-05, 01-06.
    assert working_deadline(dt.date(2026, 12, 30), 5, calendar) == Deadline(dt.date(2027, 1, 6), False)
    assert is_workday(dt.date(2027, 1, 2), calendar) and not is_workday(dt.date(2027, 1, 1), calendar)


def test_an_assumed_year_is_logged_once_per_year_not_per_day(caplog, monkeypatch):
    monkeypatch.setattr(deadlines, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="lifecycle.deadlines"):
        for _ in range(3):
            add_working_days(dt.date(2027, 3, 1), 40)
        add_working_days(dt.date(2028, 3, 1), 10)
        add_working_days(dt.date(2026, 3, 1), 10)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "2027" in warnings[0] and "2028" in warnings[1]
