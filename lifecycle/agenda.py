"""The work calendar (工作日历): due dates, expected resumptions and door-to-door visits by day, in scope.

Three kinds of entry, each a case the user may see and held by a center the user chose:
- 承诺办结: a running case's promised date (a suspended case's clock is stopped, so it has none to meet);
- 预计恢复: a suspended case's expected resumption day, named at suspension (lifecycle/transitions.py);
- 上门帮办: a door-to-door case's agreed visit (Beijing wall-clock time, as entered).
Days are marked working day, weekend, holiday or adjusted working day from the same calendar the
deadlines are counted on (lifecycle/deadlines.py).
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import chinese_calendar
from chinese_calendar.constants import Holiday
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from lifecycle.deadlines import is_assumed_year, is_workday, load_calendar
from lifecycle.scope import scope_clause, visible_center_ids
from lifecycle.transitions import PAUSED, RUNNING
from models import Agent, Case, Center, HolidayDay, User
from models.enums import Mode

DUE = "due"
RESUME = "resume"
VISIT = "visit"
KIND_LABELS = {DUE: "承诺办结", RESUME: "预计恢复办理", VISIT: "上门帮办"}
# Per kind and view; beyond it the page says the calendar is incomplete and asks for a narrower choice.
MAX_ENTRIES = 1000
# Holiday names from chinese-calendar (English keys) in Chinese, for the years its data covers.
_HOLIDAY_NAMES = {holiday.value: holiday.chinese for holiday in Holiday}


@dataclass(frozen=True)
class Entry:
    day: dt.date
    kind: str
    case_id: int
    number: str
    applicant: str
    center: str
    agent: str
    mode: str
    at: dt.time | None = None  # a visit's appointed time
    late: bool = False  # the day has passed and the case is still waiting for it

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class DayInfo:
    workday: bool
    note: str  # 休 / 班 / the holiday's name
    assumed: bool  # the year's holiday notice is not out: counted Monday-Friday plus statutory days


@dataclass
class Agenda:
    start: dt.date
    end: dt.date
    days: dict[dt.date, DayInfo]
    entries: dict[dt.date, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    truncated: list[str] = field(default_factory=list)  # kinds that hit MAX_ENTRIES
    undated: list[Entry] = field(default_factory=list)  # suspended with no expected resumption on record
    # For a kind past MAX_ENTRIES: how many entries each day really has, counted apart.
    counted: dict[str, dict[dt.date, int]] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        if kind in self.counted:
            return sum(self.counted[kind].values())
        return sum(1 for entries in self.entries.values() for e in entries if e.kind == kind)

    def total(self, day: dt.date) -> int:
        """Entries the day really has, those left off the page included."""
        listed = sum(1 for e in self.entries.get(day, []) if e.kind not in self.counted)
        return listed + sum(days.get(day, 0) for days in self.counted.values())


def month_weeks(year: int, month: int) -> list[list[dt.date]]:
    """The Monday-to-Sunday weeks that cover the month, as a wall calendar prints them."""
    return month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)


def week_of(day: dt.date) -> list[dt.date]:
    """Monday to Sunday of the week holding `day` (the week starts on Monday in China, GB/T 7408)."""
    monday = day - dt.timedelta(days=day.weekday())
    return [monday + dt.timedelta(days=n) for n in range(7)]


def day_infos(session: Session, start: dt.date, end: dt.date) -> dict[dt.date, DayInfo]:
    """Working day or not for each day from start to end, with the holiday's name where known."""
    calendar = load_calendar(session)
    names = dict(
        session.execute(select(HolidayDay.day, HolidayDay.name).where(HolidayDay.day.between(start, end))).all()
    )
    infos = {}
    day = start
    while day <= end:
        workday = is_workday(day, calendar)
        name = names.get(day) or ""
        if not name and day.year not in calendar.confirmed_years:
            try:
                english = chinese_calendar.get_holiday_detail(day)[1]
            except NotImplementedError:  # a year the library does not cover
                english = None
            name = _HOLIDAY_NAMES.get(english, "") if english else ""
        weekend = day.weekday() >= 5
        if workday:
            note = f"班·{name}调休" if weekend else ""
        else:
            note = f"休·{name}" if name else "休"
        infos[day] = DayInfo(workday, note, is_assumed_year(day.year, calendar))
        day += dt.timedelta(days=1)
    return infos


