"""`flask seed --bulk N`: the bulk rows tell the same consistent story the lifecycle would, on both backends.

One bulk load per backend (module fixture: 2,000 cases with the indexes set aside, then 1,000 more
onto the kept indexes, the two paths a real load takes) serves the read-only checks; the tests
that write make their own smaller load.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from conftest import _make_app
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

import audit
from extensions import db
from lifecycle.deadlines import add_working_days, load_calendar
from lifecycle.scope import scope_clause
from models import Applicant, AuditLog, Case, Center, Evaluation, FollowUp
from models.time import today_beijing
from seed.bulk import seed_bulk
from tests.builders import login_as, user

FIRST, SECOND = 2_000, 1_000
DEMO_CASES = 340  # seed/data/cases.py CASE_COUNT
NUMBER = re.compile(r"^CN-([QZC])-(\d{8})-(\d{4})$")
TIER_LETTER = {"district": "Q", "town": "Z", "village": "C"}
# Every status each mode can reach through lifecycle/transitions.py's table.
DELEGATED_STATUSES = {
    "submitted",
    "accepted",
    "in_progress",
    "suspended",
    "completed",
    "terminated",
    "rejected",
    "archived",
}
ASSISTED_STATUSES = {"registered", "in_progress", "completed", "archived"}
CLOSED = ("completed", "terminated", "rejected", "archived")


def _catalogue() -> set[tuple]:
    """The indexes and triggers the migrations made, as the database lists them."""
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"))
    else:
        rows = db.session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger', 'table') AND sql IS NOT NULL")
        )
    return {tuple(row) for row in rows if not row[0].startswith("sqlite_stat")}


@pytest.fixture(scope="module")
def bulk(backend, tmp_path_factory):
    """The demo data plus FIRST then SECOND bulk cases; read-only for the tests that use it."""
    maker = _make_app(backend, "demo", tmp_path_factory.mktemp("bulk"))
    app = next(maker)
    schema = _catalogue()
    lines: list[str] = []
    with audit.acting_as("seed"):
        seed_bulk(db.session, FIRST, audit.chain_key(app.config), lines.append, seed=1)
        seed_bulk(db.session, SECOND, audit.chain_key(app.config), lines.append, seed=2)
    db.session.expire_all()
    yield {"app": app, "schema_before": schema, "output": lines}
    maker.close()


def _bulk_cases():
    related = (Case.logs, Case.items, Case.materials, Case.handoffs, Case.center, Case.origin_center, Case.applicant)
    return db.session.scalars(
        select(Case).where(Case.id > DEMO_CASES).order_by(Case.id).options(*(selectinload(r) for r in related))
    ).all()


def test_the_load_adds_the_cases_asked_for_with_applicants_in_proportion_and_reports_each_table(bulk):
    assert db.session.scalar(select(func.count()).select_from(Case)) == DEMO_CASES + FIRST + SECOND
    applicants = db.session.scalar(select(func.count()).select_from(Applicant).where(Applicant.id > 180))
    assert 0.3 * (FIRST + SECOND) < applicants < 0.5 * (FIRST + SECOND)
    repeat = db.session.execute(
        select(Case.applicant_id).where(Case.id > DEMO_CASES).group_by(Case.applicant_id).having(func.count() > 1)
    ).all()
    assert repeat, "some applicants come back"
    kinds = Counter(db.session.scalars(select(Applicant.kind).where(Applicant.id > 180)))
    assert kinds["person"] > kinds["organization"] > 0
    assert any(line.startswith("  案件(case)：2,000 行，写入") for line in bulk["output"])
    assert any(line.startswith("  审计日志(audit_log)：1,000 行，写入") for line in bulk["output"])


def test_cases_cover_every_town_village_mode_and_reachable_status_over_three_years(bulk):
    cases = _bulk_cases()
    centers = db.session.scalars(select(Center)).all()
    origins = {c.origin_center_id for c in cases}
    assert {c.id for c in centers if c.tier in ("town", "village")} <= origins
    statuses = {(c.mode, c.status) for c in cases}
    assert {s for m, s in statuses if m == "delegated"} == DELEGATED_STATUSES
    for mode in ("on_site", "remote", "door_to_door"):
        assert {s for m, s in statuses if m == mode} == ASSISTED_STATUSES
    today = today_beijing()
    received = [c.received_date for c in cases]
    assert today - dt.timedelta(days=1096) <= min(received) <= today - dt.timedelta(days=1000)
    assert today - dt.timedelta(days=10) <= max(received) <= today


def test_dates_follow_the_lifecycle(bulk):
    calendar = load_calendar(db.session)
    today = today_beijing()
    overdue = 0
    for case in _bulk_cases():
        if case.status in CLOSED:
            assert case.closed_date is not None and case.received_date <= case.closed_date <= today, case.number
        else:
            assert case.closed_date is None, case.number
        if case.promised_date is not None:
            assert case.promised_date > case.received_date, case.number
        if case.status in ("registered", "accepted", "in_progress") and case.promised_date < today:
            overdue += 1
        assert case.created_at <= case.logs[0].at <= case.logs[-1].at, case.number
        assert case.logs[0].content.startswith(f"登记：{case.origin_center.name}登记")
        assert 2 <= len(case.logs) <= 6, case.number
        if case.mode == "delegated" and case.status not in ("submitted", "rejected"):
            assert any(entry.content.startswith("受理：") for entry in case.logs), case.number
            assert case.materials and case.agent is not None, case.number
        if case.status == "archived":
            assert case.logs[-1].content == "归档：案卷整理归档(一件一档)"
    assert overdue > 0, "some running cases are past their promised date"
    # An assisted case's promised date is its items' longest limit counted in working days from receipt.
    on_site = db.session.scalars(
        select(Case).where(Case.id > DEMO_CASES, Case.mode == "on_site", Case.center_id == Case.origin_center_id)
    ).first()
    limit = max(i.time_limit_days for i in on_site.items)
    assert on_site.promised_date == add_working_days(on_site.received_date, limit, calendar)


def test_items_are_stationed_at_the_center_and_applicant_names_match(bulk):
    for case in _bulk_cases():
        assert case.items, case.number
        for item in case.items:
            assert item.is_stationed_at(case.center) and item.is_stationed_at(case.origin_center), case.number
        assert case.applicant_name == case.applicant.name


def test_evaluations_only_for_closed_cases_and_every_bad_review_is_followed_up(bulk):
    evaluations = db.session.scalars(
        select(Evaluation)
        .where(Evaluation.case_id > DEMO_CASES)
        .options(selectinload(Evaluation.case).selectinload(Case.evaluation_link), selectinload(Evaluation.followup))
    ).all()
    closed = db.session.scalars(
        select(Case.id).where(Case.id > DEMO_CASES, Case.status.in_(("completed", "terminated", "archived")))
    ).all()
    assert 0.55 * len(closed) < len(evaluations) < 0.8 * len(closed)
    calendar = load_calendar(db.session)
    bad = 0
    for evaluation in evaluations:
        case = evaluation.case
        assert case.status in ("completed", "terminated", "archived"), case.number
        assert evaluation.created_at >= case.evaluation_link.created_at
        if evaluation.is_bad:
            bad += 1
            followup = evaluation.followup
            assert followup is not None and followup.case_id == case.id, case.number
            day = (evaluation.created_at + dt.timedelta(hours=8)).date()
            assert followup.due_date == add_working_days(day, 15, calendar)
        else:
            assert evaluation.followup is None, case.number
    assert 0.06 * len(evaluations) < bad < 0.2 * len(evaluations)
    followups = db.session.scalars(select(FollowUp).where(FollowUp.case_id > DEMO_CASES)).all()
    today = today_beijing()
    assert any(f.status != "closed" and f.due_date < today for f in followups), "some follow-ups are overdue"
    assert any(f.status == "closed" and f.closed_date is not None for f in followups)
    assert any(f.complaint_id is not None for f in followups)


def test_hand_offs_go_one_tier_up_and_are_recorded(bulk):
    cases = _bulk_cases()
    handed = [c for c in cases if c.center_id != c.origin_center_id]
    assert 0.01 * len(cases) < len(handed) < 0.04 * len(cases)
    for case in handed:
        assert case.origin_center.parent_id == case.center_id, case.number
        assert [(h.from_center_id, h.to_center_id) for h in case.handoffs] == [(case.origin_center_id, case.center_id)]
        assert any(entry.content.startswith("转办上级：") for entry in case.logs)
    assert all(not c.handoffs for c in cases if c.center_id == c.origin_center_id)


def test_numbers_are_unique_well_formed_and_follow_the_tier_and_day(bulk):
    numbers = db.session.execute(select(Case.number, Case.received_date, Case.origin_center_id)).all()
    tiers = dict(db.session.execute(select(Center.id, Center.tier)).all())
    assert len({n for n, _d, _c in numbers}) == len(numbers)
    per_day: dict[str, list[int]] = {}
    for number, received, origin in numbers:
        match = NUMBER.match(number)
        assert match, number
        assert match[1] == TIER_LETTER[tiers[origin]] and match[2] == f"{received:%Y%m%d}", number
        per_day.setdefault(number[:14], []).append(int(match[3]))
    # Each tier-day's sequence runs 1..n without a gap: the second load went on where the first stopped.
    assert all(sorted(seqs) == list(range(1, len(seqs) + 1)) for seqs in per_day.values())


def test_each_role_sees_its_scope_share(bulk):
    total = db.session.scalar(select(func.count()).select_from(Case))
    town = db.session.scalar(select(Center).where(Center.name == "峡山街道便民服务中心"))
    town_ids = {town.id} | {c.id for c in town.children}
    station = db.session.scalar(select(Center).where(Center.name == "东山社区便民服务站"))
    expected = {
        "qu_admin": total,
        "qu_audit": total,
        "xiashan_admin": db.session.scalar(
            select(func.count())
            .select_from(Case)
            .where((Case.center_id.in_(town_ids)) | (Case.origin_center_id.in_(town_ids)))
        ),
        "xiashan_dongshan": db.session.scalar(
            select(func.count())
            .select_from(Case)
            .where((Case.center_id == station.id) | (Case.origin_center_id == station.id))
        ),
    }
    # 峡山 has 30 of the ~480 weight points (seed/data/places.py), its five stations more: a tenth or so.
    assert 0.05 * total < expected["xiashan_admin"] < 0.35 * total
    assert 0.01 * total < expected["xiashan_dongshan"] < expected["xiashan_admin"]
    for username, count in expected.items():
        seen = db.session.scalar(select(func.count()).select_from(Case).where(scope_clause(Case, user(username))))
        assert seen == count, username


def test_the_audit_chain_verifies_with_one_row_per_bulk_case(bulk):
    bulk_rows = db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.object_type == "case", AuditLog.event == "create")
    )
    assert bulk_rows == DEMO_CASES + FIRST + SECOND
    total = db.session.scalar(select(func.count()).select_from(AuditLog))
    result = bulk["app"].test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"已用密钥校验 {total} 条记录，哈希链无断裂，与链头一致" in result.output


def test_the_schema_is_the_same_after_a_load_that_set_indexes_aside(bulk):
    assert any("重建索引" in line for line in bulk["output"])
    assert _catalogue() == bulk["schema_before"]


def test_the_console_lists_and_opens_bulk_cases(bulk):
    client = bulk["app"].test_client()
    login_as(client, "qu_admin")
    newest = db.session.scalar(
        select(Case).where(Case.id > DEMO_CASES).order_by(Case.received_date.desc(), Case.id.desc())
    )
    listing = client.get("/admin/case/")
    assert listing.status_code == 200
    assert newest.number in listing.get_data(as_text=True)
    handed = db.session.scalar(
        select(Case).where(Case.id > DEMO_CASES, Case.center_id != Case.origin_center_id).order_by(Case.id)
    )
    evaluated = db.session.scalar(
        select(Case).join(Evaluation).join(FollowUp).where(Case.id > DEMO_CASES).order_by(Case.id)
    )
    for case in (handed, evaluated):
        page = client.get(f"/admin/case/details/?id={case.id}")
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and case.number in body and case.applicant_name in body
    assert client.get("/admin/").status_code == 200
    clerk = bulk["app"].test_client()
    login_as(clerk, "xiashan_dongshan")
    own = db.session.scalar(
        select(Case.number)
        .join(Center, Center.id == Case.center_id)
        .where(Center.name == "东山社区便民服务站")
        .order_by(Case.received_date.desc(), Case.id.desc())
    )
    assert own in clerk.get("/admin/case/").get_data(as_text=True)


def test_a_case_created_in_the_console_after_a_load_gets_the_next_number_of_its_day(demo_app):
    with audit.acting_as("seed"):
        seed_bulk(db.session, 300, audit.chain_key(demo_app.config), lambda line: None, seed=3)
    station = db.session.scalar(select(Center).where(Center.name == "文光社区便民服务站"))
    last = db.session.scalar(
        select(Case.number).where(Case.number.like("CN-C-%"), Case.id > DEMO_CASES).order_by(Case.number.desc())
    )
    day = dt.datetime.strptime(last[5:13], "%Y%m%d").date()
    highest = int(last[-4:])
    item = next(i for i in station_items(station) if i.code == "CN-RS-001")
    applicant = db.session.scalar(select(Applicant).where(Applicant.center_id == station.id).order_by(Applicant.id))
    client = demo_app.test_client()
    login_as(client, "chendian_wenguang")
    response = client.post(
        "/admin/case/new/",
        data={
            "center": station.id,
            "mode": "on_site",
            "items": [item.id],
            "applicant": applicant.id,
            "received_date": day.isoformat(),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    created = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert created.number == f"CN-C-{day:%Y%m%d}-{highest + 1:04d}"
    assert created.applicant_name == applicant.name


def station_items(station: Center):
    from models import ServiceItem

    return [i for i in db.session.scalars(select(ServiceItem)) if i.is_stationed_at(station)]


def test_without_the_reference_data_the_bulk_seed_says_what_is_missing(app):
    result = app.test_cli_runner().invoke(args=["seed", "--bulk", "10"])
    assert result.exit_code != 0
    assert (
        "缺少基础数据：服务机构(区、镇街、村居三级)、服务事项及其进驻机构、帮办代办员、区级管理员账号" in result.output
    )
    assert "请先运行 flask seed --demo" in result.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
