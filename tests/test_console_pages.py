"""Every console list, create, edit and details page renders in Chinese for the district admin."""

import datetime as dt
import re

import pytest
from sqlalchemy import func, select, update

from extensions import db
from models import (
    Agent,
    Applicant,
    AuditLog,
    Case,
    Center,
    Complaint,
    Department,
    Evaluation,
    FollowUp,
    ServiceItem,
    User,
)
from tests.builders import login_as
from tests.scope_cases import list_table

VIEWS = [
    ("case", Case, "案件台账"),
    ("applicant", Applicant, "申请人"),
    ("agent", Agent, "帮办代办员"),
    ("evaluation", Evaluation, "服务评价"),
    ("followup", FollowUp, "差评与投诉回访"),
    ("complaint", Complaint, "投诉登记"),
    ("center", Center, "服务机构"),
    ("service_item", ServiceItem, "服务事项"),
    ("department", Department, "审批部门"),
    ("user", User, "用户管理"),
    ("audit_log", AuditLog, "审计日志"),
]
NO_CREATE = {"followup", "audit_log"}
NO_EDIT = {"audit_log", "evaluation", "complaint"}  # evaluations and complaints are recorded once, never edited
# Flask-Admin's English UI strings that must all come out translated.
ENGLISH_LEFTOVERS = ["List (", ">Create<", "Add Filter", "With selected", ">Save<", "Search", ">Edit<", "Delete"]


def _assert_chinese_page(body: str) -> None:
    for english in ENGLISH_LEFTOVERS:
        assert english not in body, english
    assert "潮南区帮办代办管理平台" in body


@pytest.fixture
def admin_client(client):
    login_as(client, "qu_admin")
    return client


@pytest.mark.parametrize(("endpoint", "model", "title"), VIEWS)
def test_list_page_shows_the_real_row_count_in_chinese(admin_client, endpoint, model, title):
    body = admin_client.get(f"/admin/{endpoint}/").get_data(as_text=True)
    _assert_chinese_page(body)
    assert title in body
    total = db.session.scalar(select(func.count()).select_from(model))
    assert f"列表 ({total})" in body


@pytest.mark.parametrize(("endpoint", "model", "title"), VIEWS)
def test_details_page_renders(admin_client, endpoint, model, title):
    first = db.session.scalar(select(model).order_by(model.id).limit(1))
    response = admin_client.get(f"/admin/{endpoint}/details/?id={first.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    _assert_chinese_page(body)
    assert title in body


@pytest.mark.parametrize(("endpoint", "model", "title"), [v for v in VIEWS if v[0] not in NO_CREATE])
def test_create_page_renders(admin_client, endpoint, model, title):
    response = admin_client.get(f"/admin/{endpoint}/new/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    _assert_chinese_page(body)
    assert "保存" in body


@pytest.mark.parametrize(("endpoint", "model", "title"), [v for v in VIEWS if v[0] not in NO_EDIT])
def test_edit_page_renders(admin_client, endpoint, model, title):
    query = select(model).order_by(model.id).limit(1)
    if model is Case:  # a closed case has no edit page (tests/test_closed_cases.py)
        query = query.where(Case.status.in_(["submitted", "registered", "accepted", "in_progress", "suspended"]))
    first = db.session.scalar(query)
    response = admin_client.get(f"/admin/{endpoint}/edit/?id={first.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    _assert_chinese_page(body)
    assert "保存" in body


def test_case_list_shows_names_never_raw_ids(admin_client):
    body = admin_client.get("/admin/case/").get_data(as_text=True)
    case = db.session.scalar(select(Case).order_by(Case.received_date.desc(), Case.id.desc()).limit(1))
    assert case.number in body
    assert case.center.name in body
    assert case.applicant.name in body
    table = body.split("model-list")[1].split("</table>")[0]
    assert not re.search(r"<td[^>]*>\s*\d+\s*</td>", table)


def test_case_details_tell_the_whole_story(admin_client):
    case = db.session.scalar(select(Case).join(Evaluation).join(FollowUp).order_by(Case.id).limit(1))
    body = admin_client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    for text in [
        "受理信息",
        "申请人",
        "申请材料",
        "法定收费",
        "办理过程",
        "服务评价",
        "差评回访",
        case.number,
        case.applicant.name,
        case.items[0].name,
        case.center.name,
    ]:
        assert text in body, text
    assert case.logs and case.logs[0].content in body
    assert case.materials and case.materials[0].name in body
    assert case.evaluation.followup.status_label in body


def test_filters_have_distinct_readable_url_names(admin_client):
    from flask import current_app

    view = next(v for v in current_app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "case")
    args = [view.get_filter_arg(i, f) for i, f in enumerate(view._filters)]
    assert len(set(args)) == len(args)
    assert "status_filterequal" in args and "center_id_townfilter" in args


def test_home_status_count_links_to_the_filtered_list(admin_client):
    home = admin_client.get("/admin/").get_data(as_text=True)
    assert "?flt0_status_filterequal=suspended" in home
    body = admin_client.get("/admin/case/?flt0_status_filterequal=suspended").get_data(as_text=True)
    suspended = db.session.scalar(select(func.count()).select_from(Case).where(Case.status == "suspended"))
    assert f"列表 ({suspended})" in body


# The states that run against the promised date, written by hand (domain.md 1.9): a case waiting
# for its papers or being worked on; a suspended case's clock is stopped (中止), a closed one is off it.
RUNNING = ("submitted", "registered", "accepted", "in_progress")


def test_overdue_filter_matches_the_home_figure_and_excludes_suspended_cases(admin_client):
    from models.time import today_beijing

    overdue = db.session.scalar(
        select(func.count()).select_from(Case).where(Case.status.in_(RUNNING), Case.promised_date < today_beijing())
    )
    assert overdue > 0
    home = admin_client.get("/admin/").get_data(as_text=True)
    assert f">{overdue}</a>" in home
    body = admin_client.get("/admin/case/?flt0_promised_date_deadlinefilter=overdue").get_data(as_text=True)
    assert f"列表 ({overdue})" in body and "已超期" in body and "已中止" not in body.split("model-list")[1]


def test_due_soon_filter_lists_cases_within_two_working_days(client, travel_to):
    # Thursday 2026-11-26: two working days on is Monday 11-30 (the weekend does not count).
    travel_to("2026-11-26 10:00")
    promised = {
        "due Monday": ("in_progress", dt.date(2026, 11, 30)),
        "due today": ("accepted", dt.date(2026, 11, 26)),
        "due Tuesday": ("in_progress", dt.date(2026, 12, 1)),
        "overdue since Wednesday": ("in_progress", dt.date(2026, 11, 25)),
        "suspended, due Friday": ("suspended", dt.date(2026, 11, 27)),
        "completed, due Friday": ("completed", dt.date(2026, 11, 27)),
    }
    numbers = {}
    cases = db.session.scalars(select(Case).order_by(Case.id).limit(len(promised))).all()
    for case, (what, (status, date)) in zip(cases, promised.items(), strict=True):
        db.session.execute(update(Case).where(Case.id == case.id).values(status=status, promised_date=date))
        numbers[what] = case.number
    db.session.commit()
    login_as(client, "qu_admin")
    listed = {}
    for what, number in numbers.items():
        body = client.get(
            "/admin/case/", query_string={"flt0_promised_date_deadlinefilter": "due_soon", "search": number}
        ).get_data(as_text=True)
        listed[what] = number in list_table(body)
    assert listed == {
        "due Monday": True,
        "due today": True,
        "due Tuesday": False,
        "overdue since Wednesday": False,
        "suspended, due Friday": False,
        "completed, due Friday": False,
    }
