"""People views: applicants and agents (帮办代办员)."""

from __future__ import annotations

from flask import abort, make_response, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual
from flask_admin.form import rules
from flask_admin.model.form import InlineFormAdmin
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, undefer
from wtforms import BooleanField, FileField
from wtforms.validators import ValidationError

from admin_views.base import ConsoleModelView, IntInListFilter
from admin_views.pii import ExportMixin, IdNumberSearchMixin
from admin_views.reference import CenterFilter, TownFilter
from extensions import db
from lifecycle.photos import MAX_PHOTO_BYTES, PhotoError, photo_type, remove_photo, set_photo
from lifecycle.scope import scope_clause
from models import Agent, AgentPhoto, AgentTraining, Applicant, Center, ServiceItem
from models.enums import ADMIN_ROLES, STAFF_ROLES, ApplicantKind, Gender, IdType, Role, choices
from models.identifiers import mask_id_number, mask_phone, normalize_id_number, normalize_phone

# Personal numbers and their masks: used by the list, the details page and the edit form alike.
APPLICANT_MASKS = {
    "id_number": mask_id_number,
    "contact_id_number": mask_id_number,
    "phone": mask_phone,
    "contact_phone": mask_phone,
}


def _masked(view, context, model, name):
    return APPLICANT_MASKS[name](getattr(model, name))


def scoped_centers():
    return db.session.scalars(select(Center).where(scope_clause(Center, current_user)).order_by(Center.id)).all()


def force_center(model, field_name: str = "center") -> None:
    """A village operator's records always belong to its own station, whatever was posted."""
    if current_user.role == Role.VILLAGE_OPERATOR:
        setattr(model, field_name, current_user.center)


def _applicant_export_columns() -> list:
    return [
        ("姓名/单位名称", lambda a: a.name),
        ("申请人类型", lambda a: "自然人" if a.is_person else "法人或其他组织"),
        ("证件号码/统一社会信用代码", lambda a: a.credit_code or mask_id_number(a.id_number)),
        ("联系电话", lambda a: mask_phone(a.phone)),
        ("地址", lambda a: a.address),
        ("特殊群体", lambda a: "、".join(a.special_groups)),
        ("经办人", lambda a: a.contact_name or ""),
        ("经办人电话", lambda a: mask_phone(a.contact_phone)),
        ("登记机构", lambda a: a.center.name),
    ]


APPLICANT_FIELDSETS = [
    ("基本信息", ("kind", "center", "name", "phone", "address")),
    (
        "自然人(个人)",
        ("gender", "id_type", "id_number", "is_elderly", "is_disabled", "is_pregnant", "has_limited_mobility"),
    ),
    (
        "法人或其他组织(单位)",
        ("credit_code", "legal_representative", "contact_name", "contact_id_number", "contact_phone", "contact_title"),
    ),
]


class ApplicantView(IdNumberSearchMixin, ExportMixin, ConsoleModelView):
    write_roles = STAFF_ROLES
    list_template = "admin/console_list.html"
    export_title = "申请人名册"
    export_columns = _applicant_export_columns()
    export_full_columns = {
        "证件号码/统一社会信用代码": lambda a: a.credit_code or a.id_number or "",
        "联系电话": lambda a: a.phone or "",
        "经办人电话": lambda a: a.contact_phone or "",
    }
    column_list = ["name", "kind", "identifier", "phone", "center"]
    column_labels = {
        "kind": "申请人类型",
        "identifier": "证件号码/统一社会信用代码",
        "center": "登记机构",
        "name": "姓名/单位名称",
        "gender": "性别",
        "id_type": "证件类型",
        "id_number": "证件号码",
        "phone": "联系电话",
        "address": "住址/单位地址",
        "is_elderly": "老年人",
        "is_disabled": "残疾人",
        "is_pregnant": "孕妇",
        "has_limited_mobility": "行动不便",
        "credit_code": "统一社会信用代码",
        "legal_representative": "法定代表人/负责人",
        "contact_name": "经办人姓名",
        "contact_id_number": "经办人证件号码",
        "contact_phone": "经办人电话",
        "contact_title": "经办人职务",
    }
    column_choices = {"kind": choices(ApplicantKind), "gender": choices(Gender), "id_type": choices(IdType)}
    form_choices = column_choices
    column_formatters = {
        "identifier": lambda v, c, m, n: m.credit_code if m.credit_code else mask_id_number(m.id_number),
        **dict.fromkeys(APPLICANT_MASKS, _masked),
    }
    column_searchable_list = ["name", "credit_code"]
    column_filters = [
        FilterEqual(Applicant.kind, "申请人类型", options=choices(ApplicantKind)),
        CenterFilter(Applicant.center_id, "登记机构"),
        TownFilter(Applicant.center_id),
        IntInListFilter(Applicant.id, "申请人编号"),
    ]
    column_default_sort = [("id", True)]
    form_columns = [name for _, fields in APPLICANT_FIELDSETS for name in fields]
    form_rules = [rules.FieldSet(fields, title) for title, fields in APPLICANT_FIELDSETS]
    column_details_list = form_columns
    column_formatters_detail = column_formatters
    form_args = {
        "center": {"query_factory": scoped_centers},
        "id_number": {"description": "居民身份证18位，末位X可小写；按GB 11643校验"},
        "credit_code": {"description": "单位申请人填写，18位，按GB 32100校验"},
    }

    def export_loader_options(self):
        return [joinedload(Applicant.center)]

    def applicant_filter_url(self, applicant_ids):
        return url_for(".index_view", flt0_id_intinlistfilter=",".join(map(str, applicant_ids)))

    masked_form_fields = APPLICANT_MASKS

    def on_model_change(self, form, model, is_created):
        force_center(model)
        self.keep_masked_values(model)
        for field in ("id_number", "contact_id_number", "credit_code"):
            value = getattr(model, field)
            setattr(model, field, normalize_id_number(value) if value else None)
        for field in ("phone", "contact_phone"):
            value = getattr(model, field)
            if value:
                setattr(model, field, normalize_phone(value))
        if model.kind == ApplicantKind.ORGANIZATION:
            model.gender = None
        super().on_model_change(form, model, is_created)


