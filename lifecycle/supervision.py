"""Supervision after service (plan 四(三)): evaluations, and the follow-up a bad review opens.

A 不满意/非常不满意 rating, or a yes to "was anything asked of you" (廉洁自律), opens a
follow-up assigned to the admin responsible for the handling center, due in a configurable
number of working days (domain.md 2.1: 15 working days is the common local default).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

import audit
from lifecycle.deadlines import add_working_days, load_calendar
from lifecycle.errors import TransitionError
from lifecycle.scope import can_change_case
from models import Case, Evaluation, FollowUp, User
from models.enums import AppealOutcome, FollowUpStatus, Role, Status
from models.time import BEIJING, utcnow

DEFAULT_FOLLOWUP_WORKING_DAYS = 15
EVALUABLE = (Status.COMPLETED, Status.TERMINATED, Status.ARCHIVED)
# The evaluation form's items (domain.md §1.8), in the order every form and page shows them.
RATING_LABELS = {
    "overall": "总体评价",
    "attitude": "服务态度",
    "efficiency": "办事效率(是否按时)",
    "competence": "业务水平",
    "communication": "进度告知",
    "integrity": "廉洁自律",
}
RATING_FIELDS = tuple(RATING_LABELS)


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


def evaluation_error(case: Case) -> str | None:
    """Why the case cannot be evaluated now, or None."""
    if Status(case.status) not in EVALUABLE:
        return "案件办结或终止后才能评价"
    if case.evaluation is not None:
        return "该案件已评价，每件只能评价一次"
    return None


def record_evaluation(
    session: Session, case: Case, values: dict, channel: str, days: int, at: dt.datetime | None = None
) -> Evaluation:
    """Store one evaluation of a closed case and open its follow-up if the review is bad; commits."""
    problem = evaluation_error(case)
    if problem:
        raise TransitionError(problem)
    when = at or utcnow()
    evaluation = Evaluation(case=case, channel=channel, created_at=when, **values)
    session.add(evaluation)
    open_followup_if_bad(session, evaluation, days, when.replace(tzinfo=dt.UTC).astimezone(BEIJING).date())
    session.commit()
    return evaluation


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
    fu.closed_date = when.replace(tzinfo=dt.UTC).astimezone(BEIJING).date()
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
        Step("rectify", "整改或解释", frozenset({FollowUpStatus.CALLED_BACK}), ("rectification",), _rectify),
        Step("give_feedback", "反馈申请人", frozenset({FollowUpStatus.RECTIFIED}), ("feedback",), _give_feedback),
        Step("close", "办结回访", frozenset({FollowUpStatus.FEEDBACK_GIVEN}), (), _close),
        Step("appeal", "申诉复核", _NOT_CLOSED, ("appeal_outcome", "appeal_reason"), _appeal),
    )
}


# 申诉复核 judges the review itself, so it is not left to the station that was reviewed.
APPEAL_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.TOWN_ADMIN})


def _may(user: User, step: Step) -> bool:
    return step.name != "appeal" or Role(user.role) in APPEAL_ROLES


def available_steps(followup: FollowUp, user: User) -> list[Step]:
    if not can_change_case(user, followup.case):
        return []
    return [s for s in STEPS.values() if FollowUpStatus(followup.status) in s.sources and _may(user, s)]


def advance_followup(
    session: Session, followup: FollowUp, name: str, actor: User, data: dict, at: dt.datetime | None = None
) -> None:
    """Move a follow-up one step with its record; audit and commit, or raise and change nothing."""
    step = STEPS.get(name)
    if step is None:
        raise TransitionError("未知的操作")
    if not can_change_case(actor, followup.case):
        raise TransitionError("该回访不在您的办理范围内")
    if not _may(actor, step):
        raise TransitionError("申诉复核须由镇街或区级管理员办理")
    if FollowUpStatus(followup.status) not in step.sources:
        raise TransitionError(f"回访当前为“{followup.status_label}”，不能“{step.label}”")
    values = {key: (data.get(key) or "").strip() for key in step.fields}
    missing = [key for key, value in values.items() if not value]
    if missing:
        raise TransitionError("请填写" + "、".join(_FIELD_LABELS[k] for k in missing))
    if name == "appeal" and values["appeal_outcome"] not in {o.value for o in AppealOutcome} - {"none"}:
        raise TransitionError("请选择申诉复核结论")
    before = followup.status
    followup.status = step.apply(followup, values, at or utcnow(), actor.full_name or actor.username).value
    audit.record(
        session,
        "followup",
        followup,
        summary=f"{followup} {step.label}",
        changes={"step": name, "status": [before, followup.status]},
        actor=actor,
    )
    session.commit()


_FIELD_LABELS = {
    "callback_record": "回访记录",
    "rectification": "整改或解释情况",
    "feedback": "向申请人反馈的结果",
    "appeal_outcome": "申诉复核结论",
    "appeal_reason": "申诉复核理由",
}
