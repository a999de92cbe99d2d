"""What the 台账 registers say about time: a case overdue, completed on time, a follow-up closed in time.

The same rules the console shows: a case is overdue by lifecycle.clock.is_overdue, the test its
时限 badge uses (a running case past its promised date; a suspended one is paused, never overdue); the
promised date already carries approved extensions and the days suspensions added on resumption
(lifecycle/promises.py), so no register recounts them. Ended cases are judged by 按时办结 instead.
"""

from __future__ import annotations

import datetime as dt

from lifecycle.clock import is_overdue
from lifecycle.transitions import OPEN, PAUSED
from models.enums import FollowUpStatus, Status

YES = "是"
NO = "否"
PAUSED_MARK = "否(中止停表)"

FOLLOWUP_ON_TIME = "按期办结"
FOLLOWUP_LATE = "逾期办结"
FOLLOWUP_OVERDUE = "已超期未办结"
FOLLOWUP_PENDING = "未到期"


def ended_by_completion(status: str, termination_reason: str | None, rejection_reason: str | None) -> bool:
    """True for a completed case, archived or not (an archived case was completed, terminated or rejected)."""
    if status == Status.COMPLETED:
        return True
    return status == Status.ARCHIVED and termination_reason is None and rejection_reason is None


def overdue_mark(status: str, promised: dt.date | None, today: dt.date) -> str:
    """是否超期 of an open case as the console's 时限 badge reads; blank once the case has ended."""
    if status not in OPEN:
        return ""
    if status in PAUSED:
        return PAUSED_MARK
    return YES if is_overdue(status, promised, today) else NO


def on_time_mark(
    status: str,
    promised: dt.date | None,
    closed: dt.date | None,
    termination_reason: str | None = None,
    rejection_reason: str | None = None,
) -> str:
    """按时办结 of a completed case: closed on or before its promised date; blank for any other case.

    Terminated and rejected cases were not completed, so they are neither on time nor late; a case
    completed without a promised date (never accepted) has nothing to be late against.
    """
    if not ended_by_completion(status, termination_reason, rejection_reason) or closed is None or promised is None:
        return ""
    return YES if closed <= promised else NO


def followup_timeliness(status: str, due: dt.date, closed: dt.date | None, today: dt.date) -> str:
    """A follow-up against its due date (FOLLOWUP_WORKING_DAYS from opening, plan 四(三)二)."""
    if status == FollowUpStatus.CLOSED and closed is not None:
        return FOLLOWUP_ON_TIME if closed <= due else FOLLOWUP_LATE
    return FOLLOWUP_OVERDUE if due < today else FOLLOWUP_PENDING
