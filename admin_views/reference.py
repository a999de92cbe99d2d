"""Reference data views: centers, service items, departments."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual, FilterLike
from flask_admin.model.form import InlineFormAdmin
from flask_login import current_user
from sqlalchemy import false, or_, select
from sqlalchemy.orm import joinedload

from admin_views.base import ConsoleModelView, DynamicOptionsFilter
from extensions import db
from lifecycle.scope import scope_clause
from models import Center, ServiceItem, ServiceItemMaterial
from models.enums import MaterialForm, Tier, choices
from models.keys import parse_key

CENTER_LABELS = {
    "tier": "层级",
    "parent": "上级机构",
    "name": "机构名称",
    "division_code": "区划代码",
    "address": "地址",
    "phone": "联系电话",
    "hotline": "监督电话",
    "children": "下级机构",
}


class TownFilter(DynamicOptionsFilter):
    """Rows whose center is the chosen town or one of its villages."""

    def __init__(self, center_column, name: str = "所属镇(街道)") -> None:
        super().__init__(center_column, name)

    def apply(self, query, value, alias=None):
        town_id = parse_key(value)
        if town_id is None:
            return query.filter(false())
        subtree = select(Center.id).where((Center.id == town_id) | (Center.parent_id == town_id))
        return query.filter(self.column.in_(self.rows_in(subtree)))

    def rows_in(self, centers):
        """The values of this filter's column that belong to the given centers (the centers themselves here)."""
        return centers

    def operation(self):
        return "等于"

    def dynamic_options(self):
        # A village login sees its own town listed; a town admin only its own town. One query, not
        # one per town's children.
        visible = select(Center.id).where(scope_clause(Center, current_user))
        parents_of_visible = select(Center.parent_id).where(Center.id.in_(visible))
        towns = db.session.execute(
            select(Center.id, Center.name)
            .where(Center.tier == Tier.TOWN.value, or_(Center.id.in_(visible), Center.id.in_(parents_of_visible)))
            .order_by(Center.id)
        )
        return [(str(town_id), name) for town_id, name in towns]


class CenterFilter(DynamicOptionsFilter):
    """Rows handled by one center, picked from the centers the user may see."""

    def __init__(self, center_column, name: str = "服务机构") -> None:
        super().__init__(center_column, name)

    def apply(self, query, value, alias=None):
        center_id = parse_key(value)
        return query.filter(false() if center_id is None else self.column == center_id)

    def operation(self):
        return "等于"

    def dynamic_options(self):
        centers = db.session.scalars(select(Center).where(scope_clause(Center, current_user)).order_by(Center.id)).all()
        return [(str(c.id), c.name) for c in centers]


class CenterView(ConsoleModelView):
    column_list = ["name", "tier", "parent", "division_code", "phone", "hotline"]
    column_labels = CENTER_LABELS
    column_choices = {"tier": choices(Tier)}
    form_choices = {"tier": choices(Tier)}
    column_searchable_list = ["name"]
    column_filters = [FilterEqual(Center.tier, "层级", options=choices(Tier)), TownFilter(Center.id)]
    column_default_sort = [("id", False)]
    form_columns = ["tier", "parent", "name", "division_code", "address", "phone", "hotline"]
    column_details_list = ["name", "tier", "parent", "division_code", "address", "phone", "hotline", "children"]
    form_args = {
        "name": {"description": "如：峡山街道便民服务中心、东山社区便民服务站"},
        "division_code": {"description": "12位统计用区划代码，未核实可留空"},
    }

    def list_options(self):
        # Each village's town (the 上级机构 column) comes with the page, not one query per village.
        return [*super().list_options(), joinedload(Center.parent)]


class ItemMaterialInline(InlineFormAdmin):
    form_columns = ["id", "name", "form", "copies"]
    form_label = "申请材料"
    column_labels = {"name": "材料名称", "form": "原件/复印件", "copies": "份数"}
    form_choices = {"form": choices(MaterialForm)}


def _yes_no(view, context, model, name):
    return "是" if getattr(model, name) else "否"


def _fee(view, context, model, name):
    if not model.has_fee:
        return "免费"
    return f"{model.fee_amount}元（{model.fee_basis}）"


def _stationed(view, context, model, name):
    return "、".join(c.name for c in model.centers)


class ServiceItemView(ConsoleModelView):
    column_list = [
        "code",
        "name",
        "department",
        "time_limit_days",
        "fee_amount",
        "online_declarable",
        "in_person_verification",
    ]
    column_labels = {
        "code": "事项编码",
        "name": "事项名称",
        "department": "办理部门",
        "department.name": "办理部门",
        "time_limit_days": "法定时限(工作日)",
        "fee_amount": "法定收费(元)",
        "fee_basis": "收费依据",
        "online_declarable": "可网上申报",
        "in_person_verification": "需本人核验",
        "notes": "备注",
        "centers": "进驻机构",
        "materials": "申请材料",
    }
    column_formatters = {
        "fee_amount": _fee,
        "online_declarable": _yes_no,
        "in_person_verification": _yes_no,
        "centers": _stationed,
    }
    column_searchable_list = ["code", "name"]
    column_filters = [
        FilterLike("department.name", "办理部门"),
        BooleanEqualFilter(ServiceItem.online_declarable, "可网上申报"),
    ]
    column_default_sort = [("code", False), ("id", False)]
    form_columns = [
        "code",
        "name",
        "department",
        "time_limit_days",
        "fee_amount",
        "fee_basis",
        "online_declarable",
        "in_person_verification",
        "centers",
        "notes",
    ]
    column_details_list = form_columns + ["materials"]
    inline_models = [ItemMaterialInline(ServiceItemMaterial)]
    form_args = {
        "fee_amount": {"description": "仅填写法律法规规定由申请人缴纳的费用；帮办代办服务本身一律免费"},
        "centers": {"description": "本事项进驻哪些服务机构；机构只能受理进驻本级的事项"},
    }


class DepartmentView(ConsoleModelView):
    column_list = ["name", "contact", "phone"]
    column_labels = {"name": "部门名称", "contact": "联络人", "phone": "联系电话"}
    column_searchable_list = ["name"]
    column_default_sort = [("id", False)]
    form_columns = ["name", "contact", "phone"]
