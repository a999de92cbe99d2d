"""A case's clock as the transition table shapes it: how an open case stands against its promised
date, and the recount of promised dates once a year's holiday table is confirmed.

Apart from lifecycle.deadlines (working-day arithmetic) and lifecycle.promises (the dates the
table's steps set) because it reads the table's shape: which states run the clock, which pause it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

import audit
from lifecycle.deadlines import (
    DUE_SOON,
    NO_TABLE,
    ON_TIME,
    OVERDUE,
    PAUSED,
    BureauCalendar,
    due_soon_limit,
    load_calendar,
    working_days_between,
    working_deadline,
)
from lifecycle.errors import TransitionError, commit
from lifecycle.promises import clock_start, pauses, spans_assumed, statutory_limit
from lifecycle.transitions import PAUSED as PAUSED_STATUSES
from lifecycle.transitions import PROMISED, RUNNING
from models import Case, CaseLog, User
from models.enums import Role
from models.time import utcnow


def is_overdue(status: str, promised: dt.date | None, today: dt.date) -> bool:
    """A running case past its promised date; a suspended case's clock is stopped, so it is not."""
    return status in RUNNING and promised is not None and promised < today


def deadline_state(
    status: str, promised: dt.date | None, today: dt.date, calendar: BureauCalendar = NO_TABLE
) -> str | None:
    """overdue / due_soon / on_time / paused for an open case; None once it is closed."""
    if status in PAUSED_STATUSES:
        return PAUSED
    if status not in RUNNING or promised is None:
        return None
    if is_overdue(status, promised, today):
        return OVERDUE
    if promised <= due_soon_limit(today, calendar):
        return DUE_SOON
    return ON_TIME


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
        assumed = deadline.assumed or any(spans_assumed(s, e, calendar) for s, e in spans)
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
