"""The case register (案件台账): list, filters, forms with materials, fees and progress log."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, BooleanEqualFilter, DateBetweenFilter, FilterEqual
from flask_admin.form import rules
from flask_admin.model.form import InlineFormAdmin
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import exists, false, select
from sqlalchemy.orm import joinedload, selectinload

import audit
from admin_views.base import ConsoleModelView, DynamicOptionsFilter, IntInListFilter, forbid
from admin_views.case_annex import AnnexMixin, BatchExportMixin
from admin_views.case_correction import CorrectionMixin
from admin_views.case_export import CaseExportMixin
from admin_views.case_lifecycle import LifecycleMixin
from admin_views.extension import ExtensionMixin
from admin_views.filters import HandedUpFilter
from admin_views.people import force_center, scoped_centers
from admin_views.pii import IdNumberSearchMixin
from admin_views.reference import CenterFilter, TownFilter
from admin_views.supervision import SupervisionMixin
from extensions import db
from lifecycle.clock import deadline_state
from lifecycle.deadlines import (
    ASSUMED_NOTE,
    DEADLINE_LABELS,
    DUE_SOON,
    ON_TIME,
    OVERDUE,
    PAUSED,
    due_soon_limit,
    load_calendar,
)
from lifecycle.scope import scope_clause
from lifecycle.statistics import (
    completed_clause,
    late_clause,
    on_time_clause,
    running_clause,
    terminated_clause,
)
from lifecycle.transitions import RUNNING
from models import Agent, Case, CaseFee, CaseLog, CaseMaterial, Center, ServiceItem
from models.case import case_item
from models.enums import (
    REVEAL_ROLES,
    STAFF_ROLES,
    DelegationScope,
    MaterialForm,
    Mode,
    RemoteChannel,
    ResultDelivery,
    Role,
    Status,
    TerminationReason,
    choices,
)
from models.keys import parse_key
from models.time import today_beijing

CASE_LABELS = {
    "number": "案件编号",
    "center": "受理机构",
    "origin_center": "首问机构",
    "mode": "服务方式",
    "status": "状态",
    "applicant": "申请人",
    "applicant_name": "申请人",
    "agent": "代办员",
    "items": "申请事项",
    "delegation_scope": "代办类型",
    "received_date": "受理日期",
    "promised_date": "承诺办结日期",
    "closed_date": "办结/终止日期",
    "summary": "情况摘要",
    "remote_channel": "远程方式",
    "tracking_in": "材料寄递运单号",
    "tracking_out": "结果寄递运单号",
    "visit_address": "上门地址",
    "visit_at": "上门时间",
    "result_delivery": "结果领取方式",
    "delivery_address": "邮寄地址",
    "completion_result": "办理结果",
    "completion_signed": "申请人已签收办结单",
    "handover_note": "移交说明",
    "termination_reason": "终止原因",
    "termination_text": "终止说明",
    "materials": "申请材料",
    "fees": "法定收费",
    "logs": "办理过程记录",
    "town": "所属镇(街道)",
    "deadline": "时限",
}


class ItemFilter(DynamicOptionsFilter):
    def __init__(self) -> None:
        super().__init__(Case.id, "申请事项")

    def apply(self, query, value, alias=None):
        item_id = parse_key(value)
        if item_id is None:
            return query.filter(false())
        # EXISTS, not `id IN (keys)`: SQLite gathered and sorted every case of the item for a page
        # (0.3–0.9 s at a million cases); this walks the register's order, probing case_item's key.
        return query.filter(exists().where(case_item.c.case_id == Case.id, case_item.c.item_id == item_id))

    def operation(self):
        return "包含"

    def dynamic_options(self):
        items = db.session.scalars(select(ServiceItem).order_by(ServiceItem.code)).all()
        return [(str(i.id), i.name) for i in items]


class MaterialInline(InlineFormAdmin):
    form_columns = ["id", "name", "form", "copies", "received", "custody", "returned", "returned_date"]
    form_label = "申请材料"
    column_labels = {
        "name": "材料名称",
        "form": "原件/复印件",
        "copies": "份数",
        "received": "已收",
        "custody": "保管情况",
        "returned": "已退还",
        "returned_date": "退还日期",
    }
    form_choices = {"form": choices(MaterialForm)}


class FeeInline(InlineFormAdmin):
    form_columns = ["id", "item", "amount", "legal_basis", "paid_by_applicant"]
    form_label = "法定收费"
    column_labels = {
        "item": "收费事项",
        "amount": "金额(元)",
        "legal_basis": "法律法规依据",
        "paid_by_applicant": "由申请人缴纳",
    }
    form_args = {
        "item": {
            "query_factory": lambda: db.session.scalars(
                select(ServiceItem).where(ServiceItem.fee_amount > 0).order_by(ServiceItem.code)
            ).all()
        }
    }


def _scoped_agents():
    return db.session.scalars(
        select(Agent).where(scope_clause(Agent, current_user), Agent.active.is_(True)).order_by(Agent.staff_no)
    ).all()


def _items(view, context, model, name):
    return "、".join(i.name for i in model.items)


def _request_calendar():
    # One read of the holiday table per list page, not one per row.
    if "bureau_calendar" not in g:
        g.bureau_calendar = load_calendar(db.session)
    return g.bureau_calendar


def _deadline(view, context, model, name):
    state = deadline_state(model.status, model.promised_date, today_beijing(), _request_calendar())
    badges = Markup("")
    if state is not None:
        css = {OVERDUE: "badge-danger", DUE_SOON: "badge-warning", ON_TIME: "badge-light", PAUSED: "badge-secondary"}
        badges += Markup('<span class="badge {}">{}</span>').format(css[state], DEADLINE_LABELS[state])
    if model.extended:
        badges += Markup(' <span class="badge badge-info badge-extended" title="承诺办结日期经批准延期">已延期</span>')
    return badges


def _promised(view, context, model, name):
    if model.promised_date is None:
        return ""
    if not model.promised_assumed:
        return str(model.promised_date)
    return Markup('{} <span class="text-warning assumed-mark" title="{}">(推算)</span>').format(
        model.promised_date, ASSUMED_NOTE
    )


class ExtendedFilter(BooleanEqualFilter):
    def __init__(self) -> None:
        super().__init__(Case.extended, "已延期", options=[("1", "是"), ("0", "否")])


class AssumedFilter(BooleanEqualFilter):
    """Promised dates counted on a year whose holiday notice is not confirmed: to be reviewed."""

    def __init__(self) -> None:
        super().__init__(Case.promised_assumed, "承诺日期为推算(待复核)", options=[("1", "是"), ("0", "否")])


class DeadlineFilter(BaseSQLAFilter):
    """已超期 / 即将超期: running cases against their promised date (suspended cases are paused)."""

    def __init__(self) -> None:
        super().__init__(Case.promised_date, "时限", options=[(OVERDUE, "已超期"), (DUE_SOON, "即将超期")])

    def apply(self, query, value, alias=None):
        today = today_beijing()
        running = Case.status.in_(RUNNING)
        if value == OVERDUE:
            return query.filter(running, Case.promised_date < today)
        if value == DUE_SOON:
            limit = due_soon_limit(today, _request_calendar())
            return query.filter(running, Case.promised_date >= today, Case.promised_date <= limit)
        return query

    def operation(self):
        return "为"


class StageFilter(BaseSQLAFilter):
    """How a case stands or ended, as the home page's figures count it (lifecycle/statistics.py)."""

    OPTIONS = [
        ("running", "在办(含中止)"),
        ("completed", "已办结(含办结后归档)"),
        ("terminated", "已终止(含终止后归档)"),
        ("on_time", "按时办结"),
        ("late", "逾期办结"),
    ]

    def __init__(self) -> None:
        super().__init__(Case.status, "办理情况", options=self.OPTIONS)

    def apply(self, query, value, alias=None):
        clauses = {
            "running": running_clause,
            "completed": completed_clause,
            "terminated": terminated_clause,
            "on_time": lambda: completed_clause() & on_time_clause(),
            "late": lambda: completed_clause() & late_clause(),
        }
        clause = clauses.get(value)
        return query.filter(clause() if clause else false())

    def operation(self):
        return "为"


