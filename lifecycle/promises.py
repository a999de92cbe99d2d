"""The promised completion date (承诺办结日期): computed from the items' statutory limits, never typed.

The clock starts on the receipt date for the assisted modes and at acceptance for a delegated
case (plan 三(三)4); a hand-off restarts it at the receiving center; suspension stops it and
resumption adds the working days lost. Only an approved extension (lifecycle/extensions.py)
moves the date otherwise, and then nothing recomputes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

import audit
from lifecycle.deadlines import BureauCalendar, is_assumed_year, load_calendar, working_days_between, working_deadline
from lifecycle.errors import TransitionError, commit
from models import Case, CaseLog, User
from models.enums import Mode, Role
from models.time import beijing_date, utcnow

# Progress-log prefixes written by lifecycle.transitions (the transition's label, then "：").
ACCEPT_PREFIX = "受理："
SUSPEND_PREFIX = "中止："
RESUME_PREFIX = "恢复办理："


def statutory_limit(case: Case) -> int | None:
    """Working days allowed: the longest statutory limit among the case's items."""
    return max(i.time_limit_days for i in case.items) if case.items else None


def _calendar(case: Case, calendar: BureauCalendar | None) -> BureauCalendar:
    return calendar if calendar is not None else load_calendar(object_session(case))


def _spans_assumed(start: dt.date, end: dt.date, calendar: BureauCalendar) -> bool:
    return any(is_assumed_year(year, calendar) for year in range(start.year, end.year + 1))


def promise_from(case: Case, start: dt.date, calendar: BureauCalendar | None = None) -> None:
    """Start the clock on `start`: promised date = start + the statutory limit, flagged if assumed.

    A date set by an approved extension is kept (Case.extended).
    """
    limit = statutory_limit(case)
    if case.extended or limit is None:
        return
    deadline = working_deadline(start, limit, _calendar(case, calendar))
    case.promised_date = deadline.date
    case.promised_assumed = deadline.assumed


def extend_for_pause(case: Case, suspended_on: dt.date, resumed_on: dt.date) -> int:
    """Add the working days a suspension took to the promised date; returns those days."""
    calendar = _calendar(case, None)
    paused = working_days_between(suspended_on, resumed_on, calendar)
    if case.promised_date and paused:
        deadline = working_deadline(case.promised_date, paused, calendar)
        case.promised_date = deadline.date
        case.promised_assumed = (
            case.promised_assumed or deadline.assumed or _spans_assumed(suspended_on, resumed_on, calendar)
        )
    return paused


def _log_day(entry: CaseLog) -> dt.date:
    return beijing_date(entry.at)


def clock_start(case: Case) -> dt.date | None:
    """Where the statutory clock started: receipt or acceptance, or the last hand-off after it."""
    if case.mode == Mode.DELEGATED:
        accepted = [_log_day(e) for e in case.logs if e.content.startswith(ACCEPT_PREFIX)]
        start = min(accepted) if accepted else None
    else:
        start = case.received_date
    if start is None:
        return None
    handed = [beijing_date(h.at) for h in case.handoffs]
    later = [day for day in handed if day >= start]
    return max(later) if later else start


def pauses(case: Case) -> list[tuple[dt.date, dt.date]]:
    """(suspended, resumed) day pairs read from the progress log; an open suspension is left out."""
    spans, opened = [], None
    for entry in case.logs:
        if entry.content.startswith(SUSPEND_PREFIX):
            opened = _log_day(entry)
        elif entry.content.startswith(RESUME_PREFIX) and opened is not None:
            spans.append((opened, _log_day(entry)))
            opened = None
    return spans


@dataclass
class RecomputeReport:
    changed: list[tuple[str, dt.date | None, dt.date]] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)  # same date, no longer assumed
    still_assumed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def recompute_assumed(session: Session, actor: User, at: dt.datetime | None = None) -> RecomputeReport:
    """Recount the promised dates of open cases computed on an assumed calendar (district admin only).

    From where the clock started, the statutory limit plus the working days paused, on today's
    holiday table; a date set by an approved extension is reported and left alone.
    """
    # Imported here: the transition table's effects import this module.
    from lifecycle.transitions import PROMISED

    if actor.role != Role.DISTRICT_ADMIN:
        raise TransitionError("只有区级管理员可以复核推算的承诺办结日期")
    when = at or utcnow()
    author = actor.full_name or actor.username
    calendar = load_calendar(session)
    report = RecomputeReport()
    cases = session.scalars(
        select(Case)
        .where(Case.promised_assumed.is_(True), Case.status.in_([s.value for s in PROMISED]))
        .order_by(Case.id)
    ).all()
    for case in cases:
        start = clock_start(case)
        limit = statutory_limit(case)
        if case.extended:
            report.skipped.append((case.number, "承诺日期由批准的延期确定，请人工核对"))
            continue
        if start is None or limit is None:
            report.skipped.append((case.number, "找不到起算日期或申请事项"))
            continue
        spans = pauses(case)
        paused = sum(working_days_between(s, e, calendar) for s, e in spans)
        deadline = working_deadline(start, limit + paused, calendar)
        assumed = deadline.assumed or any(_spans_assumed(s, e, calendar) for s, e in spans)
        old = case.promised_date
        case.promised_date = deadline.date
        case.promised_assumed = assumed
        if assumed:
            report.still_assumed.append(case.number)
        if old != deadline.date:
            report.changed.append((case.number, old, deadline.date))
            text = f"承诺办结日期复核：按已确认的节假日安排，由{old}改为{deadline.date}"
        elif not assumed:
            report.confirmed.append(case.number)
            text = f"承诺办结日期复核：按已确认的节假日安排，仍为{deadline.date}"
        else:
            continue
        case.logs.append(CaseLog(at=when, agent=case.agent, content=text, author=author))
        audit.record(
            session,
            audit.AuditEvent.PROMISE_RECOMPUTE,
            case,
            summary=f"{case.number} {text}"[:200],
            changes={"promised_date": [str(old), str(deadline.date)], "promised_assumed": assumed},
            actor=actor,
        )
    commit(session)
    return report
