"""工作日历: due dates, expected resumptions and door-to-door visits by day, per center and agent, in scope.

Expected days come from the issue (a case's promised date on its day; weeks run Monday to Sunday)
and from the State Council's 2026 holiday notice (国庆节 1-7 October off, Saturday 10 October worked).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select

from extensions import db
from models import AuditLog, Case
from models.enums import Mode, Status
from tests.builders import center, login_as
from tests.scope_cases import form_of

XIASHAN = "峡山街道便民服务中心"
DONGSHAN = "东山社区便民服务站"
TAOXI = "桃溪社区便民服务站"
CHENDIAN = "陈店镇便民服务中心"
NOW = "2026-12-08 10:00"
RUNNING = [Status.REGISTERED, Status.ACCEPTED, Status.IN_PROGRESS]


def _client(app, username: str):
    # A fresh login, not a cached session cookie: these tests move the clock, and a cookie signed
    # at another time is (rightly) out of its session window.
    client = app.test_client()
    login_as(client, username)
    return client


def _case(center_name: str, statuses=RUNNING, mode: Mode | None = None) -> Case:
    """A case held by the center, or for a town name by the town or one of its stations."""
    place = center(center_name)
    held = [place.id] + ([c.id for c in place.children] if center_name == CHENDIAN else [])
    query = select(Case).where(Case.center_id.in_(held), Case.status.in_(statuses))
    if mode is not None:
        query = query.where(Case.mode == mode)
    case = db.session.scalar(query.order_by(Case.id))
    assert case is not None, f"the demo data has such a case at {center_name}"
    return case


def _due(center_name: str, day: dt.date) -> Case:
    """A running case at the center, its promised date moved to `day` (test setup, not a console step)."""
    case = _case(center_name)
    case.promised_date = day
    db.session.commit()
    return case


def _cells(body: str) -> dict[str, str]:
    """The calendar's day cells by their date."""
    return dict(re.findall(r'<td data-day="([\d-]+)"[^>]*>(.*?)</td>', body, re.S))


def _page(client, **args) -> dict[str, str]:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    response = client.get(f"/admin/agenda/?{query}")
    assert response.status_code == 200
    return _cells(response.get_data(as_text=True))


def _link(case: Case) -> str:
    return f'href="/admin/case/details/?id={case.id}"'


@pytest.fixture
def december(travel_to):
    travel_to(NOW)


def test_a_due_date_sits_in_its_own_day_cell_and_links_to_the_case(demo_app, december):
    case = _due(DONGSHAN, dt.date(2026, 12, 17))
    cells = _page(_client(demo_app, "xiashan_admin"), date="2026-12-01")
    assert _link(case) in cells["2026-12-17"]
    assert f"办结 {case.applicant_name}" in re.sub(r"\s+", " ", cells["2026-12-17"])
    assert [day for day, cell in cells.items() if _link(case) in cell] == ["2026-12-17"]
    # A month view is whole weeks, Monday first: 30 November to 3 January.
    assert list(cells)[0] == "2026-11-30" and list(cells)[-1] == "2027-01-03" and len(cells) == 35


def test_a_town_admin_sees_its_villages_entries_and_not_another_towns(demo_app, december):
    day = dt.date(2026, 12, 16)
    ours, theirs = _due(DONGSHAN, day), _due(CHENDIAN, day)
    cell = _page(_client(demo_app, "xiashan_admin"), view="week", date=day.isoformat())[day.isoformat()]
    assert _link(ours) in cell and ours.number in cell
    assert _link(theirs) not in cell and theirs.number not in cell
    district = _page(_client(demo_app, "qu_admin"), view="week", date=day.isoformat())[day.isoformat()]
    assert _link(ours) in district and _link(theirs) in district


def test_a_village_clerk_sees_only_its_own_stations_entries(demo_app, december):
    day = dt.date(2026, 12, 15)
    own, neighbour, town = _due(DONGSHAN, day), _due(TAOXI, day), _due(XIASHAN, day)
    cell = _page(_client(demo_app, "xiashan_dongshan"), view="week", date=day.isoformat())[day.isoformat()]
    assert _link(own) in cell
    assert _link(neighbour) not in cell and _link(town) not in cell


