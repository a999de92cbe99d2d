"""List filters shared by the case and supervision lists, and used by the home page's figure links.

Each is an ordinary Flask-Admin filter a clerk can also pick by hand; the home page's links
(admin_views/home.py) combine them so that a list counts exactly the rows a figure counts.
"""

from __future__ import annotations

import datetime as dt

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter
from flask_login import current_user
from sqlalchemy import false

from lifecycle.scope import visible_center_ids
from lifecycle.statistics import Period


class BeijingDateBetweenFilter(DateBetweenFilter):
    """Calendar days in Beijing time over a timestamp column stored in naive UTC.

    Flask-Admin's own date filter compares the stored UTC time with the dates, which moves the
    first eight hours of each Beijing day into the day before.
    """

    def apply(self, query, value, alias=None):
        start, end = Period(value[0], value[1]).utc_bounds()
        column = self.get_column(alias)
        return query.filter(column >= start, column < end)


class HandedUpFilter(BaseSQLAFilter):
    """Records of cases the login's centers first received and handed up to a center outside its scope."""

    def __init__(self, center_column, name: str = "已转办上级的首问件") -> None:
        super().__init__(center_column, name, options=[("1", "是")])

    def apply(self, query, value, alias=None):
        ids = visible_center_ids(current_user)
        if value != "1" or ids is None:
            # The district's scope has nowhere above it to hand a case to.
            return query.filter(false()) if value == "1" else query
        return query.filter(self.column.not_in(ids))

    def operation(self):
        return "为"


def date_range_value(start: dt.date, end: dt.date) -> str:
    """The value a date-range filter reads from the URL (Flask-Admin's "from to to" form)."""
    return f"{start.isoformat()} to {end.isoformat()}"