def _held_in_scope(user: User, center_id: int | None, agent_id: int | None) -> ColumnElement[bool]:
    """Cases the user may see, held now by the chosen center (or any of the user's) and agent."""
    conditions = [scope_clause(Case, user)]
    if center_id is not None:
        conditions.append(Case.center_id == center_id)
    else:
        ids = visible_center_ids(user)
        if ids is not None:
            # The calendar is the work to do: a case handed up is on the receiving center's calendar.
            conditions.append(Case.center_id.in_(ids))
    if agent_id is not None:
        conditions.append(Case.agent_id == agent_id)
    return and_(*conditions)


def _rows(session: Session, where: ColumnElement[bool], order) -> list:
    query = (
        select(
            Case.id,
            Case.number,
            Case.applicant_name,
            Case.mode,
            Case.promised_date,
            Case.resume_expected_on,
            Case.visit_at,
            Center.name,
            Agent.name,
        )
        .join(Center, Center.id == Case.center_id)
        .outerjoin(Agent, Agent.id == Case.agent_id)
        .where(where)
        .order_by(*order, Case.id)
        .limit(MAX_ENTRIES + 1)
    )
    return session.execute(query).all()


def _entry(row, kind: str, day: dt.date, late: bool, at: dt.time | None = None) -> Entry:
    return Entry(
        day=day,
        kind=kind,
        case_id=row[0],
        number=row[1],
        applicant=row[2],
        center=row[7],
        agent=row[8] or "未指派",
        mode=row[3],
        at=at,
        late=late,
    )


def agenda(
    session: Session,
    user: User,
    start: dt.date,
    end: dt.date,
    today: dt.date,
    center_id: int | None = None,
    agent_id: int | None = None,
) -> Agenda:
    """The calendar's entries from start to end (inclusive) for the user, a center and an agent.

    The caller has checked that the center and the agent are within the user's scope; the cases
    are limited by scope_clause here all the same.
    """
    result = Agenda(start, end, day_infos(session, start, end))
    held = _held_in_scope(user, center_id, agent_id)
    running = [s.value for s in RUNNING]
    paused = [s.value for s in PAUSED]

    visit_start = dt.datetime.combine(start, dt.time())
    visit_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    # Each kind: which cases, and the day it falls on (as a column, for counting per day).
    kinds = {
        DUE: (and_(held, Case.status.in_(running), Case.promised_date.between(start, end)), Case.promised_date),
        RESUME: (
            and_(held, Case.status.in_(paused), Case.resume_expected_on.between(start, end)),
            Case.resume_expected_on,
        ),
        VISIT: (
            and_(held, Case.mode == Mode.DOOR_TO_DOOR.value, Case.visit_at >= visit_start, Case.visit_at < visit_end),
            func.date(Case.visit_at),  # date() is a function on SQLite and PostgreSQL alike
        ),
    }
    for kind, (where, day_of) in kinds.items():
        rows = _rows(session, where, [Case.visit_at if kind == VISIT else day_of])
        if len(rows) > MAX_ENTRIES:
            result.truncated.append(KIND_LABELS[kind])
            rows = rows[:MAX_ENTRIES]
            # The page lists the first entries only; every day still tells how many it has.
            per_day = session.execute(select(day_of, func.count()).where(where).group_by(day_of)).all()
            result.counted[kind] = {dt.date.fromisoformat(str(day)[:10]): n for day, n in per_day}
        for row in rows:
            if kind == DUE:
                entry = _entry(row, kind, row[4], late=row[4] < today)  # overdue
            elif kind == RESUME:
                entry = _entry(row, kind, row[5], late=row[5] < today)  # still suspended past the day named
            else:
                # A past visit is a record of what happened, not something late.
                entry = _entry(row, kind, row[6].date(), late=False, at=row[6].time())
            result.entries[entry.day].append(entry)
    undated = _rows(session, and_(held, Case.status.in_(paused), Case.resume_expected_on.is_(None)), [Case.number])
    result.undated = [_entry(row, RESUME, today, late=False) for row in undated[:MAX_ENTRIES]]
    return result
