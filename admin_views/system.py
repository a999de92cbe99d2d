"""System views: users and the read-only audit log."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual, FilterLike
from wtforms import PasswordField
from wtforms.validators import Optional

import audit
from admin_views.base import ConsoleModelView
from auth.passwords import password_error
from extensions import db
from jobs.export import void_out_of_scope_jobs
from models import AuditLog, User
from models.enums import DISTRICT_WIDE_ROLES, Role, choices
from models.time import format_beijing


class UserView(ConsoleModelView):
    read_roles = frozenset({Role.DISTRICT_ADMIN})
    delete_roles = frozenset()  # users are disabled, never deleted, so the audit trail keeps its names
    column_list = ["username", "full_name", "role", "center", "active", "locked_until"]
    column_labels = {
        "username": "用户名",
        "full_name": "姓名",
        "role": "角色",
        "center": "所属机构",
        "active": "启用",
        "locked_until": "锁定至",
        "new_password": "设置新密码",
        "created_at": "创建时间",
    }
    column_choices = {"role": choices(Role)}
    form_choices = column_choices
    column_formatters = {
        "active": lambda v, c, m, n: "启用" if m.active else "停用",
        "locked_until": lambda v, c, m, n: format_beijing(m.locked_until),
        "created_at": lambda v, c, m, n: format_beijing(m.created_at),
    }
    column_searchable_list = ["username", "full_name"]
    column_filters = [FilterEqual(User.role, "角色", options=choices(Role))]
    column_default_sort = [("id", False)]
    form_columns = ["username", "full_name", "role", "center", "active", "new_password"]
    form_extra_fields = {
        "new_password": PasswordField(
            "设置新密码",
            validators=[Optional()],
            description="新建用户必填；编辑时留空表示不修改。至少10位，含大写、小写、数字、符号中三类",
        )
    }
    column_details_list = ["username", "full_name", "role", "center", "active", "locked_until", "created_at"]

    def on_model_change(self, form, model, is_created):
        password = form.new_password.data or ""
        if is_created and not password:
            form.new_password.errors = ["新建用户须设置初始密码"]
            raise_validation()
        if password:
            message = password_error(password, model.username or "")
            if message:
                form.new_password.errors = [message]
                raise_validation()
            model.set_password(password)
            if not is_created:
                model.session_epoch += 1  # a password reset ends the user's open sessions
        if not is_created and not model.active:
            model.session_epoch += 1
        super().on_model_change(form, model, is_created)

    def after_model_change(self, form, model, is_created):
        # A new role or center, or a deactivation, ends access to batch exports made under the old one.
        if not is_created and void_out_of_scope_jobs(model):
            db.session.commit()


def raise_validation() -> None:
    from wtforms.validators import ValidationError

    raise ValidationError("保存失败，请修正标出的错误。")


# Every mapped table's Chinese name: an audit row names the table of the record it is about
# (tests/test_audit.py fails when a model is added without one here).
OBJECT_TYPES = [
    ("case", "案件"),
    ("case_log", "办理过程记录"),
    ("case_material", "申请材料"),
    ("case_fee", "法定收费"),
    ("case_handoff", "转办记录"),
    ("case_extension", "延期申请"),
    ("case_tally", "案件计数"),
    ("applicant", "申请人"),
    ("applicant_center", "申请人可见机构"),
    ("agent", "代办员"),
    ("agent_photo", "代办员照片"),
    ("agent_training", "培训记录"),
    ("evaluation", "评价"),
    ("evaluation_link", "评价链接"),
    ("followup", "差评与投诉回访"),
    ("complaint", "投诉"),
    ("center", "服务机构"),
    ("service_item", "服务事项"),
    ("service_item_material", "事项材料"),
    ("department", "审批部门"),
    ("holiday_year", "节假日安排"),
    ("holiday_day", "节假日及调休日"),
    ("export_job", "批量导出任务"),
    ("export_chunk", "导出分片"),
    ("export_job_case", "导出任务案件"),
    ("user", "用户"),
    ("audit_log", "审计日志"),
    ("audit_head", "审计链检查点"),
]


class AuditLogView(ConsoleModelView):
    read_roles = DISTRICT_WIDE_ROLES
    write_roles = frozenset()
    delete_roles = frozenset()
    can_export = False
    column_list = ["at", "username", "role", "event", "object_type", "object_id", "summary", "ip"]
    column_labels = {
        "at": "时间(北京时间)",
        "username": "用户",
        "role": "角色",
        "event": "事件",
        "object_type": "对象类型",
        "object_id": "对象编号",
        "summary": "摘要",
        "changes": "变更内容",
        "ip": "IP地址",
    }
    EVENTS = audit.event_choices()
    column_choices = {"event": EVENTS, "role": choices(Role) + [("system", "系统")], "object_type": OBJECT_TYPES}
    column_formatters = {"at": lambda v, c, m, n: format_beijing(m.at)}
    column_searchable_list = ["username", "summary"]
    column_filters = [
        FilterLike(AuditLog.username, "用户"),
        FilterEqual(AuditLog.event, "事件", options=EVENTS),
        FilterEqual(AuditLog.object_type, "对象类型", options=OBJECT_TYPES),
        FilterEqual(AuditLog.object_id, "对象编号"),
        DateBetweenFilter(AuditLog.at, "日期"),
    ]
    column_default_sort = [("id", True)]
    column_details_list = ["at", "username", "role", "event", "object_type", "object_id", "summary", "changes", "ip"]
