"""Supervision after service (plan 四(三)): evaluations, complaints, and the follow-up each bad one opens.

A 不满意/非常不满意 rating, or a yes to "was anything asked of you" (廉洁自律), opens a
follow-up assigned to the admin responsible for the handling center, due in a configurable
number of working days (domain.md 2.1: 15 working days is the common local default). A complaint
(投诉) from any channel opens the same follow-up, about any case, open or closed.

Of a paper 评价表 typed in by staff and the applicant's own rating (the one-time link, or the
provincial 好差评 system) the applicant's own counts: only the counted one is "the" evaluation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

import audit
from lifecycle.deadlines import add_working_days, load_calendar
from lifecycle.errors import RuleError, TransitionError, commit
from lifecycle.scope import can_change_case
from models import Case, Complaint, Evaluation, FollowUp, User
from models.enums import ADMIN_ROLES, AppealOutcome, ComplaintChannel, EvaluationChannel, FollowUpStatus, Role, Status
from models.identifiers import normalize_phone, phone_error
from models.time import beijing_date, utcnow

DEFAULT_FOLLOWUP_WORKING_DAYS = 15
EVALUABLE = (Status.COMPLETED, Status.TERMINATED, Status.ARCHIVED)


def responsible_admin(session: Session, case: Case) -> User | None:
    """The admin who owns a follow-up: the town admin for town and village cases, else a district admin."""
    town = case.center.town
    if town is not None:
        admin = session.scalar(
            select(User)
            .where(User.role == Role.TOWN_ADMIN.value, User.center_id == town.id, User.active.is_(True))
            .order_by(User.id)
            .limit(1)
        )
        if admin is not None:
            return admin
    return session.scalar(
        select(User).where(User.role == Role.DISTRICT_ADMIN.value, User.active.is_(True)).order_by(User.id).limit(1)
    )


def open_followup_if_bad(session: Session, evaluation: Evaluation, days: int, today: dt.date) -> FollowUp | None:
    """Open the follow-up a bad review requires; nothing for a good one or one already followed up."""
    if not evaluation.is_bad or evaluation.followup is not None:
        return None
    with session.no_autoflush:  # the evaluation must not be flushed before its follow-up exists
        assignee = responsible_admin(session, evaluation.case)
    evaluation.followup = FollowUp(
        case=evaluation.case,
        assignee=assignee,
        due_date=add_working_days(today, days, load_calendar(session)),
        status=FollowUpStatus.OPEN.value,
    )
    return evaluation.followup


def paper_entry_refusal(user: User | None, case: Case) -> str | None:
    """Why `user` may not type in a paper 评价表 of `case`, or None.

    A rating judges the station that handled the case, so neither the center now holding it nor
    the one that first received it enters its own; the town or district admin above them does.
    """
    if user is None:
        return "纸质评价表须由工作人员录入"
    if user.role == Role.AUDITOR:
        return "审计员只能查阅，不能录入评价"
    if not can_change_case(user, case):
        return "该案件不在您的办理范围内"
    handling = {case.center_id, case.origin_center_id} - {None}
    if user.role != Role.DISTRICT_ADMIN and user.center_id in handling:
        return "本机构承办的案件不能由本机构录入评价表，请交上级镇(街道)或区级管理员录入"
    return None


def evaluation_error(
    case: Case,
    channel: str = EvaluationChannel.LINK.value,
    entered_by: User | None = None,
    paper_ref: str | None = None,
    exclude: Evaluation | None = None,
) -> str | None:
    """Why this evaluation of the case cannot be recorded now, or None."""
    if Status(case.status) not in EVALUABLE:
        return "案件办结或终止后才能评价"
    others = [e for e in case.evaluations if e is not exclude]
    if channel == EvaluationChannel.PAPER:
        if any(e.channel == EvaluationChannel.PAPER for e in others):
            return "该案件已录入纸质评价表，不能重复录入"
        refusal = paper_entry_refusal(entered_by, case)
        if refusal:
            return refusal
        if not (paper_ref or "").strip():
            return "请填写纸质评价表编号"
        return None
    if any(e.channel != EvaluationChannel.PAPER for e in others):
        return "该案件已评价，每件只能评价一次"
    return None


def record_evaluation(
    session: Session,
    case: Case,
    values: dict,
    channel: str,
    days: int,
    at: dt.datetime | None = None,
    *,
    entered_by: User | None = None,
    paper_ref: str | None = None,
) -> Evaluation:
    """Store one evaluation of a closed case and open its follow-up if the review is bad; commits.

    The applicant's own rating counts over a paper form: arriving after one, it takes the count
    from it; a paper form entered after it is kept, uncounted.
    """
    problem = evaluation_error(case, channel, entered_by, paper_ref)
    if problem:
        raise TransitionError(problem)
    when = at or utcnow()
    current = next((e for e in case.evaluations if e.counted), None)
    counted = True
    if current is not None and channel == EvaluationChannel.PAPER:
        counted = False
    elif current is not None:
        current.counted = False
        session.flush()  # free the one-counted-per-case index before the new row claims it
    evaluation = Evaluation(
        case=case,
        channel=channel,
        created_at=when,
        entered_by=entered_by if channel == EvaluationChannel.PAPER else None,
        paper_ref=(paper_ref or "").strip() if channel == EvaluationChannel.PAPER else None,
        counted=counted,
        **values,
    )
    session.add(evaluation)
    open_followup_if_bad(session, evaluation, days, beijing_date(when))
    session.commit()
    return evaluation


# --- complaints ---------------------------------------------------------------------------------
# Channels whose complaints arrive as a numbered work order (12345 热线, 好差评 差评工单).
WORK_ORDER_CHANNELS = frozenset({ComplaintChannel.HOTLINE_12345, ComplaintChannel.HAOCHAPING})


def complaint_refusal(user: User | None, case: Case) -> str | None:
    """Why `user` may not register a complaint about `case`, or None: the auditor only reads,
    and staff register for cases they may still change (the holding center and the admins above it)."""
    if user is None:
        return "投诉须由工作人员登记"
    if user.role == Role.AUDITOR:
        return "审计员只能查阅，不能登记投诉"
    if not can_change_case(user, case):
        return "该案件不在您的办理范围内"
    return None


def complaint_errors(values: dict) -> dict[str, str]:
    """Field messages for a complaint's own data: channel, content, phone, work-order number."""
    errors: dict[str, str] = {}
    channel = values.get("channel") or ""
    if channel not in {c.value for c in ComplaintChannel}:
        errors["channel"] = "请选择投诉渠道"
    if not (values.get("content") or "").strip():
        errors["content"] = "请填写投诉内容"
    phone = (values.get("complainant_phone") or "").strip()
    if phone and phone_error(phone):
        errors["complainant_phone"] = phone_error(phone)
    if channel in WORK_ORDER_CHANNELS and not (values.get("reference") or "").strip():
        errors["reference"] = "12345热线和好差评系统转来的投诉须填写工单编号"
    return errors


