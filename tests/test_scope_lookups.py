"""Scope of what forms offer: ajax lookups, the ids they submit, and relationship dropdowns."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from extensions import db
from models import Agent, Applicant, Case, Center, Evaluation, User
from models.time import today_beijing
from tests.scope_cases import (
    ROLE_OF,
    A,
    center_named,
    centers_of,
    ids_of,
    item_stationed_at,
    login_user,
    record_at,
    row_of,
    scrape,
    sign_in,
    writable_applicant_ids,
    writable_case_ids,
)


def option_ids(body: str, field: str) -> set[int]:
    options = scrape(body).options[field]
    return {int(v) for v, _ in options if v not in ("__None", "", None)}


# ---------------------------------------------------------------------------------------------
# Ajax lookups, and the values they submit
# ---------------------------------------------------------------------------------------------

# (login, view, ajax field, query) -> the JSON holds exactly the in-scope rows that match
LOOKUP_ROWS = [
    ("xiashan_dongshan", "case", "applicant", "陈"),
    ("xiashan_admin", "case", "applicant", "林"),
    ("chendian_wenguang", "case", "applicant", "黄"),
    ("chendian_wenguang", "evaluation", "case", "CN-"),
    ("chendian_admin", "evaluation", "case", "CN-"),
    ("qu_audit", "evaluation", "case", "CN-C"),
]


@pytest.mark.parametrize(
    ("username", "endpoint", "field", "query"), LOOKUP_ROWS, ids=[f"{r[0]}-{r[1]}.{r[2]}" for r in LOOKUP_ROWS]
)
def test_ajax_lookup_offers_only_rows_in_scope(client, username, endpoint, field, query):
    sign_in(client, username)
    response = client.get(
        f"/admin/{endpoint}/ajax/lookup/", query_string={"name": field, "query": query, "limit": 10000}
    )
    assert response.status_code == 200
    offered = {int(pk) for pk, _label in json.loads(response.data)}
    # Form lookups offer what the login may write with: a case it handed up, or that case's
    # applicant, stays readable but is not offered; the auditor is offered nothing.
    if field == "applicant":
        matching = set(db.session.scalars(select(Applicant.id).where(Applicant.name.contains(query))))
        expected = matching & writable_applicant_ids(username)
    else:
        matching = set(db.session.scalars(select(Case.id).where(Case.number.contains(query))))
        expected = matching & writable_case_ids(username)
    if ROLE_OF[username] == A:
        assert offered == set()
        return
    assert expected, "the query should match something in scope"
    assert offered == expected


# A value picked through an ajax field, then submitted: (whose record, expected) for a 文光 login.
SUBMITTED_VALUES = [("文光社区便民服务站", "saved"), ("东山社区便民服务站", "refused")]


@pytest.mark.parametrize(("owner", "expected"), SUBMITTED_VALUES, ids=["own station", "another town"])
def test_a_submitted_applicant_id_must_be_in_scope(client, owner, expected):
    wenguang = center_named("文光社区便民服务站")
    applicant = record_at("applicant", center_named(owner), "chendian_wenguang", in_scope=expected == "saved")
    before = ids_of(Case)
    sign_in(client, "chendian_wenguang")
    response = client.post(
        "/admin/case/new/",
        data={
            "center": wenguang.id,
            "mode": "on_site",
            "items": [item_stationed_at(wenguang).id],
            "applicant": applicant.id,
            "received_date": today_beijing().isoformat(),
        },
    )
    created = [row_of(Case, pk) for pk in ids_of(Case) - before]
    assert ("saved" if [r["applicant_id"] for r in created] == [applicant.id] else "refused") == expected
    if expected == "refused":
        assert created == [] and response.status_code == 200  # the form again, with the error
        assert applicant.name not in response.get_data(as_text=True)


@pytest.mark.parametrize(("owner", "expected"), SUBMITTED_VALUES, ids=["own station", "another town"])
def test_a_submitted_case_id_must_be_in_scope(client, owner, expected):
    center = center_named(owner)
    case = db.session.scalar(
        select(Case)
        .where(Case.center_id == center.id, Case.status == "completed", ~Case.evaluation.has())
        .order_by(Case.id)
        .limit(1)
    )
    before = ids_of(Evaluation)
    # A station never types in its own rating (lifecycle.supervision.paper_entry_refusal): its town admin does.
    sign_in(client, "chendian_admin")
    response = client.post(
        "/admin/evaluation/new/",
        data={
            "case": case.id,
            **{f: "5" for f in ("overall", "attitude", "efficiency", "competence", "communication", "integrity")},
            "comment": "范围验收评价",
            "paper_ref": "PJ-范围验收",
        },
    )
    created = [row_of(Evaluation, pk) for pk in ids_of(Evaluation) - before]
    assert ("saved" if [r["case_id"] for r in created] == [case.id] else "refused") == expected
    if expected == "refused":
        assert created == [] and response.status_code == 200
        assert case.number not in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Dropdowns: relationship selects in forms and inline rows (list filters: test_scope_lists.py)
# ---------------------------------------------------------------------------------------------


def _active_agents(username):
    return set(
        db.session.scalars(select(Agent.id).where(Agent.center_id.in_(centers_of(username)), Agent.active.is_(True)))
    )


def _active_users(username):
    return set(
        db.session.scalars(select(User.id).where(User.center_id.in_(centers_of(username)), User.active.is_(True)))
    )


def _followup_of(username):
    return record_at("followup", login_user(username).center, username, True).id


# (login, page, select field, the ids it must offer)
DROPDOWN_ROWS = [
    ("xiashan_admin", lambda u: "/admin/case/new/", "center", centers_of),
    ("xiashan_admin", lambda u: "/admin/case/new/", "agent", _active_agents),
    ("xiashan_admin", lambda u: "/admin/applicant/new/", "center", centers_of),
    ("xiashan_admin", lambda u: "/admin/agent/new/", "center", centers_of),
    ("xiashan_admin", lambda u: f"/admin/followup/edit/?id={_followup_of(u)}", "assignee", _active_users),
    ("chendian_admin", lambda u: "/admin/case/new/", "agent", _active_agents),
    ("xiashan_dongshan", lambda u: "/admin/case/new/", "center", centers_of),
    ("xiashan_dongshan", lambda u: "/admin/case/new/", "agent", _active_agents),
    ("chendian_wenguang", lambda u: "/admin/applicant/new/", "center", centers_of),
]


def _out_of_scope_names(username) -> list[str]:
    """Names of the centers outside the login's scope (bar the ones above it) and of their agents."""
    centers = centers_of(username)
    above, center = set(), login_user(username).center
    while center.parent is not None:
        center = center.parent
        above.add(center.id)
    names = list(db.session.scalars(select(Center.name).where(Center.id.not_in(centers | above))))
    names += [
        f"{a.name}({a.staff_no})" for a in db.session.scalars(select(Agent).where(Agent.center_id.not_in(centers)))
    ]
    return names


@pytest.mark.parametrize("username", sorted({row[0] for row in DROPDOWN_ROWS}))
def test_form_dropdowns_offer_only_rows_in_scope(client, username):
    sign_in(client, username)
    got, expected, named = {}, {}, {}
    foreign_names = _out_of_scope_names(username)
    for login, page, field, offered in DROPDOWN_ROWS:
        if login != username:
            continue
        url = page(username)
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        got[f"{url} {field}"] = option_ids(body, field)
        expected[f"{url} {field}"] = offered(username)
        named[url] = [name for name in foreign_names if name in body]
    assert got == expected
    assert named == dict.fromkeys(named, [])
