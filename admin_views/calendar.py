"""The bureau's holiday table (节假日安排) and the review of promised dates counted on an assumed year."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, DateBetweenFilter
from flask_login import current_user
from sqlalchemy import func, select

from admin_views.base import ConsoleModelView, forbid
from extensions import db
from lifecycle.clock import recompute_assumed
from lifecycle.deadlines import is_assumed_year, load_calendar
from lifecycle.errors import ConflictError, TransitionError
from lifecycle.scope import scope_clause
from lifecycle.transitions import PROMISED
from models import Case, HolidayDay
from models.enums import Role
from models.time import format_beijing

_YES_NO = [("1", "是"), ("0", "否")]


def open_assumed_count() -> int:
    """Open cases (in the user's scope) whose promised date was counted on an assumed calendar."""
    return db.session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.promised_assumed.is_(True),
            Case.status.in_([s.value for s in PROMISED]),
            scope_clause(Case, current_user),
        )
    )


class HolidayYearView(ConsoleModelView):
    """Years of the table: the district admin marks one confirmed once the notice is entered."""

    list_template = "holiday/year_list.html"
    column_list = ["year", "confirmed", "notice_ref", "days", "source", "updated_at"]
    column_labels = {
        "year": "年份",
        "confirmed": "已按通知确认",
        "notice_ref": "国务院办公厅通知文号",
        "days": "已登记天数",
        "source": "计算依据",
        "updated_at": "更新时间(北京时间)",
    }
    column_formatters = {
        "confirmed": lambda v, c, m, n: "是" if m.confirmed else "否(待通知公布)",
        "days": lambda v, c, m, n: db.session.scalar(
            select(func.count()).select_from(HolidayDay).where(func.extract("year", HolidayDay.day) == m.year)
        ),
        "source": lambda v, c, m, n: (
            "本表(已确认)"
            if m.confirmed
            else ("法定节假日+周一至周五推算" if is_assumed_year(m.year, load_calendar(db.session)) else "节假日库")
        ),
        "updated_at": lambda v, c, m, n: format_beijing(m.updated_at),
    }
    column_default_sort = "year"
    form_columns = ["year", "confirmed", "notice_ref"]
    form_edit_rules = ["confirmed", "notice_ref"]
    form_args = {
        "year": {"description": "公历年份"},
        "confirmed": {
            "description": "国务院办公厅当年放假安排通知已公布，且放假日与调休上班日已逐日录入“节假日及调休日”"
        },
        "notice_ref": {"description": "如：国办发明电〔2026〕X号"},
    }

    def list_context(self) -> dict:
        return {"assumed_open": open_assumed_count(), "may_recompute": current_user.role == Role.DISTRICT_ADMIN}

    @expose("/recompute/", methods=["POST"])
    def recompute_view(self):
        if current_user.role != Role.DISTRICT_ADMIN:
            forbid()
        try:
            report = recompute_assumed(db.session, current_user)
        except (TransitionError, ConflictError) as exc:
            flash(f"复核未完成：{exc}", "error")
            return redirect(url_for(".index_view"))
        flash(
            f"复核完成：改期 {len(report.changed)} 件，日期不变已确认 {len(report.confirmed)} 件，"
            f"仍为推算 {len(report.still_assumed)} 件，跳过 {len(report.skipped)} 件。",
            "success",
        )
        for number, old, new in report.changed:
            flash(f"{number}：承诺办结日期由{old}改为{new}", "info")
        for number, reason in report.skipped:
            flash(f"{number} 未重算：{reason}", "warning")
        return redirect(url_for(".index_view"))


class HolidayDayView(ConsoleModelView):
    """Days that differ from Monday-Friday: days off, and weekend days worked in exchange (调休上班)."""

    column_list = ["day", "weekday", "is_workday", "name"]
    column_labels = {"day": "日期", "weekday": "星期", "is_workday": "类型", "name": "名称"}
    column_formatters = {
        "weekday": lambda v, c, m, n: "一二三四五六日"[m.day.weekday()],
        "is_workday": lambda v, c, m, n: "调休上班" if m.is_workday else "放假",
    }
    column_default_sort = "day"
    column_filters = [
        DateBetweenFilter(HolidayDay.day, "日期"),
        BooleanEqualFilter(HolidayDay.is_workday, "调休上班", options=_YES_NO),
    ]
    form_columns = ["day", "is_workday", "name"]
    form_args = {
        "day": {"label": "日期"},
        "is_workday": {"label": "调休上班日", "description": "不勾选为放假日；勾选为调休上班的周六或周日"},
        "name": {"label": "名称", "description": "如：春节、国庆节调休"},
    }
    page_size = 50

    def get_one(self, id):
        # Keyed by the day itself; the base view's get_one expects an integer id.
        try:
            day = dt.date.fromisoformat(str(id))
        except ValueError:
            return None
        return db.session.get(HolidayDay, day)