def record_complaint(
    session: Session,
    case: Case,
    values: dict,
    entered_by: User,
    days: int,
    at: dt.datetime | None = None,
) -> Complaint:
    """Register a complaint about a case and open its follow-up; audited at commit, commits.

    Raises TransitionError when the user may not, RuleError naming the fields that are wrong.
    """
    refusal = complaint_refusal(entered_by, case)
    if refusal:
        raise TransitionError(refusal)
    errors = complaint_errors(values)
    if errors:
        raise RuleError(errors)
    when = at or utcnow()
    received = values.get("received_at") or when
    phone = (values.get("complainant_phone") or "").strip()
    with session.no_autoflush:
        assignee = responsible_admin(session, case)
    complaint = Complaint(
        case=case,
        channel=values["channel"],
        received_at=received,
        complainant_name=(values.get("complainant_name") or "").strip(),
        complainant_phone=normalize_phone(phone) if phone else "",
        content=values["content"].strip(),
        reference=(values.get("reference") or "").strip() or None,
        haochaping_number=values.get("haochaping_number"),
        haochaping_channel=values.get("haochaping_channel"),
        entered_by=entered_by,
        created_at=when,
    )
    # The deadline runs from when the complaint was received: a 好差评 complaint imported days later
    # is still due when the provincial system counts it due.
    complaint.followup = FollowUp(
        case=case,
        assignee=assignee,
        due_date=add_working_days(beijing_date(received), days, load_calendar(session)),
        status=FollowUpStatus.OPEN.value,
    )
    session.add(complaint)
    session.commit()
    return complaint


def is_overdue(followup: FollowUp, today: dt.date) -> bool:
    return followup.status != FollowUpStatus.CLOSED and followup.due_date < today


# --- follow-up steps ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    name: str
    label: str
    sources: frozenset[FollowUpStatus]
    fields: tuple[str, ...]
    apply: Callable[[FollowUp, dict, dt.datetime, str], FollowUpStatus]
    # What the step is called on a complaint's follow-up; None: the step is not for complaints.
    complaint_label: str | None = ""

    def label_for(self, followup: FollowUp) -> str:
        if followup.complaint_id is not None or followup.complaint is not None:
            return self.complaint_label or self.label
        return self.label


def _call_back(fu: FollowUp, data: dict, when: dt.datetime, author: str) -> FollowUpStatus:
    fu.callback_at = when
    fu.callback_by = author
    fu.callback_record = data["callback_record"]
    return FollowUpStatus.CALLED_BACK