@pytest.mark.parametrize(
    ("username", "target", "expected"),
    [
        ("xiashan_admin", TAOXI, 200),
        ("xiashan_admin", CHENDIAN, 404),
        ("xiashan_dongshan", TAOXI, 404),
        ("xiashan_dongshan", XIASHAN, 404),
        ("qu_admin", CHENDIAN, 200),
    ],
)
def test_a_center_out_of_scope_is_not_found(demo_app, username, target, expected):
    assert _client(demo_app, username).get(f"/admin/agenda/?center={center(target).id}").status_code == expected


def test_an_agent_out_of_scope_is_not_found_and_one_in_scope_narrows_the_calendar(demo_app, december):
    day = dt.date(2026, 12, 16)
    case = _due(TAOXI, day)
    other = _due(XIASHAN, day)
    assert case.agent is not None and other.agent_id != case.agent_id
    chendian_case = _case(CHENDIAN, statuses=list(Status))
    foreign = chendian_case.agent or db.session.scalar(
        select(Case.agent_id).where(Case.center_id == chendian_case.center_id, Case.agent_id.is_not(None))
    )
    client = _client(demo_app, "xiashan_admin")
    foreign_id = foreign if isinstance(foreign, int) else foreign.id
    assert client.get(f"/admin/agenda/?agent={foreign_id}").status_code == 404
    assert client.get("/admin/agenda/?agent=abc").status_code == 404
    cell = _page(client, view="week", date=day.isoformat(), agent=case.agent_id)[day.isoformat()]
    assert _link(case) in cell and _link(other) not in cell


def test_the_week_runs_from_monday_to_sunday(demo_app, december):
    sunday_before, sunday, monday_after = dt.date(2026, 12, 6), dt.date(2026, 12, 13), dt.date(2026, 12, 14)
    a = _due(DONGSHAN, sunday_before)
    b = _due(TAOXI, sunday)
    c = _due(XIASHAN, monday_after)
    body = _client(demo_app, "xiashan_admin").get("/admin/agenda/?view=week&date=2026-12-10").get_data(as_text=True)
    cells = _cells(body)
    assert list(cells) == [f"2026-12-{d:02d}" for d in range(7, 14)]
    assert "2026年12月7日 至 2026年12月13日" in body
    assert _link(b) in cells["2026-12-13"]
    assert _link(a) not in body and _link(c) not in body


def test_holidays_and_worked_weekend_days_are_marked(demo_app, december):
    cells = _page(_client(demo_app, "xiashan_admin"), date="2026-10-15")
    assert "休·国庆节" in cells["2026-10-01"] and "day-holiday" not in cells["2026-10-01"]  # class is on the td
    assert "班·国庆节调休" in cells["2026-10-10"]
    assert "休" in cells["2026-10-18"]  # an ordinary Sunday
    assert "休" not in cells["2026-10-08"]  # back to work after the holiday
    body = _client(demo_app, "xiashan_admin").get("/admin/agenda/?date=2026-10-15").get_data(as_text=True)
    assert re.search(r'<td data-day="2026-10-01" class="agenda-day day-holiday', body)
    assert re.search(r'<td data-day="2026-10-10" class="agenda-day"', body)


