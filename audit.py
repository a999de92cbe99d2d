"""Audit trail: every write, and every security event, leaves an AuditLog row in the same transaction.

The rows form an HMAC-SHA256 chain keyed outside the database (AUDIT_HMAC_KEY); signed checkpoints
of its end, kept in a file, reveal rows removed from the end. `flask audit verify` checks both.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import Session

from models import AuditHead, AuditLog, User
from models.audit_log import GENESIS_HASH
from models.identifiers import mask_id_number, mask_phone
from models.keys import parse_key
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


class AuditEvent(enum.StrEnum):
    """What an audit row records; the values are the strings stored in audit_log.event."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_LOCKED = "login_locked"
    LOCKOUT = "lockout"
    LOGIN_THROTTLED = "login_throttled"
    LOGOUT = "logout"
    PASSWORD_CHANGE = "password_change"
    FORBIDDEN = "forbidden"
    TRANSITION = "transition"
    EXTENSION_REQUEST = "extension_request"
    EXTENSION_APPROVE = "extension_approve"
    EXTENSION_REFUSE = "extension_refuse"
    PROMISE_RECOMPUTE = "promise_recompute"
    CORRECTION = "correction"
    FOLLOWUP = "followup"
    EXPORT = "export"
    REVEAL = "reveal"
    EXPORT_UNMASKED = "export_unmasked"
    SEARCH_ID = "search_id"
    PDF = "pdf"
    BATCH_EXPORT = "batch_export"
    DOWNLOAD = "download"
    EXPORT_VOIDED = "export_voided"
    HAOCHAPING_IMPORT = "haochaping_import"


EVENT_LABELS: dict[AuditEvent, str] = {
    AuditEvent.CREATE: "新增",
    AuditEvent.UPDATE: "修改",
    AuditEvent.DELETE: "删除",
    AuditEvent.LOGIN: "登录",
    AuditEvent.LOGIN_FAILED: "登录失败",
    AuditEvent.LOGIN_LOCKED: "锁定期登录",
    AuditEvent.LOCKOUT: "账号锁定",
    AuditEvent.LOGIN_THROTTLED: "登录限流(429)",
    AuditEvent.LOGOUT: "退出",
    AuditEvent.PASSWORD_CHANGE: "修改密码",
    AuditEvent.FORBIDDEN: "越权访问(403)",
    AuditEvent.TRANSITION: "案件状态变更",
    AuditEvent.EXTENSION_REQUEST: "申请延期",
    AuditEvent.EXTENSION_APPROVE: "批准延期",
    AuditEvent.EXTENSION_REFUSE: "不予批准延期",
    AuditEvent.PROMISE_RECOMPUTE: "承诺办结日期复核",
    AuditEvent.CORRECTION: "已办结案件更正",
    AuditEvent.FOLLOWUP: "差评回访办理",
    AuditEvent.EXPORT: "导出",
    AuditEvent.REVEAL: "查看完整个人信息",
    AuditEvent.EXPORT_UNMASKED: "导出完整证件号码",
    AuditEvent.SEARCH_ID: "按证件号码查找",
    AuditEvent.PDF: "打印表单",
    AuditEvent.BATCH_EXPORT: "批量导出表单",
    AuditEvent.DOWNLOAD: "下载导出文件",
    AuditEvent.EXPORT_VOIDED: "导出文件作废",
    AuditEvent.HAOCHAPING_IMPORT: "好差评导入",
}


def event_choices() -> list[tuple[str, str]]:
    """(stored value, Chinese label) for every event, in catalogue order: the audit log view's filter."""
    return [(event.value, EVENT_LABELS[event]) for event in AuditEvent]


@dataclass(frozen=True)
class Actor:
    """Whom the rows written now are attributed to, and the name a progress log gives them."""

    user_id: int | None
    username: str
    role: str
    ip: str = ""
    name: str = ""


def _system(name: str) -> Actor:
    return Actor(None, name, "system", "", name)


