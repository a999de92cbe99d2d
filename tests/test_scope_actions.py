"""Scope of actions and exports: raw posted ids to /action/, exports, reveal and find-by-id."""

from __future__ import annotations

import pytest
from sqlalchemy import or_, select

from extensions import db
from models import Applicant, AuditLog, Case, Department
from tests.scope_cases import (
    ROLE_TABLE,
    SCOPE_ROWS,
    center_named,
    count_rows,
    csv_rows,
    filter_url,
    other_client,
    outcome,
    record_at,
    row_of,
    sign_in,
    visible_ids,
)

# ---------------------------------------------------------------------------------------------
# Actions: raw posted ids to /action/
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
# Exports hold the login's scope and nothing else
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
