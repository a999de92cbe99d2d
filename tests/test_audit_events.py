"""Audit events: one enum beside audit.record, each with its Chinese label in the audit log view."""

import re

import pytest
from sqlalchemy import select

import audit
from extensions import db
from models import AuditLog
from tests.builders import login_as


def test_every_event_has_a_chinese_label_and_the_view_offers_them_all():
    assert set(audit.EVENT_LABELS) == set(audit.AuditEvent)
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in audit.EVENT_LABELS.values())
    from admin_views.system import AuditLogView

    assert AuditLogView.EVENTS == [(event.value, audit.EVENT_LABELS[event]) for event in audit.AuditEvent]
    assert ("extension_approve", "批准延期") in AuditLogView.EVENTS


def test_stored_values_are_the_lower_case_strings_already_in_the_log():
    assert audit.AuditEvent.LOGIN == "login" and audit.AuditEvent.EXPORT_VOIDED.value == "export_voided"
    assert all(event.value == event.name.lower() for event in audit.AuditEvent)


@pytest.mark.parametrize("event", ["login", "logn", None])
def test_record_refuses_anything_but_an_audit_event(app, event):
    with pytest.raises(TypeError, match="AuditEvent"):
        audit.record(db.session, event, summary="typo")
    assert not db.session.info.get("audit_rows")


def test_every_event_the_demo_flows_wrote_is_in_the_catalogue(demo_app):
    written = set(db.session.scalars(select(AuditLog.event).distinct()))
    assert {"create", "update", "transition", "followup"} <= written  # the control: the seed wrote through lifecycle/
    assert written <= {event.value for event in audit.AuditEvent}


def test_the_audit_log_shows_an_events_chinese_label(client):
    login_as(client, "qu_admin")
    body = client.get("/admin/audit_log/?search=登录：qu_admin").get_data(as_text=True)
    assert "登录：qu_admin" in body
    assert re.search(r"<td[^>]*>\s*登录\s*</td>", body)
