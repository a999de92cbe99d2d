"""The case lifecycle: one table of transitions and the one function that changes a case's status.

States follow plan 三(三)4 and the annex forms (domain.md 1.9): a delegated case is submitted,
accepted with the application, undertaking and entrustment agreement, worked, possibly
suspended and resumed, and ends completed or terminated. Plan 三(三)4 puts the paper before the
close: the result (or the termination) is first recorded with how the originals go back, its
slip (办结单/终止委托单) is printed and signed, and only then is the case closed. The other three
modes are registered, worked, their result recorded and completed. Hand-off (转办) passes an
open case to the parent center (plan 三(一) “兜底”).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

import audit
from lifecycle.errors import ConflictError, TransitionError, committing
from lifecycle.evaluation_links import issue_link
from lifecycle.promises import extend_for_pause, promise_from
from lifecycle.scope import can_change_case
from models import Case, CaseHandoff, CaseLog, User
from models.enums import (
    LOWER_TIER_ROLES,
    STAFF_ROLES,
    MaterialForm,
    Mode,
    ResultDelivery,
    ReturnMethod,
    Role,
    Status,
    TerminationReason,
    label,
)
from models.time import beijing_date, utcnow

DELEGATED = frozenset({Mode.DELEGATED})
ASSISTED = frozenset({Mode.ON_SITE, Mode.REMOTE, Mode.DOOR_TO_DOOR})
ALL_MODES = DELEGATED | ASSISTED
# Where a new case starts: a delegated case waits for acceptance, the others are worked at once.
INITIAL: dict[Mode, Status] = {mode: Status.SUBMITTED if mode in DELEGATED else Status.REGISTERED for mode in Mode}
OPEN = frozenset({Status.SUBMITTED, Status.REGISTERED, Status.ACCEPTED, Status.IN_PROGRESS, Status.SUSPENDED})
CLOSED = frozenset({Status.COMPLETED, Status.TERMINATED, Status.REJECTED})
# Guangdong 好差评: a case not rated within 7 days counts as rated by default, so it may be filed.
EVALUATION_WINDOW_DAYS = 7

Guard = Callable[[Case, dict], str | None]


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[Status]
    target: Status | None  # None keeps the status (a hand-off)
    modes: frozenset[Mode]
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()
    fields: tuple[str, ...] = ()  # what the confirmation page collects
    irreversible: bool = False  # needs a confirmation page, not a one-click button
    apply: Callable[[Case, dict, dt.date, str], str] | None = None  # returns the log detail
    # A state of the case's record (not of the posted data) the step needs; refused like a wrong status.
    requires: Guard | None = None
    delegated_fields: tuple[str, ...] = ()  # of `fields`, those only a delegated case is asked for


# --- guards -----------------------------------------------------------------------------------
def _has_agent(case: Case, data: dict) -> str | None:
    return None if (data.get("agent") or case.agent) else "请先指派代办员"


def _acceptance_papers(case: Case, data: dict) -> str | None:
    missing = [
        text
        for key, text in (
            ("application_confirmed", "《代办服务申请表》已填写确认"),
            ("undertaking_confirmed", "《代办服务承诺书》已签署"),
            ("agreement_signed", "《代办服务委托协议》已签订"),
        )
        if not (data.get(key) or getattr(case, key))
    ]
    return "受理前须确认：" + "、".join(missing) if missing else None


def _resume_date(case: Case, data: dict) -> str | None:
    """A suspension names the day the clerk expects to resume (the 中止期限 of a 中止单), today or later."""
    day = data.get("resume_expected_on")
    if not isinstance(day, dt.date):
        return "请填写预计恢复办理日期"
    if day < data["today"]:
        return "预计恢复办理日期不能早于今天"
    return None


def _has_materials(case: Case, data: dict) -> str | None:
    return None if case.materials else "请先登记申请材料清单"


def _reason(case: Case, data: dict) -> str | None:
    return None if (data.get("reason") or "").strip() else "请填写原因"


def _kept_originals(case: Case) -> list[str]:
    return [m.name for m in case.materials if m.form == MaterialForm.ORIGINAL and m.received and not m.returned]


def _originals_settled(case: Case, data: dict) -> str | None:
    """The originals went back the way the record says: returned, none held, or kept when unreachable."""
    kept = _kept_originals(case)
    if not kept or data.get("materials_returned"):
        return None
    if case.materials_return_method == ReturnMethod.UNREACHABLE:
        return None  # kept in the center's custody, and the slip says so
    return "以下原件尚未退还申请人：" + "、".join(kept)


def _return_method(case: Case, data: dict) -> str | None:
    method = data.get("materials_return_method") or ""
    if not method:
        return "请选择原件退还方式" if case.mode == Mode.DELEGATED else None
    if method not in {m.value for m in ReturnMethod}:
        return "请从清单中选择原件退还方式"
    received = [m.name for m in case.materials if m.form == MaterialForm.ORIGINAL and m.received]
    if method == ReturnMethod.NONE_HELD and received:
        return "本件已接收原件（" + "、".join(received) + "），退还方式不能登记为“未收取原件，无需退还”"
    if method == ReturnMethod.UNREACHABLE and not (data.get("materials_return_note") or "").strip():
        return "无法联系委托人的，请在退还说明中写明联系经过和原件保管情况"
    return None


def _result_record(case: Case, data: dict) -> str | None:
    if not (data.get("completion_result") or "").strip():
        return "请填写办理结果"
    delivery = data.get("result_delivery")
    if delivery not in {d.value for d in ResultDelivery}:
        return "请选择结果交付方式"
    if delivery == ResultDelivery.POST and not (data.get("tracking_out") or "").strip():
        return "结果邮寄送达须填写结果寄递运单号"
    if case.mode == Mode.DOOR_TO_DOOR and case.visit_at is None:
        return "上门帮办须先登记上门时间"
    if data.get("materials_return_method") == ReturnMethod.UNREACHABLE:
        return "办结须由申请人签收办结单；无法联系申请人的，请改为“登记终止”"
    return _return_method(case, data)


def _result_recorded(case: Case, data: dict) -> str | None:
    return None if case.result_recorded_at else "尚未登记办理结果，请先“登记办理结果”并打印办结单交申请人签字"


def _completion_signed(case: Case, data: dict) -> str | None:
    if case.mode == Mode.DELEGATED and not data.get("completion_signed"):
        return "须经申请人在《代办服务办结单》上签字确认"
    return None


def _termination_record(case: Case, data: dict) -> str | None:
    if data.get("termination_reason") not in {r.value for r in TerminationReason}:
        return "请从清单中选择终止原因"
    if not (data.get("termination_text") or "").strip():
        return "请填写终止说明"
    return _return_method(case, data)


def _termination_recorded(case: Case, data: dict) -> str | None:
    if case.termination_recorded_at:
        return None
    return "尚未登记终止，请先“登记终止”并打印终止委托单交委托人签收"


def _termination_signed_or_unreachable(case: Case, data: dict) -> str | None:
    unreachable = case.materials_return_method == ReturnMethod.UNREACHABLE
    if unreachable and data.get("termination_signed"):
        return "登记为无法联系委托人，不能同时确认委托人已签收；如已联系上，请重新登记终止"
    if not unreachable and not data.get("termination_signed"):
        return (
            "须经委托人在《代办服务终止委托单》上签收；确实无法联系的，请在登记终止时选择“无法联系，材料由本机构保管”"
        )
    return None


def _evaluated_or_window_passed(case: Case, data: dict) -> str | None:
    if case.status == Status.REJECTED or case.evaluation is not None:
        return None
    if case.closed_date and (data["today"] - case.closed_date).days >= EVALUATION_WINDOW_DAYS:
        return None
    return f"尚未评价；办结或终止{EVALUATION_WINDOW_DAYS}日后未评价的方可归档"


def _has_parent(case: Case, data: dict) -> str | None:
    parent = case.center.parent
    if parent is None:
        return "区政务服务中心是最高一级，无法再转办"
    foreign = [i.name for i in case.items if not i.is_stationed_at(parent)]
    return f"{parent.name}未进驻以下事项，不能转办：" + "、".join(foreign) if foreign else None


# --- effects ----------------------------------------------------------------------------------
def _promise_from(case: Case, day: dt.date) -> None:
    # The clock never starts before the receipt date (a case may be registered ahead of time),
    # and a date set by an approved extension stays (promise_from checks Case.extended).
    promise_from(case, max(day, case.received_date) if case.received_date else day)


def _accept(case: Case, data: dict, today: dt.date, author: str) -> str:
    case.application_confirmed = case.undertaking_confirmed = case.agreement_signed = True
    if data.get("agent"):
        case.agent = data["agent"]
    _promise_from(case, today)  # the statutory clock starts at acceptance
    # The three papers are signed before, at the latest at, acceptance (自愿委托, plan 三(三)4).
    return f"申请表、承诺书已确认，委托协议已签订；代办员{case.agent.name}承办，承诺{case.promised_date}前办结"


def _reject(case: Case, data: dict, today: dt.date, author: str) -> str:
    case.rejection_reason = data["reason"].strip()
    case.closed_date = today
    return case.rejection_reason


def _start(case: Case, data: dict, today: dt.date, author: str) -> str:
    who = f"代办员{case.agent.name}" if case.agent else author
    departments = "、".join(d.name for d in case.departments)
    return f"{who}接手办理，联系{departments}" if departments else f"{who}接手办理"


def _suspend(case: Case, data: dict, today: dt.date, author: str) -> str:
    case.suspended_on = today
    case.suspension_reason = data["reason"].strip()
    case.resume_expected_on = data["resume_expected_on"]
    return f"{case.suspension_reason}(计时暂停，预计{case.resume_expected_on}恢复办理)"


def _resume(case: Case, data: dict, today: dt.date, author: str) -> str:
    paused = extend_for_pause(case, case.suspended_on, today) if case.suspended_on else 0
    case.suspended_on = None
    case.resume_expected_on = None
    return f"恢复办理，中止{paused}个工作日，承诺办结日期顺延至{case.promised_date}"


def _return_originals(case: Case, data: dict, today: dt.date) -> None:
    if data.get("materials_returned"):
        for material in case.materials:
            if material.form == MaterialForm.ORIGINAL and material.received and not material.returned:
                material.returned = True
                material.returned_date = today


def _record_result(case: Case, data: dict, today: dt.date, author: str) -> str:
    corrected = case.result_recorded_at is not None
    case.completion_result = data["completion_result"].strip()
    case.result_delivery = data["result_delivery"]
    case.tracking_out = (data.get("tracking_out") or "").strip() or None
    case.handover_note = (data.get("handover_note") or "").strip() or None
    case.materials_return_method = data.get("materials_return_method") or None
    case.materials_return_note = (data.get("materials_return_note") or "").strip() or None
    case.result_recorded_at = data["now"]
    withdrawn = ""
    if case.termination_recorded_at is not None:
        # One closing record at a time: the slip the applicant signs must be the one that stands.
        case.termination_reason = case.termination_text = case.termination_recorded_at = None
        withdrawn = "；原登记的终止委托作废"
    detail = f"{case.completion_result}；{label(ResultDelivery(case.result_delivery))}"
    if case.tracking_out:
        detail += f"（运单号{case.tracking_out}）"
    if case.materials_return_method:
        detail += f"；原件{case.return_method_label}"
    return ("更正：" if corrected else "") + detail + withdrawn


def _complete(case: Case, data: dict, today: dt.date, author: str) -> str:
    case.completion_signed = bool(data.get("completion_signed"))
    _return_originals(case, data, today)
    case.closed_date = today
    signed = "申请人已在办结单签字确认；" if case.completion_signed else ""
    return f"{signed}{case.completion_result}"


def _record_termination(case: Case, data: dict, today: dt.date, author: str) -> str:
    corrected = case.termination_recorded_at is not None
    case.termination_reason = data["termination_reason"]
    case.termination_text = data["termination_text"].strip()
    case.materials_return_method = data.get("materials_return_method") or None
    case.materials_return_note = (data.get("materials_return_note") or "").strip() or None
    case.termination_recorded_at = data["now"]
    withdrawn = ""
    if case.result_recorded_at is not None:
        case.result_recorded_at = None  # the result slip no longer stands
        withdrawn = "；原登记的办理结果作废"
    detail = f"{label(TerminationReason(case.termination_reason))}：{case.termination_text}"
    if case.materials_return_method:
        detail += f"；原件{case.return_method_label}"
    return ("更正：" if corrected else "") + detail + withdrawn


def _terminate(case: Case, data: dict, today: dt.date, author: str) -> str:
    case.termination_signed = bool(data.get("termination_signed"))
    reason = f"{label(TerminationReason(case.termination_reason))}：{case.termination_text}"
    case.closed_date = today
    if case.materials_return_method == ReturnMethod.UNREACHABLE:
        # The originals stay with the center; they are not returned, and the slip is unsigned.
        custody = f"无法联系委托人，由{case.center.name}保管"
        for material in case.materials:
            if material.form == MaterialForm.ORIGINAL and material.received and not material.returned:
                material.custody = custody
        return f"{reason}；委托人无法联系，终止委托单未经签收，原件由{case.center.name}保管"
    _return_originals(case, data, today)
    return f"{reason}；委托人已签收终止委托单"


def _archive(case: Case, data: dict, today: dt.date, author: str) -> str:
    return "案卷整理归档(一件一档)"


def _hand_off(case: Case, data: dict, today: dt.date, author: str) -> str:
    source, target = case.center, case.center.parent
    case.handoffs.append(
        CaseHandoff(at=data["now"], from_center=source, to_center=target, reason=data["reason"].strip(), author=author)
    )
    case.center = target
    case.agent = None  # the receiving center assigns its own agent
    if case.status != Status.SUBMITTED:
        _promise_from(case, today)
    return f"由{source.name}转办至{target.name}：{data['reason'].strip()}"


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "accept",
            "受理",
            frozenset({Status.SUBMITTED}),
            Status.ACCEPTED,
            DELEGATED,
            STAFF_ROLES,
            guards=(_has_agent, _acceptance_papers, _has_materials),
            fields=("agent", "application_confirmed", "undertaking_confirmed", "agreement_signed"),
            apply=_accept,
        ),
        Transition(
            "reject",
            "不予受理",
            frozenset({Status.SUBMITTED}),
            Status.REJECTED,
            DELEGATED,
            STAFF_ROLES,
            guards=(_reason,),
            fields=("reason",),
            irreversible=True,
            apply=_reject,
        ),
        Transition(
            "start",
            "开始办理",
            frozenset({Status.ACCEPTED, Status.REGISTERED}),
            Status.IN_PROGRESS,
            ALL_MODES,
            STAFF_ROLES,
            apply=_start,
        ),
        Transition(
            "suspend",
            "中止",
            frozenset({Status.IN_PROGRESS}),
            Status.SUSPENDED,
            DELEGATED,
            STAFF_ROLES,
            guards=(_reason, _resume_date),
            fields=("reason", "resume_expected_on"),
            apply=_suspend,
        ),
        Transition(
            "resume",
            "恢复办理",
            frozenset({Status.SUSPENDED}),
            Status.IN_PROGRESS,
            DELEGATED,
            STAFF_ROLES,
            apply=_resume,
        ),
        Transition(
            "record_result",
            "登记办理结果",
            frozenset({Status.IN_PROGRESS}),
            None,
            ALL_MODES,
            STAFF_ROLES,
            guards=(_result_record,),
            fields=(
                "completion_result",
                "result_delivery",
                "tracking_out",
                "handover_note",
                "materials_return_method",
                "materials_return_note",
            ),
            apply=_record_result,
        ),
        Transition(
            "complete",
            "确认办结",
            frozenset({Status.IN_PROGRESS}),
            Status.COMPLETED,
            ALL_MODES,
            STAFF_ROLES,
            guards=(_completion_signed, _originals_settled),
            fields=("completion_signed", "materials_returned"),
            irreversible=True,
            apply=_complete,
            requires=_result_recorded,
            delegated_fields=("completion_signed",),
        ),
        Transition(
            "record_termination",
            "登记终止",
            frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.SUSPENDED}),
            None,
            DELEGATED,
            STAFF_ROLES,
            guards=(_termination_record,),
            fields=("termination_reason", "termination_text", "materials_return_method", "materials_return_note"),
            apply=_record_termination,
        ),
        Transition(
            "terminate",
            "确认终止",
            frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.SUSPENDED}),
            Status.TERMINATED,
            DELEGATED,
            STAFF_ROLES,
            guards=(_termination_signed_or_unreachable, _originals_settled),
            fields=("termination_signed", "materials_returned"),
            irreversible=True,
            apply=_terminate,
            requires=_termination_recorded,
        ),
        Transition(
            "archive",
            "归档",
            CLOSED,
            Status.ARCHIVED,
            ALL_MODES,
            STAFF_ROLES,
            guards=(_evaluated_or_window_passed,),
            apply=_archive,
        ),
        Transition(
            "hand_off",
            "转办上级",
            OPEN,
            None,
            ALL_MODES,
            LOWER_TIER_ROLES,
            guards=(_reason, _has_parent),
            fields=("reason",),
            apply=_hand_off,
        ),
    )
}


# --- the table's shape, derived for the rest of the code ------------------------------------
# Once closed or archived a case is only corrected (lifecycle.corrections), never worked.
ENDED = frozenset(Status) - OPEN
# A suspended case's clock is stopped (plan 三(三)4 中止); the other open states run against it.
PAUSED = frozenset({TRANSITIONS["suspend"].target})
RUNNING = OPEN - PAUSED
# The promised date exists from acceptance (registration, for the assisted modes) until closing.
PROMISED = OPEN - TRANSITIONS["accept"].sources


def _moves(mode: Mode) -> list[tuple[Status, Status]]:
    """(source, target) of every status-changing transition of `mode`, in table order."""
    return [
        (source, spec.target)
        for spec in TRANSITIONS.values()
        if spec.target is not None and mode in spec.modes
        for source in sorted(spec.sources, key=list(Status).index)
    ]


@functools.cache
def _paths_from(mode: Mode, start: Status) -> dict[Status, tuple[Status, ...]]:
    """The fewest transitions from `start` to every status `mode` can reach (table order breaks ties).

    Cached: the table never changes while the process runs, and the step bar asks on every page.
    """
    paths = {start: (start,)}
    frontier = [start]
    while frontier:
        nxt = []
        for status in frontier:
            for source, target in _moves(mode):
                if source == status and target not in paths:
                    paths[target] = (*paths[status], target)
                    nxt.append(target)
        frontier = nxt
    return paths


def reachable(mode: Mode, start: Status) -> set[Status]:
    """Every status a case of `mode` can still reach from `start` through the table."""
    return set(_paths_from(mode, start))


def happy_path(mode: Mode) -> list[Status]:
    """The main line of a mode: from its initial status to completion, then to the archive."""
    completed = TRANSITIONS["complete"].target
    return list(
        _paths_from(mode, INITIAL[mode])[completed] + _paths_from(mode, completed)[TRANSITIONS["archive"].target][1:]
    )


def refusal(case: Case, transition: Transition, user: User) -> str | None:
    """Why `user` may not perform `transition` on `case` now, ignoring the data guards; None if allowed."""
    if Role(user.role) not in transition.roles:
        return f"{label(Role(user.role))}不能执行“{transition.label}”"
    if not can_change_case(user, case):
        return "该案件不在您的办理范围内"
    if Mode(case.mode) not in transition.modes:
        return f"{case.mode_label}案件没有“{transition.label}”环节"
    if Status(case.status) not in transition.sources:
        return f"案件当前为“{case.status_label}”，不能“{transition.label}”"
    if transition.requires is not None:
        return transition.requires(case, {})
    return None


def fields_for(transition: Transition, cases: list[Case]) -> tuple[str, ...]:
    """The fields the confirmation page asks for these cases (no 办结单 signature for assisted modes)."""
    delegated = any(c.mode == Mode.DELEGATED for c in cases)
    return tuple(f for f in transition.fields if delegated or f not in transition.delegated_fields)


def available(case: Case, user: User) -> list[Transition]:
    """The transitions whose buttons `user` sees on `case` in its current state."""
    return [t for t in TRANSITIONS.values() if refusal(case, t, user) is None]


@dataclass
class Outcome:
    changed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def transition(
    session: Session,
    case: Case,
    name: str,
    actor: User,
    data: dict | None = None,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> None:
    """Perform one transition: checks, new state, progress-log entry and audit row in one commit.

    `expected_version` is the case's version when the clerk's page was loaded: a case changed
    since then is refused as a conflict rather than judged on a state the clerk never saw.
    Raises TransitionError (nothing changed) or ConflictError (someone else changed the case first).
    """
    spec = TRANSITIONS.get(name)
    if spec is None:
        raise TransitionError("未知的操作")
    when = at or utcnow()
    today = beijing_date(when)
    values = dict(data or {})
    values["today"] = today
    values["now"] = when
    if expected_version is not None and case.version != expected_version:
        session.rollback()
        raise ConflictError()
    problem = refusal(case, spec, actor)
    if problem is None:
        problem = next((message for guard in spec.guards if (message := guard(case, values))), None)
    if problem:
        session.rollback()
        raise TransitionError(problem)
    author = actor.full_name or actor.username
    before = case.status
    with committing(session):
        detail = spec.apply(case, values, today, author) if spec.apply else ""
        if spec.target is not None:
            case.status = spec.target.value
        case.logs.append(CaseLog(at=when, agent=case.agent, content=f"{spec.label}：{detail}", author=author))
        if spec.target in (Status.COMPLETED, Status.TERMINATED):
            issue_link(case, when)
        audit.record(
            session,
            audit.AuditEvent.TRANSITION,
            case,
            summary=f"{case.number} {spec.label}",
            changes={"transition": name, "status": [before, case.status], "center": case.center.name},
            actor=actor,
        )


def transition_many(session: Session, cases: list[Case], name: str, actor: User, data: dict | None = None) -> Outcome:
    """Apply a transition to each case on its own; report which changed and why others were skipped."""
    outcome = Outcome()
    for case in cases:
        number = case.number
        try:
            transition(session, case, name, actor, data)
        except (TransitionError, ConflictError) as exc:
            outcome.skipped.append((number, str(exc)))
        else:
            outcome.changed.append(number)
    return outcome
