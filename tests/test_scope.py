"""Scope acceptance table: who sees and changes which rows, through every console URL.

One scoping function serves every read and write path. These tables check it from the outside:
every console URL and method x every role x an in-scope and an out-of-scope record, with the
expected outcome written down, and the rows each login sees counted against the database with
independent queries (the expected center sets are derived here from the user's center and its
children, never by calling lifecycle.scope).

Roles: district_admin sees and changes everything; auditor reads everything and changes nothing;
town_admin works in its town center and the villages under it; village_operator in its station.
An out-of-scope record behaves as if it did not exist (flash "记录不存在" and a redirect, or an
error status) and none of its fields appears in any page, count, export or JSON answer.

Every test works on its own copy of the demo database. Logins go through the real login form
once per user and run; later tests reuse that signed session cookie (see sign_in), which keeps
the file fast. The CSRF class logs in with the token, as a browser does.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from html.parser import HTMLParser

import pytest
from flask_admin.model import BaseModelView
from sqlalchemy import case as sql_case
from sqlalchemy import func, inspect, or_, select, update
from werkzeug.datastructures import MultiDict

from extensions import db
from models import (
    Agent,
    Applicant,
    AuditLog,
    Case,
    CaseExtension,
    CaseMaterial,
    Center,
    Complaint,
    Department,
    Evaluation,
    ExportJob,
    FollowUp,
    HolidayDay,
    HolidayYear,
    ServiceItem,
    User,
)
from models.enums import Tier
from models.time import today_beijing
from tests.builders import DEMO_PASSWORD, login_as, make_applicant, make_center, valid_id_number

# ---------------------------------------------------------------------------------------------
# The role table
# ---------------------------------------------------------------------------------------------

D, A, T, V = "district_admin", "auditor", "town_admin", "village_operator"
EVERYONE = frozenset({D, A, T, V})
STAFF = frozenset({D, T, V})
NOBODY = frozenset()

# Every demo login and its role.
ROLE_OF = {
    "qu_admin": D,
    "qu_audit": A,
    "xiashan_admin": T,
    "chendian_admin": T,
    "xiashan_dongshan": V,
    "xiashan_taoxi": V,
    "chendian_wenguang": V,
}
# One login per role, for the role x view table.
ROLE_LOGINS = ["qu_admin", "qu_audit", "xiashan_admin", "xiashan_dongshan"]

# endpoint: (model, may read, may create, may edit, may delete)
ROLE_TABLE = {
    "case": (Case, EVERYONE, STAFF, STAFF, NOBODY),
    "applicant": (Applicant, EVERYONE, STAFF, STAFF, {D}),
    "agent": (Agent, EVERYONE, {D, T}, {D, T}, {D}),
    # A station never types in its own paper 评价表; the admins above it do.
    "evaluation": (Evaluation, EVERYONE, {D, T}, NOBODY, NOBODY),
    "followup": (FollowUp, EVERYONE, NOBODY, {D, T}, NOBODY),
    "complaint": (Complaint, EVERYONE, STAFF, NOBODY, NOBODY),
    "center": (Center, EVERYONE, {D}, {D}, {D}),
    "service_item": (ServiceItem, EVERYONE, {D}, {D}, {D}),
    "department": (Department, EVERYONE, {D}, {D}, {D}),
    "user": (User, {D}, {D}, {D}, NOBODY),
    "audit_log": (AuditLog, {D, A}, NOBODY, NOBODY, NOBODY),
    # Batch exports are made from the case list; the job pages only show, cancel and download.
    "export_job": (ExportJob, STAFF, NOBODY, NOBODY, NOBODY),
    # Extensions are requested and decided on the case page; the list only shows them.
    "case_extension": (CaseExtension, EVERYONE, NOBODY, NOBODY, NOBODY),
    # The holiday table: the district admin keeps it, every login reads it.
    "holiday_year": (HolidayYear, EVERYONE, {D}, {D}, {D}),
    "holiday_day": (HolidayDay, EVERYONE, {D}, {D}, {D}),
}
SCOPED_ENDPOINTS = ["case", "applicant", "agent", "evaluation", "followup", "center"]

NOT_FOUND = "记录不存在"

# ---------------------------------------------------------------------------------------------
# Independent scope arithmetic (deliberately not lifecycle.scope)
# ---------------------------------------------------------------------------------------------


def login_user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def center_named(name: str) -> Center:
    found = db.session.scalar(select(Center).where(Center.name == name))
    assert found is not None, name
    return found


def centers_of(username: str) -> set[int] | None:
    """The centers a login works in: None for district-wide roles, town + its villages, or one station."""
    user = login_user(username)
    role = ROLE_OF[username]
    assert user.role == role, (username, user.role)
    if role in (D, A):
        return None
    if role == T:
        children = db.session.scalars(select(Center.id).where(Center.parent_id == user.center_id)).all()
        return {user.center_id, *children}
    return {user.center_id}


def _visible_cases(centers: set[int]):
    return select(Case.id).where(or_(Case.center_id.in_(centers), Case.origin_center_id.in_(centers)))


def pk_of(model):
    """The primary-key column (the holiday table is keyed by year and by day, not by id)."""
    return model.__table__.primary_key.columns[0]


def visible_ids(model, username: str) -> set[int]:
    """Ids of the rows of `model` the login should see, by the requirement, not by the code."""
    centers = centers_of(username)
    role = ROLE_OF[username]
    if model in (HolidayYear, HolidayDay):  # reference data: every login reads it
        return set(db.session.scalars(select(pk_of(model))))
    if model is User:
        return set(db.session.scalars(select(User.id))) if role == D else set()
    if model is AuditLog:
        return set(db.session.scalars(select(AuditLog.id))) if role in (D, A) else set()
    if model is ExportJob:  # a job is its owner's alone, whatever the role
        return set(db.session.scalars(select(ExportJob.id).where(ExportJob.user_id == login_user(username).id)))
    if centers is None or model in (ServiceItem, Department):
        return set(db.session.scalars(select(pk_of(model))))
    cases = _visible_cases(centers)
    if model is Case:
        stmt = cases
    elif model is Applicant:
        with_case = select(Case.applicant_id).where(Case.id.in_(cases))
        stmt = select(Applicant.id).where(or_(Applicant.center_id.in_(centers), Applicant.id.in_(with_case)))
    elif model is Agent:
        stmt = select(Agent.id).where(Agent.center_id.in_(centers))
    elif model is Evaluation:
        stmt = select(Evaluation.id).where(Evaluation.case_id.in_(cases))
    elif model in (FollowUp, Complaint):  # follow-ups of bad reviews and of complaints alike
        stmt = select(model.id).where(model.case_id.in_(cases))
    elif model is Center:
        stmt = select(Center.id).where(Center.id.in_(centers))
    elif model is CaseExtension:
        stmt = select(CaseExtension.id).where(CaseExtension.case_id.in_(cases))
    else:  # pragma: no cover - a new model needs a rule here
        raise AssertionError(model)
    return set(db.session.scalars(stmt))


def writable_case_ids(username: str) -> set[int]:
    centers = centers_of(username)
    if ROLE_OF[username] == A:
        return set()
    if centers is None:
        return set(db.session.scalars(select(Case.id)))
    return set(db.session.scalars(select(Case.id).where(Case.center_id.in_(centers))))


def writable_applicant_ids(username: str) -> set[int]:
    centers = centers_of(username)
    if ROLE_OF[username] == A:
        return set()
    if centers is None:
        return set(db.session.scalars(select(Applicant.id)))
    registered = set(db.session.scalars(select(Applicant.id).where(Applicant.center_id.in_(centers))))
    holding = set(db.session.scalars(select(Case.applicant_id).where(Case.center_id.in_(centers))))
    return registered | holding


def row_of(model, pk: int) -> dict | None:
    """The row as the database holds it now, read on a connection of its own."""
    table = model.__table__
    with db.engine.connect() as conn:
        row = conn.execute(select(table).where(pk_of(model) == pk)).mappings().first()
    return dict(row) if row is not None else None


def count_rows(model, *where) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model.__table__).where(*where)).scalar_one()


def ids_of(model, *where) -> set[int]:
    table = model.__table__
    with db.engine.connect() as conn:
        return set(conn.execute(select(table.c.id).where(*where)).scalars())


def forbidden_rows(username: str) -> int:
    return count_rows(AuditLog, AuditLog.event == "forbidden", AuditLog.username == username)


def item_stationed_at(*centers: Center) -> ServiceItem:
    """A service item every one of `centers` may accept, so only scope decides the outcome."""
    for item in db.session.scalars(select(ServiceItem).order_by(ServiceItem.id)):
        if all(item.is_stationed_at(c) for c in centers):
            return item
    raise AssertionError([c.name for c in centers])


# Open cases first: a later lifecycle rule may lock finished ones against editing.
_OPEN_FIRST = sql_case((Case.status.in_(["in_progress", "accepted", "registered", "submitted"]), 0), else_=1)


def _unique_applicant_name(applicant: Applicant) -> bool:
    return (
        db.session.scalar(select(func.count()).select_from(Applicant).where(Applicant.name.contains(applicant.name)))
        == 1
    )


def record_at(endpoint: str, center: Center, username: str, in_scope: bool):
    """A record of `endpoint` held at `center`, checked to be (or not be) in the login's scope."""
    model = ROLE_TABLE[endpoint][0]
    at_center = (Case.center_id == center.id, Case.origin_center_id == center.id)
    if endpoint == "case":
        stmt = select(Case).where(*at_center).order_by(_OPEN_FIRST, Case.id)
    elif endpoint == "applicant":
        # registered there, else (the district registers nobody) with a case there
        with_case = select(Case.applicant_id).where(*at_center)
        stmt = (
            select(Applicant)
            .where(or_(Applicant.center_id == center.id, Applicant.id.in_(with_case)))
            .order_by(sql_case((Applicant.center_id == center.id, 0), else_=1), Applicant.id)
        )
    elif endpoint == "agent":
        stmt = select(Agent).where(Agent.center_id == center.id, Agent.active.is_(True)).order_by(Agent.id)
    elif endpoint == "evaluation":
        stmt = select(Evaluation).join(Case, Evaluation.case_id == Case.id).where(*at_center).order_by(Evaluation.id)
    elif endpoint == "followup":
        stmt = select(FollowUp).join(Case, FollowUp.case_id == Case.id).where(*at_center).order_by(FollowUp.id)
    else:
        stmt = select(Center).where(Center.id == center.id)
    visible = visible_ids(model, username)
    if endpoint == "case" and in_scope:
        visible &= writable_case_ids(username)
    for record in db.session.scalars(stmt):
        if (record.id in visible) != in_scope:
            continue
        if endpoint == "applicant" and not _unique_applicant_name(record):
            continue
        return record
    raise AssertionError(f"demo data has no {endpoint} at {center.name} {'in' if in_scope else 'out of'} scope")