# Set by the web app's request hook, by acting_as() in the CLI, seed and workers, or by a caller
# that passes its own actor in; nothing here reads the web framework, so lifecycle/ runs anywhere.
_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("audit_actor", default=None)
_NOBODY = _system("system")


def actor_for(user: User | None, ip: str = "") -> Actor:
    """The actor for a signed-in user, or for an anonymous visitor (None) at an address."""
    if user is None:
        # Anonymous requests name no account in the log; a progress log written for them says "system".
        return Actor(None, "", "", ip, "system")
    return Actor(user.id, user.username, user.role, ip, user.full_name or user.username)


def set_actor(actor: Actor) -> contextvars.Token[Actor | None]:
    """Attribute the writes that follow to `actor` until reset_actor(token) (a request hook's pair)."""
    return _current.set(actor)


def reset_actor(token: contextvars.Token[Actor | None]) -> None:
    _current.reset(token)


@contextlib.contextmanager
def acting_for(actor: Actor) -> Iterator[None]:
    """Attribute the writes made inside the block to `actor`."""
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


def acting_as(name: str) -> contextlib.AbstractContextManager[None]:
    """Attribute writes made outside a request (CLI, seed, jobs) to a named system actor."""
    return acting_for(_system(name))


def current_actor() -> Actor:
    """The actor set now, or the "system" actor when nobody set one."""
    return _current.get() or _NOBODY


def actor_name() -> str:
    """Who is acting now, as a progress log names them: the clerk's name, or the system actor."""
    return current_actor().name


def _plain(key: str, value: object) -> object:
    if value is None:
        return None
    if key in _MASKERS:
        return _MASKERS[key](str(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"({len(value)}字节)"  # an image or file: its size here, its digest in a column of its own
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
    event_name: AuditEvent, obj: object | None, changes: dict | None, summary: str = "", actor: User | None = None
) -> dict:
    row = {
        "at": utcnow(),
        "event": event_name.value,
        "object_type": obj.__tablename__ if obj is not None else "",
        "object_id": _object_id(obj),
        "summary": (summary or (str(obj) if obj is not None else ""))[:200],
        "changes": json.dumps(changes, ensure_ascii=False, sort_keys=True) if changes else "",
    }
    now = current_actor()
    row.update({"user_id": now.user_id, "username": now.username, "role": now.role, "ip": now.ip})
    if actor is not None:
        row.update({"user_id": actor.id, "username": actor.username, "role": actor.role})
    return row


def record(
    session: Session,
    event_name: AuditEvent,
    obj: object | None = None,
    summary: str = "",
    changes: dict | None = None,
    actor: User | None = None,
) -> None:
    """Queue an audit row for a non-CRUD event (login, export, reveal, 403...); it is written at commit.

    `actor` names the account concerned when nobody is logged in yet (failed logins, lockouts).
    A plain string is refused, so a misspelt event fails in the tests instead of reaching the log.
    """
    if not isinstance(event_name, AuditEvent):
        raise TypeError(f"audit event must be an AuditEvent, not {event_name!r}")
    _pending(session).append(_row(event_name, obj, changes, summary, actor))


def _pending(session: Session) -> list[dict]:
    return session.info.setdefault("audit_rows", [])


_HASHED = ("at", "user_id", "username", "role", "event", "object_type", "object_id", "summary", "changes", "ip")
# Labels keep the chain's, the checkpoints' and the derived development key's MACs apart.
_DEV_KEY_LABEL = b"chaonan-console audit-chain key v1"
_CHECKPOINT_LABEL = "audit-checkpoint v1"


def chain_key(config: Mapping[str, object]) -> bytes:
    """The audit chain's HMAC key: AUDIT_HMAC_KEY, or in development one derived from SECRET_KEY.

    The key lives outside the database, so whoever can rewrite the database cannot recompute
    the chain (production refuses to start without a key of its own, security.py).
    """
    key = str(config.get("AUDIT_HMAC_KEY") or "")
    if key:
        return key.encode("utf-8")
    return hmac.new(str(config["SECRET_KEY"]).encode("utf-8"), _DEV_KEY_LABEL, hashlib.sha256).digest()


def chain_payload(prev_hash: str, row: Mapping[str, object]) -> bytes:
    """The previous hash and the row's content in a canonical form: what each link authenticates."""
    content = {key: row.get(key) for key in _HASHED}
    at = row["at"]
    content["at"] = (at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))).isoformat()
    return (prev_hash + json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)).encode("utf-8")


