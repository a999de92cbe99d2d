"""The audit log: one row per write, committed with it, hash-chained and verifiable."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

import audit
from extensions import db
from models import AuditLog, Department
from tests.builders import login_as


def test_the_demo_log_verifies(demo_app):
    checked, broken = audit.verify_chain(db.session)
    assert broken is None
    assert checked == db.session.scalar(select(func.count()).select_from(AuditLog)) > 1000


def test_flask_audit_verify_finds_a_row_altered_behind_the_apps_back(demo_app):
    runner = demo_app.test_cli_runner()
    assert "哈希链无断裂" in runner.invoke(args=["audit", "verify"]).output
    target = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id).offset(100).limit(1))
    db.session.execute(text("UPDATE audit_log SET summary = 'tampered' WHERE id = :id"), {"id": target})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"第 {target} 号记录被篡改" in result.output


def test_a_deleted_row_breaks_the_chain(demo_app):
    target = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id).offset(50).limit(1))
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": target})
    db.session.commit()
    checked, broken = audit.verify_chain(db.session)
    assert broken == target + 1


def test_a_truncated_tail_is_found(demo_app):
    last = db.session.scalar(select(func.max(AuditLog.id)))
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": last})
    db.session.commit()
    assert audit.verify_chain(db.session)[1] == -1


def test_a_failed_write_leaves_no_audit_row(demo_app):
    before = db.session.scalar(select(func.count()).select_from(AuditLog))
    db.session.add(Department(name="区市场监督管理局"))  # duplicate name: the unique index refuses it
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == before


def test_if_the_audit_write_fails_the_change_fails(demo_app, monkeypatch):
    def broken(session, rows):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "_append_chain", broken)
    db.session.add(Department(name="区档案馆"))
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(Department).where(Department.name == "区档案馆")) is None


def test_the_audit_log_cannot_be_edited_or_deleted_in_the_console(client):
    login_as(client, "qu_admin")
    row = db.session.scalar(select(AuditLog).limit(1))
    assert client.get(f"/admin/audit_log/edit/?id={row.id}").status_code == 403
    assert client.post("/admin/audit_log/delete/", data={"id": row.id}).status_code == 403
    assert db.session.get(AuditLog, row.id) is not None
