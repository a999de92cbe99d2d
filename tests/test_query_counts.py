"""No page runs a query per row: the statements a page runs do not depend on how many rows it shows.

Every Flask-Admin list registered on the app is walked (a view added later is covered without
editing this file), for each role that may read it. A formatter or template that touches a lazy
relationship per row makes the 100-row page run more statements than the 1-row page; a lookup that
depends on what the page happened to load already makes one page differ from the next.
"""

from __future__ import annotations

import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import select

from extensions import db
from models import Case, CaseLog, Department, ServiceItem
from models.enums import Role
from tests.builders import login_as
from tests.querycount import count_request
from tests.scope_cases import list_count

LOGINS = {
    Role.DISTRICT_ADMIN: "qu_admin",
    Role.AUDITOR: "qu_audit",
    Role.TOWN_ADMIN: "xiashan_admin",
    Role.VILLAGE_OPERATOR: "xiashan_dongshan",
}
ROLES = pytest.mark.parametrize("role", list(LOGINS), ids=lambda r: r.value)


def _readable_views(app, role: Role) -> list:
    views = [view for view in app.extensions["admin"][0]._views if isinstance(view, ModelView)]
    return [view for view in views if role in view.read_roles]


@pytest.fixture
def one_row_pages(demo_app, monkeypatch):
    """Lets every list show a single row per page, the smallest page to compare a full one with."""
    for view in demo_app.extensions["admin"][0]._views:
        if isinstance(view, ModelView):
            monkeypatch.setattr(view, "page_size_options", (1, *view.page_size_options))


@ROLES
def test_list_pages_run_the_same_statements_for_one_row_and_a_hundred(client, demo_app, one_row_pages, role):
    login_as(client, LOGINS[role])
    grows = {}
    for view in _readable_views(demo_app, role):
        url = f"/admin/{view.endpoint}/"
        one, response = count_request(client, "GET", url + "?page_size=1")
        assert response.status_code == 200, url
        hundred, response = count_request(client, "GET", url + "?page_size=100")
        if one != hundred:
            grows[view.endpoint] = (one, hundred, list_count(response.get_data(as_text=True)))
    assert grows == {}


@ROLES
def test_list_pages_run_the_same_statements_whatever_the_page(client, demo_app, role):
    # The first page against the second (other rows, other related records) at one page size.
    login_as(client, LOGINS[role])
    differs = {}
    for view in _readable_views(demo_app, role):
        url = f"/admin/{view.endpoint}/?page_size=20"
        first, response = count_request(client, "GET", url)
        if list_count(response.get_data(as_text=True)) < 40:
            continue  # no full second page to compare with
        second, _ = count_request(client, "GET", url + "&page=1")
        if first != second:
            differs[view.endpoint] = (first, second)
    assert differs == {}


def test_a_case_details_page_runs_the_same_statements_with_more_log_entries(client):
    # The log is the details page's longest list: each entry names a department (and may name an
    # agent); more entries, each with a department not seen before, must not mean more statements.
    case = db.session.scalar(select(Case).where(Case.status == "in_progress").order_by(Case.id).limit(1))
    login_as(client, "qu_admin")
    url = f"/admin/case/details/?id={case.id}"
    before, response = count_request(client, "GET", url)
    assert response.status_code == 200
    for n in range(5):
        department = Department(name=f"测试部门{n}")
        item = ServiceItem(code=f"T-QC-{n}", name=f"测试事项{n}", department=department, time_limit_days=5)
        db.session.add_all([department, item])
        db.session.add(CaseLog(case_id=case.id, content=f"联系测试部门{n}", department=department, author="qu_admin"))
    db.session.commit()
    after, response = count_request(client, "GET", url)
    assert "联系测试部门4" in response.get_data(as_text=True)
    assert after == before


@ROLES
def test_the_home_page_runs_a_fixed_handful_of_statements_whatever_the_period(client, role):
    # The supervision figures (lifecycle/statistics.py) are aggregates grouped by center, mode, item,
    # agent and month: a month, a quarter, a year or a range of the whole history (more rows, more
    # centers, items, agents and months with data) run the same statements, and few of them. The
    # overview counted by lifecycle.dashboard (status and overdue, bad reviews, open follow-ups) is
    # part of the page too.
    login_as(client, LOGINS[role])
    counts = {}
    for period in (
        "",
        "?period=2026-11",
        "?period=2026-Q3",
        "?period=2026",
        "?period=range&start=2026-04-01&end=2026-12-07",
    ):
        count, response = count_request(client, "GET", "/admin/" + period)
        assert response.status_code == 200
        assert "监督统计" in response.get_data(as_text=True)
        counts[period] = count
    assert len(set(counts.values())) == 1, counts
    assert counts[""] <= 21
