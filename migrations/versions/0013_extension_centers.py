"""extension centers and handed-up keys: the case's centers on extension requests; (origin, center) indexes; a center's cases and extended cases in list order

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 23:30:00

SQLite at a million cases (issue 11): a town's extension list asked the case table for 150,000
ids to scope a few hundred requests (611 ms); the handed-up part of a scoped count read every row
first received at a station to compare its two centers; the 已延期 filter walked the register's
order index reading rows until it found a page of extended cases (0.9 s); a center's filtered
cases were sorted after being read.
"""

from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COPIES = ("evaluation", "followup", "complaint")
# As models/case.py states them: the 已延期 filter's condition as each database is sent it.
EXTENDED = {"postgresql": "extended", "sqlite": "extended = 1"}
EXTENDED_INDEXES = (
    ("ix_case_extended_received_date_id", ["received_date", "id", "center_id", "origin_center_id"]),
    ("ix_case_extended_center_id", ["center_id", "received_date", "id"]),
    ("ix_case_extended_origin_center_id", ["origin_center_id", "center_id"]),
)


def upgrade():
    # Plain ADD COLUMN (no batch rebuild): nullable columns without constraints.
    op.add_column("case_extension", sa.Column("center_id", sa.Integer(), nullable=True))
    op.add_column("case_extension", sa.Column("origin_center_id", sa.Integer(), nullable=True))
    op.execute(
        'UPDATE case_extension SET center_id = (SELECT "case".center_id FROM "case" WHERE "case".id = case_extension.case_id), '
        'origin_center_id = (SELECT "case".origin_center_id FROM "case" WHERE "case".id = case_extension.case_id)'
    )
    op.create_index(
        "ix_case_extension_requested_at_id_centers",
        "case_extension",
        ["requested_at", "id", "center_id", "origin_center_id"],
    )
    op.create_index("ix_case_extension_center_id", "case_extension", ["center_id"])
    op.create_index("ix_case_extension_origin_center_id", "case_extension", ["origin_center_id", "center_id"])
    for table in COPIES:
        op.drop_index(f"ix_{table}_origin_center_id", table_name=table)
        op.create_index(f"ix_{table}_origin_center_id", table, ["origin_center_id", "center_id"])
    # Plain index operations on "case" (no batch): a batch rebuild would drop 0006's FTS triggers on SQLite.
    op.drop_index("ix_case_center_id", table_name="case")
    op.create_index("ix_case_center_id_received_date_id", "case", ["center_id", "received_date", "id"])
    for name, columns in EXTENDED_INDEXES:
        op.create_index(
            name,
            "case",
            columns,
            postgresql_where=sa.text(EXTENDED["postgresql"]),
            sqlite_where=sa.text(EXTENDED["sqlite"]),
        )


def downgrade():
    for name, _ in EXTENDED_INDEXES:
        op.drop_index(name, table_name="case")
    op.drop_index("ix_case_center_id_received_date_id", table_name="case")
    op.create_index("ix_case_center_id", "case", ["center_id"])
    for table in COPIES:
        op.drop_index(f"ix_{table}_origin_center_id", table_name=table)
        op.create_index(f"ix_{table}_origin_center_id", table, ["origin_center_id"])
    op.drop_index("ix_case_extension_origin_center_id", table_name="case_extension")
    op.drop_index("ix_case_extension_center_id", table_name="case_extension")
    op.drop_index("ix_case_extension_requested_at_id_centers", table_name="case_extension")
    with op.batch_alter_table("case_extension", schema=None) as batch_op:
        batch_op.drop_column("origin_center_id")
        batch_op.drop_column("center_id")
