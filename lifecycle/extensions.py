"""Extensions (延期): the only way a promised completion date moves once it is computed.

Staff of the center holding the case ask, with a reason and a later date; the town admin
decides for a village station's case (or the district admin), the district admin alone for a
case held by a town or the district center. Approval and refusal both go into the progress log
and the audit trail; nobody decides on their own request.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

import audit
from lifecycle.errors import TransitionError, commit
from lifecycle.scope import can_change_case
from lifecycle.transitions import PROMISED
from models import Case, CaseExtension, CaseLog, User
from models.enums import STAFF_ROLES, ExtensionStatus, Role, Status, Tier, label
from models.time import utcnow


def _name(user: User) -> str:
    return user.full_name or user.username


def pending_of(case: Case) -> CaseExtension | None:
    return next((e for e in case.extensions if e.status == ExtensionStatus.PENDING), None)


def request_refusal(case: Case, user: User) -> str | None:
    """Why `user` may not ask to extend `case` now; None if they may."""
    if Role(user.role) not in STAFF_ROLES:
        return f"{label(Role(user.role))}不能申请延期"
    if not can_change_case(user, case):
        return "该案件不在您的办理范围内"
    if Status(case.status) not in PROMISED or case.promised_date is None:
        return f"案件当前为“{case.status_label}”，没有可延期的承诺办结日期"
    if pending_of(case) is not None:
        return "该案件已有待审批的延期申请"
    return None


def decision_refusal(extension: CaseExtension, user: User) -> str | None:
    """Why `user` may not approve or refuse `extension`; None if they may."""
    case = extension.case
    role = Role(user.role)
    if extension.status != ExtensionStatus.PENDING:
        return f"该延期申请{extension.status_label}，不能再审批"
    if role not in (Role.DISTRICT_ADMIN, Role.TOWN_ADMIN):
        return f"{label(role)}不能审批延期"
    if role == Role.TOWN_ADMIN:
        town = case.center.town
        if case.center.tier != Tier.VILLAGE:
            return "镇(街道)和区级机构办理的案件，由区级管理员审批延期"
        if town is None or user.center_id != town.id:
            return "只能审批本镇(街道)所辖村(社区)站点案件的延期"
    if extension.requested_by_id == user.id:
        return "不能审批本人提出的延期申请"
    return None


def request_extension(
    session: Session, case: Case, actor: User, new_date: dt.date | None, reason: str, at: dt.datetime | None = None
) -> CaseExtension:
    """Record a request to move the promised date to `new_date`; logged and audited, nothing moves yet."""
    reason = (reason or "").strip()
    problem = request_refusal(case, actor)
    if problem is None and not reason:
        problem = "请填写延期理由"
    if problem is None and new_date is None:
        problem = "请填写延期后的承诺办结日期"
    if problem is None and new_date <= case.promised_date:
        problem = f"延期后的日期须晚于当前承诺办结日期{case.promised_date}"
    if problem:
        session.rollback()
        raise TransitionError(problem)
    when = at or utcnow()
    with session.no_autoflush:
        extension = CaseExtension(
            case=case,
            requested_at=when,
            requested_by=actor,
            reason=reason,
            old_date=case.promised_date,
            new_date=new_date,
            status=ExtensionStatus.PENDING.value,
        )
        session.add(extension)
        content = f"申请延期：拟由{case.promised_date}延至{new_date}，理由：{reason}"
        case.logs.append(CaseLog(at=when, agent=case.agent, content=content, author=_name(actor)))
        audit.record(
            session, audit.AuditEvent.EXTENSION_REQUEST, case, summary=f"{case.number} {content}"[:200], actor=actor
        )
    commit(session)
    return extension


def decide_extension(
    session: Session,
    extension: CaseExtension,
    actor: User,
    approve: bool,
    note: str = "",
    at: dt.datetime | None = None,
) -> None:
    """Approve (the promised date moves, Case.extended) or refuse a pending request; logged and audited."""
    case = extension.case
    note = (note or "").strip()
    problem = decision_refusal(extension, actor)
    if problem is None and approve and Status(case.status) not in PROMISED:
        problem = f"案件当前为“{case.status_label}”，无需延期"
    if problem is None and approve and case.promised_date and extension.new_date <= case.promised_date:
        problem = f"承诺办结日期已为{case.promised_date}，不晚于申请的{extension.new_date}，请不予批准后重新申请"
    if problem is None and not approve and not note:
        problem = "不予批准须填写审批意见"
    if problem:
        session.rollback()
        raise TransitionError(problem)
    when = at or utcnow()
    with session.no_autoflush:
        extension.status = (ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED).value
        extension.decided_by = actor
        extension.decided_at = when
        extension.decision_note = note or None
        old = case.promised_date
        if approve:
            case.promised_date = extension.new_date
            case.extended = True
            case.promised_assumed = False  # a date the approver chose, not a count on an assumed calendar
            content = f"延期：由{old}延至{extension.new_date}，理由：{extension.reason}，批准人：{_name(actor)}"
        else:
            content = (
                f"延期申请未批准：拟由{old}延至{extension.new_date}，理由：{extension.reason}，"
                f"审批人：{_name(actor)}，意见：{note}"
            )
        if approve and note:
            content += f"，意见：{note}"
        case.logs.append(CaseLog(at=when, agent=case.agent, content=content, author=_name(actor)))
        audit.record(
            session,
            audit.AuditEvent.EXTENSION_APPROVE if approve else audit.AuditEvent.EXTENSION_REFUSE,
            case,
            summary=f"{case.number} {content}"[:200],
            changes={"extension": extension.id, "promised_date": [str(old), str(case.promised_date)]},
            actor=actor,
        )
    commit(session)
