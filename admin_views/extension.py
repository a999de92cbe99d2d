"""Extensions (延期) in the console: the request and decision forms on a case's page, and the
scoped list of requests (延期审批). Every change goes through lifecycle.extensions."""

from __future__ import annotations

import typing as t

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter, FilterEqual
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import false, or_, select
from wtforms import DateField, TextAreaField
from wtforms.validators import Length, Optional

from admin_views.base import ConsoleModelView, forbid
from extensions import db
from lifecycle.errors import ConflictError, TransitionError
from lifecycle.extensions import decide_extension, decision_refusal, request_extension, request_refusal
from lifecycle.scope import scope_clause
from models import Case, CaseExtension, Center
from models.enums import STAFF_ROLES, ExtensionStatus, Role, Tier, choices
from models.keys import parse_key
from models.time import format_beijing


class ExtensionRequestForm(FlaskForm):
    new_date = DateField("延期后的承诺办结日期", validators=[Optional()])
    reason = TextAreaField("延期理由", validators=[Optional(), Length(max=500)])


class ExtensionDecisionForm(FlaskForm):
    note = TextAreaField("审批意见", validators=[Optional(), Length(max=500)])


class ExtensionMixin:
    """Mixed into CaseView: what the case page shows and offers about extensions."""

    def extension_context(self, case: Case) -> dict[str, t.Any]:
        return {
            "extensions": list(case.extensions),
            "can_request": request_refusal(case, current_user) is None,
            "request_form": ExtensionRequestForm(formdata=None),
            "decision_form": ExtensionDecisionForm(formdata=None),
            "can_decide": {e.id: decision_refusal(e, current_user) is None for e in case.extensions},
        }


def _awaiting(user) -> t.Any:
    """The pending requests `user` may decide, as a WHERE clause (mirrors decision_refusal)."""
    clause = (CaseExtension.status == ExtensionStatus.PENDING.value) & or_(
        CaseExtension.requested_by_id.is_(None), CaseExtension.requested_by_id != user.id
    )
    if user.role == Role.DISTRICT_ADMIN:
        return clause
    if user.role == Role.TOWN_ADMIN:
        stations = select(Case.id).join(Center, Case.center_id == Center.id)
        stations = stations.where(Center.tier == Tier.VILLAGE.value, Center.parent_id == user.center_id)
        return clause & CaseExtension.case_id.in_(stations)
    return false()


class AwaitingMeFilter(BaseSQLAFilter):
    def __init__(self) -> None:
        super().__init__(CaseExtension.status, "待我审批", options=[("yes", "是")])

    def apply(self, query, value, alias=None):
        return query.filter(_awaiting(current_user))

    def operation(self):
        return "为"


def _case(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(url_for("case.details_view", id=model.case_id), model.case.number)


def _user(attr: str):
    def render(view, context, model, name):
        user = getattr(model, attr)
        return (user.full_name or user.username) if user else ""

    return render


class ExtensionView(ConsoleModelView):
    """The scoped list of extension requests; decisions are made on the case's page."""

    write_roles = frozenset()
    create_roles = frozenset()
    delete_roles = frozenset()
    list_template = "admin/console_list.html"
    column_list = [
        "case",
        "center",
        "old_date",
        "new_date",
        "reason",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    ]
    column_labels = {
        "case": "案件编号",
        "case.number": "案件编号",
        "center": "办理机构",
        "old_date": "原承诺办结日期",
        "new_date": "申请延至",
        "reason": "延期理由",
        "requested_by": "申请人",
        "requested_at": "申请时间",
        "status": "状态",
        "decided_by": "审批人",
        "decided_at": "审批时间",
        "decision_note": "审批意见",
    }
    column_choices = {"status": choices(ExtensionStatus)}
    column_formatters = {
        "case": _case,
        "center": lambda v, c, m, n: m.case.center.name,
        "requested_by": _user("requested_by"),
        "decided_by": _user("decided_by"),
        "requested_at": lambda v, c, m, n: format_beijing(m.requested_at),
        "decided_at": lambda v, c, m, n: format_beijing(m.decided_at),
    }
    column_sortable_list = ["requested_at", "new_date", "status"]
    column_default_sort = [("requested_at", True), ("id", True)]
    column_searchable_list = ["case.number"]
    column_filters = [
        FilterEqual(CaseExtension.status, "状态", options=choices(ExtensionStatus)),
        AwaitingMeFilter(),
        DateBetweenFilter(CaseExtension.requested_at, "申请时间"),
    ]

    def _extension_in_write_scope(self, key: t.Any) -> CaseExtension | None:
        ext_id = parse_key(key)
        if ext_id is None:
            return None
        return db.session.scalar(
            select(CaseExtension).where(
                CaseExtension.id == ext_id, scope_clause(CaseExtension, current_user, write=True)
            )
        )

    @expose("/request/", methods=["POST"])
    def request_view(self):
        if Role(current_user.role) not in STAFF_ROLES:
            forbid()
        case_id = parse_key(request.args.get("case_id"))
        case = (
            None
            if case_id is None
            else db.session.scalar(select(Case).where(Case.id == case_id, scope_clause(Case, current_user, write=True)))
        )
        if case is None:
            flash("记录不存在。", "error")
            return redirect(url_for("case.index_view"))
        form = ExtensionRequestForm()
        if not form.validate_on_submit():
            flash("延期申请未提交：" + "；".join(e for errors in form.errors.values() for e in errors), "error")
            return redirect(url_for("case.details_view", id=case.id))
        try:
            request_extension(db.session, case, current_user, form.new_date.data, form.reason.data or "")
        except (TransitionError, ConflictError) as exc:
            flash(f"延期申请未提交：{exc}", "error")
        else:
            flash(f"{case.number} 已提交延期申请，待审批。", "success")
        return redirect(url_for("case.details_view", id=case.id))

    @expose("/decide/", methods=["POST"])
    def decide_view(self):
        if current_user.role not in (Role.DISTRICT_ADMIN, Role.TOWN_ADMIN):
            forbid()
        extension = self._extension_in_write_scope(request.args.get("id"))
        if extension is None:
            flash("记录不存在。", "error")
            return redirect(url_for(".index_view"))
        case_id = extension.case_id
        form = ExtensionDecisionForm()
        decision = request.form.get("decision")
        if not form.validate_on_submit() or decision not in ("approve", "refuse"):
            flash("审批未完成：请选择批准或不予批准。", "error")
            return redirect(url_for("case.details_view", id=case_id))
        approve = decision == "approve"
        try:
            decide_extension(db.session, extension, current_user, approve, form.note.data or "")
        except (TransitionError, ConflictError) as exc:
            flash(f"审批未完成：{exc}", "error")
        else:
            flash("已批准延期。" if approve else "已记录不予批准。", "success")
        return redirect(url_for("case.details_view", id=case_id))
