"""counts by scope part: cases by center and mode, bad reviews and open follow-ups by either center

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:00:00

A scoped count is taken one part of the scope at a time (lifecycle/scope.py scope_parts): the
rows held by the user's centers, then those handed up from them. Each part is a range of an index
leading with its center column; on SQLite the OR of both read every matching row (issue 11).
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# As models/evaluation.py states them; the queries repeat them verbatim.
BAD_COUNTED = "counted AND overall <= 2"
OPEN_FOLLOWUP = "status <> 'closed'"


def upgrade():
    # Plain index operations (no batch): on SQLite a batch rebuild of "case" would drop 0006's FTS triggers.
    op.create_index("ix_case_center_id_mode", "case", ["center_id", "mode", "received_date", "id"])
    op.create_index(
        "ix_evaluation_bad_counted_origin",
        "evaluation",
        ["origin_center_id", "center_id"],
        postgresql_where=sa.text(BAD_COUNTED),
        sqlite_where=sa.text(BAD_COUNTED),
    )
    for name, columns in (
        ("ix_followup_open_centers", ["center_id", "origin_center_id"]),
        ("ix_followup_open_origin", ["origin_center_id", "center_id"]),
    ):
        op.create_index(
            name,
            "followup",
            columns,
            postgresql_where=sa.text(OPEN_FOLLOWUP),
            sqlite_where=sa.text(OPEN_FOLLOWUP),
        )


def downgrade():
    op.drop_index("ix_followup_open_origin", table_name="followup")
    op.drop_index("ix_followup_open_centers", table_name="followup")
    op.drop_index("ix_evaluation_bad_counted_origin", table_name="evaluation")
    op.drop_index("ix_case_center_id_mode", table_name="case")
