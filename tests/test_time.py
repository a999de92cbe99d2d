"""Stored UTC times read as Beijing calendar days."""

import datetime as dt

from models.time import beijing_date, format_beijing


def test_a_utc_evening_is_the_next_beijing_day():
    assert beijing_date(dt.datetime(2026, 1, 1, 16, 0)) == dt.date(2026, 1, 2)


def test_a_utc_afternoon_before_four_is_the_same_beijing_day():
    assert beijing_date(dt.datetime(2026, 1, 1, 15, 59, 59)) == dt.date(2026, 1, 1)


def test_format_beijing_names_the_offset():
    assert format_beijing(dt.datetime(2026, 1, 1, 16, 0)) == "2026-01-02 00:00:00 +08:00"
