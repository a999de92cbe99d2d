"""Role x view: pages a role may not use answer 403 and leave an audit row; anonymous requests are refused."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import inspect, select
from werkzeug.datastructures import MultiDict

from extensions import db
from models import (
    Agent,
    AuditLog,
    Case,
    CaseExtension,
    Department,
    Evaluation,
    ExportJob,
    FollowUp,
    HolidayDay,
    HolidayYear,
    ServiceItem,
)
from models.enums import Tier
from tests.builders import make_applicant, make_center, valid_id_number
from tests.scope_cases import (
    OPEN_FIRST,
    ROLE_OF,
    ROLE_TABLE,
    center_named,
    count_rows,
    login_user,
    pk_of,
    row_of,
    scrape,
    sign_in,
    visible_ids,
    writable_case_ids,
)

# One login per role, for the role x view table.
ROLE_LOGINS = ["qu_admin", "qu_audit", "xiashan_admin", "xiashan_dongshan"]


def forbidden_rows(username: str) -> int:
    return count_rows(AuditLog, AuditLog.event == "forbidden", AuditLog.username == username)


# ---------------------------------------------------------------------------------------------
# Role x view: pages a role may not use answer 403 and leave an audit row
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
        return db.session.scalar(select(Case.id).where(Case.id.in_(candidates)).order_by(OPEN_FIRST, Case.id).limit(1))
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
# Anonymous requests to every console URL are refused
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
