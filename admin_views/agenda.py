"""The work calendar (工作日历): month and week views of due dates, resumptions and visits, in scope."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import select

from admin_views.base import SignedInMixin
from extensions import db
from lifecycle import agenda as agenda_rules
from lifecycle.agenda import DUE, KIND_LABELS, RESUME, VISIT, agenda, month_weeks, week_of
from lifecycle.deadlines import ASSUMED_NOTE
from lifecycle.roster import center_in_scope, roster_centers
from lifecycle.scope import scope_clause
from models import Agent
from models.keys import parse_key
from models.time import today_beijing

MONTH = "month"
WEEK = "week"
# A month cell shows this many entries, then links to the week that holds all of them.
MONTH_CELL_ENTRIES = 6
WEEKDAYS = "一二三四五六日"


def _anchor(raw: str | None, today: dt.date) -> dt.date:
    if not raw:
        return today
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        flash("日期格式不正确(应为 年-月-日)，已显示今天所在的月份。", "warning")
        return today
    if not 2000 <= day.year <= 2100:
        flash("日期超出范围，已显示今天所在的月份。", "warning")
        return today
    return day


def _shift_month(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


class AgendaView(SignedInMixin, BaseView):
    @expose("/")
    def index(self):
        today = today_beijing()
        view = WEEK if request.args.get("view") == WEEK else MONTH
        anchor = _anchor(request.args.get("date"), today)
        center = None
        if request.args.get("center"):
            center = center_in_scope(db.session, current_user, request.args["center"])
            if center is None:
                abort(404)  # out of scope is the same as not existing
        agent = None
        if request.args.get("agent"):
            key = parse_key(request.args["agent"])
            agent = (
                db.session.scalar(select(Agent).where(Agent.id == key, scope_clause(Agent, current_user)))
                if key is not None
                else None
            )
            if agent is None:
                abort(404)
        if view == MONTH:
            weeks = month_weeks(anchor.year, anchor.month)
            previous, following = _shift_month(anchor, -1), _shift_month(anchor, 1)
            title = f"{anchor.year}年{anchor.month}月"
        else:
            weeks = [week_of(anchor)]
            previous, following = anchor - dt.timedelta(days=7), anchor + dt.timedelta(days=7)
            first, last = weeks[0][0], weeks[0][-1]
            title = f"{first.year}年{first.month}月{first.day}日 至 {last.year}年{last.month}月{last.day}日"
        result = agenda(
            db.session,
            current_user,
            weeks[0][0],
            weeks[-1][-1],
            today,
            center_id=center.id if center else None,
            agent_id=agent.id if agent else None,
        )
        agents_query = select(Agent).where(scope_clause(Agent, current_user), Agent.active.is_(True))
        if center is not None:
            agents_query = agents_query.where(Agent.center_id == center.id)
        choices = {"view": view, "center": center.id if center else None, "agent": agent.id if agent else None}

        def link(**changes) -> str:
            args = {**choices, "date": anchor.isoformat(), **changes}
            return url_for(".index", **{k: v for k, v in args.items() if v is not None})

        return self.render(
            "agenda/calendar.html",
            view=view,
            title=title,
            weeks=weeks,
            anchor=anchor,
            today=today,
            agenda=result,
            center=center,
            agent=agent,
            centers=roster_centers(db.session, current_user),
            agents=db.session.scalars(agents_query.order_by(Agent.center_id, Agent.staff_no)).all(),
            link=link,
            previous=previous,
            following=following,
            weekdays=WEEKDAYS,
            cell_entries=MONTH_CELL_ENTRIES if view == MONTH else None,
            kinds=[(kind, KIND_LABELS[kind]) for kind in (DUE, RESUME, VISIT)],
            assumed=any(info.assumed for info in result.days.values()),
            assumed_note=ASSUMED_NOTE,
            max_entries=agenda_rules.MAX_ENTRIES,
        )
