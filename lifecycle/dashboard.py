"""Figures for the home page, computed inside the user's scope."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, select, union_all
from sqlalchemy.orm import Session

from lifecycle.scope import scope_clause, visible_center_ids
from lifecycle.transitions import RUNNING
from models import Case, Evaluation, FollowUp, User
from models.enums import FollowUpStatus, Rating, Status
from models.time import today_beijing


def _scope_halves(user: User) -> list[ColumnElement[bool]] | None:
    """scope_clause(Case, user) as two disjoint conditions, or None for the whole district.

    Cases held by the user's centers, and cases handed up from them (首问负责) now held elsewhere.
    Each half is served by its own index (ix_case_center_id_status_promised_date_id, the partial
    ix_case_handed_up); the OR of scope_clause makes the database read every case row instead.
    tests/test_dashboard.py checks every role's figures against the scope as the plan states it.
    """
    ids = visible_center_ids(user)
    if ids is None:
        return None
    return [
        Case.center_id.in_(ids),
        and_(Case.origin_center_id.in_(ids), Case.origin_center_id != Case.center_id, Case.center_id.not_in(ids)),
    ]


def dashboard_figures(session: Session, user: User) -> dict[str, object]:
    """Case counts by status, overdue cases, bad reviews and open follow-ups the user may see.

    Bad reviews count the evaluation that counts (the applicant's own over a paper form);
    open follow-ups are those of bad reviews and of complaints alike. Every figure is counted on
    each visit (supervisors act on them), in three statements read from indexes: the status and
    overdue counts together; the evaluations and follow-ups by the case's centers copied onto them
    (models/case_centers.py), without a join to the cases.
    """
    halves = _scope_halves(user)
    overdue = Case.status.in_(RUNNING) & (Case.promised_date < today_beijing())
    counts = select(Case.status, func.count().label("n"), func.count().filter(overdue).label("late")).group_by(
        Case.status
    )
    if halves is not None:
        counts = union_all(*(counts.where(half) for half in halves))
    by_status: dict[str, int] = {}
    overdue_count = 0
    for status, count, late in session.execute(counts):
        by_status[status] = by_status.get(status, 0) + count
        overdue_count += late
    bad = (
        select(func.count())
        .select_from(Evaluation)
        .where(Evaluation.counted, Evaluation.overall <= Rating.DISSATISFIED.value)
    )
    still_open = select(func.count()).select_from(FollowUp).where(FollowUp.status != FollowUpStatus.CLOSED.value)
    return {
        "by_status": {s: by_status.get(s.value, 0) for s in Status},
        "total": sum(by_status.values()),
        "overdue": overdue_count,
        "bad_reviews": session.scalar(bad.where(scope_clause(Evaluation, user))),
        "open_followups": session.scalar(still_open.where(scope_clause(FollowUp, user))),
    }