class AgentFilter(DynamicOptionsFilter):
    def __init__(self) -> None:
        super().__init__(Case.agent_id, "代办员")

    def apply(self, query, value, alias=None):
        agent_id = parse_key(value)
        return query.filter(false() if agent_id is None else Case.agent_id == agent_id)

    def operation(self):
        return "为"

    def dynamic_options(self):
        return [(str(a.id), f"{a.name}({a.staff_no})") for a in _scoped_agents_all()]


def _scoped_agents_all():
    return db.session.scalars(select(Agent).where(scope_clause(Agent, current_user)).order_by(Agent.staff_no)).all()


def _town(view, context, model, name):
    town = model.center.town
    return town.name if town else "区级"


# The case form in the order a clerk fills it; the inline lists are edited in their own sections.
CASE_FIELDSETS = [
    (
        "受理信息",
        (
            "center",
            "mode",
            "items",
            "applicant",
            "agent",
            "delegation_scope",
            "received_date",
            "summary",
        ),
    ),
    ("远程帮办(电话、视频指导，材料与结果邮寄)", ("remote_channel", "tracking_in", "tracking_out")),
    ("上门帮办", ("visit_address", "visit_at")),
    ("结果领取", ("result_delivery", "delivery_address")),
    ("申请材料", ("materials",)),
    ("法定收费(帮办代办服务免费，仅登记法律法规规定由申请人缴纳的费用)", ("fees",)),
]
INLINE_FIELDS = {"materials", "fees"}


