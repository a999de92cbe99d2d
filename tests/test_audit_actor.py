"""Who an audit row names: set by the web app's request hook, or given by the CLI, seed and workers."""

from pathlib import Path

import pytest
from sqlalchemy import select

import audit
from extensions import db
from lifecycle.transitions import transition
from models import AuditLog, Case
from models.enums import Status
from tests.builders import login_as, user
from tests.test_structure import imported_modules

ROOT = Path(__file__).resolve().parent.parent
ACCEPT = {"application_confirmed": True, "undertaking_confirmed": True, "agreement_signed": True}


def _submitted_case() -> Case:
    return db.session.scalar(select(Case).where(Case.status == Status.SUBMITTED).order_by(Case.id).limit(1))


def _rows_for(case: Case, after: int) -> list[AuditLog]:
    return db.session.scalars(
        select(AuditLog).where(AuditLog.id > after, AuditLog.object_type == "case", AuditLog.object_id == str(case.id))
    ).all()


def _last_id() -> int:
    return db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))


def test_a_transition_run_without_a_request_names_the_actor_it_was_given(demo_app):
    from flask import has_request_context

    assert not has_request_context()
    clerk, case, before = user("qu_admin"), _submitted_case(), _last_id()
    with audit.acting_for(audit.actor_for(clerk, "10.1.2.3")):
        transition(db.session, case, "accept", clerk, ACCEPT)
    rows = _rows_for(case, before)
    assert {row.event for row in rows} == {"transition", "update"}
    # The update row comes from the flush hook, which is given no actor: it reads the one set around it.
    assert {(row.username, row.role, row.ip) for row in rows} == {("qu_admin", "district_admin", "10.1.2.3")}
    assert db.session.get(Case, case.id).status == Status.ACCEPTED


def test_a_worker_without_a_clerk_is_named_by_its_system_actor(demo_app):
    clerk, case, before = user("qu_admin"), _submitted_case(), _last_id()
    with audit.acting_as("导出任务"):
        transition(db.session, case, "accept", clerk, ACCEPT)
    update = next(row for row in _rows_for(case, before) if row.event == "update")
    assert (update.user_id, update.username, update.role, update.ip) == (None, "导出任务", "system", "")


def test_the_request_hook_names_the_signed_in_clerk_and_address_and_ends_with_the_request(demo_app):
    client = demo_app.test_client()
    login_as(client, "qu_admin")
    case = db.session.scalar(select(Case).where(Case.status == Status.ACCEPTED).order_by(Case.id).limit(1))
    before = _last_id()
    response = client.post(
        f"/admin/case/transition/start/?id={case.id}",
        data={"ids": str(case.id)},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert response.status_code == 302 and db.session.get(Case, case.id).status == Status.IN_PROGRESS
    rows = _rows_for(case, before)
    assert {row.event for row in rows} == {"transition", "update"}
    assert {(row.username, row.ip) for row in rows} == {("qu_admin", "10.9.8.7")}
    assert audit.current_actor() == audit.Actor(None, "system", "system", "", "system")


DOMAIN_FILES = sorted([ROOT / "audit.py", *(ROOT / "lifecycle").glob("*.py"), *(ROOT / "models").glob("*.py")])


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_domain_layer_imports_no_web_framework(path):
    top_level = {name.split(".")[0] for name in imported_modules(path)}
    assert not {name for name in top_level if name == "flask" or name.startswith("flask_")}
    if path.parent.name == "lifecycle" or path.name == "audit.py":
        # extensions.py builds the Flask extensions; lifecycle/ takes the session it works in.
        assert "extensions" not in top_level


def test_the_structural_check_sees_the_modules_it_guards():
    assert {"audit.py", "transitions.py", "user.py", "time.py"} <= {p.name for p in DOMAIN_FILES}
    assert "flask" in imported_modules(ROOT / "app.py")
