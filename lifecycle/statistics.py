"""Supervision figures for the home page (issue 12, plan 四(三) 实时监督管理; domain.md §4 statistics).

A figure is either a *flow* over a period or a *stock* as of today:

Flow figures, the period's Beijing calendar days [start, end] both included:
- 受理 received: cases whose received_date (受理日期) lies in the period.
- 办结 completed: cases whose closed_date (办结/终止日期) lies in the period and that ended by
  completion: status completed, or archived after completion (its result recorded, which completion
  requires and recording a termination clears).
- 终止 terminated: the same closed_date, ended by termination (status terminated, or archived with a
  termination recorded). Rejections (不予受理) are neither.
- 按时办结 on time / 逾期办结 late: of the completed, closed_date on or before the promised date
  (承诺办结日期, already moved by suspensions and approved extensions), or after it; a case without a
  promised date missed none and counts as on time. 按时办结率 = on time / completed.
- 平均办理时长 average handling time: over the completed cases, the working days from received_date to
  closed_date (lifecycle.deadlines.working_days_between: the receipt day does not count) minus the
  working days each suspension lasted (the progress log's 中止 … 恢复办理 entries, as
  lifecycle.promises.pauses reads them): the clock stops while suspended.
- 评价 evaluations: evaluations that count (the applicant's own over a paper form, Evaluation.counted)
  whose created_at (评价时间, stored in UTC) falls on a period day in Beijing time. 满意 = overall
  非常满意 or 满意; 满意率 = 满意 / evaluations; 工作人员录入 = channel paper, its share of evaluations;
  差评 = overall 不满意 or 非常不满意.
- 投诉 complaints: complaints whose received_at falls on a period day (Beijing).
- 回访工单 follow-ups: those opened by an evaluation created, or a complaint received, in the period
  (a follow-up opens with its bad review or complaint). 按时回访办结 = closed with closed_date on or
  before due_date, which is set on opening to FOLLOWUP_WORKING_DAYS working days later;
  回访率 = closed on time / follow-ups.

Stock figures, as of today whatever the period (the case table holds a case's present state only):
- 在办 running: status pending, registered, accepted, in progress or suspended.
- 超期 overdue: running (not suspended: the clock is stopped) with a promised date before today.
- 即将超期 due soon: running, promised today or within lifecycle.deadlines.DUE_SOON_WORKING_DAYS.
- 超期回访 overdue follow-ups: not closed, due date before today.

Every record is placed by the center now handling its case (center_id, copied onto evaluations,
follow-ups and complaints): 谁办理、谁负责. Cases a login's centers handed up and no longer hold stay
in its scope (首问负责) and are shown as their own row, so the rows add up to the totals.
Each figure is counted by a few aggregate statements bounded by the period on indexed date columns
and grouped by center, never by a query per center, row or month.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from lifecycle.deadlines import BureauCalendar, due_soon_limit, is_workday, load_calendar
from lifecycle.promises import RESUME_PREFIX, SUSPEND_PREFIX
from lifecycle.scope import scope_clause, visible_center_ids
from lifecycle.transitions import OPEN, RUNNING
from models import Agent, Case, CaseLog, Center, Complaint, Evaluation, FollowUp, ServiceItem, User
from models.case import case_item
from models.enums import EvaluationChannel, FollowUpStatus, Mode, Rating, Role, Status, Tier, label
from models.time import BEIJING

TREND_MONTHS = 12
TOP_ITEMS = 10


class PeriodError(ValueError):
    """A period the user typed that cannot be read; the message is shown as typed here."""


# --- the period -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A run of Beijing calendar days, both ends included, and how the user chose it."""

    start: dt.date
    end: dt.date
    kind: str = "range"  # month, quarter, year or range

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        last = month_calendar.monthrange(year, month)[1]
        return cls(dt.date(year, month, 1), dt.date(year, month, last), "month")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = 3 * (quarter - 1) + 1
        return cls(dt.date(year, first, 1), cls.month(year, first + 2).end, "quarter")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{self.start.year}年"
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"

    @property
    def token(self) -> str:
        """The query-string value that chooses this period again (see parse_period)."""
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return "range"

    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[first instant, instant after the last day) in naive UTC, the form timestamp columns store."""
        return _utc_midnight(self.start), _utc_midnight(self.end + dt.timedelta(days=1))


def _utc_midnight(day: dt.date) -> dt.datetime:
    local = dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")
_YEAR = re.compile(r"(\d{4})")
EARLIEST_YEAR = 2000
MAX_RANGE_DAYS = 3 * 366


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{what}“{text.strip()[:20]}”不是有效日期，请按 2026-01-31 的格式填写") from None


def parse_period(args: Mapping[str, str], today: dt.date) -> Period:
    """The period chosen in the query string: period=2026-11 | 2026-Q4 | 2026 | range (&start=&end=).

    Nothing chosen is this month. Raises PeriodError with a Chinese message for anything else.
    """
    raw = (args.get("period") or "").strip()
    if not raw:
        return Period.month(today.year, today.month)
    if raw == "range":
        start_text, end_text = (args.get("start") or "").strip(), (args.get("end") or "").strip()
        if not start_text or not end_text:
            raise PeriodError("按日期范围统计时请填写起止日期")
        start, end = _date(start_text, "起始日期"), _date(end_text, "截止日期")
        if end < start:
            raise PeriodError("截止日期不能早于起始日期")
        if (end - start).days >= MAX_RANGE_DAYS:
            raise PeriodError("日期范围最长三年，请缩小范围")
        period = Period(start, end, "range")
    elif match := _QUARTER.fullmatch(raw):
        period = Period.quarter(int(match.group(1)), int(match.group(2)))
    elif match := _MONTH.fullmatch(raw):
        if not 1 <= int(match.group(2)) <= 12:
            raise PeriodError(f"统计月份“{raw[:20]}”无效，月份应为1至12")
        period = Period.month(int(match.group(1)), int(match.group(2)))
    elif _YEAR.fullmatch(raw):
        period = Period.year(int(raw))
    else:
        raise PeriodError(f"统计期“{raw[:20]}”无法识别，请选择月份、季度、年度或填写日期范围")
    if period.start.year < EARLIEST_YEAR or period.start > today:
        raise PeriodError(f"统计期应在{EARLIEST_YEAR}年1月1日至今天({today.isoformat()})之间开始")
    return period


# --- the figures ----------------------------------------------------------------------------------
@dataclass
class Figures:
    """The counts of one row (a scope, a center, a mode, an item or an agent); rates derive from them."""

    received: int = 0
    completed: int = 0
    terminated: int = 0
    on_time: int = 0
    late: int = 0
    running: int = 0
    overdue: int = 0
    due_soon: int = 0
    handling_days: int = 0  # working days summed over the completed cases
    evaluations: int = 0
    satisfied: int = 0
    paper: int = 0
    bad: int = 0
    complaints: int = 0
    followups: int = 0
    followups_on_time: int = 0
    followups_overdue: int = 0

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.completed)

    @property
    def average_days(self) -> float | None:
        return self.handling_days / self.completed if self.completed else None

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.satisfied, self.evaluations)

    @property
    def paper_share(self) -> float | None:
        return _rate(self.paper, self.evaluations)

    @property
    def callback_rate(self) -> float | None:
        return _rate(self.followups_on_time, self.followups)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Slice:
    """Which rows a breakdown row counts, for the page to link each figure to exactly those rows.

    kind: "scope" (everything the login sees), "town" (a town center and its villages), "center"
    (one center), "handed_up" (the login's cases handed up to a center outside its scope), "mode",
    "item" or "agent".
    """

    kind: str
    key: int | str | None = None


@dataclass
class Row:
    slice: Slice
    label: str
    figures: Figures = field(default_factory=Figures)


@dataclass
class TrendMonth:
    year: int
    month: int
    received: int = 0
    completed: int = 0
    on_time: int = 0
    evaluations: int = 0
    satisfied: int = 0

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.completed)

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.satisfied, self.evaluations)


@dataclass
class Supervision:
    """Everything the home page shows for one login and one period."""

    period: Period
    today: dt.date
    total: Row
    level_caption: str  # the breakdown's first column: 镇(街道) / 村(社区)站 / 本站
    levels: list[Row]
    comparison: Row | None  # a village station's own town, shown beside its own figures
    modes: list[Row]
    items: list[Row]
    agents: list[Row]
    trend: list[TrendMonth]


# --- conditions -------------------------------------------------------------------------------------
def completed_clause() -> ColumnElement[bool]:
    """A closed case that ended by completion, archived or not (see the module docstring).

    Completion requires the result recorded (lifecycle.transitions, _result_recorded) and recording a
    termination clears it, so the recorded result tells an archived completion from an archived
    termination or rejection; both columns are in ix_case_closed_date_figures.
    """
    return and_(Case.status.in_([Status.COMPLETED.value, Status.ARCHIVED.value]), Case.result_recorded_at.is_not(None))


def terminated_clause() -> ColumnElement[bool]:
    """A closed case that ended by termination, archived or not (termination requires it recorded)."""
    return and_(
        Case.status.in_([Status.TERMINATED.value, Status.ARCHIVED.value]), Case.termination_recorded_at.is_not(None)
    )


def late_clause() -> ColumnElement[bool]:
    return Case.closed_date > Case.promised_date


def on_time_clause() -> ColumnElement[bool]:
    return or_(Case.promised_date.is_(None), Case.closed_date <= Case.promised_date)


def running_clause() -> ColumnElement[bool]:
    return Case.status.in_([s.value for s in OPEN])


def overdue_clause(today: dt.date) -> ColumnElement[bool]:
    return and_(Case.status.in_([s.value for s in RUNNING]), Case.promised_date < today)


def due_soon_clause(today: dt.date, calendar: BureauCalendar) -> ColumnElement[bool]:
    limit = due_soon_limit(today, calendar)
    return and_(Case.status.in_([s.value for s in RUNNING]), Case.promised_date >= today, Case.promised_date <= limit)


def satisfied_clause() -> ColumnElement[bool]:
    return Evaluation.overall >= Rating.SATISFIED.value


def bad_clause() -> ColumnElement[bool]:
    return Evaluation.overall <= Rating.DISSATISFIED.value


def followup_on_time_clause() -> ColumnElement[bool]:
    return and_(FollowUp.status == FollowUpStatus.CLOSED.value, FollowUp.closed_date <= FollowUp.due_date)


def followup_overdue_clause(today: dt.date) -> ColumnElement[bool]:
    return and_(FollowUp.status != FollowUpStatus.CLOSED.value, FollowUp.due_date < today)


def followup_opened_in(start: dt.datetime, end: dt.datetime) -> ColumnElement[bool]:
    """Follow-ups whose bad review or complaint arrived in [start, end) (naive UTC)."""
    return or_(
        FollowUp.evaluation_id.in_(
            select(Evaluation.id).where(Evaluation.created_at >= start, Evaluation.created_at < end)
        ),
        FollowUp.complaint_id.in_(
            select(Complaint.id).where(Complaint.received_at >= start, Complaint.received_at < end)
        ),
    )


# --- counting ---------------------------------------------------------------------------------------
_CENTERS = "centers"


def _case_counts(
    session: Session,
    where: ColumnElement[bool],
    group: list,
    period: Period,
    today: dt.date,
    calendar: BureauCalendar,
    stock: bool,
    join_items: bool = False,
) -> dict[tuple, Figures]:
    """received, completed, terminated, on time, late (and with `stock` running, overdue, due soon) by group."""

    def part(name: str, condition, *counts):
        columns = [literal(name).label("part"), *(c.label(f"g{i}") for i, c in enumerate(group))]
        padded = list(counts) + [literal(0)] * (4 - len(counts))
        stmt = select(*columns, *(c.label(f"n{i}") for i, c in enumerate(padded)))
        if join_items:
            stmt = stmt.select_from(Case).join(case_item, case_item.c.case_id == Case.id)
        return stmt.where(where, condition).group_by(*group)

    closed_in = Case.closed_date.between(period.start, period.end)
    parts = [
        part("received", Case.received_date.between(period.start, period.end), func.count()),
        part(
            "closed",
            closed_in,
            func.count().filter(completed_clause()),
            func.count().filter(terminated_clause()),
            func.count().filter(and_(completed_clause(), on_time_clause())),
            func.count().filter(and_(completed_clause(), late_clause())),
        ),
    ]
    if stock:
        parts.append(
            part(
                "open",
                running_clause(),
                func.count(),
                func.count().filter(overdue_clause(today)),
                func.count().filter(due_soon_clause(today, calendar)),
            )
        )
    result: dict[tuple, Figures] = defaultdict(Figures)
    for row in session.execute(union_all(*parts)):
        name, keys, n = row[0], tuple(row[1 : 1 + len(group)]), row[1 + len(group) :]
        figures = result[keys]
        if name == "received":
            figures.received += n[0]
        elif name == "closed":
            figures.completed += n[0]
            figures.terminated += n[1]
            figures.on_time += n[2]
            figures.late += n[3]
        else:
            figures.running += n[0]
            figures.overdue += n[1]
            figures.due_soon += n[2]
    return result


class WorkingDayCounter:
    """working_days_between for many date pairs: one pass over the calendar, then a subtraction per pair.

    lifecycle.deadlines walks the days of each pair; a year's completed cases at district level are
    tens of thousands of pairs (seconds of work), over a few hundred distinct days.
    """

    def __init__(self, first: dt.date, last: dt.date, calendar: BureauCalendar) -> None:
        self.first = first
        self.cumulative = [0]
        day = first
        while day < last:
            day += dt.timedelta(days=1)
            self.cumulative.append(self.cumulative[-1] + is_workday(day, calendar))

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 if end is not after start)."""
        if end <= start:
            return 0
        return self.cumulative[(end - self.first).days] - self.cumulative[(start - self.first).days]


def _beijing_day(at: dt.datetime) -> dt.date:
    return at.replace(tzinfo=dt.UTC).astimezone(BEIJING).date()


def _pause_days(events: Iterable[tuple[dt.date, str]], counter: WorkingDayCounter) -> int:
    """Working days between each 中止 and the 恢复办理 after it, from one case's log entries in order."""
    total, opened = 0, None
    for day, content in events:
        if content.startswith(SUSPEND_PREFIX):
            opened = day
        elif content.startswith(RESUME_PREFIX) and opened is not None:
            total += counter.between(opened, day)
            opened = None
    return total


def _handling_days(
    session: Session, where: ColumnElement[bool], period: Period, calendar: BureauCalendar
) -> dict[tuple, int]:
    """Working days from receipt to completion less suspensions, summed by (center, first center).

    Two statements: the completed cases counted by (centers, received, closed) day pairs, and the
    suspend/resume entries of those cases' logs; the working days are counted once over the span.
    """
    completed = and_(where, completed_clause(), Case.closed_date.between(period.start, period.end))
    pairs = session.execute(
        select(Case.center_id, Case.origin_center_id, Case.received_date, Case.closed_date, func.count())
        .where(completed)
        .group_by(Case.center_id, Case.origin_center_id, Case.received_date, Case.closed_date)
    ).all()
    entries = session.execute(
        select(Case.center_id, Case.origin_center_id, CaseLog.case_id, CaseLog.at, CaseLog.content)
        .join(Case, Case.id == CaseLog.case_id)
        .where(
            completed,
            or_(CaseLog.content.startswith(SUSPEND_PREFIX), CaseLog.content.startswith(RESUME_PREFIX)),
        )
        .order_by(CaseLog.case_id, CaseLog.at, CaseLog.id)
    ).all()
    totals: dict[tuple, int] = defaultdict(int)
    if not pairs:
        return totals
    by_case: dict[int, list] = defaultdict(list)
    centers_of: dict[int, tuple] = {}
    for center_id, origin_id, case_id, at, content in entries:
        by_case[case_id].append((_beijing_day(at), content))
        centers_of[case_id] = (center_id, origin_id)
    days = [d for _, _, received, closed, _ in pairs for d in (received, closed)]
    days += [day for events in by_case.values() for day, _ in events]
    counter = WorkingDayCounter(min(days), max(days), calendar)
    for center_id, origin_id, received, closed, count in pairs:
        totals[(center_id, origin_id)] += count * counter.between(received, closed)
    for case_id, events in by_case.items():
        totals[centers_of[case_id]] -= _pause_days(events, counter)
    return totals


def _evaluation_counts(
    session: Session, where: ColumnElement[bool], group: list, period: Period, join_case: bool, join_items: bool
) -> dict[tuple, Figures]:
    start, end = period.utc_bounds()
    stmt = select(
        *group,
        func.count(),
        func.count().filter(satisfied_clause()),
        func.count().filter(Evaluation.channel == EvaluationChannel.PAPER.value),
        func.count().filter(bad_clause()),
    )
    if join_case:
        stmt = stmt.select_from(Evaluation).join(Case, Case.id == Evaluation.case_id)
    if join_items:
        stmt = stmt.join(case_item, case_item.c.case_id == Evaluation.case_id)
    stmt = stmt.where(where, Evaluation.counted, Evaluation.created_at >= start, Evaluation.created_at < end)
    result: dict[tuple, Figures] = defaultdict(Figures)
    for row in session.execute(stmt.group_by(*group)):
        keys, (n, satisfied, paper, bad) = tuple(row[: len(group)]), row[len(group) :]
        result[keys] = Figures(evaluations=n, satisfied=satisfied, paper=paper, bad=bad)
    return result


def _complaint_and_followup_counts(
    session: Session, scope: dict[type, ColumnElement[bool]], period: Period, today: dt.date
) -> dict[tuple, Figures]:
    """Complaints received, follow-ups opened (and closed on time) in the period, overdue follow-ups now."""
    start, end = period.utc_bounds()
    complaints = (
        select(literal("complaint"), Complaint.center_id, Complaint.origin_center_id, func.count(), literal(0))
        .where(scope[Complaint], Complaint.received_at >= start, Complaint.received_at < end)
        .group_by(Complaint.center_id, Complaint.origin_center_id)
    )
    opened = (
        select(
            literal("followup"),
            FollowUp.center_id,
            FollowUp.origin_center_id,
            func.count(),
            func.count().filter(followup_on_time_clause()),
        )
        .where(scope[FollowUp], followup_opened_in(start, end))
        .group_by(FollowUp.center_id, FollowUp.origin_center_id)
    )
    overdue = (
        select(literal("overdue"), FollowUp.center_id, FollowUp.origin_center_id, func.count(), literal(0))
        .where(scope[FollowUp], followup_overdue_clause(today))
        .group_by(FollowUp.center_id, FollowUp.origin_center_id)
    )
    result: dict[tuple, Figures] = defaultdict(Figures)
    for name, center_id, origin_id, n, on_time in session.execute(union_all(complaints, opened, overdue)):
        figures = result[(center_id, origin_id)]
        if name == "complaint":
            figures.complaints += n
        elif name == "followup":
            figures.followups += n
            figures.followups_on_time += on_time
        else:
            figures.followups_overdue += n
    return result


def _scope_of(user: User) -> dict[type, ColumnElement[bool]]:
    return {model: scope_clause(model, user) for model in (Case, Evaluation, Complaint, FollowUp)}


def _town_clauses(center_ids: list[int]) -> dict[type, ColumnElement[bool]]:
    """A town's records, for a village clerk's comparison row: wider than the clerk's scope, so only
    aggregate counts leave this module and the page links none of them."""
    return {
        model: or_(model.center_id.in_(center_ids), model.origin_center_id.in_(center_ids))
        for model in (Case, Evaluation, Complaint, FollowUp)
    }


def _by_centers(
    session: Session,
    scope: dict[type, ColumnElement[bool]],
    period: Period,
    today: dt.date,
    calendar: BureauCalendar,
) -> dict[tuple, Figures]:
    """Every figure keyed by (center now handling, first center)."""
    result: dict[tuple, Figures] = defaultdict(Figures)
    group = [Case.center_id, Case.origin_center_id]
    for key, figures in _case_counts(session, scope[Case], group, period, today, calendar, stock=True).items():
        result[key].add(figures)
    for key, days in _handling_days(session, scope[Case], period, calendar).items():
        result[key].handling_days += days
    evaluation_group = [Evaluation.center_id, Evaluation.origin_center_id]
    for key, figures in _evaluation_counts(session, scope[Evaluation], evaluation_group, period, False, False).items():
        result[key].add(figures)
    for key, figures in _complaint_and_followup_counts(session, scope, period, today).items():
        result[key].add(figures)
    return result


def _breakdown(
    session: Session,
    scope: dict[type, ColumnElement[bool]],
    columns: list,
    period: Period,
    today: dt.date,
    calendar: BureauCalendar,
    join_items: bool = False,
) -> dict[tuple, Figures]:
    """Cases received, completed, on time, evaluations and satisfied by case columns (mode and agent, item)."""
    result: dict[tuple, Figures] = defaultdict(Figures)
    cases = _case_counts(session, scope[Case], columns, period, today, calendar, stock=False, join_items=join_items)
    for key, figures in cases.items():
        result[key].add(figures)
    for key, figures in _evaluation_counts(session, scope[Evaluation], columns, period, True, join_items).items():
        result[key].add(figures)
    return result


def _rolled_up(counts: dict[tuple, Figures], position: int) -> dict[object, Figures]:
    """Sum the figures of a two-column breakdown over the other column."""
    result: dict[object, Figures] = defaultdict(Figures)
    for key, figures in counts.items():
        result[key[position]].add(figures)
    return result


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(starts))