# What identifies a record on a page: case number, applicant name, staff number, address.
IDENTITY = {
    "case": lambda r: r.number,
    "applicant": lambda r: r.name,
    "agent": lambda r: r.staff_no,
    "evaluation": lambda r: r.case.number,
    "followup": lambda r: r.case.number,
    # A center's name legitimately shows as the parent of the user's own centers; its address does not.
    "center": lambda r: r.address,
}
# What the list search box matches (followups have no search box).
SEARCH_TERM = {
    "case": lambda r: r.number,
    "applicant": lambda r: r.name,
    "agent": lambda r: r.staff_no,
    "evaluation": lambda r: r.case.number,
    "center": lambda r: r.name,
}
# A harmless change per endpoint: the first (form field = column, new value) the edit form has.
HARMLESS_CHANGE = {
    "case": [("summary", "范围验收：修改情况摘要")],
    "applicant": [("address", "范围验收路1号")],
    "agent": [("phone", "13912340000")],
    "evaluation": [("comment", "范围验收：评价意见")],
    "followup": [("callback_record", "范围验收：回访记录"), ("due_date", "2027-03-31")],
    "center": [("address", "范围验收地址")],
}


def harmless_change(endpoint: str, payload: MultiDict) -> tuple[str, str]:
    for field, value in HARMLESS_CHANGE[endpoint]:
        if field in payload:
            payload.setlist(field, [value])
            return field, value
    raise AssertionError(f"the {endpoint} edit form has none of {HARMLESS_CHANGE[endpoint]}")


# ---------------------------------------------------------------------------------------------
# Reading pages
# ---------------------------------------------------------------------------------------------


