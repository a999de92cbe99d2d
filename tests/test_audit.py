"""The audit log: one row per write, committed with it, HMAC-chained, checkpointed and verifiable."""

import hashlib
import hmac
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

import audit
from extensions import db
from models import AuditHead, AuditLog, Department
from models.audit_log import GENESIS_HASH
from tests.builders import login_as


def _key() -> bytes:
    return audit.chain_key(current_app.config)


def _verify() -> audit.ChainCheck:
    return audit.verify_chain(db.session, _key())


def test_the_demo_log_verifies(demo_app):
    check = _verify()
    assert check.intact and check.broken is None
    assert check.checked == db.session.scalar(select(func.count()).select_from(AuditLog)) > 1000


def test_flask_audit_verify_finds_a_row_altered_behind_the_apps_back(demo_app):
    runner = demo_app.test_cli_runner()
    assert "哈希链无断裂" in runner.invoke(args=["audit", "verify"]).output
    target = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id).offset(100).limit(1))
    db.session.execute(text("UPDATE audit_log SET summary = 'tampered' WHERE id = :id"), {"id": target})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"审计日志第 {target} 号记录校验失败" in result.output


def test_a_deleted_row_breaks_the_chain(demo_app):
    target = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id).offset(50).limit(1))
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": target})
    db.session.commit()
    assert _verify().broken == target + 1


def test_a_truncated_tail_is_found(demo_app):
    last = db.session.scalar(select(func.max(AuditLog.id)))
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": last})
    db.session.commit()
    check = _verify()
    assert check.broken is None and "末尾被截断或链头被改动" in check.problem


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


# --- an attacker with write access to the database, but not to the key or the checkpoint file ------


def _rewrite_chain(link) -> None:
    """Recompute every row's link and the head, as someone who can write the database would."""
    columns = [AuditLog.__table__.c[name] for name in ("id", *audit._HASHED)]
    prev = GENESIS_HASH
    rows = db.session.execute(select(*columns).order_by(AuditLog.id)).mappings().all()
    for row in rows:
        digest = link(audit.chain_payload(prev, row))
        db.session.execute(update(AuditLog).where(AuditLog.id == row["id"]).values(prev_hash=prev, hash=digest))
        prev = digest
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(row_count=len(rows), last_hash=prev))
    db.session.commit()


def _first_id() -> int:
    return db.session.scalar(select(func.min(AuditLog.id)))


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["audit", *args])


def test_a_chain_recomputed_with_plain_sha256_fails_at_its_first_row(demo_app):
    _rewrite_chain(lambda payload: hashlib.sha256(payload).hexdigest())
    result = _cli(demo_app, "verify")
    assert result.exit_code != 0
    assert f"审计日志第 {_first_id()} 号记录校验失败" in result.output and "不持有密钥者重新计算" in result.output


def test_a_chain_recomputed_with_another_key_fails_at_its_first_row(demo_app):
    _rewrite_chain(lambda payload: hmac.new(b"guessed-key", payload, hashlib.sha256).hexdigest())
    result = _cli(demo_app, "verify")
    assert result.exit_code != 0
    assert f"审计日志第 {_first_id()} 号记录校验失败" in result.output


def test_rows_cut_from_the_end_with_the_head_fixed_are_caught_by_the_checkpoint(demo_app):
    written = _cli(demo_app, "checkpoint")
    assert written.exit_code == 0, written.output
    assert "已写入检查点" in written.output and "hmac=" in written.output
    newest, *_, kept_id = db.session.scalars(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(4)).all()
    kept_hash = db.session.get(AuditLog, kept_id).hash
    db.session.execute(text("DELETE FROM audit_log WHERE id > :id"), {"id": kept_id})
    count = db.session.scalar(select(func.count()).select_from(AuditLog))
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(row_count=count, last_hash=kept_hash))
    db.session.commit()
    assert _verify().intact  # without the checkpoint nothing is wrong to see
    result = _cli(demo_app, "verify")
    assert result.exit_code != 0
    assert "审计日志末尾被截断" in result.output and f"记录到第 {newest} 号" in result.output
    assert f"只剩到第 {kept_id} 号" in result.output


def test_an_intact_chain_passes_with_its_checkpoints(demo_app):
    assert _cli(demo_app, "checkpoint").exit_code == 0
    db.session.add(Department(name="区档案馆"))  # the log grows after the checkpoint
    db.session.commit()
    assert _cli(demo_app, "checkpoint").exit_code == 0
    db.session.add(Department(name="区信访局"))
    db.session.commit()
    result = _cli(demo_app, "verify")
    assert result.exit_code == 0, result.output
    assert "审计日志完整" in result.output and "2 个检查点一致" in result.output
    lines = Path(demo_app.config["AUDIT_CHECKPOINT_FILE"]).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(line.startswith("audit-checkpoint v1 at=") for line in lines)


def test_without_a_checkpoint_verify_passes_and_says_what_it_cannot_see(demo_app):
    result = _cli(demo_app, "verify")
    assert result.exit_code == 0 and "未找到检查点" in result.output


def test_an_edited_checkpoint_line_is_refused(demo_app):
    assert _cli(demo_app, "checkpoint").exit_code == 0
    path = Path(demo_app.config["AUDIT_CHECKPOINT_FILE"])
    line = path.read_text(encoding="utf-8")
    rows = line.split(" rows=")[1].split(" ")[0]
    path.write_text(line.replace(f" rows={rows} ", f" rows={int(rows) - 3} "), encoding="utf-8")
    result = _cli(demo_app, "verify")
    assert result.exit_code != 0 and "检查点文件第 1 行格式错误或签名不符" in result.output


def test_no_checkpoint_is_written_for_a_broken_chain(demo_app):
    target = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id).offset(10).limit(1))
    db.session.execute(text("UPDATE audit_log SET summary = 'tampered' WHERE id = :id"), {"id": target})
    db.session.commit()
    result = _cli(demo_app, "checkpoint")
    assert result.exit_code != 0 and f"第 {target} 号记录校验失败" in result.output
    assert not Path(demo_app.config["AUDIT_CHECKPOINT_FILE"]).exists()


def test_the_chain_key_is_not_the_session_key_and_follows_its_setting(demo_app):
    derived = audit.chain_key({"SECRET_KEY": "s" * 40, "AUDIT_HMAC_KEY": ""})
    assert derived not in (b"s" * 40, audit.chain_key({"SECRET_KEY": "t" * 40}))
    assert audit.chain_key({"SECRET_KEY": "s" * 40, "AUDIT_HMAC_KEY": "k" * 40}) == b"k" * 40


def test_every_record_an_audit_row_can_name_has_a_chinese_type_on_the_log_page(demo_app, client):
    from admin_views.system import OBJECT_TYPES

    labels = dict(OBJECT_TYPES)
    mapped = {mapper.class_.__tablename__ for mapper in db.Model.registry.mappers}
    assert mapped - set(labels) == set()
    # The log page prints the label, not the table name, for a type the first list left out.
    row = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "evaluation_link")).first()
    assert row is not None, "the demo data should have evaluation links in the log"
    login_as(client, "qu_admin")
    page = client.get(f"/admin/audit_log/?flt0_object_type_equals=evaluation_link&search={row.username}")
    body = page.get_data(as_text=True)
    assert "评价链接" in body and ">evaluation_link<" not in body