class CaseView(
    CorrectionMixin,
    AnnexMixin,
    BatchExportMixin,
    LifecycleMixin,
    ExtensionMixin,
    SupervisionMixin,
    IdNumberSearchMixin,
    CaseExportMixin,
    ConsoleModelView,
):
    """The case register. Each mixin adds one concern's pages or actions to this one view.

    How the mixins depend on their order (tests/test_case_view_mixins.py checks each point):
    - Every mixin comes before ConsoleModelView: they override its settings and hooks
      (CaseExportMixin.can_export_post, IdNumberSearchMixin.supports_id_search, CorrectionMixin's
      edit_view and update_model, which refuse a closed case before the base's version check).
    - Among the mixins the order does not matter: no two define the same name, except
      is_action_allowed, which BatchExportMixin (export_pdf) and LifecycleMixin (the transitions)
      each answer for their own actions and pass on with super() for any other.
    - No mixin calls another's methods; what they share is a plain function
      (case_lifecycle.case_in_write_scope). IdNumberSearchMixin needs applicant_filter_url, below.
    """

    write_roles = STAFF_ROLES
    delete_roles = frozenset()  # cases are never deleted; they end as terminated or archived
    column_auto_select_related = False  # list_options below chooses the eager loads itself
    details_template = "case/details.html"
    list_template = "admin/console_list.html"
    column_list = [
        "deadline",
        "number",
        "center",
        "town",
        "mode",
        "status",
        "items",
        "applicant",
        "agent",
        "received_date",
        "promised_date",
    ]
    column_labels = CASE_LABELS
    column_choices = {
        "mode": choices(Mode),
        "status": choices(Status),
        "delegation_scope": choices(DelegationScope),
        "remote_channel": choices(RemoteChannel),
        "result_delivery": choices(ResultDelivery),
        "termination_reason": choices(TerminationReason),
    }
    form_choices = {k: v for k, v in column_choices.items() if k not in ("status", "termination_reason")}
    column_formatters = {"items": _items, "town": _town, "deadline": _deadline, "promised_date": _promised}
    column_sortable_list = [
        "number",
        "mode",
        "status",
        "received_date",
        "promised_date",
        ("applicant", "applicant_name"),
    ]
    # Prefix on the number, trigram on the applicant's name copied onto the case (models/search.py).
    column_searchable_list = ["number", "applicant_name"]
    column_filters = [
        TownFilter(Case.center_id),
        CenterFilter(Case.center_id, "受理机构"),
        FilterEqual(Case.mode, "服务方式", options=choices(Mode)),
        FilterEqual(Case.status, "状态", options=choices(Status)),
        ItemFilter(),
        DateBetweenFilter(Case.received_date, "受理日期"),
        DateBetweenFilter(Case.promised_date, "承诺办结日期"),
        DateBetweenFilter(Case.closed_date, "办结/终止日期"),
        StageFilter(),
        AgentFilter(),
        HandedUpFilter(Case.center_id),
        IntInListFilter(Case.applicant_id, "申请人编号"),
        DeadlineFilter(),
        ExtendedFilter(),
        AssumedFilter(),
    ]
    column_default_sort = [("received_date", True), ("id", True)]
    form_columns = [name for _, fields in CASE_FIELDSETS for name in fields if name not in INLINE_FIELDS]
    form_ajax_refs = {"applicant": {"fields": ["name"], "page_size": 20, "placeholder": "输入申请人姓名或单位名称"}}
    # The progress log is append-only: entries come from transitions and the details page's form.
    inline_models = [MaterialInline(CaseMaterial), FeeInline(CaseFee)]
    form_create_rules = [rules.FieldSet(fields, title) for title, fields in CASE_FIELDSETS]
    # After creation the center changes only by hand-off and the mode never: both drive the lifecycle.
    form_edit_rules = [
        rules.FieldSet(tuple(f for f in fields if f not in ("center", "mode")), title)
        for title, fields in CASE_FIELDSETS
    ]
    form_args = {
        "center": {"query_factory": scoped_centers, "description": "只能受理进驻本机构的事项"},
        "agent": {"query_factory": _scoped_agents, "blank_text": "（暂未指派）"},
        "items": {
            "query_factory": lambda: db.session.scalars(select(ServiceItem).order_by(ServiceItem.code)).all(),
            "description": "可多选；所选事项须已进驻受理机构",
        },
        "received_date": {"default": today_beijing},
    }

    def get_one_options(self):
        # The details page lists the log (each entry's department and agent), the items with their
        # departments and the fees with their items: one query per list, whatever its length.
        logs = selectinload(Case.logs)
        return [
            logs.joinedload(CaseLog.department),
            logs.joinedload(CaseLog.agent),
            selectinload(Case.items).joinedload(ServiceItem.department),
            selectinload(Case.fees).joinedload(CaseFee.item),
        ]

    def applicant_filter_url(self, applicant_ids):
        return url_for(".index_view", flt0_applicant_id_intinlistfilter=",".join(map(str, applicant_ids)))

    @property
    def can_reveal(self) -> bool:
        return current_user.is_authenticated and Role(current_user.role) in REVEAL_ROLES

    @expose("/reveal/", methods=["POST"])
    def reveal_view(self):
        """Show the full ID and phone numbers once, for a stated reason, and audit it (PIPL 最小必要)."""
        if not self.can_reveal:
            forbid()
        case = self.get_one(request.args.get("id"))
        if case is None:
            flash("记录不存在。", "error")
            return redirect(url_for(".index_view"))
        reason = (request.form.get("reason") or "").strip()
        if len(reason) < 2:
            flash("请填写查看完整信息的理由。", "error")
            return redirect(url_for(".details_view", id=case.id))
        audit.record(
            db.session,
            audit.AuditEvent.REVEAL,
            case,
            summary=f"查看{case.applicant.name}的完整证件号码和电话：{reason}"[:200],
        )
        db.session.commit()
        return self.render(
            self.details_template,
            model=case,
            details_columns=self._details_columns,
            get_value=self.get_detail_value,
            return_url=url_for(".index_view"),
            revealed=True,
        )

    def get_sortable_columns(self):
        # Flask-Admin files a same-table sort column under its own name; the list column it sorts is "applicant".
        columns = super().get_sortable_columns()
        columns["applicant"] = columns.pop("applicant_name")
        return columns

    def list_options(self):
        return [
            joinedload(Case.center).joinedload(Center.parent),
            joinedload(Case.applicant),
            joinedload(Case.agent),
            selectinload(Case.items),
        ]

    def on_model_change(self, form, model, is_created):
        force_center(model)
        super().on_model_change(form, model, is_created)