def _rectify(fu: FollowUp, data: dict, when: dt.datetime, author: str) -> FollowUpStatus:
    fu.rectification = data["rectification"]
    return FollowUpStatus.RECTIFIED


def _give_feedback(fu: FollowUp, data: dict, when: dt.datetime, author: str) -> FollowUpStatus:
    fu.feedback = data["feedback"]
    return FollowUpStatus.FEEDBACK_GIVEN


def _close(fu: FollowUp, data: dict, when: dt.datetime, author: str) -> FollowUpStatus:
    fu.closed_date = beijing_date(when)
    return FollowUpStatus.CLOSED


def _appeal(fu: FollowUp, data: dict, when: dt.datetime, author: str) -> FollowUpStatus:
    fu.appeal_outcome = data["appeal_outcome"]
    fu.appeal_reason = data["appeal_reason"]
    if fu.appeal_outcome == AppealOutcome.UPHELD:
        return FollowUpStatus(fu.status)  # the review stands; the follow-up carries on
    return _close(fu, data, when, author)


_NOT_CLOSED = frozenset(FollowUpStatus) - {FollowUpStatus.CLOSED}
STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step("call_back", "回访", frozenset({FollowUpStatus.OPEN}), ("callback_record",), _call_back),
        Step(
            "rectify", "整改或解释", frozenset({FollowUpStatus.CALLED_BACK}), ("rectification",), _rectify, "调查处理"
        ),
        Step(
            "give_feedback",
            "反馈申请人",
            frozenset({FollowUpStatus.RECTIFIED}),
            ("feedback",),
            _give_feedback,
            "反馈投诉人",
        ),
        Step("close", "办结回访", frozenset({FollowUpStatus.FEEDBACK_GIVEN}), (), _close),
        # 申诉复核 contests a bad review (domain.md 2.4); a complaint is investigated, not appealed.
        Step("appeal", "申诉复核", _NOT_CLOSED, ("appeal_outcome", "appeal_reason"), _appeal, None),
    )
}


def _may(user: User, step: Step) -> bool:
    # 申诉复核 judges the review itself, so it is not left to the station that was reviewed.
    return step.name != "appeal" or Role(user.role) in ADMIN_ROLES


def _applies(step: Step, followup: FollowUp) -> bool:
    return followup.complaint_id is None or step.complaint_label is not None


def available_steps(followup: FollowUp, user: User) -> list[Step]:
    """The steps `user` may take on the follow-up now, each labelled for its source (差评 or 投诉)."""
    if not can_change_case(user, followup.case):
        return []
    return [
        replace(s, label=s.label_for(followup))
        for s in STEPS.values()
        if FollowUpStatus(followup.status) in s.sources and _may(user, s) and _applies(s, followup)
    ]


def advance_followup(
    session: Session, followup: FollowUp, name: str, actor: User, data: dict, at: dt.datetime | None = None
) -> None:
    """Move a follow-up one step with its record; audit and commit, or raise and change nothing."""
    step = STEPS.get(name)
    if step is None:
        raise TransitionError("未知的操作")
    if not can_change_case(actor, followup.case):
        raise TransitionError("该回访不在您的办理范围内")
    if not _applies(step, followup):
        raise TransitionError("申诉复核只适用于差评，投诉不适用")
    if not _may(actor, step):
        raise TransitionError("申诉复核须由镇街或区级管理员办理")
    label = step.label_for(followup)
    if FollowUpStatus(followup.status) not in step.sources:
        raise TransitionError(f"回访当前为“{followup.status_label}”，不能“{label}”")
    values = {key: (data.get(key) or "").strip() for key in step.fields}
    missing = [key for key, value in values.items() if not value]
    if missing:
        names = _COMPLAINT_FIELD_LABELS if followup.complaint_id is not None else {}
        raise TransitionError("请填写" + "、".join(names.get(k, _FIELD_LABELS[k]) for k in missing))
    if name == "appeal" and values["appeal_outcome"] not in {o.value for o in AppealOutcome} - {"none"}:
        raise TransitionError("请选择申诉复核结论")
    before = followup.status
    followup.status = step.apply(followup, values, at or utcnow(), actor.full_name or actor.username).value
    audit.record(
        session,
        audit.AuditEvent.FOLLOWUP,
        followup,
        summary=f"{followup} {label}",
        changes={"step": name, "status": [before, followup.status]},
        actor=actor,
    )
    commit(session)  # two staff recording a step at the same moment: the first stands


_FIELD_LABELS = {
    "callback_record": "回访记录",
    "rectification": "整改或解释情况",
    "feedback": "向申请人反馈的结果",
    "appeal_outcome": "申诉复核结论",
    "appeal_reason": "申诉复核理由",
}
_COMPLAINT_FIELD_LABELS = {"rectification": "调查处理情况", "feedback": "向投诉人反馈的结果"}
