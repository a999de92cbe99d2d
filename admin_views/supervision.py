"""Supervision views: evaluations (评价) and bad-review follow-ups (差评回访)."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, BooleanEqualFilter, DateBetweenFilter, FilterEqual
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import false, select
from sqlalchemy.orm import joinedload
from wtforms.validators import DataRequired, Length, Optional

from admin_views.base import ConsoleModelView, DynamicOptionsFilter, IntEqualFilter, forbid
from admin_views.filters import BeijingDateBetweenFilter, HandedUpFilter
from admin_views.reference import CenterFilter, TownFilter
from admin_views.supervision_export import ComplaintExportMixin, EvaluationExportMixin, FollowUpExportMixin
from extensions import db
from lifecycle.errors import ConflictError, RuleError, TransitionError
from lifecycle.scope import scope_clause, visible_center_ids
from lifecycle.statistics import Period, bad_clause, followup_on_time_clause, followup_opened_in, satisfied_clause
from lifecycle.supervision import (
    advance_followup,
    available_steps,
    complaint_refusal,
    evaluation_error,
    is_overdue,
    record_complaint,
    record_evaluation,
)
from models import Agent, Case, Complaint, Evaluation, FollowUp, ServiceItem, User
from models.case import case_item
from models.enums import (
    ADMIN_ROLES,
    STAFF_ROLES,
    AppealOutcome,
    ComplaintChannel,
    EvaluationChannel,
    FollowUpStatus,
    Mode,
    Rating,
    Role,
    choices,
    label,
)
from models.evaluation import RATING_FIELDS, RATING_LABELS
from models.identifiers import mask_phone, normalize_phone, phone_error
from models.keys import parse_key
from models.time import format_beijing, today_beijing

RATING_CHOICES = [(m.value, label) for m, label in zip(Rating, [c[1] for c in choices(Rating)], strict=True)]


class EvaluationTownFilter(TownFilter):
    def __init__(self) -> None:
        super().__init__(Evaluation.case_id)

    def rows_in(self, centers):
        return select(Case.id).where(Case.center_id.in_(centers))


class FollowUpTownFilter(TownFilter):
    def __init__(self) -> None:
        super().__init__(FollowUp.case_id)

    def rows_in(self, centers):
        return select(Case.id).where(Case.center_id.in_(centers))


class SatisfactionFilter(BaseSQLAFilter):
    """满意 (非常满意、满意) or 差评 (不满意、非常不满意), as the home page counts them."""

    def __init__(self) -> None:
        super().__init__(
            Evaluation.overall,
            "满意度",
            options=[("satisfied", "满意(非常满意、满意)"), ("bad", "差评(不满意、非常不满意)")],
        )

    def apply(self, query, value, alias=None):
        clause = {"satisfied": satisfied_clause, "bad": bad_clause}.get(value)
        return query.filter(clause() if clause else false())

    def operation(self):
        return "为"


class _EvaluatedCaseFilter(DynamicOptionsFilter):
    """Evaluations whose case matches one condition (its mode, an item, its agent)."""

    def __init__(self, name: str) -> None:
        super().__init__(Evaluation.case_id, name)

    def case_condition(self, value: str):
        raise NotImplementedError

    def apply(self, query, value, alias=None):
        condition = self.case_condition(value)
        if condition is None:
            return query.filter(false())
        return query.filter(Evaluation.case_id.in_(select(Case.id).where(condition)))

    def operation(self):
        return "为"


class EvaluationModeFilter(_EvaluatedCaseFilter):
    def __init__(self) -> None:
        super().__init__("服务方式")

    def case_condition(self, value):
        return Case.mode == value if value in {m.value for m in Mode} else None

    def dynamic_options(self):
        return choices(Mode)


class EvaluationItemFilter(_EvaluatedCaseFilter):
    def __init__(self) -> None:
        super().__init__("申请事项")

    def case_condition(self, value):
        item_id = parse_key(value)
        if item_id is None:
            return None
        return Case.id.in_(select(case_item.c.case_id).where(case_item.c.item_id == item_id))

    def dynamic_options(self):
        items = db.session.execute(select(ServiceItem.id, ServiceItem.name).order_by(ServiceItem.code))
        return [(str(i), name) for i, name in items]


class EvaluationAgentFilter(_EvaluatedCaseFilter):
    def __init__(self) -> None:
        super().__init__("代办员")

    def case_condition(self, value):
        agent_id = parse_key(value)
        return None if agent_id is None else Case.agent_id == agent_id

    def dynamic_options(self):
        agents = db.session.scalars(select(Agent).where(scope_clause(Agent, current_user)).order_by(Agent.staff_no))
        return [(str(a.id), f"{a.name}({a.staff_no})") for a in agents]


class FollowUpOpenedFilter(BeijingDateBetweenFilter):
    """Follow-ups whose bad review arrived, or whose complaint was received, on these Beijing days."""

    def __init__(self) -> None:
        super().__init__(FollowUp.case_id, "差评/投诉日期")

    def apply(self, query, value, alias=None):
        start, end = Period(value[0], value[1]).utc_bounds()
        return query.filter(followup_opened_in(start, end))


class FollowUpOnTimeFilter(BaseSQLAFilter):
    def __init__(self) -> None:
        super().__init__(FollowUp.closed_date, "按期限办结", options=[("on_time", "已在办理期限内办结")])

    def apply(self, query, value, alias=None):
        return query.filter(followup_on_time_clause() if value == "on_time" else false())

    def operation(self):
        return "为"


def _rating(view, context, model, name):
    return dict(RATING_CHOICES)[getattr(model, name)]


def _with_case_from_url(form):
    """A form opened from a case's page (?case_id=) starts with that case, if the user may change it."""
    if request.method == "GET" and request.args.get("case_id"):
        form.case.data = db.session.scalar(
            select(Case).where(
                Case.id == (parse_key(request.args.get("case_id")) or 0),
                scope_clause(Case, current_user, write=True),
            )
        )
    return form


