"""The 月度统计表 (issue 12 "Registers and reports"; domain.md §4 monthly statistics by town and village).

A fixed selection of the home page's figures (lifecycle.statistics.supervision_figures), one row per
row of its breakdown by the level below the login's, then the total and, for a village clerk, its
town's reference row: nothing is counted here a second time, so the table always equals the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.statistics import Figures, Row, Supervision
from models import Center, User
from models.enums import Tier

REPORT_TITLE = "潮南区帮办代办服务月度统计表"


@dataclass(frozen=True)
class Column:
    """One column: its Chinese header, the figure it reads and how the value is written."""

    header: str
    value: Callable[[Figures], int | float | None]
    kind: str = "count"  # count, rate (a share, printed as a percentage) or days (one decimal)


# domain.md §4: 受理量, 办结量, 按时办结率, 在办/超期数, 满意率, 差评数, 回访率 (整改率 is not recorded as a
# figure yet). Columns marked * are stocks as of the day the table is made, as on the home page.
COLUMNS: list[Column] = [
    Column("受理量", lambda f: f.received),
    Column("办结量", lambda f: f.completed),
    Column("终止量", lambda f: f.terminated),
    Column("按时办结量", lambda f: f.on_time),
    Column("按时办结率", lambda f: f.on_time_rate, "rate"),
    Column("平均办理时长(工作日)", lambda f: f.average_days, "days"),
    Column("在办数*", lambda f: f.running),
    Column("超期数*", lambda f: f.overdue),
    Column("评价数", lambda f: f.evaluations),
    Column("满意率", lambda f: f.satisfaction_rate, "rate"),
    Column("差评数", lambda f: f.bad),
    Column("投诉数", lambda f: f.complaints),
    Column("回访工单", lambda f: f.followups),
    Column("回访率", lambda f: f.callback_rate, "rate"),
    Column("超期回访*", lambda f: f.followups_overdue),
]


def format_value(kind: str, value: int | float | None) -> str:
    """A value as the home page writes it: a rate as 95.0%, days with one decimal, nothing as —."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "days":
        return f"{value:.1f}"
    return str(value)


@dataclass(frozen=True)
class ReportRow:
    label: str
    values: list[int | float | None]
    role: str = "level"  # level, total or reference (a village clerk's town, for comparison only)

    def texts(self) -> list[str]:
        return [format_value(column.kind, value) for column, value in zip(COLUMNS, self.values, strict=True)]


@dataclass(frozen=True)
class MonthlyReport:
    title: str
    month_label: str  # 2026年11月
    start: dt.date
    end: dt.date
    caption: str  # the first column's header: 镇(街道) / 机构 / 本站
    issuer: Center
    made_on: dt.date
    rows: list[ReportRow]

    @property
    def headers(self) -> list[str]:
        return [self.caption, *(column.header for column in COLUMNS)]

    @property
    def full_title(self) -> str:
        return f"{self.title} {self.month_label}"


def _row(row: Row, role: str) -> ReportRow:
    return ReportRow(row.label, [column.value(row.figures) for column in COLUMNS], role)


def issuing_center(session: Session, user: User) -> Center:
    """The center that signs the table off: the login's own, or the district center for district-wide logins."""
    if user.center is not None:
        return user.center
    return session.scalars(select(Center).where(Center.tier == Tier.DISTRICT.value).order_by(Center.id)).first()


def monthly_report(supervision: Supervision, issuer: Center, made_on: dt.date) -> MonthlyReport:
    """The table for one month's supervision figures of one login (supervision.period must be a month)."""
    period = supervision.period
    if period.kind != "month":
        raise ValueError("月度统计表只按自然月制表")
    caption = "单位" if supervision.level_caption == "本站" else supervision.level_caption
    rows = [_row(row, "level") for row in supervision.levels]
    rows.append(_row(supervision.total, "total"))
    if supervision.comparison is not None:
        rows.append(_row(supervision.comparison, "reference"))
    return MonthlyReport(REPORT_TITLE, period.label, period.start, period.end, caption, issuer, made_on, rows)
