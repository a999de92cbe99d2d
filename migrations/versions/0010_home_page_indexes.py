"""home page indexes: case counts per center and status, handed-up cases, counted bad reviews

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 20:30:00

The home page counts a town's or a village's cases by status and overdue on every visit; these
let it read the counts from indexes instead of the case rows (issue 11).
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

HANDED_UP = "origin_center_id <> center_id"
BAD_COUNTED = "counted AND overall <= 2"


def upgrade():
    # Plain index operations (no batch): on SQLite a batch rebuild of "case" would drop 0006's FTS triggers.
    op.create_index("ix_case_center_id_status_promised_date_id", "case", ["center_id", "status", "promised_date", "id"])
    op.create_index(
        "ix_case_handed_up",
        "case",
        ["origin_center_id", "center_id", "status", "promised_date", "id"],
        postgresql_where=sa.text(HANDED_UP),
        sqlite_where=sa.text(HANDED_UP),
    )
    op.create_index(
        "ix_evaluation_bad_counted_case",
        "evaluation",
        ["center_id", "origin_center_id"],
        postgresql_where=sa.text(BAD_COUNTED),
        sqlite_where=sa.text(BAD_COUNTED),
    )


def downgrade():
    op.drop_index("ix_evaluation_bad_counted_case", table_name="evaluation")
    op.drop_index("ix_case_handed_up", table_name="case")
    op.drop_index("ix_case_center_id_status_promised_date_id", table_name="case")
