"""roster and calendar: agents' photos in the database, a suspended case's expected resumption, visits by date

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 22:30:00

The public roster (代办员公示) prints an optional photo per agent; it is stored in the database so that
every app server behind the load balancer serves the same image. The calendar shows when a suspended
case is expected to resume (asked for at suspension) and door-to-door visits by day (indexed).
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agent_photo",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png')", name=op.f("ck_agent_photo_content_type")),
        sa.CheckConstraint("size > 0", name=op.f("ck_agent_photo_size_positive")),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_agent_photo_agent_id_agent"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_photo")),
    )
    # Plain column and index operations (no batch): a batch rebuild of "case" on SQLite would drop
    # 0006's FTS triggers. A nullable column is a plain ALTER TABLE ADD COLUMN there.
    op.add_column("case", sa.Column("resume_expected_on", sa.Date(), nullable=True))
    op.create_index(op.f("ix_case_visit_at"), "case", ["visit_at"])


def downgrade():
    op.drop_index(op.f("ix_case_visit_at"), table_name="case")
    # SQLite (3.35+) drops a plain column in place; a batch rebuild would lose 0006's FTS triggers.
    op.execute('ALTER TABLE "case" DROP COLUMN resume_expected_on')
    op.drop_table("agent_photo")
