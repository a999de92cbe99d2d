"""Scope of single records: details, edit, save, delete, search of in- and out-of-scope ids, and where new or edited records land."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from extensions import db
from models import Agent, Applicant, Case, CaseMaterial, FollowUp
from models.time import today_beijing
from tests.builders import valid_id_number
from tests.scope_cases import (
    NOT_FOUND,
    OPEN_FIRST,
    ROLE_OF,
    ROLE_TABLE,
    SCOPE_ROWS,
    SCOPED_ENDPOINTS,
    center_named,
    form_of,
    ids_of,
    item_stationed_at,
    list_count,
    list_table,
    login_user,
    other_client,
    outcome,
    record_at,
    row_of,
    sign_in,
)

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
# URL x role x record: details, edit form, save, delete, inline edit, search
# ---------------------------------------------------------------------------------------------


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
# Creating or editing forces the record into the user's scope
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
        .order_by(OPEN_FIRST, Case.id)
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
