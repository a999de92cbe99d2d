"""The promised completion date (承诺办结日期): computed from the items' statutory limits, never typed.

The clock starts on the receipt date for the assisted modes and at acceptance for a delegated
case (plan 三(三)4); a hand-off restarts it at the receiving center; suspension stops it and
resumption adds the working days lost. Only an approved extension (lifecycle/extensions.py)
moves the date otherwise, and then nothing recomputes it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import object_session

from lifecycle.deadlines import BureauCalendar, is_assumed_year, load_calendar, working_days_between, working_deadline
from models import Case, CaseLog
from models.enums import Mode
from models.time import beijing_date

# Progress-log prefixes written by lifecycle.transitions (the transition's label, then "：").
ACCEPT_PREFIX = "受理："
SUSPEND_PREFIX = "中止："
RESUME_PREFIX = "恢复办理："


def statutory_limit(case: Case) -> int | None:
    """Working days allowed: the longest statutory limit among the case's items."""
    return max(i.time_limit_days for i in case.items) if case.items else None


def _calendar(case: Case, calendar: BureauCalendar | None) -> BureauCalendar:
    return calendar if calendar is not None else load_calendar(object_session(case))


def spans_assumed(start: dt.date, end: dt.date, calendar: BureauCalendar) -> bool:
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
            case.promised_assumed or deadline.assumed or spans_assumed(suspended_on, resumed_on, calendar)
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
