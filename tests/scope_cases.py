"""What the scope tests share: the role table, independent scope arithmetic, reading pages, signing in.

One scoping function serves every read and write path; the tests/test_scope_*.py files check it from
the outside: every console URL and method x every role x an in-scope and an out-of-scope record, with
the expected outcome written down, and the rows each login sees counted against the database with
independent queries (the expected center sets are derived here from the user's center and its
children, never by calling lifecycle.scope).

Roles: district_admin sees and changes everything; auditor reads everything and changes nothing;
town_admin works in its town center and the villages under it; village_operator in its station.
An out-of-scope record behaves as if it did not exist (flash "记录不存在" and a redirect, or an
error status) and none of its fields appears in any page, count, export or JSON answer.

Every test works on its own copy of the demo database. Logins go through the real login form
once per user and run; later tests reuse that signed session cookie (see sign_in), which keeps
the files fast.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from html.parser import HTMLParser

from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select
from werkzeug.datastructures import MultiDict

from extensions import db
from models import (
    Agent,
    Applicant,
    AuditLog,
    Case,
    CaseExtension,
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
from tests.builders import login_as

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


def item_stationed_at(*centers: Center) -> ServiceItem:
    """A service item every one of `centers` may accept, so only scope decides the outcome."""
    for item in db.session.scalars(select(ServiceItem).order_by(ServiceItem.id)):
        if all(item.is_stationed_at(c) for c in centers):
            return item
    raise AssertionError([c.name for c in centers])


# Open cases first: a later lifecycle rule may lock finished ones against editing.
OPEN_FIRST = sql_case((Case.status.in_(["in_progress", "accepted", "registered", "submitted"]), 0), else_=1)


def unique_applicant_name(applicant: Applicant) -> bool:
    return (
        db.session.scalar(select(func.count()).select_from(Applicant).where(Applicant.name.contains(applicant.name)))
        == 1
    )


def record_at(endpoint: str, center: Center, username: str, in_scope: bool):
    """A record of `endpoint` held at `center`, checked to be (or not be) in the login's scope."""
    model = ROLE_TABLE[endpoint][0]
    at_center = (Case.center_id == center.id, Case.origin_center_id == center.id)
    if endpoint == "case":
        stmt = select(Case).where(*at_center).order_by(OPEN_FIRST, Case.id)
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
        if endpoint == "applicant" and not unique_applicant_name(record):
            continue
        return record
    raise AssertionError(f"demo data has no {endpoint} at {center.name} {'in' if in_scope else 'out of'} scope")


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


SIGNED_IN: dict[str, str] = {}


def sign_in(client, username: str) -> None:
    """Log in through the real login form, once per login and test run.

    Later tests reuse the signed session cookie: every test's database copy holds the same users
    with the same session epoch, and the argon2 check costs a tenth of a second per login.
    """
    cookie = SIGNED_IN.get(username)
    if cookie is not None:
        client.set_cookie("session", cookie)
        return
    login_as(client, username)
    SIGNED_IN[username] = client.get_cookie("session").value


def other_client(demo_app, username: str):
    other = demo_app.test_client()
    sign_in(other, username)
    return other


# (login, a center in its scope, a center out of its scope)
SCOPE_ROWS = [
    ("xiashan_admin", "东山社区便民服务站", "文光社区便民服务站"),  # a village of another town
    ("chendian_admin", "陈店镇便民服务中心", "潮南区政务服务中心"),  # the district center above it
    ("xiashan_dongshan", "东山社区便民服务站", "桃溪社区便民服务站"),  # a sibling village, same town
    ("chendian_wenguang", "文光社区便民服务站", "东山社区便民服务站"),  # a village of another town
]
