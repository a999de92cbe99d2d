"""audit hash chain

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:03:56.428077

"""
import datetime
import hashlib
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


GENESIS = "0" * 64
HASHED = ("at", "user_id", "username", "role", "event", "object_type", "object_id", "summary", "changes", "ip")


def _row_hash(prev_hash, row):
    # Frozen copy of audit.row_hash as of this revision, so the migration never drifts from it.
    content = {key: row[key] for key in HASHED}
    at = content["at"]
    content["at"] = (at if isinstance(at, datetime.datetime) else datetime.datetime.fromisoformat(str(at))).isoformat()
    payload = prev_hash + json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def upgrade():
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=False, server_default=GENESIS))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=False, server_default=""))

    # Chain the rows written before this revision, oldest first.
    conn = op.get_bind()
    log = sa.table("audit_log", sa.column("id"), sa.column("prev_hash"), sa.column("hash"),
                   *[sa.column(name) for name in HASHED])
    prev = GENESIS
    count = 0
    rows = conn.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    for row in rows:
        digest = _row_hash(prev, row)
        conn.execute(sa.update(log).where(log.c.id == row["id"]).values(prev_hash=prev, hash=digest))
        prev = digest
        count += 1
    conn.execute(sa.text("INSERT INTO audit_head (id, row_count, last_hash) VALUES (1, :n, :h)"),
                 {"n": count, "h": prev})


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')

    op.drop_table('audit_head')