class CaseFormMixin:
    """Create forms about one case: opened from the case's page with it filled in, and a case the
    user may not change refused in Chinese (Flask-Admin's ajax field only says "Not a valid choice")."""

    def create_form(self, obj=None):
        return _with_case_from_url(super().create_form(obj))

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if request.method == "POST" and "case" in form and form.case.errors:
            form.case.errors = ["所选案件不存在或不在您的办理范围内"]
        return valid


def _entered_by(view, context, model, name):
    if model.entered_by is not None:
        return str(model.entered_by)
    return "申请人本人" if model.channel != EvaluationChannel.PAPER else "(未记录)"


class EvaluationView(EvaluationExportMixin, CaseFormMixin, ConsoleModelView):
    # An evaluation is the applicant's word: recorded once, never edited, least of all by the
    # station it judges (a wrong one is corrected through the follow-up's appeal). Staff type in
    # the paper 评价表 here; the applicant's own rating arrives through the one-time link.
    write_roles = frozenset()
    # Satisfaction figures are read from these rows: nobody deletes one (a wrong one is appealed).
    delete_roles = frozenset()
    # A village station only ever holds its own cases, and never enters its own rating.
    create_roles = ADMIN_ROLES
    list_template = "admin/console_list.html"
    column_list = [
        "case",
        "overall",
        "asked_for_anything",
        "channel",
        "entered_by",
        "counted",
        "consent_callback",
        "created_at",
    ]
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
        "entered_by": "录入人",
        "paper_ref": "纸质评价表编号",
        "counted": "计入评价结果",
        "haochaping_number": "好差评评价编号",
        "haochaping_channel": "好差评评价渠道",
    }
    column_descriptions = {
        "paper_ref": "申请人填写的纸质《委托代办服务评价表》上的编号",
        "counted": "同一案件既有纸质评价表又有申请人本人扫码评价的，以申请人本人评价为准",
    }
    column_choices = {"channel": choices(EvaluationChannel)}
    form_choices = {f: RATING_CHOICES for f in RATING_FIELDS}
    form_args = {
        **{f: {"coerce": int} for f in RATING_FIELDS},
        "paper_ref": {"validators": [DataRequired("请填写纸质评价表编号"), Length(max=40)]},
        "evaluator_phone": {"validators": [Optional(), Length(max=20)]},
        "consent_callback": {"label": "评价人同意回访(评价表上已勾选)"},
    }
    column_formatters = {
        **{f: _rating for f in RATING_FIELDS},
        "asked_for_anything": lambda v, c, m, n: "是" if m.asked_for_anything else "否",
        "consent_callback": lambda v, c, m, n: "是" if m.consent_callback else "否",
        "counted": lambda v, c, m, n: "是" if m.counted else "否(以申请人本人评价为准)",
        "created_at": lambda v, c, m, n: format_beijing(m.created_at),
        "evaluator_phone": lambda v, c, m, n: mask_phone(m.evaluator_phone),
        "entered_by": _entered_by,
    }
    column_searchable_list = ["case.number"]
    column_filters = [
        IntEqualFilter(Evaluation.overall, "总体评价", options=[(str(v), t) for v, t in RATING_CHOICES]),
        FilterEqual(Evaluation.channel, "评价渠道", options=choices(EvaluationChannel)),
        EvaluationTownFilter(),
        BeijingDateBetweenFilter(Evaluation.created_at, "评价时间"),
        BooleanEqualFilter(Evaluation.counted, "计入评价结果", options=[("1", "是"), ("0", "否")]),
        SatisfactionFilter(),
        CenterFilter(Evaluation.center_id, "承办机构"),
        HandedUpFilter(Evaluation.center_id),
        EvaluationModeFilter(),
        EvaluationItemFilter(),
        EvaluationAgentFilter(),
    ]
    column_default_sort = [("created_at", True), ("id", True)]
    # The console records paper forms only: the channel is fixed, the entering clerk is the login.
    form_columns = [
        "case",
        "paper_ref",
        *RATING_FIELDS,
        "asked_for_anything",
        "comment",
        "consent_callback",
        "evaluator_name",
        "evaluator_phone",
    ]
    column_details_list = [
        "case",
        *RATING_FIELDS,
        "asked_for_anything",
        "comment",
        "channel",
        "paper_ref",
        "haochaping_number",
        "haochaping_channel",
        "entered_by",
        "counted",
        "consent_callback",
        "evaluator_name",
        "evaluator_phone",
        "created_at",
        "followup",
    ]
    form_ajax_refs = {"case": {"fields": ["number"], "page_size": 20, "placeholder": "输入案件编号"}}

    def create_model(self, form):
        values = {name: form[name].data for name in RATING_FIELDS}
        phone = (form.evaluator_phone.data or "").strip()
        values.update(
            asked_for_anything=bool(form.asked_for_anything.data),
            comment=(form.comment.data or "").strip(),
            consent_callback=bool(form.consent_callback.data),
            evaluator_name=(form.evaluator_name.data or "").strip(),
            evaluator_phone=normalize_phone(phone) if phone else "",
        )
        if phone and phone_error(phone):
            form.evaluator_phone.errors = [*form.evaluator_phone.errors, phone_error(phone)]
            return False
        if form.case.data is None:
            form.case.errors = [*form.case.errors, "请选择被评价的案件"]
            return False
        try:
            model = record_evaluation(
                db.session,
                form.case.data,
                values,
                EvaluationChannel.PAPER.value,
                current_app.config["FOLLOWUP_WORKING_DAYS"],
                entered_by=current_user._get_current_object(),
                paper_ref=form.paper_ref.data,
            )
        except TransitionError as exc:
            db.session.rollback()
            flash(f"保存失败：{exc}", "error")
            return False
        self.after_model_change(form, model, True)
        return model


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


