"""Figures for the home page, computed inside the user's scope."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select, text, true
from sqlalchemy.orm import Session

from lifecycle.scope import scope_parts
from lifecycle.transitions import RUNNING
from models import Case, CaseTally, Evaluation, FollowUp, User
from models.enums import Status
from models.evaluation import BAD_COUNTED, OPEN_FOLLOWUP
from models.time import today_beijing


def _summed(counts: list) -> ColumnElement[int]:
    """Counts taken one scope part at a time, added up inside one statement."""
    return sum((count.scalar_subquery() for count in counts[1:]), counts[0].scalar_subquery())


def _count(model: type, predicate: str, parts: list[ColumnElement[bool]] | None) -> ColumnElement[int]:
    """Rows of `model` meeting a partial index's predicate, counted one scope part at a time."""
    if parts is None:
        # The whole district. Every record carries its case's center, so this is every row; stated
        # as a range of the partial index's leading column, since SQLite would otherwise read the
        # rating index and every row it points to (150 ms at a million cases, against 3 ms).
        parts = [model.center_id.is_not(None)]
    # The predicate as the index states it, verbatim (models/evaluation.py says why).
    return _summed([select(func.count()).select_from(model).where(text(predicate), part) for part in parts])


def dashboard_figures(session: Session, user: User) -> dict[str, object]:
    """Case counts by status, overdue cases, bad reviews and open follow-ups the user may see.

    Bad reviews count the evaluation that counts (the applicant's own over a paper form);
    open follow-ups are those of bad reviews and of complaints alike. Every figure is counted on
    each visit (supervisors act on them), from tables and indexes that hold just what is counted:
    the status counts from the case tally (models/case_tally.py, a row per center pair and status);
    overdue cases from the running statuses' promised dates, one scope part at a time
    (lifecycle/scope.py scope_parts); the evaluations and follow-ups by the case's centers copied
    onto them (models/case_centers.py), from partial indexes holding only bad reviews and open
    follow-ups.
    """
    parts = scope_parts(CaseTally, user)
    by_status = dict(
        session.execute(
            select(CaseTally.status, func.sum(CaseTally.cases))
            .where(*([] if parts is None else [or_(*parts)]))
            .group_by(CaseTally.status)
        ).all()
    )
    late = select(func.count()).select_from(Case).where(Case.status.in_(RUNNING), Case.promised_date < today_beijing())
    overdue, bad_reviews, open_followups = session.execute(
        select(
            _summed([late.where(part) for part in scope_parts(Case, user) or [true()]]),
            _count(Evaluation, BAD_COUNTED, scope_parts(Evaluation, user)),
            _count(FollowUp, OPEN_FOLLOWUP, scope_parts(FollowUp, user)),
        )
    ).one()
    return {
        "by_status": {s: int(by_status.get(s.value) or 0) for s in Status},
        "total": int(sum(by_status.values()) or 0),
        "overdue": overdue,
        "bad_reviews": bad_reviews,
        "open_followups": open_followups,
    }