def _bucket(column, bounds: list) -> ColumnElement[int]:
    """The index of the month a value falls in, as a CASE over the month bounds (same on every database)."""
    return case(*((column < bound, index) for index, bound in enumerate(bounds[1:])), else_=len(bounds) - 2)


def _trend(session: Session, scope: dict[type, ColumnElement[bool]], today: dt.date) -> list[TrendMonth]:
    """The last TREND_MONTHS months to this one: received, completed, on time, evaluations, satisfied.

    Two statements over the whole span, each month a CASE bucket, not a query per month.
    """
    starts = _month_starts(today, TREND_MONTHS)
    nxt = dt.date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    day_bounds = [*starts, nxt]
    span = Period(starts[0], nxt - dt.timedelta(days=1))
    months = [TrendMonth(s.year, s.month) for s in starts]
    received_bucket = _bucket(Case.received_date, day_bounds)
    closed_bucket = _bucket(Case.closed_date, day_bounds)
    received = (
        select(literal("received"), received_bucket, func.count(), literal(0))
        .where(scope[Case], Case.received_date.between(span.start, span.end))
        .group_by(received_bucket)
    )
    closed = (
        select(
            literal("closed"),
            closed_bucket,
            func.count().filter(completed_clause()),
            func.count().filter(and_(completed_clause(), on_time_clause())),
        )
        .where(scope[Case], Case.closed_date.between(span.start, span.end))
        .group_by(closed_bucket)
    )
    for name, index, a, b in session.execute(union_all(received, closed)):
        if name == "received":
            months[index].received += a
        else:
            months[index].completed += a
            months[index].on_time += b
    utc_bounds = [_utc_midnight(day) for day in day_bounds]
    evaluation_bucket = _bucket(Evaluation.created_at, utc_bounds)
    evaluations = session.execute(
        select(evaluation_bucket, func.count(), func.count().filter(satisfied_clause()))
        .where(
            scope[Evaluation],
            Evaluation.counted,
            Evaluation.created_at >= utc_bounds[0],
            Evaluation.created_at < utc_bounds[-1],
        )
        .group_by(evaluation_bucket)
    )
    for index, n, satisfied in evaluations:
        months[index].evaluations += n
        months[index].satisfied += satisfied
    return months


