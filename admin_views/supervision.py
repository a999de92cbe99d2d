"""Supervision views: evaluations (评价) and bad-review follow-ups (差评回访)."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter, FilterEqual
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from admin_views.base import ADMIN_ROLES, STAFF_ROLES, ConsoleModelView, IntEqualFilter, forbid
from admin_views.reference import TownFilter
from extensions import db
from lifecycle.errors import TransitionError
from lifecycle.scope import scope_clause, visible_center_ids
from lifecycle.supervision import RATING_LABELS, advance_followup, available_steps, is_overdue, open_followup_if_bad
from models import Case, Evaluation, FollowUp, User
from models.enums import AppealOutcome, EvaluationChannel, FollowUpStatus, Rating, Role, choices
from models.identifiers import mask_phone, normalize_phone
from models.keys import parse_key
from models.time import format_beijing, today_beijing

RATING_CHOICES = [(m.value, label) for m, label in zip(Rating, [c[1] for c in choices(Rating)], strict=True)]
_RATING_FIELDS = ("overall", "attitude", "efficiency", "competence", "communication", "integrity")


class EvaluationTownFilter(TownFilter):
    def __init__(self) -> None:
        super().__init__(Evaluation.case_id)

    def rows_in(self, centers):
        return select(Case.id).where(Case.center_id.in_(centers))


class FollowUpTownFilter(TownFilter):
    def __init__(self) -> None:
        super().__init__(FollowUp.evaluation_id)

    def rows_in(self, centers):
        return select(Evaluation.id).join(Evaluation.case).where(Case.center_id.in_(centers))


def _rating(view, context, model, name):
    return dict(RATING_CHOICES)[getattr(model, name)]


class EvaluationView(ConsoleModelView):
    # An evaluation is the applicant's word: recorded once, never edited, least of all by the
    # station it judges (a wrong one is corrected through the follow-up's appeal).
    write_roles = frozenset()
    create_roles = STAFF_ROLES
    masked_form_fields = {"evaluator_phone": mask_phone}
    column_list = ["case", "overall", "asked_for_anything", "channel", "consent_callback", "created_at"]
    column_labels = {
        "case": "案件编号",
        "case.number": "案件编号",
        **RATING_LABELS,
        "asked_for_anything": "是否有索要财物/吃拿卡要",
        "comment": "意见建议",
        "channel": "评价渠道",
        "consent_callback": "同意回访",
        "evaluator_name": "评价人",
        "evaluator_phone": "评价人电话",
        "created_at": "评价时间",
        "followup": "差评回访",
    }
    column_choices = {"channel": choices(EvaluationChannel)}
    form_choices = {"channel": choices(EvaluationChannel), **{f: RATING_CHOICES for f in _RATING_FIELDS}}
    form_args = {f: {"coerce": int} for f in _RATING_FIELDS}
    column_formatters = {
        **{f: _rating for f in _RATING_FIELDS},
        "asked_for_anything": lambda v, c, m, n: "是" if m.asked_for_anything else "否",
        "consent_callback": lambda v, c, m, n: "是" if m.consent_callback else "否",
        "created_at": lambda v, c, m, n: format_beijing(m.created_at),
        "evaluator_phone": lambda v, c, m, n: mask_phone(m.evaluator_phone),
    }
    column_searchable_list = ["case.number"]
    column_filters = [
        IntEqualFilter(Evaluation.overall, "总体评价", options=[(str(v), t) for v, t in RATING_CHOICES]),
        FilterEqual(Evaluation.channel, "评价渠道", options=choices(EvaluationChannel)),
        EvaluationTownFilter(),
        DateBetweenFilter(Evaluation.created_at, "评价时间"),
    ]
    column_default_sort = [("created_at", True), ("id", True)]
    form_columns = [
        "case",
        *_RATING_FIELDS,
        "asked_for_anything",
        "comment",
        "channel",
        "consent_callback",
        "evaluator_name",
        "evaluator_phone",
    ]
    column_details_list = form_columns + ["created_at", "followup"]
    form_ajax_refs = {"case": {"fields": ["number"], "page_size": 20, "placeholder": "输入案件编号"}}

    def on_model_change(self, form, model, is_created):
        if model.evaluator_phone:
            model.evaluator_phone = normalize_phone(model.evaluator_phone)
        if model.case is not None:
            open_followup_if_bad(db.session, model, current_app.config["FOLLOWUP_WORKING_DAYS"], today_beijing())
        super().on_model_change(form, model, is_created)


def _assignable_users():
    ids = visible_center_ids(current_user)
    query = select(User).where(User.active.is_(True)).order_by(User.id)
    if ids is not None:
        query = query.where(User.center_id.in_(ids))
    return db.session.scalars(query).all()


def _followup_status(view, context, model, name):
    text = model.status_label
    if is_overdue(model, today_beijing()):
        return Markup('{} <span class="badge badge-danger">已超期</span>').format(text)
    return text


class OverdueFollowUpFilter(BaseSQLAFilter):
    def __init__(self) -> None:
        super().__init__(FollowUp.due_date, "超期", options=[("overdue", "已超期未办结")])

    def apply(self, query, value, alias=None):
        if value != "overdue":
            return query
        return query.filter(FollowUp.status != FollowUpStatus.CLOSED.value, FollowUp.due_date < today_beijing())

    def operation(self):
        return "为"


class FollowUpView(ConsoleModelView):
    # Reassigning or re-dating a follow-up is for the admins above the handling center;
    # staff record the call-back, rectification and feedback through the steps.
    write_roles = ADMIN_ROLES
    step_roles = STAFF_ROLES
    create_roles = frozenset()  # a follow-up opens from a bad review, never from a blank form
    details_template = "followup/details.html"
    column_list = ["evaluation", "assignee", "status", "due_date", "callback_at", "closed_date", "appeal_outcome"]
    column_labels = {
        "evaluation": "差评(案件)",
        "assignee": "回访责任人",
        "status": "回访状态",
        "due_date": "办理期限",
        "callback_at": "回访时间",
        "callback_by": "回访人",
        "callback_record": "回访记录",
        "rectification": "整改/解释情况",
        "feedback": "向申请人反馈结果",
        "appeal_outcome": "申诉复核结论",
        "appeal_reason": "申诉复核理由",
        "closed_date": "办结日期",
    }
    column_choices = {"appeal_outcome": choices(AppealOutcome)}
    column_formatters = {
        "callback_at": lambda v, c, m, n: format_beijing(m.callback_at),
        "status": _followup_status,
    }
    column_filters = [
        FilterEqual(FollowUp.status, "回访状态", options=choices(FollowUpStatus)),
        OverdueFollowUpFilter(),
        DateBetweenFilter(FollowUp.due_date, "办理期限"),
        FollowUpTownFilter(),
    ]
    column_default_sort = [("due_date", False), ("id", False)]
    # Only who and by when are edited here; the record itself advances through the steps.
    form_columns = ["assignee", "due_date"]
    form_args = {"assignee": {"query_factory": _assignable_users, "blank_text": "(未指派)"}}

    def step_context(self, followup: FollowUp) -> dict:
        return {"steps": available_steps(followup, current_user), "overdue": is_overdue(followup, today_beijing())}

    @expose("/step/<step>/", methods=["POST"])
    def step_view(self, step: str):
        if Role(current_user.role) not in self.step_roles:
            forbid()
        followup = self._followup_in_write_scope(request.args.get("id"))
        if followup is None:
            flash("记录不存在。", "error")
            return redirect(url_for(".index_view"))
        try:
            advance_followup(db.session, followup, step, current_user, request.form.to_dict())
        except TransitionError as exc:
            flash(f"未保存：{exc}", "error")
        else:
            flash("回访记录已保存。", "success")
        return redirect(url_for(".details_view", id=followup.id))

    def _followup_in_write_scope(self, raw_id):
        key = parse_key(raw_id)
        if key is None:
            return None
        return db.session.scalar(
            select(FollowUp).where(FollowUp.id == key, scope_clause(FollowUp, current_user, write=True))
        )