class FollowUpView(FollowUpExportMixin, ConsoleModelView):
    # Reassigning or re-dating a follow-up is for the admins above the handling center;
    # staff record the call-back, rectification and feedback through the steps.
    write_roles = ADMIN_ROLES
    step_roles = STAFF_ROLES
    create_roles = frozenset()  # a follow-up opens from a bad review or a complaint, never from a blank form
    delete_roles = frozenset()  # the call-back rate is read from these rows: a follow-up is closed, never deleted
    details_template = "followup/details.html"
    list_template = "admin/console_list.html"
    column_list = [
        "case",
        "source_label",
        "assignee",
        "status",
        "due_date",
        "callback_at",
        "closed_date",
        "appeal_outcome",
    ]
    column_labels = {
        "case": "案件编号",
        "source_label": "来源",
        "evaluation": "差评(案件)",
        "complaint": "投诉",
        "assignee": "回访责任人",
        "status": "回访状态",
        "due_date": "办理期限",
        "callback_at": "回访时间",
        "callback_by": "回访人",
        "callback_record": "回访记录",
        "rectification": "整改/解释(投诉为调查处理)情况",
        "feedback": "向申请人反馈结果",
        "appeal_outcome": "申诉复核结论",
        "appeal_reason": "申诉复核理由",
        "closed_date": "办结日期",
    }
    column_choices = {"appeal_outcome": choices(AppealOutcome)}
    column_formatters = {
        "callback_at": lambda v, c, m, n: format_beijing(m.callback_at),
        "status": _followup_status,
        # 申诉复核 applies to bad reviews only.
        "appeal_outcome": lambda v, c, m, n: (
            "不适用" if m.complaint_id is not None else label(AppealOutcome(m.appeal_outcome))
        ),
    }
    column_searchable_list = ["case.number"]
    column_filters = [
        FilterEqual(FollowUp.status, "回访状态", options=choices(FollowUpStatus)),
        OverdueFollowUpFilter(),
        DateBetweenFilter(FollowUp.due_date, "办理期限"),
        FollowUpTownFilter(),
        FollowUpOpenedFilter(),
        FollowUpOnTimeFilter(),
        CenterFilter(FollowUp.center_id, "承办机构"),
        HandedUpFilter(FollowUp.center_id),
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
        except (TransitionError, ConflictError) as exc:
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


# --- complaints (投诉) ----------------------------------------------------------------------------
class ComplaintTownFilter(TownFilter):
    def __init__(self) -> None:
        super().__init__(Complaint.case_id)

    def rows_in(self, centers):
        return select(Case.id).where(Case.center_id.in_(centers))


_COMPLAINT_FIELDS = ("channel", "reference", "complainant_name", "complainant_phone", "content")


def _complaint_followup(view, context, model, name):
    fu = model.followup
    if fu is None:
        return ""
    text = fu.status_label
    if is_overdue(fu, today_beijing()):
        text = Markup('{} <span class="badge badge-danger">已超期</span>').format(text)
    return Markup('<a href="{}">{}</a>').format(url_for("followup.details_view", id=fu.id), text)


class ComplaintView(ComplaintExportMixin, CaseFormMixin, ConsoleModelView):
    """投诉登记: a complaint about any case, from any channel; registering it opens its follow-up.

    Registered by staff who may still change the case (the holding center, the admins above it);
    the auditor reads. A complaint is a record of what was said: never edited or deleted.
    """

    write_roles = frozenset()
    create_roles = STAFF_ROLES
    delete_roles = frozenset()
    list_template = "admin/console_list.html"
    column_list = [
        "case",
        "channel",
        "reference",
        "complainant_name",
        "complainant_phone",
        "entered_by",
        "received_at",
        "followup",
    ]
    column_labels = {
        "case": "案件编号",
        "case.number": "案件编号",
        "channel": "投诉渠道",
        "reference": "工单编号",
        "complainant_name": "投诉人",
        "complainant_phone": "投诉人电话",
        "content": "投诉内容",
        "entered_by": "登记人",
        "received_at": "收到时间",
        "created_at": "登记时间",
        "followup": "回访处理",
    }
    column_choices = {"channel": choices(ComplaintChannel)}
    column_formatters = {
        "complainant_phone": lambda v, c, m, n: mask_phone(m.complainant_phone),
        "received_at": lambda v, c, m, n: format_beijing(m.received_at),
        "created_at": lambda v, c, m, n: format_beijing(m.created_at),
        "followup": _complaint_followup,
    }
    column_details_list = [
        "case",
        "channel",
        "reference",
        "complainant_name",
        "complainant_phone",
        "content",
        "entered_by",
        "received_at",
        "created_at",
        "followup",
    ]
    column_searchable_list = ["case.number", "reference"]
    column_filters = [
        FilterEqual(Complaint.channel, "投诉渠道", options=choices(ComplaintChannel)),
        ComplaintTownFilter(),
        BeijingDateBetweenFilter(Complaint.received_at, "收到时间"),
        CenterFilter(Complaint.center_id, "承办机构"),
        HandedUpFilter(Complaint.center_id),
    ]
    column_default_sort = [("received_at", True), ("id", True)]
    form_columns = ["case", *_COMPLAINT_FIELDS]

    def list_options(self):
        # The list's 回访处理 column reads each complaint's follow-up: loaded with the page, not per row.
        return [*super().list_options(), joinedload(Complaint.followup)]

    form_choices = {"channel": [("", "请选择")] + choices(ComplaintChannel)}
    form_args = {
        "channel": {"validators": [DataRequired("请选择投诉渠道")]},
        "reference": {"validators": [Optional(), Length(max=40)], "description": "12345热线、好差评系统转来的投诉必填"},
        "complainant_name": {"validators": [Optional(), Length(max=32)]},
        "complainant_phone": {"validators": [Optional(), Length(max=20)]},
        "content": {"validators": [DataRequired("请填写投诉内容"), Length(max=2000)]},
    }
    form_ajax_refs = {"case": {"fields": ["number"], "page_size": 20, "placeholder": "输入案件编号"}}

    def create_model(self, form):
        case = form.case.data
        if case is None:
            form.case.errors = [*form.case.errors, "请选择被投诉的案件"]
            return False
        values = {name: form[name].data for name in _COMPLAINT_FIELDS}
        try:
            model = record_complaint(
                db.session,
                case,
                values,
                current_user._get_current_object(),
                current_app.config["FOLLOWUP_WORKING_DAYS"],
            )
        except RuleError as exc:
            db.session.rollback()
            for name, message in exc.errors.items():
                form[name].errors = [*form[name].errors, message]
            return False
        except TransitionError as exc:
            db.session.rollback()
            flash(f"保存失败：{exc}", "error")
            return False
        flash("投诉已登记，已生成回访工单。", "success")
        self.after_model_change(form, model, True)
        return model


class SupervisionMixin:
    """Mixed into CaseView: what the case page offers for evaluations and complaints."""

    def supervision_context(self, case: Case) -> dict:
        user = current_user._get_current_object()
        return {
            "can_complain": complaint_refusal(user, case) is None,
            "can_enter_paper": Role(user.role) in ADMIN_ROLES
            and evaluation_error(case, EvaluationChannel.PAPER.value, user, "-") is None,
            "uncounted": [e for e in case.evaluations if not e.counted],
            "complaints": sorted(case.complaints, key=lambda c: (c.received_at, c.id)),
        }
