"""Which centers see which applicants: a derived key table, so an applicant list is one index range.

An applicant is visible to the center that registered it and to every center that holds or first
received one of its cases (首问负责); it may be changed by the registering center and the centers
holding its cases. Asking that of the case table for every applicant row (a correlated EXISTS)
probed 400,000 applicants per list page at a million cases (issue 11); this table states the
answer once per (applicant, center) pair. Listeners below rebuild an applicant's rows inside the
flush that changes its registration or any of its cases, so the table never lags the rows it is
derived from; `refresh_all` rebuilds the whole table (migration 0007, bulk seed).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ForeignKey, Index, delete, event, func, insert, inspect, literal, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.applicant import Applicant
from models.case import Case


class ApplicantCenter(db.Model):
    __tablename__ = "applicant_center"
    __table_args__ = (Index("ix_applicant_center_center_id_applicant_id", "center_id", "applicant_id", "can_change"),)

    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicant.id", ondelete="CASCADE"), primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), primary_key=True)
    # Registered here or holding one of its cases; a center that only first received a case reads.
    can_change: Mapped[bool]


def _derived(applicant_ids: Iterable[int] | None):
    """(applicant_id, center_id, can_change) rows as the applicant and case tables imply them."""
    applicant, case = Applicant.__table__, Case.__table__
    parts = [
        select(applicant.c.id.label("applicant_id"), applicant.c.center_id, literal(1).label("flag")),
        select(case.c.applicant_id, case.c.center_id, literal(1).label("flag")),
        select(case.c.applicant_id, case.c.origin_center_id.label("center_id"), literal(0).label("flag")),
    ]
    if applicant_ids is not None:
        ids = list(applicant_ids)
        parts[0] = parts[0].where(applicant.c.id.in_(ids))
        parts[1] = parts[1].where(case.c.applicant_id.in_(ids))
        parts[2] = parts[2].where(case.c.applicant_id.in_(ids))
    rows = union_all(*parts).subquery()
    return select(rows.c.applicant_id, rows.c.center_id, func.max(rows.c.flag) > 0).group_by(
        rows.c.applicant_id, rows.c.center_id
    )


def refresh(connection: Connection, applicant_ids: Iterable[int]) -> None:
    """Rebuild the rows of these applicants from their registration and their cases."""
    ids = sorted({i for i in applicant_ids if i is not None})
    if not ids:
        return
    table = ApplicantCenter.__table__
    connection.execute(delete(table).where(table.c.applicant_id.in_(ids)))
    connection.execute(insert(table).from_select(["applicant_id", "center_id", "can_change"], _derived(ids)))


def refresh_all(connection: Connection) -> None:
    """Rebuild the whole table in one statement (after a migration or a bulk load)."""
    table = ApplicantCenter.__table__
    connection.execute(delete(table))
    connection.execute(insert(table).from_select(["applicant_id", "center_id", "can_change"], _derived(None)))


def _changed_applicants(target, *keys: str) -> set[int]:
    """The applicant ids whose rows a change to `target` may move: the current and any previous one."""
    state = inspect(target)
    ids = set()
    for key in keys:
        history = state.attrs[key].history
        if history.has_changes() or key == "applicant_id":
            ids.update(v for v in (*history.deleted, *history.added, *history.unchanged) if isinstance(v, int))
    return ids


@event.listens_for(Applicant, "after_insert")
def _applicant_inserted(mapper, connection, applicant: Applicant) -> None:
    refresh(connection, [applicant.id])


@event.listens_for(Applicant, "after_update")
def _applicant_updated(mapper, connection, applicant: Applicant) -> None:
    if inspect(applicant).attrs.center_id.history.has_changes():
        refresh(connection, [applicant.id])


@event.listens_for(Case, "after_insert")
def _case_inserted(mapper, connection, case: Case) -> None:
    refresh(connection, [case.applicant_id])


@event.listens_for(Case, "after_update")
def _case_updated(mapper, connection, case: Case) -> None:
    state = inspect(case)
    if any(state.attrs[key].history.has_changes() for key in ("applicant_id", "center_id", "origin_center_id")):
        refresh(connection, _changed_applicants(case, "applicant_id"))
