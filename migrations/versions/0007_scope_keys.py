"""scope served by indexes: the applicant-center key table, list indexes that carry the scope columns

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 20:05:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The applicant_center rows as the applicant and case tables imply them (models/applicant_center.py),
# written out as of this revision.
BACKFILL = """
INSERT INTO applicant_center (applicant_id, center_id, can_change)
SELECT applicant_id, center_id, max(flag) > 0 FROM (
    SELECT id AS applicant_id, center_id, 1 AS flag FROM applicant
    UNION ALL SELECT applicant_id, center_id, 1 FROM "case"
    UNION ALL SELECT applicant_id, origin_center_id, 0 FROM "case"
) AS derived GROUP BY applicant_id, center_id
"""


def upgrade():
    op.create_table(
        "applicant_center",
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("center_id", sa.Integer(), nullable=False),
        sa.Column("can_change", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["applicant.id"],
            name=op.f("fk_applicant_center_applicant_id_applicant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["center_id"], ["center.id"], name=op.f("fk_applicant_center_center_id_center")),
        sa.PrimaryKeyConstraint("applicant_id", "center_id", name=op.f("pk_applicant_center")),
    )
    with op.batch_alter_table("applicant_center", schema=None) as batch_op:
        batch_op.create_index(
            "ix_applicant_center_center_id_applicant_id", ["center_id", "applicant_id", "can_change"], unique=False
        )
    op.execute(BACKFILL)

    # Plain index operations (no batch): on SQLite a batch rebuild of "case" would drop the FTS triggers of 0006.
    op.drop_index("ix_case_received_date", table_name="case")
    op.drop_index("ix_case_received_date_id", table_name="case")
    op.create_index("ix_case_received_date_id", "case", ["received_date", "id", "center_id", "origin_center_id"])
    op.drop_index("ix_case_applicant_name_id", table_name="case")
    op.create_index("ix_case_applicant_name_id", "case", ["applicant_name", "id", "center_id", "origin_center_id"])

    if op.get_bind().dialect.name == "postgresql":
        # A case's center and first center are nearly always the same; without joint statistics the
        # planner takes `center OR origin` for twice its real size, and the list's "约 N" with it.
        op.execute('CREATE STATISTICS case_center_origin (mcv) ON center_id, origin_center_id FROM "case"')


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS case_center_origin")
    op.drop_index("ix_case_applicant_name_id", table_name="case")
    op.create_index("ix_case_applicant_name_id", "case", ["applicant_name", "id"])
    op.drop_index("ix_case_received_date_id", table_name="case")
    op.create_index("ix_case_received_date_id", "case", ["received_date", "id"])
    op.create_index("ix_case_received_date", "case", ["received_date"])
    with op.batch_alter_table("applicant_center", schema=None) as batch_op:
        batch_op.drop_index("ix_applicant_center_center_id_applicant_id")
    op.drop_table("applicant_center")
