"""Cases counted by center, first center and status, kept in step with the cases: the home page's figures.

Counting a district's million cases by status read a million index entries on every visit to
the home page (150 ms on PostgreSQL, against 12 ms at ten thousand cases; issue 11). This table
holds the same counts, one row per (center, first center, status), so a login's figures add up
a few hundred rows. The listeners below change it in the flush that inserts a case or moves it or
changes its status, so it never lags the cases (a case is never deleted: its progress log may not
be, lifecycle/enforcement.py); `refresh_all` recounts it from the case
table (migration 0016, bulk seed). tests/test_case_tally.py checks it against direct counts.
"""

from __future__ import annotations

from sqlalchemy import String, delete, event, func, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.case import Case


class CaseTally(db.Model):
    __tablename__ = "case_tally"

    center_id: Mapped[int] = mapped_column(primary_key=True)
    origin_center_id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    cases: Mapped[int]


def refresh_all(connection: Connection) -> None:
    """Recount the whole table from the cases (after a migration, a bulk load or a raw UPDATE)."""
    case, tally = Case.__table__, CaseTally.__table__
    connection.execute(delete(tally))
    counts = select(case.c.center_id, case.c.origin_center_id, case.c.status, func.count()).group_by(
        case.c.center_id, case.c.origin_center_id, case.c.status
    )
    connection.execute(insert(tally).from_select(["center_id", "origin_center_id", "status", "cases"], counts))


def _add(connection: Connection, key: tuple[int, int, str], change: int) -> None:
    """Add `change` to a key's count: one upsert, so two sessions counting a new key both land."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    tally = CaseTally.__table__
    center_id, origin_center_id, status = key
    statement = dialect.insert(tally).values(
        center_id=center_id, origin_center_id=origin_center_id, status=status, cases=change
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["center_id", "origin_center_id", "status"],
            set_={"cases": tally.c.cases + statement.excluded.cases},
        )
    )


def _key(case: Case) -> tuple[int, int, str]:
    return (case.center_id, case.origin_center_id, str(case.status))


def _previous_key(case: Case) -> tuple[int, int, str]:
    state = inspect(case)
    values = []
    for name in ("center_id", "origin_center_id", "status"):
        history = state.attrs[name].history
        values.append(history.deleted[0] if history.deleted else getattr(case, name))
    center_id, origin_center_id, status = values
    return (center_id, origin_center_id, str(status))


@event.listens_for(Case, "after_insert")
def _case_inserted(mapper, connection, case: Case) -> None:
    _add(connection, _key(case), 1)


@event.listens_for(Case, "after_update")
def _case_updated(mapper, connection, case: Case) -> None:
    before, after = _previous_key(case), _key(case)
    if before != after:
        _add(connection, before, -1)
        _add(connection, after, 1)