class FormScraper(HTMLParser):
    """What a browser would submit from the page's admin form, and every select's options."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_form = False
        self.fields: list[tuple[str, str]] = []
        self.options: dict[str, list[tuple[str, str]]] = {}
        self._select: tuple[str, bool] | None = None
        self._select_options: list[tuple[str, bool]] = []
        self._option_open = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "admin-form" in (a.get("class") or ""):
            self.in_form = True
            return
        if not self.in_form:
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            name = a.get("name")
            if not name or kind in ("submit", "button", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            default = "y" if kind == "checkbox" else ""
            self.fields.append((name, a.get("value") if a.get("value") is not None else default))
        elif tag == "select":
            self._select = (a.get("name"), "multiple" in a)
            self._select_options = []
            self.options[a.get("name")] = []
        elif tag == "option" and self._select is not None:
            self._select_options.append((a.get("value"), "selected" in a))
            self.options[self._select[0]].append((a.get("value"), ""))
            self._option_open = True
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._text = []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)
        elif self._option_open and self._select is not None:
            value, label = self.options[self._select[0]][-1]
            self.options[self._select[0]][-1] = (value, label + data)

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "option":
            self._option_open = False
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            chosen = [v for v, selected in self._select_options if selected]
            if not chosen and not multiple and self._select_options:
                chosen = [self._select_options[0][0]]  # a browser submits the first option
            self.fields.extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            for newline in ("\r\n", "\n"):
                if text.startswith(newline):
                    text = text[len(newline) :]
                    break
            self.fields.append((self._textarea, text))
            self._textarea = None


def scrape(body: str) -> FormScraper:
    scraper = FormScraper()
    scraper.feed(body)
    assert scraper.fields, "no admin form on the page"
    return scraper


def form_of(client, url: str) -> MultiDict:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return MultiDict(scrape(response.get_data(as_text=True)).fields)


def option_ids(body: str, field: str) -> set[int]:
    options = scrape(body).options[field]
    return {int(v) for v, _ in options if v not in ("__None", "", None)}


def list_count(body: str) -> int:
    """The row count Flask-Admin prints in the list tab ("列表 (N)"; no number when empty)."""
    match = re.search(r"列表(?: \((\d+)\))?</a>", body)
    assert match, "not a list page"
    return int(match.group(1) or 0)


def list_table(body: str) -> str:
    """The rows of a list page, without the search box and sort links that echo the search term."""
    if "model-list" not in body:
        return ""
    table = body.split("model-list", 1)[1].split("</table>", 1)[0]
    return table.split("</thead>", 1)[-1]


def filter_options(body: str) -> dict[str, set[int]]:
    """The option lists of the dropdown filters, as rendered into the page for the filter UI."""
    match = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', body, re.S)
    assert match, "no filter data on the page"
    groups = json.loads(html.unescape(match.group(1)))
    return {
        label: {int(value) for entry in entries for value, _ in (entry["options"] or []) if str(value).isdigit()}
        for label, entries in groups.items()
    }


def filter_url(client, endpoint: str, label: str, value, action: str = "") -> str:
    """The list (or export) URL filtering `endpoint` on the filter labelled `label`, named as the page names it."""
    body = client.get(f"/admin/{endpoint}/").get_data(as_text=True)
    match = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', body, re.S)
    arg = json.loads(html.unescape(match.group(1)))[label][0]["arg"]
    return f"/admin/{endpoint}/{action}?flt0_{arg}={value}"


def outcome(response) -> str | int:
    """What a (redirect-followed) request showed: the page, 'not found', or an error status."""
    if response.status_code != 200:
        return response.status_code
    return "not found" if NOT_FOUND in response.get_data(as_text=True) else "shown"


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


_SIGNED_IN: dict[str, str] = {}


def sign_in(client, username: str) -> None:
    """Log in through the real login form, once per login and test run.

    Later tests reuse the signed session cookie: every test's database copy holds the same users
    with the same session epoch, and the argon2 check costs a tenth of a second per login.
    """
    cookie = _SIGNED_IN.get(username)
    if cookie is not None:
        client.set_cookie("session", cookie)
        return
    login_as(client, username)
    _SIGNED_IN[username] = client.get_cookie("session").value


def other_client(demo_app, username: str):
    other = demo_app.test_client()
    sign_in(other, username)
    return other


# ---------------------------------------------------------------------------------------------
# 0. The table covers every console view
# ---------------------------------------------------------------------------------------------


def test_every_console_view_has_a_row_in_the_role_table(demo_app):
    admin = demo_app.extensions["admin"][0]
    views = {v.endpoint for v in admin._views if isinstance(v, BaseModelView)}
    assert views == set(ROLE_TABLE)


# ---------------------------------------------------------------------------------------------
# 1. Row counts: each login sees exactly its rows, on every list and on the home page
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
            if _unique_applicant_name(record):
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


# ---------------------------------------------------------------------------------------------
# 2. URL x role x record: details, edit form, save, delete, inline edit, search
# ---------------------------------------------------------------------------------------------

# (login, a center in its scope, a center out of its scope)
SCOPE_ROWS = [
    ("xiashan_admin", "东山社区便民服务站", "文光社区便民服务站"),  # a village of another town
    ("chendian_admin", "陈店镇便民服务中心", "潮南区政务服务中心"),  # the district center above it
    ("xiashan_dongshan", "东山社区便民服务站", "桃溪社区便民服务站"),  # a sibling village, same town
    ("chendian_wenguang", "文光社区便民服务站", "东山社区便民服务站"),  # a village of another town
]


def expected_record_outcomes(role: str, endpoint: str, in_scope: bool) -> dict[str, object]:
    _model, _read, _create, editors, deleters = ROLE_TABLE[endpoint]
    may_edit = role in editors
    if in_scope:
        return {
            "details": "shown",
            "edit form": "shown" if may_edit else 403,
            "save": "saved" if may_edit else 403,
            "delete": "deleted" if role in deleters else 403,
            "inline edit (ajax/update)": "refused",  # no view has an editable list column
            "search": "found" if endpoint in SEARCH_TERM else "n/a",
        }
    return {
        "details": "not found",
        "edit form": "not found" if may_edit else 403,
        "save": "not found" if may_edit else 403,
        "delete": 403,  # none of these logins may delete anything
        "inline edit (ajax/update)": "refused",
        "search": "nothing" if endpoint in SEARCH_TERM else "n/a",
    }


def _exercise_record(client, admin, endpoint: str, record, may_edit: bool, in_scope: bool):
    """Every record URL of `endpoint` on one record; returns (outcomes, bodies)."""
    model = ROLE_TABLE[endpoint][0]
    pk = record.id
    search_term = SEARCH_TERM[endpoint](record) if endpoint in SEARCH_TERM else None
    edit_url = f"/admin/{endpoint}/edit/?id={pk}"
    before = row_of(model, pk)
    if in_scope and may_edit:
        payload = form_of(client, edit_url)  # the form the user sees
    elif ROLE_TABLE[endpoint][3]:
        payload = form_of(admin, edit_url)  # a complete form, as posted by someone who may
    else:
        # Nobody may edit this endpoint (evaluations): post what an edit form would carry.
        payload = MultiDict([(HARMLESS_CHANGE[endpoint][0][0], "")])
    field, value = harmless_change(endpoint, payload)
    got: dict[str, object] = {}
    bodies: dict[str, str] = {}

    response = client.get(f"/admin/{endpoint}/details/?id={pk}", follow_redirects=True)
    got["details"], bodies["details"] = outcome(response), response.get_data(as_text=True)

    response = client.get(edit_url, follow_redirects=True)
    got["edit form"], bodies["edit form"] = outcome(response), response.get_data(as_text=True)

    response = client.post(edit_url, data=payload, follow_redirects=True)
    bodies["save"] = response.get_data(as_text=True)
    after = row_of(model, pk)
    if response.status_code != 200:
        got["save"] = response.status_code
    elif NOT_FOUND in bodies["save"]:
        got["save"] = "not found"
    else:
        got["save"] = "saved" if str(after[field]) == value else "form error"
    if got["save"] != "saved":
        assert after == before, f"{endpoint}: a refused save changed the row"

    response = client.post(f"/admin/{endpoint}/ajax/update/", data={"list_form_pk": pk, field: "范围验收：行内修改"})
    bodies["inline edit (ajax/update)"] = response.get_data(as_text=True)
    got["inline edit (ajax/update)"] = "refused" if response.status_code in (403, 404) else response.status_code

    got["search"] = "n/a"
    if search_term is not None:
        body = client.get(f"/admin/{endpoint}/", query_string={"search": search_term}).get_data(as_text=True)
        bodies["search"] = list_table(body)
        count = list_count(body)
        got["search"] = (
            "found" if count and search_term in bodies["search"] else ("nothing" if count == 0 else f"{count} rows")
        )

    kept = row_of(model, pk)
    response = client.post(f"/admin/{endpoint}/delete/", data={"id": pk}, follow_redirects=True)
    bodies["delete"] = response.get_data(as_text=True)
    if response.status_code != 200:
        got["delete"] = response.status_code
    else:
        got["delete"] = (
            "deleted" if row_of(model, pk) is None else ("not found" if NOT_FOUND in bodies["delete"] else "kept")
        )
    if got["delete"] != "deleted":
        assert row_of(model, pk) == kept, f"{endpoint}: a refused delete changed the row"
    return got, bodies


@pytest.mark.parametrize("endpoint", SCOPED_ENDPOINTS)
@pytest.mark.parametrize(("username", "in_center", "out_center"), SCOPE_ROWS, ids=[r[0] for r in SCOPE_ROWS])
def test_record_urls_by_role_and_scope(demo_app, client, username, in_center, out_center, endpoint):
    role = ROLE_OF[username]
    model = ROLE_TABLE[endpoint][0]
    may_edit = role in ROLE_TABLE[endpoint][3]
    own = record_at(endpoint, center_named(in_center), username, in_scope=True)
    foreign = record_at(endpoint, center_named(out_center), username, in_scope=False)
    foreign_before = row_of(model, foreign.id)
    admin = other_client(demo_app, "qu_admin")
    sign_in(client, username)

    got_out, bodies_out = _exercise_record(client, admin, endpoint, foreign, may_edit, in_scope=False)
    got_in, bodies_in = _exercise_record(client, admin, endpoint, own, may_edit, in_scope=True)

    assert {"in scope": got_in, "out of scope": got_out} == {
        "in scope": expected_record_outcomes(role, endpoint, in_scope=True),
        "out of scope": expected_record_outcomes(role, endpoint, in_scope=False),
    }
    assert IDENTITY[endpoint](own) in bodies_in["details"]
    identity = IDENTITY[endpoint](foreign)
    shown_in = [op for op, body in bodies_out.items() if identity in body]
    assert shown_in == [], f"{identity} of an out-of-scope {endpoint} appeared in {shown_in}"
    assert row_of(model, foreign.id) == foreign_before


def test_a_case_handed_up_stays_readable_but_not_changeable_by_the_first_center(demo_app, client):
    """首问负责: the station that first received a case may still read it after a hand-off, not change it."""
    dongshan, xiashan = center_named("东山社区便民服务站"), center_named("峡山街道便民服务中心")
    case = record_at("case", dongshan, "xiashan_dongshan", in_scope=True)
    db.session.execute(update(Case).where(Case.id == case.id).values(center_id=xiashan.id))
    db.session.commit()
    number, pk = case.number, case.id
    edit_url = f"/admin/case/edit/?id={pk}"
    payload = form_of(other_client(demo_app, "qu_admin"), edit_url)
    payload.setlist("summary", ["首问机构试图修改"])
    before = row_of(Case, pk)

    sign_in(client, "xiashan_dongshan")
    got = {
        "listed": number in client.get("/admin/case/", query_string={"search": number}).get_data(as_text=True),
        "details": outcome(client.get(f"/admin/case/details/?id={pk}", follow_redirects=True)),
        "edit form": outcome(client.get(edit_url, follow_redirects=True)),
        "save": outcome(client.post(edit_url, data=payload, follow_redirects=True)),
    }
    assert got == {"listed": True, "details": "shown", "edit form": "not found", "save": "not found"}
    assert row_of(Case, pk) == before

    taoxi = other_client(demo_app, "xiashan_taoxi")
    assert outcome(taoxi.get(f"/admin/case/details/?id={pk}", follow_redirects=True)) == "not found"
    town = other_client(demo_app, "xiashan_admin")
    assert outcome(town.get(edit_url, follow_redirects=True)) == "shown"


def test_an_inline_row_of_another_case_cannot_be_taken_over(client):
    """Posting another case's material id in an own case's inline form leaves that material alone."""
    own = record_at("case", center_named("东山社区便民服务站"), "xiashan_dongshan", in_scope=True)
    foreign = db.session.scalar(
        select(CaseMaterial)
        .join(Case, CaseMaterial.case_id == Case.id)
        .where(Case.center_id == center_named("文光社区便民服务站").id)
        .order_by(CaseMaterial.id)
        .limit(1)
    )
    foreign_before = row_of(CaseMaterial, foreign.id)
    sign_in(client, "xiashan_dongshan")
    payload = form_of(client, f"/admin/case/edit/?id={own.id}")
    index = sum(1 for key in payload if key.startswith("materials-") and key.endswith("-name"))
    payload.setlist(f"materials-{index}-id", [str(foreign.id)])
    payload.setlist(f"materials-{index}-name", ["范围验收：篡改他人材料"])
    payload.setlist(f"materials-{index}-form", ["original"])
    payload.setlist(f"materials-{index}-copies", ["1"])
    client.post(f"/admin/case/edit/?id={own.id}", data=payload)
    assert row_of(CaseMaterial, foreign.id) == foreign_before


# ---------------------------------------------------------------------------------------------
# 3. Actions: raw posted ids to /action/
# ---------------------------------------------------------------------------------------------

# (login, endpoint, whose record) -> the built-in delete action must delete nothing
ACTION_ROWS = [
    ("xiashan_admin", "applicant", "in"),
    ("xiashan_admin", "applicant", "out"),
    ("xiashan_dongshan", "evaluation", "out"),
    ("chendian_admin", "agent", "out"),
    ("qu_audit", "followup", "any"),
    ("qu_audit", "case", "any"),
    ("qu_admin", "case", "any"),  # cases are never deleted, not even by the district
    # Satisfaction and call-back figures are read from these: nobody deletes them either.
    ("qu_admin", "evaluation", "any"),
    ("qu_admin", "followup", "any"),
]
_ACTION_CENTERS = {
    "xiashan_admin": ("东山社区便民服务站", "文光社区便民服务站"),
    "xiashan_dongshan": ("东山社区便民服务站", "桃溪社区便民服务站"),
    "chendian_admin": ("文光社区便民服务站", "东山社区便民服务站"),
}


def test_the_delete_action_deletes_nothing_for_a_login_that_may_not_delete(demo_app):
    got = {}
    for username, endpoint, whose in ACTION_ROWS:
        model = ROLE_TABLE[endpoint][0]
        if whose == "any":
            pk = db.session.scalar(select(model.id).order_by(model.id).limit(1))
        else:
            own, other = _ACTION_CENTERS[username]
            pk = record_at(endpoint, center_named(own if whose == "in" else other), username, whose == "in").id
        total = count_rows(model)
        client = other_client(demo_app, username)
        response = client.post(f"/admin/{endpoint}/action/", data={"action": "delete", "rowid": [str(pk)]})
        followed = (
            client.get(response.headers["Location"]).get_data(as_text=True) if response.status_code == 302 else ""
        )
        refused = response.status_code in (302, 403) and "条记录被成功删除" not in followed
        kept = row_of(model, pk) is not None and count_rows(model) == total
        got[f"{username} {endpoint} {whose}"] = (
            "refused, kept" if refused and kept else f"{response.status_code}, kept={kept}"
        )
    assert got == dict.fromkeys(got, "refused, kept")


def test_the_delete_action_works_for_the_district_admin(client):
    """The control for the table above: the same request by a login that may delete does delete."""
    spare = Department(name="范围验收：待删除的部门")
    db.session.add(spare)
    db.session.commit()
    pk = spare.id
    sign_in(client, "qu_admin")
    response = client.post(
        "/admin/department/action/", data={"action": "delete", "rowid": [str(pk)]}, follow_redirects=True
    )
    assert "1 条记录被成功删除" in response.get_data(as_text=True)
    assert row_of(Department, pk) is None


# ---------------------------------------------------------------------------------------------
# 4. Ajax lookups, and the values they submit
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
# 5. Creating or editing forces the record into the user's scope
# ---------------------------------------------------------------------------------------------

# The center a village operator (东山) posts for a new record -> it never lands anywhere but 东山.
POSTED_CENTERS = [
    ("own station", "东山社区便民服务站"),
    ("sibling village", "桃溪社区便民服务站"),
    ("village of another town", "文光社区便民服务站"),
    ("its own town center", "峡山街道便民服务中心"),
    ("the district center", "潮南区政务服务中心"),
]


@pytest.mark.parametrize("endpoint", ["case", "applicant"])
def test_a_village_operators_new_record_belongs_to_its_station(client, endpoint):
    dongshan = center_named("东山社区便民服务站")
    model = ROLE_TABLE[endpoint][0]
    applicant = record_at("applicant", dongshan, "xiashan_dongshan", in_scope=True)
    sign_in(client, "xiashan_dongshan")
    got = {}
    for n, (what, posted_name) in enumerate(POSTED_CENTERS):
        posted = center_named(posted_name)
        if endpoint == "case":
            data = {
                "center": posted.id,
                "mode": "on_site",
                "items": [item_stationed_at(dongshan, posted).id],
                "applicant": applicant.id,
                "received_date": today_beijing().isoformat(),
            }
        else:
            data = {
                "kind": "person",
                "center": posted.id,
                "name": f"范围验收申请人{n}",
                "gender": "female",
                "id_type": "resident_id",
                "id_number": valid_id_number(birth="19900202", seq=f"77{n}"),
                "phone": f"1380013877{n}",
            }
        before = ids_of(model)
        client.post(f"/admin/{endpoint}/new/", data=data)
        created = [row_of(model, pk) for pk in ids_of(model) - before]
        if not created:
            got[what] = "refused"
        elif all(
            r["center_id"] == dongshan.id and r.get("origin_center_id", dongshan.id) == dongshan.id for r in created
        ):
            got[what] = "at its station"
        else:
            got[what] = "at " + ",".join(str(r["center_id"]) for r in created)
    assert got["own station"] == "at its station"  # the control: its own station saves
    assert {what: where for what, where in got.items() if where not in ("at its station", "refused")} == {}


# What xiashan_admin (峡山) tries; each is run with a value of its own town ("own": saved)
# and of 陈店 ("foreign": refused, nothing changed).
TOWN_WRITES = [
    "case created at a village",
    "case created with an agent",
    "case given an agent",
    "applicant created at a village",
    "agent created at a center",
    "followup assigned to a user",
]


def _town_case() -> Case:
    """An open case at 东山 without fees (fees tie a case to its items)."""
    dongshan = center_named("东山社区便民服务站")
    return db.session.scalar(
        select(Case)
        .where(Case.center_id == dongshan.id, Case.origin_center_id == dongshan.id, ~Case.fees.any())
        .order_by(_OPEN_FIRST, Case.id)
        .limit(1)
    )


def _town_followup() -> FollowUp:
    return record_at("followup", center_named("峡山街道便民服务中心"), "xiashan_admin", in_scope=True)


def _town_write(client, what: str, own: bool) -> tuple[type, int | None, str, int]:
    """Posts one write as xiashan_admin. Returns (model, edited pk or None for a create, column, value
    that lands in the column if the write went through)."""
    dongshan, taoxi = center_named("东山社区便民服务站"), center_named("桃溪社区便民服务站")
    huxi = center_named("湖西社区便民服务站")  # a village of 陈店
    village = taoxi if own else huxi
    agent_center = dongshan if own else center_named("文光社区便民服务站")
    agent = db.session.scalar(
        select(Agent).where(Agent.center_id == agent_center.id, Agent.active.is_(True)).order_by(Agent.id).limit(1)
    )
    item = item_stationed_at(dongshan, taoxi, huxi)
    today = today_beijing().isoformat()
    if what in ("case created at a village", "case created with an agent"):
        at_village = what == "case created at a village"
        client.post(
            "/admin/case/new/",
            data={
                "center": (village if at_village else dongshan).id,
                "mode": "on_site",
                "items": [item.id],
                "applicant": record_at("applicant", dongshan, "xiashan_admin", in_scope=True).id,
                "agent": "__None" if at_village else agent.id,
                "received_date": today,
            },
        )
        return (Case, None, "center_id", village.id) if at_village else (Case, None, "agent_id", agent.id)
    if what in ("case moved to a village", "case given an agent"):
        case = _town_case()
        payload = form_of(client, f"/admin/case/edit/?id={case.id}")
        if what == "case moved to a village":
            payload.setlist("center", [str(village.id)])
            payload.setlist("agent", ["__None"])
            payload.setlist("items", [str(item.id)])
        else:
            payload.setlist("agent", [str(agent.id)])
        client.post(f"/admin/case/edit/?id={case.id}", data=payload)
        if what == "case moved to a village":
            return Case, case.id, "center_id", village.id
        return Case, case.id, "agent_id", agent.id
    if what == "applicant created at a village":
        client.post(
            "/admin/applicant/new/",
            data={
                "kind": "person",
                "center": village.id,
                "name": "范围验收镇级申请人",
                "gender": "male",
                "id_type": "resident_id",
                "id_number": valid_id_number(birth="19850505", seq="772"),
                "phone": "13800138772",
            },
        )
        return Applicant, None, "center_id", village.id
    if what == "agent created at a center":
        client.post(
            "/admin/agent/new/",
            data={
                "staff_no": "CN9901",
                "name": "范围验收代办员",
                "center": village.id,
                "phone": "13800138773",
                "active": "y",
            },
        )
        return Agent, None, "center_id", village.id
    if what == "followup assigned to a user":
        followup = _town_followup()
        assignee = login_user("xiashan_dongshan" if own else "chendian_admin")
        payload = form_of(client, f"/admin/followup/edit/?id={followup.id}")
        payload.setlist("assignee", [str(assignee.id)])
        client.post(f"/admin/followup/edit/?id={followup.id}", data=payload)
        return FollowUp, followup.id, "assignee_id", assignee.id
    raise AssertionError(what)


def _landed(client, what: str, own: bool) -> str:
    """Posts the write and says whether the value landed; a refused write must change nothing."""
    existing = {model: ids_of(model) for model in (Case, Applicant, Agent)}
    edited = _town_case() if what.startswith(("case moved", "case given")) else None
    edited = _town_followup() if what.startswith("followup") else edited
    before = row_of(type(edited), edited.id) if edited is not None else None
    model, pk, column, value = _town_write(client, what, own)
    if pk is not None:
        after = row_of(model, pk)
        if after[column] == value:
            return "saved"
        return "refused" if after == before else "changed something else"
    created = [row_of(model, new) for new in ids_of(model) - existing[model]]
    if any(row[column] == value for row in created):
        return "saved"
    return "refused" if created == [] else "saved without the value"


@pytest.mark.parametrize("what", TOWN_WRITES)
def test_a_town_admin_cannot_write_into_another_town(client, what):
    sign_in(client, "xiashan_admin")
    got = {"another town": _landed(client, what, own=False), "own town": _landed(client, what, own=True)}
    assert got == {"another town": "refused", "own town": "saved"}


# ---------------------------------------------------------------------------------------------
# 6. Dropdowns: relationship selects in forms, inline rows, and filter option lists
# ---------------------------------------------------------------------------------------------


def _active_agents(username):
    return set(
        db.session.scalars(select(Agent.id).where(Agent.center_id.in_(centers_of(username)), Agent.active.is_(True)))
    )


def _active_users(username):
    return set(
        db.session.scalars(select(User.id).where(User.center_id.in_(centers_of(username)), User.active.is_(True)))
    )


def _case_with_logs(username):
    centers = centers_of(username)
    return db.session.scalar(
        select(Case.id).where(Case.center_id.in_(centers), Case.logs.any()).order_by(_OPEN_FIRST, Case.id).limit(1)
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


# ---------------------------------------------------------------------------------------------
# 7. Role x view: pages a role may not use answer 403 and leave an audit row
# ---------------------------------------------------------------------------------------------

ACCESS_OPS = ["list", "details", "new form", "create", "edit form", "save", "delete"]


def expected_access(role: str, endpoint: str) -> dict[str, int]:
    _model, readers, creators, editors, deleters = ROLE_TABLE[endpoint]
    if role not in readers:
        return {op: 403 for op in ACCESS_OPS}
    return {
        "list": 200,
        "details": 200,
        "new form": 200 if role in creators else 403,
        "create": 200 if role in creators else 403,  # an empty form comes back with errors
        "edit form": 200 if role in editors else 403,
        "save": 302 if role in editors else 403,  # the unchanged form saves
        "delete": 302 if role in deleters else 403,
    }


def _access_record(endpoint: str, username: str) -> int:
    """A record the login may see (so a 403 is about the role, not the scope)."""
    model = ROLE_TABLE[endpoint][0]
    if endpoint == "case":
        candidates = writable_case_ids(username) or visible_ids(Case, username)  # the auditor writes nothing
        return db.session.scalar(select(Case.id).where(Case.id.in_(candidates)).order_by(_OPEN_FIRST, Case.id).limit(1))
    if endpoint == "export_job" and not visible_ids(ExportJob, username):
        db.session.add(ExportJob(user=login_user(username), format="zip", annexes="1", total=0, status="done"))
        db.session.commit()
    if endpoint == "case_extension" and not visible_ids(CaseExtension, username):
        # The demo has no extension requests; one on a 东山 case is visible to each role login.
        dongshan = center_named("东山社区便民服务站")
        case = db.session.scalar(select(Case).where(Case.center_id == dongshan.id).order_by(Case.id).limit(1))
        db.session.add(
            CaseExtension(case=case, reason="范围验收", old_date=case.promised_date, new_date=dt.date(2030, 1, 1))
        )
        db.session.commit()
    visible = visible_ids(model, username) or set(db.session.scalars(select(pk_of(model))))
    return min(visible)


def _throwaway(endpoint: str) -> int:
    """A fresh record nothing depends on, for a delete that should succeed."""
    xiashan = center_named("峡山街道便民服务中心")
    if endpoint == "applicant":
        obj = make_applicant(xiashan, name="范围验收待删申请人", id_number=valid_id_number(birth="19700707", seq="773"))
    elif endpoint == "agent":
        obj = Agent(name="范围验收待删代办员", staff_no="CN9902", center=xiashan, phone="13800138774")
        db.session.add(obj)
    elif endpoint == "evaluation":
        case = db.session.scalar(
            select(Case).where(Case.status == "completed", ~Case.evaluation.has()).order_by(Case.id).limit(1)
        )
        ratings = dict.fromkeys(("overall", "attitude", "efficiency", "competence", "communication", "integrity"), 5)
        obj = Evaluation(
            case=case,
            channel="paper",
            asked_for_anything=False,
            entered_by=login_user("qu_admin"),
            paper_ref="范围验收待删评价表",
            **ratings,
        )
        db.session.add(obj)
    elif endpoint == "followup":
        return db.session.scalar(select(FollowUp.id).order_by(FollowUp.id).limit(1))
    elif endpoint == "center":
        obj = make_center(xiashan, Tier.VILLAGE, "范围验收待删村便民服务站")
    elif endpoint == "service_item":
        obj = ServiceItem(
            code="T-SCOPE-1",
            name="范围验收待删事项",
            department=db.session.scalar(select(Department).limit(1)),
            time_limit_days=5,
        )
        db.session.add(obj)
    elif endpoint == "department":
        obj = Department(name="范围验收待删部门")
        db.session.add(obj)
    elif endpoint == "holiday_year":
        obj = HolidayYear(year=2099, notice_ref="")
        db.session.add(obj)
    elif endpoint == "holiday_day":
        obj = HolidayDay(day=dt.date(2099, 1, 1), name="范围验收待删")
        db.session.add(obj)
    else:
        raise AssertionError(endpoint)
    db.session.flush()
    pk = inspect(obj).identity[0]
    db.session.commit()
    return pk


@pytest.mark.parametrize("username", ROLE_LOGINS)
def test_each_role_gets_403_on_every_page_it_may_not_use(client, username):
    role = ROLE_OF[username]
    sign_in(client, username)
    forbidden_before = forbidden_rows(username)
    got, expected = {}, {}
    for endpoint, (model, *_who, deleters) in ROLE_TABLE.items():
        expected[endpoint] = expected_access(role, endpoint)
        pk = _access_record(endpoint, username)
        base = f"/admin/{endpoint}"
        row = {}
        row["list"] = client.get(f"{base}/").status_code
        row["details"] = client.get(f"{base}/details/?id={pk}").status_code
        row["new form"] = client.get(f"{base}/new/").status_code
        total = count_rows(model) if endpoint != "audit_log" else None
        row["create"] = client.post(f"{base}/new/", data={}).status_code
        if total is not None:
            assert count_rows(model) == total, f"{endpoint}: an empty create added a row"
        edit_form = client.get(f"{base}/edit/?id={pk}")
        row["edit form"] = edit_form.status_code
        before = row_of(model, pk)
        if edit_form.status_code == 200:
            payload = MultiDict(scrape(edit_form.get_data(as_text=True)).fields)
        else:
            payload = MultiDict({"id": str(pk)})
        row["save"] = client.post(f"{base}/edit/?id={pk}", data=payload).status_code
        if row["save"] != 302 and endpoint != "audit_log":
            assert row_of(model, pk) == before, f"{endpoint}: a refused save changed the row"
        victim = _throwaway(endpoint) if role in deleters else pk
        kept = row_of(model, victim)
        row["delete"] = client.post(f"{base}/delete/", data={"id": victim}).status_code
        if role in deleters and row["delete"] == 302:
            assert row_of(model, victim) is None, f"{endpoint}: the delete did not delete"
        elif endpoint != "audit_log":
            assert row_of(model, victim) == kept, f"{endpoint}: a refused delete changed the row"
        got[endpoint] = row
    assert got == expected
    refusals = sum(1 for row in got.values() for status in row.values() if status == 403)
    assert forbidden_rows(username) - forbidden_before == refusals


def test_a_403_is_audited_with_the_request(client):
    sign_in(client, "xiashan_admin")
    assert client.get("/admin/audit_log/").status_code == 403
    row = db.session.scalar(select(AuditLog).where(AuditLog.event == "forbidden").order_by(AuditLog.id.desc()).limit(1))
    assert row.username == "xiashan_admin" and "/admin/audit_log/" in row.summary


# ---------------------------------------------------------------------------------------------
# 8. Anonymous requests to every console URL are refused
# ---------------------------------------------------------------------------------------------


def _console_requests(app) -> list[tuple[str, str]]:
    requests = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint.split(".")[-1] == "static":
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "csv" if m.group(1) == "export_type" else "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            requests.append((method, url))
    return requests


def test_anonymous_requests_to_every_console_url_are_refused(demo_app):
    client = demo_app.test_client()
    case = db.session.scalar(select(Case).order_by(Case.id).limit(1))
    requests = _console_requests(demo_app)
    urls = {url for _, url in requests}
    for must in (
        "/admin/",
        "/admin/case/reveal/",
        "/admin/case/find-by-id/",
        "/admin/applicant/export-masked/",
        "/admin/case/action/",
        "/admin/case/ajax/lookup/",
        "/admin/case/ajax/update/",
        "/admin/user/delete/",
    ):
        assert must in urls, must
    let_through = {}
    for method, url in requests:
        response = client.open(
            url,
            method=method,
            query_string={"id": case.id, "name": "applicant", "query": "陈"},
            data={
                "id": case.id,
                "rowid": [case.id],
                "action": "delete",
                "format": "csv",
                "reason": "匿名",
                "id_number": case.applicant.id_number or "",
                "summary": "匿名修改",
            },
        )
        refused = response.status_code in (401, 403) or (
            response.status_code == 302 and response.headers["Location"].startswith("/login")
        )
        body = response.get_data(as_text=True)
        if not refused or case.number in body or case.applicant.name in body:
            let_through[f"{method} {url}"] = response.status_code
    assert let_through == {}
    assert row_of(Case, case.id)["summary"] != "匿名修改"


# ---------------------------------------------------------------------------------------------
# 9. Exports hold the login's scope and nothing else
# ---------------------------------------------------------------------------------------------

EXPORT_ROWS = [
    ("xiashan_admin", "case"),
    ("xiashan_admin", "applicant"),
    ("chendian_admin", "case"),
    ("chendian_wenguang", "applicant"),
]


@pytest.mark.parametrize(("username", "endpoint"), EXPORT_ROWS, ids=[f"{u}-{e}" for u, e in EXPORT_ROWS])
def test_an_export_holds_exactly_the_rows_in_scope(client, username, endpoint):
    model = ROLE_TABLE[endpoint][0]
    sign_in(client, username)
    rows = csv_rows(client.post(f"/admin/{endpoint}/export-masked/", data={"format": "csv"}))
    expected = visible_ids(model, username)
    # The first column identifies the row: the case number, or the applicant's name.
    column = Case.number if endpoint == "case" else Applicant.name
    assert sorted(r[0] for r in rows[1:]) == sorted(db.session.scalars(select(column).where(model.id.in_(expected))))
    hidden = set(db.session.scalars(select(model.id))) - expected
    text = "\n".join(",".join(r) for r in rows)
    if endpoint == "case":
        leaked = [n for n in db.session.scalars(select(Case.number).where(Case.id.in_(hidden))) if n in text]
    else:  # a hidden applicant's masked ID number or credit code
        leaked = [
            a.name
            for a in db.session.scalars(select(Applicant).where(Applicant.id.in_(hidden)))
            if (a.credit_code and a.credit_code in text) or (a.id_number and a.id_number in text)
        ]
    assert leaked == []


# ---------------------------------------------------------------------------------------------
# Custom endpoints: reveal, find-by-id, export-masked with foreign filters
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "in_center", "out_center"), SCOPE_ROWS, ids=[r[0] for r in SCOPE_ROWS])
def test_custom_endpoints_treat_out_of_scope_records_as_missing(client, username, in_center, out_center):
    """Reveal, find-by-id and the masked exports, on a record out of scope and, as the control, one in scope."""
    out = center_named(out_center)
    case = record_at("case", out, username, in_scope=False)
    with_case_there = select(Case.applicant_id).where(Case.center_id == out.id)
    applicant = db.session.scalar(
        select(Applicant)
        .where(
            Applicant.kind == "person",
            Applicant.id.not_in(visible_ids(Applicant, username)),
            or_(Applicant.center_id == out.id, Applicant.id.in_(with_case_there)),
        )
        .order_by(Applicant.id)
        .limit(1)
    )
    reveals = count_rows(AuditLog, AuditLog.event == "reveal")
    sign_in(client, username)
    got, bodies = {}, {}
    response = client.post(f"/admin/case/reveal/?id={case.id}", data={"reason": "核对身份"}, follow_redirects=True)
    got["reveal"], bodies["reveal"] = outcome(response), response.get_data(as_text=True)
    for endpoint in ("case", "applicant"):
        response = client.post(
            f"/admin/{endpoint}/find-by-id/", data={"id_number": applicant.id_number}, follow_redirects=True
        )
        bodies[f"{endpoint} find-by-id"] = response.get_data(as_text=True)
        got[f"{endpoint} find-by-id"] = (
            "not found" if "未找到该证件号码" in bodies[f"{endpoint} find-by-id"] else "found"
        )
    response = client.post(filter_url(client, "case", "受理机构", out.id, "export-masked/"), data={"format": "csv"})
    got["case export of that center"] = len(csv_rows(response)) - 1
    bodies["case export"] = response.data.decode("utf-8-sig")
    assert got == {
        "reveal": "not found",
        "case find-by-id": "not found",
        "applicant find-by-id": "not found",
        "case export of that center": 0,
    }
    for label, body in bodies.items():
        for secret in (case.number, case.applicant.id_number, applicant.id_number, applicant.name):
            assert not secret or secret not in body, (label, secret)
    assert count_rows(AuditLog, AuditLog.event == "reveal") == reveals

    # The control: the same requests on a record in scope succeed.
    own = db.session.scalar(
        select(Case)
        .join(Applicant, Case.applicant_id == Applicant.id)
        .where(Case.center_id == center_named(in_center).id, Applicant.kind == "person")
        .order_by(Case.id)
        .limit(1)
    )
    shown = client.post(f"/admin/case/reveal/?id={own.id}", data={"reason": "核对身份"}).get_data(as_text=True)
    assert own.applicant.id_number in shown
    found = client.post("/admin/case/find-by-id/", data={"id_number": own.applicant.id_number}, follow_redirects=True)
    assert own.number in found.get_data(as_text=True)

    # Last, the export filtered on an applicant's id: the filter narrows, never widens.
    by_id = {}
    for who, target in (("hidden applicant", applicant), ("own applicant", own.applicant)):
        response = client.post(
            filter_url(client, "applicant", "申请人编号", target.id, "export-masked/"), data={"format": "csv"}
        )
        by_id[who] = [row[0] for row in csv_rows(response)[1:]]
    assert by_id == {"hidden applicant": [], "own applicant": [own.applicant.name]}


# ---------------------------------------------------------------------------------------------
# Custom lifecycle endpoints: transitions, bulk transition actions, progress log, follow-up steps
# ---------------------------------------------------------------------------------------------

# Every field any transition or step form collects, filled in, so only scope can stop the request.
_LIFECYCLE_FORM = {
    "reason": "范围验收：越权操作",
    "completion_result": "范围验收",
    "result_delivery": "window",
    "handover_note": "范围验收",
    "completion_signed": "y",
    "termination_signed": "y",
    "materials_returned": "y",
    "materials_return_method": "in_person",
    "materials_return_note": "范围验收",
    "application_confirmed": "y",
    "undertaking_confirmed": "y",
    "agreement_signed": "y",
    "termination_reason": "withdrawn",
    "termination_text": "范围验收",
    "callback_record": "范围验收",
    "rectification": "范围验收",
    "feedback": "范围验收",
    "appeal_reason": "范围验收",
    "content": "范围验收：越权记录",
}


def _lifecycle_requests(case_id: int, followup_id: int) -> list[tuple[str, str, str, dict | None]]:
    """(label, method, url, form) for every lifecycle endpoint, aimed at one case and one follow-up."""
    from lifecycle.supervision import STEPS
    from lifecycle.transitions import TRANSITIONS

    requests = []
    for name in TRANSITIONS:
        requests.append((f"transition page {name}", "GET", f"/admin/case/transition/{name}/?id={case_id}", None))
        requests.append((f"transition {name}", "POST", f"/admin/case/transition/{name}/?id={case_id}", _LIFECYCLE_FORM))
        requests.append((f"bulk action {name}", "POST", "/admin/case/action/", {"action": name, "rowid": str(case_id)}))
    requests.append(("progress log", "POST", f"/admin/case/log/?id={case_id}", _LIFECYCLE_FORM))
    for name in STEPS:
        requests.append(
            (f"follow-up step {name}", "POST", f"/admin/followup/step/{name}/?id={followup_id}", _LIFECYCLE_FORM)
        )
    return requests


def _lifecycle_state(case_id: int, followup_id: int) -> dict:
    from models.case import CaseHandoff, CaseLog

    return {
        "case": row_of(Case, case_id),
        "followup": row_of(FollowUp, followup_id),
        "logs": count_rows(CaseLog, CaseLog.case_id == case_id),
        "handoffs": count_rows(CaseHandoff, CaseHandoff.case_id == case_id),
    }


@pytest.mark.parametrize(("username", "in_center", "out_center"), SCOPE_ROWS, ids=[r[0] for r in SCOPE_ROWS])
def test_lifecycle_endpoints_treat_out_of_scope_records_as_missing(client, username, in_center, out_center):
    out = center_named(out_center)
    case = record_at("case", out, username, in_scope=False)
    followup = record_at("followup", out, username, in_scope=False)
    before = _lifecycle_state(case.id, followup.id)
    secrets = (case.number, followup.case.number)
    sign_in(client, username)
    got, shown_in = {}, []
    for label, method, url, data in _lifecycle_requests(case.id, followup.id):
        response = client.open(url, method=method, data=data, follow_redirects=True)
        body = response.get_data(as_text=True)
        got[label] = outcome(response)
        if any(secret in body for secret in secrets):
            shown_in.append(label)
    assert got == dict.fromkeys(got, "not found")
    assert shown_in == []
    assert _lifecycle_state(case.id, followup.id) == before


def test_the_auditor_changes_nothing_through_the_lifecycle_endpoints(client):
    case = db.session.scalar(select(Case).where(Case.status == "in_progress").order_by(Case.id).limit(1))
    followup = db.session.scalar(select(FollowUp).where(FollowUp.status == "open").order_by(FollowUp.id).limit(1))
    before = _lifecycle_state(case.id, followup.id)
    sign_in(client, "qu_audit")
    got = {}
    for label, method, url, data in _lifecycle_requests(case.id, followup.id):
        status = client.open(url, method=method, data=data).status_code
        # a page the auditor may not use answers 403; Flask-Admin answers a disallowed bulk action by a redirect
        got[label] = "refused" if status == 403 or (label.startswith("bulk") and status == 302) else status
    assert _lifecycle_state(case.id, followup.id) == before
    assert got == dict.fromkeys(got, "refused")


def test_lifecycle_endpoints_serve_records_in_scope(client):
    """The control for the tables above: a station writes a progress-log entry on its own case."""
    case = record_at("case", center_named("文光社区便民服务站"), "chendian_wenguang", in_scope=True)
    followup = record_at("followup", center_named("文光社区便民服务站"), "chendian_wenguang", in_scope=True)
    before = _lifecycle_state(case.id, followup.id)
    sign_in(client, "chendian_wenguang")
    response = client.post(
        f"/admin/case/log/?id={case.id}", data={"content": "范围验收：本站记录"}, follow_redirects=True
    )
    assert NOT_FOUND not in response.get_data(as_text=True)
    assert _lifecycle_state(case.id, followup.id)["logs"] == before["logs"] + 1


# ---------------------------------------------------------------------------------------------
# 10. With CSRF protection on, as in production
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _token(body: str) -> str:
    match = _TOKEN.search(body)
    assert match, "no csrf token on the page"
    return match.group(1) or match.group(2)


def _csrf_login(app, username: str):
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


class TestWithCsrfOn:
    def test_an_in_scope_edit_with_the_token_saves_and_an_out_of_scope_one_does_not(self, demo_app_csrf):
        client = _csrf_login(demo_app_csrf, "chendian_wenguang")
        own = record_at("case", center_named("文光社区便民服务站"), "chendian_wenguang", True)
        foreign = record_at("case", center_named("东山社区便民服务站"), "chendian_wenguang", False)
        foreign_before = row_of(Case, foreign.id)

        payload = form_of(client, f"/admin/case/edit/?id={own.id}")
        assert payload.get("csrf_token")
        payload.setlist("summary", ["带令牌的修改"])
        assert client.post(f"/admin/case/edit/?id={own.id}", data=payload).status_code == 302
        assert row_of(Case, own.id)["summary"] == "带令牌的修改"

        token = _token(client.get("/admin/case/").get_data(as_text=True))
        payload.setlist("csrf_token", [token])
        payload.setlist("summary", ["越权修改"])
        response = client.post(f"/admin/case/edit/?id={foreign.id}", data=payload, follow_redirects=True)
        body = response.get_data(as_text=True)
        assert NOT_FOUND in body and foreign.number not in body
        assert row_of(Case, foreign.id) == foreign_before

        response = client.post(
            f"/admin/case/reveal/?id={foreign.id}", data={"reason": "越权", "csrf_token": token}, follow_redirects=True
        )
        assert NOT_FOUND in response.get_data(as_text=True)

    def test_posts_without_the_token_are_refused(self, demo_app_csrf):
        client = _csrf_login(demo_app_csrf, "chendian_wenguang")
        own = record_at("case", center_named("文光社区便民服务站"), "chendian_wenguang", True)
        payload = form_of(client, f"/admin/case/edit/?id={own.id}")
        payload.pop("csrf_token")
        payload.setlist("summary", ["无令牌的修改"])
        before, cases = row_of(Case, own.id), ids_of(Case)
        posts = {
            "edit": (f"/admin/case/edit/?id={own.id}", payload),
            "create": ("/admin/case/new/", {"center": own.center_id, "mode": "on_site"}),
            "delete": ("/admin/case/delete/", {"id": own.id}),
            "action": ("/admin/case/action/", {"action": "delete", "rowid": own.id}),
            "export": ("/admin/case/export-masked/", {"format": "csv"}),
            "reveal": (f"/admin/case/reveal/?id={own.id}", {"reason": "核对身份"}),
            "find-by-id": ("/admin/case/find-by-id/", {"id_number": own.applicant.id_number or ""}),
        }
        got = {name: client.post(url, data=data).status_code for name, (url, data) in posts.items()}
        assert got == {name: 400 for name in posts}
        assert row_of(Case, own.id) == before and ids_of(Case) == cases

    def test_the_export_with_the_token_holds_only_the_station(self, demo_app_csrf):
        client = _csrf_login(demo_app_csrf, "chendian_wenguang")
        token = _token(client.get("/admin/case/").get_data(as_text=True))
        rows = csv_rows(client.post("/admin/case/export-masked/", data={"format": "csv", "csrf_token": token}))
        expected = set(
            db.session.scalars(select(Case.number).where(Case.id.in_(visible_ids(Case, "chendian_wenguang"))))
        )
        assert {r[0] for r in rows[1:]} == expected
