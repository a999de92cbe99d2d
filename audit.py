"""Audit trail: every write, and every security event, leaves an AuditLog row in the same transaction."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Iterator

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import Session

from models import AuditHead, AuditLog, User
from models.audit_log import GENESIS_HASH
from models.identifiers import mask_id_number, mask_phone
from models.time import utcnow

# Personal data is masked in the log itself (PIPL: the log must not become a second copy).
_MASKERS = {
    "id_number": mask_id_number,
    "contact_id_number": mask_id_number,
    "phone": mask_phone,
    "contact_phone": mask_phone,
    "evaluator_phone": mask_phone,
    "complainant_phone": mask_phone,
}
_OMITTED = {"password_hash"}

_cli_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("cli_actor", default=None)


@contextlib.contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Attribute writes made outside a request (CLI, seed, jobs) to a named system actor."""
    token = _cli_actor.set(name)
    try:
        yield
    finally:
        _cli_actor.reset(token)


def _actor() -> dict[str, object]:
    if has_request_context():
        ip = request.remote_addr or ""
        user = current_user
        if user is not None and getattr(user, "is_authenticated", False):
            return {"user_id": user.id, "username": user.username, "role": user.role, "ip": ip}
        return {"user_id": None, "username": "", "role": "", "ip": ip}
    return {"user_id": None, "username": _cli_actor.get() or "system", "role": "system", "ip": ""}


def actor_name() -> str:
    """Who is acting now, as a progress log names them: the clerk's name, or the system actor."""
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user.full_name or current_user.username
    return _cli_actor.get() or "system"


def _plain(key: str, value: object) -> object:
    if value is None:
        return None
    if key in _MASKERS:
        return _MASKERS[key](str(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return value if isinstance(value, (int, float, bool, str)) else str(value)


def _changes(obj: object, created: bool) -> dict[str, object]:
    state = inspect(obj)
    changes: dict[str, object] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in _OMITTED:
            if not created and state.attrs[key].history.has_changes():
                changes[key] = "(已修改)"
            continue
        hist = state.attrs[key].history
        if created:
            value = getattr(obj, key)
            if value is not None and key != "id":
                changes[key] = _plain(key, value)
        elif hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            changes[key] = [_plain(key, old), _plain(key, new)]
    for rel in state.mapper.relationships:
        if rel.direction.name != "MANYTOMANY":
            continue
        hist = state.attrs[rel.key].history
        if hist.has_changes():
            changes[rel.key] = {"added": [str(v) for v in hist.added], "removed": [str(v) for v in hist.deleted]}
    return changes


def _object_id(obj: object | None) -> str:
    # In after_flush a new object's identity key is not set yet, but its primary key is.
    if obj is None:
        return ""
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return "" if key[0] is None else str(key[0])


def _row(
    event_name: str, obj: object | None, changes: dict | None, summary: str = "", actor: User | None = None
) -> dict:
    row = {
        "at": utcnow(),
        "event": event_name,
        "object_type": obj.__tablename__ if obj is not None else "",
        "object_id": _object_id(obj),
        "summary": (summary or (str(obj) if obj is not None else ""))[:200],
        "changes": json.dumps(changes, ensure_ascii=False, sort_keys=True) if changes else "",
    }
    row.update(_actor())
    if actor is not None:
        row.update({"user_id": actor.id, "username": actor.username, "role": actor.role})
    return row


def record(
    session: Session,
    event_name: str,
    obj: object | None = None,
    summary: str = "",
    changes: dict | None = None,
    actor: User | None = None,
) -> None:
    """Queue an audit row for a non-CRUD event (login, export, reveal, 403...); it is written at commit.

    `actor` names the account concerned when nobody is logged in yet (failed logins, lockouts).
    """
    _pending(session).append(_row(event_name, obj, changes, summary, actor))


def _pending(session: Session) -> list[dict]:
    return session.info.setdefault("audit_rows", [])


def row_hash(prev_hash: str, row: dict) -> str:
    """SHA-256 over the previous hash and the row's content in a canonical form."""
    content = {key: row.get(key) for key in _HASHED}
    at = row["at"]
    content["at"] = (at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))).isoformat()
    payload = prev_hash + json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_HASHED = ("at", "user_id", "username", "role", "event", "object_type", "object_id", "summary", "changes", "ip")


def _append_chain(session: Session, rows: list[dict]) -> None:
    conn = session.connection()
    head = AuditHead.__table__
    # Touch the head row first: a row lock on PostgreSQL, the write lock on SQLite. Concurrent
    # committers queue here, so every row links to the one committed just before it.
    locked = conn.execute(update(head).where(head.c.id == 1).values(row_count=head.c.row_count))
    if locked.rowcount == 0:
        conn.execute(insert(head).values(id=1, row_count=0, last_hash=GENESIS_HASH))
    prev = conn.execute(select(head.c.last_hash).where(head.c.id == 1)).scalar_one()
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = row_hash(prev, row)
    conn.execute(insert(AuditLog.__table__), rows)
    conn.execute(update(head).where(head.c.id == 1).values(row_count=head.c.row_count + len(rows), last_hash=prev))


def _before_commit(session: Session) -> None:
    session.flush()
    rows = session.info.pop("audit_rows", None)
    if rows:
        _append_chain(session, rows)


def _after_rollback(session: Session) -> None:
    session.info.pop("audit_rows", None)


def verify_chain(session: Session) -> tuple[int, int | None]:
    """Walk the log in order; return (rows checked, id of the first broken row or None)."""
    prev = GENESIS_HASH
    checked = 0
    columns = [AuditLog.__table__.c[name] for name in ("id", "prev_hash", "hash", *_HASHED)]
    result = session.execute(select(*columns).order_by(AuditLog.id)).mappings()
    for row in result:
        if row["prev_hash"] != prev or row_hash(prev, dict(row)) != row["hash"]:
            return checked, row["id"]
        prev = row["hash"]
        checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.row_count != checked):
        return checked, -1
    return checked, None


def _after_flush(session: Session, flush_context: object) -> None:
    rows = []
    for obj in session.new:
        if not isinstance(obj, AuditLog):
            rows.append(_row("create", obj, _changes(obj, created=True)))
    for obj in session.dirty:
        if isinstance(obj, AuditLog) or not session.is_modified(obj, include_collections=True):
            continue
        changes = _changes(obj, created=False)
        changes.pop("version", None)
        changes.pop("updated_at", None)
        if isinstance(obj, User) and set(changes) <= {"failed_logins", "locked_until", "session_epoch"}:
            continue  # login counters are audited as login events, not as edits
        if changes:
            rows.append(_row("update", obj, changes))
    for obj in session.deleted:
        if not isinstance(obj, AuditLog):
            rows.append(_row("delete", obj, None))
    # Written by _before_commit on the same connection, so the change and its audit commit together.
    _pending(session).extend(rows)


def install(session_factory: type[Session] | Session) -> None:
    event.listen(session_factory, "after_flush", _after_flush)
    event.listen(session_factory, "before_commit", _before_commit)
    event.listen(session_factory, "after_rollback", _after_rollback)
