"""Scope of the lifecycle endpoints: transitions, bulk transition actions, progress log, follow-up steps."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import Case, FollowUp
from tests.scope_cases import NOT_FOUND, SCOPE_ROWS, center_named, count_rows, outcome, record_at, row_of, sign_in

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
