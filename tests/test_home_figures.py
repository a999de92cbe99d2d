"""The supervision home page: every figure links to a list whose count is the figure, for every login.

Figures are defined in lifecycle/statistics.py's docstring; the hand-built cases below have their
expected values written from those definitions (and issue 12), not read back from the code.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from extensions import db
from lifecycle.deadlines import NO_TABLE
from lifecycle.statistics import Period, PeriodError, parse_period, supervision_figures
from models import CaseLog, Complaint, Evaluation, FollowUp
from models.enums import EvaluationChannel, FollowUpStatus, Mode, Role, Status, Tier
from tests.builders import (
    login_as,
    make_applicant,
    make_case,
    make_center,
    make_district,
    make_item,
    make_user,
)
from tests.scope_cases import list_count

DEMO_LOGINS = [
    "qu_admin",
    "qu_audit",
    "xiashan_admin",
    "chendian_admin",
    "xiashan_dongshan",
    "xiashan_taoxi",
    "chendian_wenguang",
]
FIGURE_LINK = re.compile(r'<a class="figure[^"]*" data-figure="(\w+)" href="([^"]+)">(\d+)</a>')


def figure_links(body: str) -> list[tuple[str, str, int]]:
    return [(name, html.unescape(url), int(value)) for name, url, value in FIGURE_LINK.findall(body)]


@pytest.mark.parametrize("username", DEMO_LOGINS)
def test_every_figure_opens_a_list_counting_exactly_its_rows(client, username):
    # 2026 holds the whole demo history; every figure of every row is followed.
    login_as(client, username)
    body = client.get("/admin/?period=2026").get_data(as_text=True)
    assert "2026年 监督统计" in body
    links = figure_links(body)
    names = {name for name, _, _ in links}
    assert {"received", "completed", "on_time", "evaluations", "satisfied", "running"} <= names
    if username == "qu_admin":
        # The demo data exercises every figure at district level.
        nonzero = {name for name, _, value in links if value}
        assert nonzero >= {
            "received",
            "completed",
            "terminated",
            "on_time",
            "late",
            "running",
            "overdue",
            "evaluations",
            "satisfied",
            "paper",
            "bad",
            "complaints",
            "followups",
            "followups_on_time",
            "followups_overdue",
        }
    seen: dict[str, int] = {}
    wrong = []
    for name, url, value in links:
        if url not in seen:
            response = client.get(url + "&page_size=20")
            assert response.status_code == 200, url
            page = response.get_data(as_text=True)
            assert "error" not in re.findall(r"alert-(\w+)", page), (url, page[:300])
            seen[url] = list_count(page)
        if seen[url] != value:
            wrong.append((name, url, value, seen[url]))
    assert wrong == []


def test_the_district_rows_add_up_to_the_total(client):
    login_as(client, "qu_admin")
    body = client.get("/admin/?period=2026").get_data(as_text=True)
    table = body.split('class="table table-sm table-striped mb-0 level-table"')[1].split("</table>")[0]
    rows, foot = table.split("<tfoot>")
    received = [int(v) for v in re.findall(r'data-figure="received" href="[^"]+">(\d+)<', rows)]
    assert len(received) == 12  # the district center and 11 towns
    assert sum(received) == int(re.search(r'data-figure="received" href="[^"]+">(\d+)<', foot).group(1))


def test_a_village_clerk_sees_its_town_for_comparison_without_links(client):
    login_as(client, "xiashan_dongshan")
    body = client.get("/admin/?period=2026").get_data(as_text=True)
    reference = body.split("reference-row")[1].split("</tr>")[0]
    assert "峡山街道便民服务中心(全镇参照)" in reference
    assert "<a " not in reference and "figure-plain" in reference


def test_a_bad_period_is_refused_in_chinese_and_the_typed_dates_stay(client):
    login_as(client, "qu_admin")
    body = client.get("/admin/?period=range&start=2026-11-30&end=2026-11-01").get_data(as_text=True)
    assert "截止日期不能早于起始日期" in body
    assert 'value="2026-11-30"' in body and 'value="2026-11-01"' in body
    assert "监督统计" in body  # the month's figures are still shown
    body = client.get("/admin/?period=2026-13").get_data(as_text=True)
    assert "月份应为1至12" in body


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31), "month")),
        ({"period": "2026-02"}, Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28), "month")),
        ({"period": "2026-Q4"}, Period(dt.date(2026, 10, 1), dt.date(2026, 12, 31), "quarter")),
        ({"period": "2025"}, Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31), "year")),
        (
            {"period": "range", "start": "2026-11-03", "end": "2026-11-09"},
            Period(dt.date(2026, 11, 3), dt.date(2026, 11, 9), "range"),
        ),
    ],
)
def test_periods_are_read_from_the_query_string(args, expected):
    assert parse_period(args, dt.date(2026, 12, 8)) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"period": "上个月"}, "无法识别"),
        ({"period": "2026-00"}, "月份应为1至12"),
        ({"period": "range", "start": "2026-11-01"}, "请填写起止日期"),
        ({"period": "range", "start": "2026-11-31", "end": "2026-12-01"}, "不是有效日期"),
        ({"period": "2027"}, "之间开始"),
    ],
)
def test_a_bad_period_says_why(args, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(args, dt.date(2026, 12, 8))


def test_a_beijing_period_covers_the_utc_hours_of_its_days():
    start, end = Period.month(2026, 11).utc_bounds()
    assert start == dt.datetime(2026, 10, 31, 16, 0) and end == dt.datetime(2026, 11, 30, 16, 0)


# --- hand-built cases with the expected figures written from the rules ----------------------------
def _log(case, day: dt.date, content: str) -> None:
    # Noon in Beijing is 04:00 UTC on the same day.
    db.session.add(CaseLog(case=case, at=dt.datetime(day.year, day.month, day.day, 4, 0), content=content))


def test_hand_built_cases_give_the_figures_the_rules_state(app):
    district = make_district()
    town = make_center(district, Tier.TOWN, "甲镇便民服务中心")
    village = make_center(town, Tier.VILLAGE, "甲村便民服务站")
    other = make_center(district, Tier.TOWN, "乙镇便民服务中心")
    item = make_item([district, town, village, other], name="测试事项", time_limit_days=5)
    person = make_applicant(village)
    admin = make_user("test_qu", Role.DISTRICT_ADMIN, district)
    town_admin = make_user("test_town", Role.TOWN_ADMIN, town)
    clerk = make_user("test_village", Role.VILLAGE_OPERATOR, village)
    nov = Period.month(2026, 11)
    today = dt.date(2026, 12, 8)

    def case(at, **values):
        values.setdefault("mode", Mode.ON_SITE.value)
        return make_case(at, [item], person, **values)

    # 1. Received 2 Nov (Mon), completed 9 Nov (Mon): 5 working days, on time (promised 9 Nov).
    first = case(
        village,
        status=Status.COMPLETED.value,
        result_recorded_at=dt.datetime(2026, 11, 1, 4, 0),
        received_date=dt.date(2026, 11, 2),
        promised_date=dt.date(2026, 11, 9),
        closed_date=dt.date(2026, 11, 9),
    )
    # 2. Received in October, suspended 3 Nov (Tue) and resumed 5 Nov (Thu): 2 working days paused,
    #    completed and archived 20 Nov after its promised 18 Nov: late. Oct 26 (Mon) to Nov 20 (Fri)
    #    is 19 working days, less 2 paused: 17.
    late = case(
        village,
        status=Status.ARCHIVED.value,
        result_recorded_at=dt.datetime(2026, 11, 1, 4, 0),
        received_date=dt.date(2026, 10, 26),
        promised_date=dt.date(2026, 11, 18),
        closed_date=dt.date(2026, 11, 20),
    )
    _log(late, dt.date(2026, 11, 3), "中止：等待申请人补正材料")
    _log(late, dt.date(2026, 11, 5), "恢复办理：材料已补齐")
    # 3. Terminated in November (a delegated case): counted as terminated, not completed.
    case(
        town,
        mode=Mode.DELEGATED.value,
        delegation_scope="whole",
        status=Status.TERMINATED.value,
        termination_recorded_at=dt.datetime(2026, 11, 11, 4, 0),
        termination_text="委托人撤回",
        received_date=dt.date(2026, 11, 10),
        promised_date=dt.date(2026, 11, 30),
        closed_date=dt.date(2026, 11, 12),
        termination_reason="withdrawn",
    )
    # 4. Rejected in November (no result or termination recorded): neither completed nor terminated,
    #    but received in November.
    case(
        town,
        mode=Mode.DELEGATED.value,
        delegation_scope="whole",
        status=Status.REJECTED.value,
        received_date=dt.date(2026, 11, 11),
        closed_date=dt.date(2026, 11, 11),
        rejection_reason="不属于代办范围",
    )
    # 5. Running and overdue today; received in September, so not received in November.
    case(
        village, status=Status.IN_PROGRESS.value, received_date=dt.date(2026, 9, 1), promised_date=dt.date(2026, 12, 1)
    )
    # 6. Suspended with a past promised date: running, but its clock is stopped, so not overdue.
    case(
        village,
        status=Status.SUSPENDED.value,
        received_date=dt.date(2026, 11, 16),
        promised_date=dt.date(2026, 11, 23),
        suspended_on=dt.date(2026, 11, 18),
    )
    # 7. Due soon: promised the next working day (Wed 9 Dec).
    case(town, status=Status.ACCEPTED.value, received_date=dt.date(2026, 12, 2), promised_date=dt.date(2026, 12, 9))
    # 8. Another town's case completed in November: the district sees it, the town does not.
    completed_elsewhere = case(
        other,
        status=Status.COMPLETED.value,
        result_recorded_at=dt.datetime(2026, 11, 1, 4, 0),
        received_date=dt.date(2026, 11, 2),
        promised_date=dt.date(2026, 11, 9),
        closed_date=dt.date(2026, 11, 3),
    )
    db.session.flush()

    # Evaluations (created_at is UTC): 30 Nov 20:00 UTC is 1 Dec in Beijing, so it is not November's.
    def evaluation(case_, overall, when, channel=EvaluationChannel.LINK.value, counted=True, **extra):
        if channel == EvaluationChannel.PAPER.value:
            extra.update(entered_by=admin, paper_ref="P-1")
        db.session.add(
            Evaluation(case=case_, overall=overall, created_at=when, channel=channel, counted=counted, **extra)
        )

    evaluation(first, 5, dt.datetime(2026, 11, 10, 2, 0))
    # Its follow-up was due 4 Dec and closed 3 Dec: on time.
    evaluation(
        late,
        2,
        dt.datetime(2026, 11, 21, 2, 0),
        channel=EvaluationChannel.PAPER.value,
        followup=FollowUp(
            case=late,
            status=FollowUpStatus.CLOSED.value,
            due_date=dt.date(2026, 12, 4),
            closed_date=dt.date(2026, 12, 3),
        ),
    )
    evaluation(late, 4, dt.datetime(2026, 11, 22, 2, 0), channel=EvaluationChannel.HAOCHAPING.value, counted=False)
    evaluation(completed_elsewhere, 3, dt.datetime(2026, 11, 30, 20, 0))
    db.session.flush()
    # A complaint's follow-up is still open and was due 1 Dec: overdue today.
    complaint = Complaint(case=late, channel="phone", content="态度不好", received_at=dt.datetime(2026, 11, 10, 1, 0))
    db.session.add(complaint)
    db.session.flush()
    db.session.add(
        FollowUp(case=late, complaint=complaint, status=FollowUpStatus.OPEN.value, due_date=dt.date(2026, 12, 1))
    )
    db.session.commit()

    district_view = supervision_figures(db.session, admin, nov, today).total.figures
    assert (district_view.received, district_view.completed, district_view.terminated) == (5, 3, 1)
    assert (district_view.on_time, district_view.late) == (2, 1)
    assert (district_view.running, district_view.overdue, district_view.due_soon) == (3, 1, 1)
    # 5 + 17 + 1 (2 Nov to 3 Nov) working days over 3 completed cases.
    assert district_view.handling_days == 23
    # Counted evaluations created on a November day in Beijing: the 5 and the paper 2 (the 4 does not
    # count, the 3 arrived on 1 Dec in Beijing).
    assert (district_view.evaluations, district_view.satisfied, district_view.paper, district_view.bad) == (2, 1, 1, 1)
    assert district_view.complaints == 1
    assert (district_view.followups, district_view.followups_on_time, district_view.followups_overdue) == (2, 1, 1)

    town_stats = supervision_figures(db.session, town_admin, nov, today)
    assert town_stats.total.figures.received == 4 and town_stats.total.figures.completed == 2
    by_label = {row.label: row.figures for row in town_stats.levels}
    assert by_label["甲村便民服务站"].received == 2 and by_label["甲镇便民服务中心"].received == 2
    assert by_label["甲村便民服务站"].handling_days == 22

    clerk_stats = supervision_figures(db.session, clerk, nov, today)
    assert clerk_stats.total.figures.received == 2
    assert clerk_stats.comparison is not None and clerk_stats.comparison.figures.received == 4
    modes = {row.slice.key: row.figures for row in town_stats.modes}
    assert modes[Mode.DELEGATED.value].received == 2 and modes[Mode.ON_SITE.value].completed == 2


def test_the_working_day_counter_agrees_with_the_deadline_arithmetic():
    # Across the National Day week, a New Year and an assumed (Monday-Friday) year.
    from lifecycle.deadlines import working_days_between
    from lifecycle.statistics import WorkingDayCounter

    first, last = dt.date(2026, 9, 20), dt.date(2027, 1, 20)
    counter = WorkingDayCounter(first, last, NO_TABLE)
    days = [first + dt.timedelta(days=n) for n in range(0, (last - first).days + 1, 3)]
    for start in days:
        for end in days[::5]:
            assert counter.between(start, end) == working_days_between(start, end, NO_TABLE), (start, end)
