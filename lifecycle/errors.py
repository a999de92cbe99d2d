"""Domain errors raised by lifecycle rules, carrying Chinese messages for the clerk, and the one
way a lifecycle step commits so that a lost race or a broken rule ends in those errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError


class RuleError(Exception):
    """One or more business rules were broken; `errors` maps a field name to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("；".join(errors.values()))


class TransitionError(Exception):
    """A case transition was refused; the message says why, in Chinese."""


class ConflictError(Exception):
    """Another clerk changed the record first (optimistic locking on its version column)."""

    def __init__(self, message: str = "该记录已被他人修改，请刷新后重试") -> None:
        super().__init__(message)


@contextlib.contextmanager
def committing(session: Session, refused: type[Exception] = TransitionError) -> Iterator[None]:
    """Make a step's writes without autoflush, then commit them; on failure roll back and raise.

    Another clerk's earlier save shows up as a StaleDataError on a version column, at commit or at
    a flush a lazy load would trigger; it becomes ConflictError. A rule broken at flush becomes
    `refused` with the rule's Chinese message. Either way the session is left usable for the page.
    """
    try:
        with session.no_autoflush:
            yield
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise ConflictError() from exc
    except RuleError as exc:
        session.rollback()
        raise refused(str(exc)) from exc


def commit(session: Session) -> None:
    """Commit what a lifecycle step already changed, as `committing` does."""
    with committing(session):
        pass