class TrainingInline(InlineFormAdmin):
    form_columns = ["id", "date", "topic", "hours"]
    form_label = "培训记录"
    column_labels = {"date": "培训日期", "topic": "培训内容", "hours": "学时"}


def _items(view, context, model, name):
    return "、".join(i.name for i in model.items)


class PhotoUploadField(FileField):
    """The roster photo's file input: checked by its bytes when the form validates, stored by the view."""

    photo_bytes: bytes | None = None

    def pre_validate(self, form) -> None:
        self.photo_bytes = None
        upload = self.data
        if upload is None or not getattr(upload, "filename", ""):
            return  # nothing chosen: the photo on record stays
        # One byte past the limit is enough to know it is too big, without reading a huge upload whole.
        data = upload.stream.read(MAX_PHOTO_BYTES + 1)
        try:
            photo_type(data)
        except PhotoError as exc:
            raise ValidationError(str(exc)) from exc
        self.photo_bytes = data

    def populate_obj(self, obj, name) -> None:
        pass  # stored by AgentView.on_model_change through lifecycle.photos


class PhotoRemoveField(BooleanField):
    def populate_obj(self, obj, name) -> None:
        pass


def _photo(view, context, model, name):
    if model.photo is None:
        return "未上传"
    src = url_for(".photo_view", id=model.id, v=model.photo.sha256[:12])
    return Markup('<img class="agent-photo-thumb" src="{}" alt="{}的照片">').format(src, model.name)


class AgentView(ConsoleModelView):
    write_roles = ADMIN_ROLES
    column_list = ["staff_no", "name", "center", "phone", "active"]
    column_labels = {
        "name": "姓名",
        "staff_no": "工号",
        "center": "所属机构",
        "phone": "联系电话",
        "active": "在岗",
        "items": "承接事项",
        "trainings": "培训记录",
        "photo": "照片",
    }
    column_formatters = {
        "items": _items,
        "active": lambda v, c, m, n: "在岗" if m.active else "停用",
        "photo": _photo,
    }
    column_searchable_list = ["name", "staff_no"]
    column_filters = [
        CenterFilter(Agent.center_id, "所属机构"),
        TownFilter(Agent.center_id),
        BooleanEqualFilter(Agent.active, "在岗"),
    ]
    column_default_sort = [("staff_no", False), ("id", False)]
    form_columns = ["staff_no", "name", "center", "phone", "active", "items", "photo_upload", "photo_remove"]
    form_extra_fields = {
        "photo_upload": PhotoUploadField(
            "照片(选填，用于代办员公示)",
            description=f"JPEG 或 PNG 图片，不超过 {MAX_PHOTO_BYTES // (1024 * 1024)} MB；不选择文件则保留原照片",
            render_kw={"accept": "image/jpeg,image/png"},
        ),
        "photo_remove": PhotoRemoveField("删除现有照片"),
    }
    column_details_list = ["staff_no", "name", "center", "phone", "active", "items", "photo", "trainings"]
    inline_models = [TrainingInline(AgentTraining)]
    form_args = {
        "center": {"query_factory": scoped_centers},
        "items": {"query_factory": lambda: db.session.scalars(select(ServiceItem).order_by(ServiceItem.code)).all()},
    }

    def get_one_options(self):
        return [joinedload(Agent.photo)]

    def create_form(self, obj=None):
        form = super().create_form(obj)
        del form.photo_remove  # a new agent has no photo to remove
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None and obj.photo is not None:
            form.photo_upload.description = Markup("{}<br>当前照片：{}").format(
                form.photo_upload.description, _photo(self, None, obj, "photo")
            )
        else:
            del form.photo_remove
        return form

    def on_model_change(self, form, model, is_created):
        if model.phone:
            model.phone = normalize_phone(model.phone)
        super().on_model_change(form, model, is_created)
        # The photo rows are written (and audited: create, update, delete) with the agent's save.
        if form.photo_upload.photo_bytes is not None:
            set_photo(model, form.photo_upload.photo_bytes)
        elif "photo_remove" in form and form.photo_remove.data:
            remove_photo(model)

    @expose("/photo/")
    def photo_view(self):
        """The agent's photo, only for an agent in the user's scope; 404 otherwise, as for any record."""
        agent = self.get_one(request.args.get("id"))
        if agent is None or agent.photo is None:
            abort(404)
        photo = db.session.scalar(
            select(AgentPhoto).where(AgentPhoto.agent_id == agent.id).options(undefer(AgentPhoto.data))
        )
        response = make_response(photo.data)
        response.mimetype = photo.content_type
        response.headers["Content-Disposition"] = "inline"
        response.set_etag(photo.sha256)
        return response
