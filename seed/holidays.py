"""The bureau's holiday table for the years chinese-calendar does not cover yet.

What is known before the State Council's notice: the statutory days off fixed by the national
regulation (全国年节及纪念日放假办法, as amended in 2024; domain.md section 7). The lunar dates
and the 清明 solar term come from lunar-python. Such a year is seeded unconfirmed: its bridging
days and adjusted working Saturdays (调休) arrive with the notice, entered in the console.
Idempotent: a year already in the table is left as the bureau keeps it.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from lunar_python import Lunar, Solar
from sqlalchemy.orm import Session

from models import HolidayDay, HolidayYear
from models.time import today_beijing

LIBRARY_LAST_YEAR = max(day.year for day in chinese_calendar.holidays)


def _solar(lunar: Lunar) -> dt.date:
    solar = lunar.getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def statutory_days(year: int) -> list[tuple[dt.date, str]]:
    """The days off the regulation fixes for `year` (13 days since 2025), in date order."""
    spring = _solar(Lunar.fromYmd(year, 1, 1))  # 正月初一
    qingming = Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"]
    days = [
        (dt.date(year, 1, 1), "元旦"),
        *((spring + dt.timedelta(days=offset), "春节") for offset in (-1, 0, 1, 2)),  # 除夕、初一至初三
        (dt.date(qingming.getYear(), qingming.getMonth(), qingming.getDay()), "清明节"),
        (dt.date(year, 5, 1), "劳动节"),
        (dt.date(year, 5, 2), "劳动节"),
        (_solar(Lunar.fromYmd(year, 5, 5)), "端午节"),
        (_solar(Lunar.fromYmd(year, 8, 15)), "中秋节"),
        *((dt.date(year, 10, day), "国庆节") for day in (1, 2, 3)),
    ]
    return sorted(days)


def seed_holidays(session: Session, years: list[int] | None = None) -> list[int]:
    """Add the statutory days of each year beyond chinese-calendar (through next year); returns the years added."""
    if years is None:
        years = list(range(LIBRARY_LAST_YEAR + 1, max(LIBRARY_LAST_YEAR + 1, today_beijing().year + 1) + 1))
    added = []
    for year in years:
        if session.get(HolidayYear, year) is not None:
            continue
        session.add(HolidayYear(year=year, confirmed=False, notice_ref=""))
        for day, name in statutory_days(year):
            if session.get(HolidayDay, day) is None:
                session.add(HolidayDay(day=day, is_workday=False, name=name))
        added.append(year)
    session.flush()
    return added
