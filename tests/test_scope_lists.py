"""Scope of the lists: each login's lists, counts, home-page total and list filters hold exactly its rows."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask_admin.model import BaseModelView
from sqlalchemy import select

from extensions import db
from models import Agent, Applicant, Case, Center, Evaluation, FollowUp
from tests.scope_cases import (
    ROLE_OF,
    ROLE_TABLE,
    SCOPE_ROWS,
    SCOPED_ENDPOINTS,
    T,
    center_named,
    centers_of,
    filter_url,
    list_count,
    login_user,
    pk_of,
    sign_in,
    unique_applicant_name,
    visible_ids,
)


def filter_options(body: str) -> dict[str, set[int]]:
    """The option lists of the dropdown filters, as rendered into the page for the filter UI."""
    match = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', body, re.S)
    assert match, "no filter data on the page"
    groups = json.loads(html.unescape(match.group(1)))
    return {
        label: {int(value) for entry in entries for value, _ in (entry["options"] or []) if str(value).isdigit()}
        for label, entries in groups.items()
    }


# ---------------------------------------------------------------------------------------------
# The table covers every console view
# ---------------------------------------------------------------------------------------------


def test_every_console_view_has_a_row_in_the_role_table(demo_app):
    admin = demo_app.extensions["admin"][0]
    views = {v.endpoint for v in admin._views if isinstance(v, BaseModelView)}
    assert views == set(ROLE_TABLE)


# ---------------------------------------------------------------------------------------------
# Row counts: each login sees exactly its rows, on every list and on the home page
# ---------------------------------------------------------------------------------------------


def _first_row_if_leaked(endpoint: str, username: str) -> str | None:
    """The identifying text of the out-of-scope record that would head the list if scope leaked."""
    model = ROLE_TABLE[endpoint][0]
    hidden = set(db.session.scalars(select(pk_of(model)))) - visible_ids(model, username)
    if not hidden:
        return None
    if endpoint == "case":
        record = db.session.scalar(
            select(Case).where(Case.id.in_(hidden)).order_by(Case.received_date.desc(), Case.id.desc()).limit(1)
        )
        return record.number
    if endpoint == "applicant":
        for record in db.session.scalars(
            select(Applicant).where(Applicant.id.in_(hidden)).order_by(Applicant.id.desc())
        ):
            if unique_applicant_name(record):
                return record.name
    if endpoint == "agent":
        return db.session.scalar(select(Agent.staff_no).where(Agent.id.in_(hidden)).order_by(Agent.staff_no).limit(1))
    if endpoint == "evaluation":
        record = db.session.scalar(
            select(Evaluation)
            .where(Evaluation.id.in_(hidden))
            .order_by(Evaluation.created_at.desc(), Evaluation.id.desc())
            .limit(1)
        )
        return record.case.number
    if endpoint == "followup":
        record = db.session.scalar(
            select(FollowUp).where(FollowUp.id.in_(hidden)).order_by(FollowUp.due_date, FollowUp.id).limit(1)
        )
        return record.case.number
    if endpoint == "center":
        return db.session.scalar(select(Center.address).where(Center.id.in_(hidden)).order_by(Center.id).limit(1))
    return None


@pytest.mark.parametrize("username", list(ROLE_OF))
def test_each_list_counts_exactly_the_rows_in_scope(client, username):
    sign_in(client, username)
    role = ROLE_OF[username]
    shown, expected, leaked = {}, {}, {}
    for endpoint, (model, readers, *_rest) in ROLE_TABLE.items():
        response = client.get(f"/admin/{endpoint}/")
        if role not in readers:
            shown[endpoint], expected[endpoint] = response.status_code, 403
            continue
        body = response.get_data(as_text=True)
        shown[endpoint] = list_count(body)
        expected[endpoint] = len(visible_ids(model, username))
        foreign = _first_row_if_leaked(endpoint, username)
        if foreign and foreign in body:
            leaked[endpoint] = foreign
    assert shown == expected
    assert leaked == {}

    home = client.get("/admin/").get_data(as_text=True)
    total = re.search(r'本级及下辖案件总数</div><div class="h3 mb-0">(\d+)</div>', home)
    assert total and int(total.group(1)) == len(visible_ids(Case, username))


# The dropdown filters that list centers, by label: towns, or centers.
TOWN_FILTER = "所属镇(街道)"
CENTER_FILTERS = {"受理机构", "登记机构", "所属机构", "服务机构"}


@pytest.mark.parametrize(("username", "in_center", "out_center"), SCOPE_ROWS, ids=[r[0] for r in SCOPE_ROWS])
def test_filters_offer_and_apply_only_centers_in_scope(client, username, in_center, out_center):
    user = login_user(username)
    own_town = user.center_id if ROLE_OF[username] == T else user.center.parent_id
    sign_in(client, username)
    got, expected = {}, {}
    for endpoint in SCOPED_ENDPOINTS:
        body = client.get(f"/admin/{endpoint}/").get_data(as_text=True)
        for label, ids in filter_options(body).items():
            if label == TOWN_FILTER:
                got[f"{endpoint}: {label}"], expected[f"{endpoint}: {label}"] = ids, {own_town}
            elif label in CENTER_FILTERS:
                got[f"{endpoint}: {label}"], expected[f"{endpoint}: {label}"] = ids, centers_of(username)
    assert any(k.startswith("case:") for k in got) and any(k.startswith("evaluation:") for k in got)
    assert got == expected

    # Filtering on a center out of scope narrows the scope, never widens it (an applicant registered
    # elsewhere stays visible to a station that has a case of theirs).
    got, expected = {}, {}
    filters = (
        ("case", "受理机构", Case.center_id),
        ("applicant", "登记机构", Applicant.center_id),
        ("agent", "所属机构", Agent.center_id),
    )
    for where, center in (("out of scope", center_named(out_center)), ("in scope", center_named(in_center))):
        for endpoint, label, column in filters:
            model = ROLE_TABLE[endpoint][0]
            body = client.get(filter_url(client, endpoint, label, center.id)).get_data(as_text=True)
            got[f"{endpoint} at a center {where}"] = list_count(body)
            there = set(db.session.scalars(select(model.id).where(column == center.id)))
            expected[f"{endpoint} at a center {where}"] = len(there & visible_ids(model, username))
    assert expected["case at a center in scope"] > 0  # the control: the filter does apply
    assert got == expected
