"""home page indexes: case counts per center and status, handed-up cases, counted bad reviews

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 20:30:00

The home page counts a town's or a village's cases by status and overdue on every visit; these
let it read the counts from indexes instead of the case rows (issue 11).
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

HANDED_UP = "origin_center_id <> center_id"
BAD_COUNTED = "counted AND overall <= 2"


def upgrade():
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_center_id_status_promised_date_id", ["center_id", "status", "promised_date", "id"]
        )
        batch_op.create_index(
            "ix_case_handed_up",
            ["origin_center_id", "center_id", "status", "promised_date", "id"],
            postgresql_where=sa.text(HANDED_UP),
            sqlite_where=sa.text(HANDED_UP),
        )
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evaluation_bad_counted_case",
            ["case_id"],
            postgresql_where=sa.text(BAD_COUNTED),
            sqlite_where=sa.text(BAD_COUNTED),
        )


def downgrade():
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_bad_counted_case")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_handed_up")
        batch_op.drop_index("ix_case_center_id_status_promised_date_id")
