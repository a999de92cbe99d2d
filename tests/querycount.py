"""Counting the SQL statements a request runs, to catch per-row queries (N+1)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import event

from extensions import db


@contextlib.contextmanager
def counted_queries() -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, in order (a before_cursor_execute listener)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def count_request(client, method: str, url: str, **kwargs) -> tuple[int, object]:
    """(statements run, response) for one request, the response body read inside the count (streams)."""
    with counted_queries() as statements:
        response = client.open(url, method=method, **kwargs)
        response.get_data()
    return len(statements), response
