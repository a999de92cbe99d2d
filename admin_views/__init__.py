"""Builds a fresh Flask-Admin console per app and registers every view."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin_views.account import AccountView
from admin_views.agenda import AgendaView
from admin_views.calendar import HolidayDayView, HolidayYearView
from admin_views.case import CaseView
from admin_views.export import ExportJobView
from admin_views.extension import ExtensionView
from admin_views.haochaping import HaochapingView
from admin_views.home import HomeView
from admin_views.people import AgentView, ApplicantView
from admin_views.reference import CenterView, DepartmentView, ServiceItemView
from admin_views.roster import RosterView
from admin_views.supervision import ComplaintView, EvaluationView, FollowUpView
from admin_views.system import AuditLogView, UserView
from extensions import db
from models import (
    Agent,
    Applicant,
    AuditLog,
    Case,
    CaseExtension,
    Center,
    Complaint,
    Department,
    Evaluation,
    ExportJob,
    FollowUp,
    HolidayDay,
    HolidayYear,
    ServiceItem,
    User,
)
from security import csp_nonce


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name="潮南区帮办代办管理平台",
        theme=Bootstrap4Theme(swatch="default", fluid=True, base_template="admin/console_base.html"),
        index_view=HomeView(name="首页", url="/admin"),
        csp_nonce_generator=csp_nonce,
    )
    s = db
    admin.add_view(CaseView(Case, s, name="案件台账", endpoint="case", category="案件"))
    admin.add_view(ExtensionView(CaseExtension, s, name="延期审批", endpoint="case_extension", category="案件"))
    admin.add_view(AgendaView(name="工作日历", endpoint="agenda", url="/admin/agenda", category="案件"))
    admin.add_view(ApplicantView(Applicant, s, name="申请人", endpoint="applicant", category="人员"))
    admin.add_view(AgentView(Agent, s, name="帮办代办员", endpoint="agent", category="人员"))
    admin.add_view(RosterView(name="代办员公示", endpoint="roster", url="/admin/roster", category="人员"))
    admin.add_view(EvaluationView(Evaluation, s, name="服务评价", endpoint="evaluation", category="评价与回访"))
    admin.add_view(FollowUpView(FollowUp, s, name="差评与投诉回访", endpoint="followup", category="评价与回访"))
    admin.add_view(ComplaintView(Complaint, s, name="投诉登记", endpoint="complaint", category="评价与回访"))
    admin.add_view(
        HaochapingView(name="好差评导入导出", endpoint="haochaping", url="/admin/haochaping", category="评价与回访")
    )
    admin.add_view(ExportJobView(ExportJob, s, name="批量导出任务", endpoint="export_job", category="案件"))
    admin.add_view(CenterView(Center, s, name="服务机构", endpoint="center", category="基础数据"))
    admin.add_view(ServiceItemView(ServiceItem, s, name="服务事项", endpoint="service_item", category="基础数据"))
    admin.add_view(DepartmentView(Department, s, name="审批部门", endpoint="department", category="基础数据"))
    admin.add_view(HolidayYearView(HolidayYear, s, name="节假日安排", endpoint="holiday_year", category="基础数据"))
    admin.add_view(HolidayDayView(HolidayDay, s, name="节假日及调休日", endpoint="holiday_day", category="基础数据"))
    admin.add_view(UserView(User, s, name="用户管理", endpoint="user", category="系统"))
    admin.add_view(AuditLogView(AuditLog, s, name="审计日志", endpoint="audit_log", category="系统"))
    admin.add_view(AccountView(name="修改密码", endpoint="account", url="/admin/account", category="账户"))
    return admin
