"""Figures for the home page, computed inside the user's scope."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from lifecycle.scope import is_district_wide, scope_clause
from lifecycle.transitions import RUNNING
from models import Case, Evaluation, FollowUp, User
from models.enums import FollowUpStatus, Rating, Status
from models.time import today_beijing


def _case_scope(user: User) -> ColumnElement[bool] | None:
    """The user's case scope, or None for the whole district (no condition and no join at all)."""
    return None if is_district_wide(user) else scope_clause(Case, user)


def dashboard_figures(session: Session, user: User) -> dict[str, object]:
    """Case counts by status, overdue cases, bad reviews and open follow-ups the user may see.

    Bad reviews count the evaluation that counts (the applicant's own over a paper form);
    open follow-ups are those of bad reviews and of complaints alike. Every figure is counted
    on each visit (supervisors act on them), in three statements: the status counts and the
    overdue count together, one pass over the scope's cases (the (status, promised_date) index
    serves the whole district); the evaluations and follow-ups join the cases only when the
    user's scope is narrower than the district.
    """
    in_scope = _case_scope(user)
    today = today_beijing()
    overdue = Case.status.in_(RUNNING) & (Case.promised_date < today)
    by_status: dict[str, int] = {}
    overdue_count = 0
    statement = select(Case.status, func.count(), func.count().filter(overdue)).group_by(Case.status)
    for status, count, late in session.execute(statement.where(in_scope if in_scope is not None else true())):
        by_status[status] = count
        overdue_count += late
    bad = (
        select(func.count())
        .select_from(Evaluation)
        .where(Evaluation.counted, Evaluation.overall <= Rating.DISSATISFIED.value)
    )
    still_open = select(func.count()).select_from(FollowUp).where(FollowUp.status != FollowUpStatus.CLOSED.value)
    if in_scope is not None:
        bad = bad.join(Evaluation.case).where(in_scope)
        still_open = still_open.join(FollowUp.case).where(in_scope)
    return {
        "by_status": {s: by_status.get(s.value, 0) for s in Status},
        "total": sum(by_status.values()),
        "overdue": overdue_count,
        "bad_reviews": session.scalar(bad),
        "open_followups": session.scalar(still_open),
    }
