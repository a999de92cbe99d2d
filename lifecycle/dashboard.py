"""Figures for the home page, computed inside the user's scope."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifecycle.scope import scope_clause
from lifecycle.transitions import RUNNING
from models import Case, Evaluation, FollowUp, User
from models.enums import FollowUpStatus, Rating, Status
from models.time import today_beijing


def dashboard_figures(session: Session, user: User) -> dict[str, object]:
    """Case counts by status, overdue cases, bad reviews and open follow-ups the user may see.

    Bad reviews count the evaluation that counts (the applicant's own over a paper form);
    open follow-ups are those of bad reviews and of complaints alike.
    """
    in_scope = scope_clause(Case, user)
    by_status = dict(session.execute(select(Case.status, func.count()).where(in_scope).group_by(Case.status)).all())
    today = today_beijing()
    overdue = session.scalar(
        select(func.count()).select_from(Case).where(in_scope, Case.status.in_(RUNNING), Case.promised_date < today)
    )
    bad_reviews = session.scalar(
        select(func.count())
        .select_from(Evaluation)
        .join(Evaluation.case)
        .where(in_scope, Evaluation.counted, Evaluation.overall <= Rating.DISSATISFIED.value)
    )
    open_followups = session.scalar(
        select(func.count())
        .select_from(FollowUp)
        .join(FollowUp.case)
        .where(in_scope, FollowUp.status != FollowUpStatus.CLOSED.value)
    )
    return {
        "by_status": {s: by_status.get(s.value, 0) for s in Status},
        "total": sum(by_status.values()),
        "overdue": overdue,
        "bad_reviews": bad_reviews,
        "open_followups": open_followups,
    }
