"""Flush-time guard: no object reaches the database without passing the rules."""

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

import audit
from lifecycle import rules
from lifecycle.errors import RuleError
from lifecycle.numbering import next_case_number
from lifecycle.promises import promise_from
from lifecycle.transitions import INITIAL
from models import Case, CaseFee, CaseLog, CaseMaterial
from models.enums import Mode, Status
from models.time import utcnow


def prepare_new_case(session: Session, case: Case) -> None:
    """Fill what a new case derives: number, first-receiving center, initial status, promised date."""
    if case.center is None and case.center_id is not None:
        from models import Center

        case.center = session.get(Center, case.center_id)
    if not case.number:
        case.number = next_case_number(session, case.center, case.received_date)
    if case.origin_center_id is None and case.origin_center is None:
        case.origin_center = case.center
    if not case.status:
        case.status = INITIAL[Mode(case.mode)].value
    # The promised date is never typed (plan 三(三)4): assisted modes start the clock at receipt,
    # a delegated case at acceptance (lifecycle.transitions).
    if case.mode != Mode.DELEGATED:
        promise_from(case, case.received_date)
    else:
        case.promised_date = None
        case.promised_assumed = False
    _log_registration(case)


def _refresh_promise(session: Session, case: Case) -> None:
    """An edited receipt date or item list moves an assisted case's clock with it."""
    if case.mode == Mode.DELEGATED or case.extended or case.received_date is None:
        return
    state = inspect(case)
    if state.attrs["received_date"].history.has_changes() or state.attrs["items"].history.has_changes():
        promise_from(case, case.received_date)


def _log_registration(case: Case) -> None:
    """The first entry of every progress log: who registered the case, where, in which mode."""
    at = case.created_at or utcnow()
    earlier = [entry.at for entry in case.logs if entry.at is not None]
    if earlier and min(earlier) < at:
        at = min(earlier)
    items = "、".join(item.name for item in case.items)
    status = "待受理" if case.status == Status.SUBMITTED else "已登记"
    content = f"登记：{case.center.name}登记{case.mode_label}（{status}）"
    if items:
        content += f"，申请事项：{items}"
    case.logs.insert(0, CaseLog(at=at, agent=case.agent, content=content, author=audit.actor_name()[:32]))


def _before_flush(session: Session, flush_context: object, instances: object) -> None:
    # The progress log is the case's history (plan 二(四) 全程跟踪): entries are added, never rewritten.
    for obj in session.deleted:
        if isinstance(obj, CaseLog):
            raise RuleError({"logs": "办理过程记录不能删除"})
    for obj in session.dirty:
        if isinstance(obj, CaseLog) and session.is_modified(obj):
            raise RuleError({"logs": "办理过程记录不能修改"})
    touched = set(session.new) | set(session.dirty)
    for obj in list(touched):
        if isinstance(obj, (CaseFee, CaseLog, CaseMaterial)) and obj.case is not None:
            touched.add(obj.case)
    # Number new cases in the order they were added, so a batch gets its numbers deterministically.
    new_cases = sorted(
        (obj for obj in touched if isinstance(obj, Case) and obj in session.new),
        key=lambda case: inspect(case).insert_order or 0,
    )
    with session.no_autoflush:
        for case in new_cases:
            prepare_new_case(session, case)
        for obj in touched:
            if isinstance(obj, Case) and obj not in session.new and obj not in session.deleted:
                _refresh_promise(session, obj)
        for obj in touched:
            if obj in session.deleted:
                continue
            rules.check(session, obj)


def install(session_factory: type[Session] | Session) -> None:
    event.listen(session_factory, "before_flush", _before_flush)