def row_hash(prev_hash: str, row: Mapping[str, object], key: bytes) -> str:
    """HMAC-SHA256 of the link: without the key, no altered row or rebuilt chain verifies."""
    return hmac.new(key, chain_payload(prev_hash, row), hashlib.sha256).hexdigest()


def _append_chain(session: Session, rows: list[dict]) -> None:
    if _chain_key_source is None:
        raise RuntimeError("audit.install() was not given the chain key")
    key = _chain_key_source()
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
        row["hash"] = prev = row_hash(prev, row, key)
    conn.execute(insert(AuditLog.__table__), rows)
    conn.execute(update(head).where(head.c.id == 1).values(row_count=head.c.row_count + len(rows), last_hash=prev))


def _before_commit(session: Session) -> None:
    session.flush()
    rows = session.info.pop("audit_rows", None)
    if rows:
        _append_chain(session, rows)


def _after_rollback(session: Session) -> None:
    session.info.pop("audit_rows", None)


@dataclass(frozen=True)
class Checkpoint:
    """The chain's state at one moment, signed with the key and kept outside the database."""

    at: str
    row_count: int
    last_id: int
    last_hash: str
    mac: str = ""

    def _body(self) -> str:
        return (
            f"{_CHECKPOINT_LABEL} at={self.at} rows={self.row_count} last_id={self.last_id} last_hash={self.last_hash}"
        )

    def signed(self, key: bytes) -> Checkpoint:
        mac = hmac.new(key, self._body().encode("utf-8"), hashlib.sha256).hexdigest()
        return dataclasses.replace(self, mac=mac)

    def is_genuine(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signed(key).mac, self.mac)

    def line(self) -> str:
        return f"{self._body()} hmac={self.mac}"

    @classmethod
    def parse(cls, line: str) -> Checkpoint | None:
        """A checkpoint from its line, or None when the line is not one."""
        label, _, rest = line.strip().partition(" at=")
        fields = dict(part.partition("=")[::2] for part in ("at=" + rest).split(" "))
        if label != _CHECKPOINT_LABEL or set(fields) != {"at", "rows", "last_id", "last_hash", "hmac"}:
            return None
        rows, last_id = parse_key(fields["rows"]), parse_key(fields["last_id"])
        if rows is None or last_id is None:
            return None
        return cls(fields["at"], rows, last_id, fields["last_hash"], fields["hmac"])


def read_checkpoints(path: Path, key: bytes) -> tuple[list[Checkpoint], list[str]]:
    """The genuine checkpoints in the file, and a Chinese line for every line that is not one."""
    if not path.exists():
        return [], []
    found, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        checkpoint = Checkpoint.parse(line)
        if checkpoint is None or not checkpoint.is_genuine(key):
            problems.append(f"检查点文件第 {number} 行格式错误或签名不符(被改动，或不是用本系统的密钥写入)。")
        else:
            found.append(checkpoint)
    return found, problems