def supervision_figures(session: Session, user: User, period: Period, today: dt.date) -> Supervision:
    """The home page's figures for `user` over `period`, broken down by the level below the user's.

    District-wide logins: one row per town (its center and villages) and one for the district center.
    A town admin: one row per center in its town. A village clerk: its own station, beside its town's
    figures for comparison (aggregate counts only; the town's records stay out of its scope).
    Cases the login's centers handed up and no longer hold are one more row (首问负责).
    """
    calendar = load_calendar(session)
    ids = visible_center_ids(user)
    centers = {c.id: c for c in session.scalars(select(Center).order_by(Center.id))}
    town_of = {cid: (c if c.tier == Tier.TOWN.value else centers.get(c.parent_id)) for cid, c in centers.items()}
    comparison_town = None
    if user.role == Role.VILLAGE_OPERATOR and user.center is not None and user.center.parent_id is not None:
        comparison_town = centers[user.center.parent_id]
    # A village clerk's query also reads its town (for the comparison row); everything else is its scope.
    scope = _scope_of(user)
    read_scope, read_ids = scope, []
    if comparison_town is not None:
        read_ids = [cid for cid, c in centers.items() if cid == comparison_town.id or c.parent_id == comparison_town.id]
        read_scope = _town_clauses(read_ids)
    by_center = _by_centers(session, read_scope, period, today, calendar)

    def in_scope(key: tuple) -> bool:
        return ids is None or key[0] in ids or key[1] in ids

    levels: dict[Slice, Row] = {}
    district_wide = ids is None
    if district_wide:
        for c in centers.values():
            if c.tier == Tier.DISTRICT.value:
                levels[Slice("center", c.id)] = Row(Slice("center", c.id), c.name)
        for c in centers.values():
            if c.tier == Tier.TOWN.value:
                levels[Slice("town", c.id)] = Row(Slice("town", c.id), c.name)
        caption = "镇(街道)"
    else:
        for cid in ids:
            levels[Slice("center", cid)] = Row(Slice("center", cid), centers[cid].name)
        levels[Slice("handed_up")] = Row(Slice("handed_up"), "已转办上级的首问件")
        caption = "机构" if user.role == Role.TOWN_ADMIN else "本站"
    total = Row(Slice("scope"), "合计")
    comparison = (
        Row(Slice("town_reference", comparison_town.id), f"{comparison_town.name}(全镇参照)")
        if comparison_town
        else None
    )
    for key, figures in by_center.items():
        center_id = key[0]
        if comparison is not None and center_id in read_ids:
            comparison.figures.add(figures)
        if not in_scope(key):
            continue
        total.figures.add(figures)
        if district_wide:
            center = centers.get(center_id)
            slot = Slice("center", center_id) if center is None or center.tier == Tier.DISTRICT.value else None
            if slot is None:
                slot = Slice("town", town_of[center_id].id)
        else:
            slot = Slice("center", center_id) if center_id in ids else Slice("handed_up")
        if slot in levels:
            levels[slot].figures.add(figures)

    # Modes and agents in one pair of statements, grouped by both and summed here (few groups).
    mode_agent = _breakdown(session, scope, [Case.mode, Case.agent_id], period, today, calendar)
    mode_counts = _rolled_up(mode_agent, 0)
    modes = [Row(Slice("mode", m.value), label(m), mode_counts.get(m.value, Figures())) for m in Mode]
    item_counts = _rolled_up(
        _breakdown(session, scope, [case_item.c.item_id], period, today, calendar, join_items=True), 0
    )
    top = sorted(item_counts.items(), key=lambda kv: (-kv[1].received, -kv[1].completed, kv[0]))[:TOP_ITEMS]
    names = dict(
        session.execute(select(ServiceItem.id, ServiceItem.name).where(ServiceItem.id.in_([k for k, _ in top]))).all()
    )
    items = [
        Row(Slice("item", k), names.get(k, str(k)), f) for k, f in top if f.received or f.completed or f.evaluations
    ]
    agent_counts = _rolled_up(mode_agent, 1)
    agent_ids = [k for k in agent_counts if k is not None]
    agent_names = dict(
        session.execute(select(Agent.id, Agent.name + "(" + Agent.staff_no + ")").where(Agent.id.in_(agent_ids))).all()
    )
    agents = sorted(
        (Row(Slice("agent", k), agent_names.get(k, str(k)), f) for k, f in agent_counts.items() if k is not None),
        key=lambda row: (-row.figures.received, -row.figures.completed, row.label),
    )
    return Supervision(
        period=period,
        today=today,
        total=total,
        level_caption=caption,
        levels=list(levels.values()),
        comparison=comparison,
        modes=modes,
        items=items,
        agents=agents,
        trend=_trend(session, scope, today),
    )
