"""The home page: the login's supervision figures for a chosen period, each linked to the list it counts."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

import audit
from admin_views.base import SignedInMixin
from admin_views.charts import rate_chart, volume_chart
from admin_views.filters import date_range_value
from admin_views.monthly_report import send_monthly_report
from extensions import db
from lifecycle.monthly_report import issuing_center, monthly_report
from lifecycle.statistics import Period, PeriodError, Slice, parse_period, supervision_figures
from models.time import today_beijing

CASE, EVALUATION, COMPLAINT, FOLLOWUP = "case", "evaluation", "complaint", "followup"
PERIOD = "period"  # stands for the period's date range in the tables below

# Each figure: the list that holds its rows and the filters (URL names as ConsoleModelView.get_filter_arg
# makes them) that narrow the list to exactly the rows lifecycle/statistics.py counts.
FIGURE_FILTERS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "received": (CASE, [("received_date_datebetweenfilter", PERIOD)]),
    "completed": (CASE, [("closed_date_datebetweenfilter", PERIOD), ("status_stagefilter", "completed")]),
    "terminated": (CASE, [("closed_date_datebetweenfilter", PERIOD), ("status_stagefilter", "terminated")]),
    "on_time": (CASE, [("closed_date_datebetweenfilter", PERIOD), ("status_stagefilter", "on_time")]),
    "late": (CASE, [("closed_date_datebetweenfilter", PERIOD), ("status_stagefilter", "late")]),
    "running": (CASE, [("status_stagefilter", "running")]),
    "overdue": (CASE, [("promised_date_deadlinefilter", "overdue")]),
    "due_soon": (CASE, [("promised_date_deadlinefilter", "due_soon")]),
    "evaluations": (EVALUATION, [("created_at_beijingdatebetweenfilter", PERIOD), ("counted_booleanequalfilter", "1")]),
    "satisfied": (
        EVALUATION,
        [
            ("created_at_beijingdatebetweenfilter", PERIOD),
            ("counted_booleanequalfilter", "1"),
            ("overall_satisfactionfilter", "satisfied"),
        ],
    ),
    "paper": (
        EVALUATION,
        [
            ("created_at_beijingdatebetweenfilter", PERIOD),
            ("counted_booleanequalfilter", "1"),
            ("channel_filterequal", "paper"),
        ],
    ),
    "bad": (
        EVALUATION,
        [
            ("created_at_beijingdatebetweenfilter", PERIOD),
            ("counted_booleanequalfilter", "1"),
            ("overall_satisfactionfilter", "bad"),
        ],
    ),
    "complaints": (COMPLAINT, [("received_at_beijingdatebetweenfilter", PERIOD)]),
    "followups": (FOLLOWUP, [("case_id_followupopenedfilter", PERIOD)]),
    "followups_on_time": (
        FOLLOWUP,
        [("case_id_followupopenedfilter", PERIOD), ("closed_date_followupontimefilter", "on_time")],
    ),
    "followups_overdue": (FOLLOWUP, [("due_date_overduefollowupfilter", "overdue")]),
}

# The filter that narrows each list to one breakdown row.
SLICE_FILTERS: dict[str, dict[str, str]] = {
    "town": {
        CASE: "center_id_townfilter",
        EVALUATION: "case_id_evaluationtownfilter",
        COMPLAINT: "case_id_complainttownfilter",
        FOLLOWUP: "case_id_followuptownfilter",
    },
    "center": {endpoint: "center_id_centerfilter" for endpoint in (CASE, EVALUATION, COMPLAINT, FOLLOWUP)},
    "handed_up": {endpoint: "center_id_handedupfilter" for endpoint in (CASE, EVALUATION, COMPLAINT, FOLLOWUP)},
    "mode": {CASE: "mode_filterequal", EVALUATION: "case_id_evaluationmodefilter"},
    "item": {CASE: "id_itemfilter", EVALUATION: "case_id_evaluationitemfilter"},
    "agent": {CASE: "agent_id_agentfilter", EVALUATION: "case_id_evaluationagentfilter"},
}


def figure_url(figure: str, row: Slice, period: Period) -> str | None:
    """The list URL counting exactly `figure`'s rows for one breakdown row; None where there is no such list.

    A village clerk's comparison with its town is aggregate only: the town's records are outside its scope.
    """
    endpoint, filters = FIGURE_FILTERS[figure]
    pairs: list[tuple[str, str]] = []
    if row.kind not in ("scope",):
        arg = SLICE_FILTERS.get(row.kind, {}).get(endpoint)
        if arg is None:
            return None
        pairs.append((arg, "1" if row.kind == "handed_up" else str(row.key)))
    period_value = date_range_value(period.start, period.end)
    pairs += [(arg, period_value if value == PERIOD else value) for arg, value in filters]
    return url_for(f"{endpoint}.index_view", **{f"flt{i}_{arg}": value for i, (arg, value) in enumerate(pairs)})


def period_choices(today: dt.date, chosen: Period) -> list[tuple[str, str]]:
    """The periods offered in the picker: the last 13 months, 8 quarters and 3 years, and the chosen one."""
    options: list[Period] = []
    year, month = today.year, today.month
    for _ in range(13):
        options.append(Period.month(year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    quarter = (today.month - 1) // 3 + 1
    year = today.year
    for _ in range(8):
        options.append(Period.quarter(year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    options += [Period.year(today.year - n) for n in range(3)]
    choices = [(p.token, p.label) for p in options]
    if chosen.kind != "range" and chosen.token not in dict(choices):
        choices.insert(0, (chosen.token, chosen.label))
    return [*choices, ("range", "自定义日期范围")]


class HomeView(SignedInMixin, AdminIndexView):
    """The landing page: the user's own figures, scoped like every list."""

    @expose("/")
    def index(self):
        from lifecycle.dashboard import dashboard_figures

        today = today_beijing()
        try:
            period = parse_period(request.args, today)
        except PeriodError as error:
            flash(f"{error}；下面显示本月的统计。", "error")
            period = Period.month(today.year, today.month)
        figures = supervision_figures(db.session, current_user, period, today)
        return self.render(
            "admin/home.html",
            figures=dashboard_figures(db.session, current_user),
            stats=figures,
            period=period,
            choices=period_choices(today, period),
            chosen=(request.args.get("period") or period.token).strip(),
            typed_start=request.args.get("start", period.start.isoformat() if period.kind == "range" else ""),
            typed_end=request.args.get("end", period.end.isoformat() if period.kind == "range" else ""),
            link=lambda figure, row: figure_url(figure, row, period),
            volume_svg=volume_chart(figures.trend),
            rate_svg=rate_chart(figures.trend),
        )

    @expose("/monthly-report.<file_format>")
    def monthly_report(self, file_format: str):
        """The 月度统计表 of the chosen month, in the home page's scope; a download changes nothing, but is audited."""
        if file_format not in ("xlsx", "pdf"):
            abort(404)
        today = today_beijing()
        chosen = (request.args.get("period") or "").strip()
        try:
            period = parse_period(request.args, today)
        except PeriodError as error:
            flash(f"{error}；未导出月度统计表。", "error")
            return redirect(url_for("admin.index"))
        if period.kind != "month":
            flash("月度统计表按自然月导出，请在统计期中选择一个月份。", "error")
            return redirect(
                url_for("admin.index", period=chosen, start=request.args.get("start"), end=request.args.get("end"))
            )
        figures = supervision_figures(db.session, current_user, period, today)
        report = monthly_report(figures, issuing_center(db.session, current_user), today)
        response = send_monthly_report(report, file_format)
        audit.record(
            db.session,
            audit.AuditEvent.EXPORT,
            summary=f"导出月度统计表 {period.label}({file_format})",
            changes={"report": "monthly", "month": period.token, "format": file_format, "rows": len(report.rows)},
        )
        db.session.commit()
        return response