@dataclass
class ChainCheck:
    """What walking the chain found: rows verified, the last of them, and the first problem (Chinese)."""

    checked: int = 0
    last_id: int = 0
    last_hash: str = GENESIS_HASH
    broken: int | None = None  # id of the first row whose link does not verify
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(session: Session, key: bytes, checkpoints: Iterable[Checkpoint] = ()) -> ChainCheck:
    """Walk the log in id order, recomputing every link with the key; compare the head and the checkpoints.

    A row changed, removed or inserted, or a chain rebuilt without the key, breaks a link. Rows
    removed from the end with the head rewritten to match leave no broken link: a checkpoint
    taken earlier still names the rows that are gone.
    """
    head = AuditHead.__table__
    # The head first: rows committed after this read come after the head's rows in id order.
    stored = session.execute(select(head.c.row_count, head.c.last_hash).where(head.c.id == 1)).first()
    head_count, head_hash = stored if stored is not None else (0, GENESIS_HASH)
    pending = sorted(checkpoints, key=lambda c: c.last_id)
    check = ChainCheck()
    head_ok = head_count == 0 and head_hash == GENESIS_HASH
    columns = [AuditLog.__table__.c[name] for name in ("id", "prev_hash", "hash", *_HASHED)]
    for row in session.execute(select(*columns).order_by(AuditLog.id)).mappings():
        if row["prev_hash"] != check.last_hash or row_hash(check.last_hash, row, key) != row["hash"]:
            check.broken = row["id"]
            check.problem = (
                f"审计日志第 {row['id']} 号记录校验失败：该记录被篡改、其前一条被删除，"
                f"或整条哈希链被不持有密钥者重新计算(此前 {check.checked} 条完好)。"
            )
            return check
        check.checked += 1
        check.last_id, check.last_hash = row["id"], row["hash"]
        if check.checked == head_count:
            head_ok = check.last_hash == head_hash
        while pending and pending[0].last_id <= check.last_id:
            point = pending.pop(0)
            if (point.last_id, point.row_count, point.last_hash) != (check.last_id, check.checked, check.last_hash):
                check.problem = (
                    f"与 {point.at} 的检查点不符：检查点记录到第 {point.last_id} 号(共 {point.row_count} 条)，"
                    f"数据库中该处为第 {check.last_id} 号(第 {check.checked} 条)，审计日志被删改。"
                )
                return check
    if pending:
        point = pending[0]
        check.problem = (
            f"审计日志末尾被截断：{point.at} 的检查点记录到第 {point.last_id} 号(共 {point.row_count} 条)，"
            f"数据库中只剩到第 {check.last_id} 号(共 {check.checked} 条)。"
        )
    elif not head_ok:
        check.problem = f"审计日志末尾被截断或链头被改动：链头记录 {head_count} 条，实际可校验 {check.checked} 条。"
    return check


def checkpoint_now(check: ChainCheck, key: bytes) -> Checkpoint:
    """A signed checkpoint of a verified chain's end."""
    at = utcnow().replace(microsecond=0).isoformat() + "Z"
    return Checkpoint(at, check.checked, check.last_id, check.last_hash).signed(key)


def _after_flush(session: Session, flush_context: object) -> None:
    rows = []
    for obj in session.new:
        if not isinstance(obj, AuditLog):
            rows.append(_row(AuditEvent.CREATE, obj, _changes(obj, created=True)))
    for obj in session.dirty:
        if isinstance(obj, AuditLog) or not session.is_modified(obj, include_collections=True):
            continue
        changes = _changes(obj, created=False)
        changes.pop("version", None)
        changes.pop("updated_at", None)
        if isinstance(obj, User) and set(changes) <= {"failed_logins", "locked_until", "session_epoch"}:
            continue  # login counters are audited as login events, not as edits
        if changes:
            rows.append(_row(AuditEvent.UPDATE, obj, changes))
    for obj in session.deleted:
        if not isinstance(obj, AuditLog):
            rows.append(_row(AuditEvent.DELETE, obj, None))
    # Written by _before_commit on the same connection, so the change and its audit commit together.
    _pending(session).extend(rows)


_chain_key_source: Callable[[], bytes] | None = None


def install(session_factory: type[Session] | Session, key_source: Callable[[], bytes]) -> None:
    """Hang the audit hooks on the sessions; `key_source` gives the chain key at each commit.

    The key is asked for at commit, not passed once, because every app (and every test's app)
    built in the process shares the hooks but may have a key of its own.
    """
    global _chain_key_source
    _chain_key_source = key_source
    event.listen(session_factory, "after_flush", _after_flush)
    event.listen(session_factory, "before_commit", _before_commit)
    event.listen(session_factory, "after_rollback", _after_rollback)
