"""The printable roster of agents per center (代办员公示), one center at a time within the login's scope."""

from __future__ import annotations

from flask import abort, request
from flask_admin import BaseView, expose
from flask_login import current_user

from admin_views.base import SignedInMixin
from extensions import db
from lifecycle.roster import SUPERVISION_HOTLINE, center_in_scope, roster_agents, roster_centers
from models.time import today_beijing


class RosterView(SignedInMixin, BaseView):
    @expose("/")
    def index(self):
        centers = roster_centers(db.session, current_user)
        raw = request.args.get("center")
        if raw is None:
            # Opened from the menu: the login's own center, else the first it may see.
            own = current_user.center if current_user.center in centers else None
            center = own or (centers[0] if centers else None)
            if center is None:
                abort(404)
        else:
            center = center_in_scope(db.session, current_user, raw)
            if center is None:
                abort(404)  # another town's center, like a record out of scope, does not exist
        return self.render(
            "roster/notice.html",
            center=center,
            centers=centers,
            agents=roster_agents(db.session, center),
            supervisor=center.parent,
            hotline=SUPERVISION_HOTLINE,
            today=today_beijing(),
        )