def test_a_suspension_names_its_resumption_day_which_the_calendar_shows(demo_app, december):
    case = _case(XIASHAN, statuses=[Status.IN_PROGRESS], mode=Mode.DELEGATED)
    client = _client(demo_app, "xiashan_admin")
    refused = client.post(
        f"/admin/case/transition/suspend/?id={case.id}",
        data={"ids": str(case.id), "reason": "等待申请人补正户口簿", "resume_expected_on": "2026-12-01"},
    )
    assert "预计恢复办理日期不能早于今天" in refused.get_data(as_text=True)
    assert "等待申请人补正户口簿" in refused.get_data(as_text=True)  # the typed reason stays
    done = client.post(
        f"/admin/case/transition/suspend/?id={case.id}",
        data={"ids": str(case.id), "reason": "等待申请人补正户口簿", "resume_expected_on": "2026-12-22"},
    )
    assert done.status_code == 302
    saved = db.session.get(Case, case.id)
    assert saved.status == Status.SUSPENDED and saved.resume_expected_on == dt.date(2026, 12, 22)
    assert "预计2026-12-22恢复办理" in saved.logs[-1].content
    details = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "预计恢复办理日期 2026-12-22" in details
    cells = _page(client, date="2026-12-01")
    assert _link(case) in cells["2026-12-22"] and "恢复" in cells["2026-12-22"]
    # Suspended, its clock is stopped: no promised date to meet on the calendar.
    assert [day for day, cell in cells.items() if _link(case) in cell] == ["2026-12-22"]

    assert client.post(f"/admin/case/transition/resume/?id={case.id}", data={"ids": str(case.id)}).status_code == 302
    assert db.session.get(Case, case.id).resume_expected_on is None
    assert _link(case) not in _page(client, date="2026-12-01")["2026-12-22"]


def test_a_door_to_door_visit_entered_on_the_case_form_is_audited_and_shown_at_its_time(demo_app, december):
    case = _case(DONGSHAN, mode=Mode.DOOR_TO_DOOR)
    client = _client(demo_app, "xiashan_dongshan")
    form = form_of(client, f"/admin/case/edit/?id={case.id}")
    form.setlist("visit_at", ["2026-12-16 09:30:00"])
    assert client.post(f"/admin/case/edit/?id={case.id}", data=form).status_code == 302
    assert db.session.get(Case, case.id).visit_at == dt.datetime(2026, 12, 16, 9, 30)
    row = db.session.scalar(
        select(AuditLog)
        .where(AuditLog.object_type == "case", AuditLog.object_id == str(case.id), AuditLog.event == "update")
        .order_by(AuditLog.id.desc())
    )
    assert json.loads(row.changes)["visit_at"][1] == "2026-12-16T09:30:00" and row.username == "xiashan_dongshan"
    cell = _page(client, view="week", date="2026-12-16")["2026-12-16"]
    assert _link(case) in cell and "上门 09:30" in cell


def test_a_suspended_case_with_no_expected_day_is_listed_apart(demo_app, december):
    case = _case(XIASHAN, statuses=[Status.IN_PROGRESS], mode=Mode.DELEGATED)
    case.status, case.suspended_on, case.resume_expected_on = Status.SUSPENDED.value, dt.date(2026, 12, 1), None
    db.session.commit()
    body = _client(demo_app, "xiashan_admin").get("/admin/agenda/").get_data(as_text=True)
    listed = body.split("未登记预计恢复办理日期的案件", 1)[1]
    assert case.number in listed


def test_past_the_entry_limit_every_day_still_tells_how_many_it_has(demo_app, december, monkeypatch):
    import lifecycle.agenda

    monkeypatch.setattr(lifecycle.agenda, "MAX_ENTRIES", 2)
    town = center(XIASHAN)
    held = [town.id] + [c.id for c in town.children]
    cases = db.session.scalars(
        select(Case).where(Case.center_id.in_(held), Case.status.in_(RUNNING)).order_by(Case.id).limit(4)
    ).all()
    assert len(cases) == 4
    for case in cases:
        case.promised_date = dt.date(2026, 12, 9)
    db.session.commit()
    body = _client(demo_app, "xiashan_admin").get("/admin/agenda/?date=2026-12-01").get_data(as_text=True)
    cell = _cells(body)["2026-12-09"]
    assert sum(_link(c) in cell for c in cases) == 2
    assert "另有 2 项，看本周" in cell
    assert "条目过多，承诺办结只列出前 2 条(每天仍显示共有几项)" in body
    in_grid = db.session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.center_id.in_(held),
            Case.status.in_(RUNNING),
            Case.promised_date.between(dt.date(2026, 11, 30), dt.date(2027, 1, 3)),
        )
    )
    assert in_grid >= 4 and f"承诺办结 {in_grid}</span>" in body  # the legend counts them all
