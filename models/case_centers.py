"""A case's two centers copied onto the records about it (evaluations, follow-ups, complaints).

Those lists are scoped by their case's center and first center (首问负责). Asked through the case
table, a town's follow-up list joined 220,000 cases to count its rows (378 ms at a million cases,
issue 11); with the two centers on the row itself, one index carries the list's order and its scope.
The copies are written in the flush that creates the record or moves its case (a hand-off), so
they never lag; `refresh_all` rewrites them in one statement per table (migration 0008, bulk seed).
"""

from __future__ import annotations

from sqlalchemy import event, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column


class CaseCenters:
    """The case's center_id and origin_center_id, for scoping; set by the listeners below, never by forms."""

    center_id: Mapped[int | None] = mapped_column()
    origin_center_id: Mapped[int | None] = mapped_column()


def refresh_all(connection: Connection, case_model, copies) -> None:
    """Rewrite every copy from its case."""
    case = case_model.__table__
    for model in copies:
        table = model.__table__
        connection.execute(
            update(table).values(
                center_id=select(case.c.center_id).where(case.c.id == table.c.case_id).scalar_subquery(),
                origin_center_id=select(case.c.origin_center_id).where(case.c.id == table.c.case_id).scalar_subquery(),
            )
        )


def keep_in_step(case_model, copies) -> None:
    """Register the listeners that copy the centers on insert and follow a case that moves."""
    case = case_model.__table__

    def copy_on_insert(mapper, connection, target) -> None:
        if target.case_id is None:
            return
        centers = connection.execute(
            select(case.c.center_id, case.c.origin_center_id).where(case.c.id == target.case_id)
        ).one_or_none()
        target.center_id, target.origin_center_id = centers if centers else (None, None)

    for model in copies:
        event.listen(model, "before_insert", copy_on_insert)
        event.listen(model, "before_update", copy_on_insert)

    def follow_the_case(mapper, connection, target) -> None:
        state = inspect(target)
        if not any(state.attrs[key].history.has_changes() for key in ("center_id", "origin_center_id")):
            return
        for model in copies:
            table = model.__table__
            connection.execute(
                update(table)
                .where(table.c.case_id == target.id)
                .values(center_id=target.center_id, origin_center_id=target.origin_center_id)
            )

    event.listen(case_model, "after_update", follow_the_case)
