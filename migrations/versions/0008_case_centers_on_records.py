"""the case's two centers copied onto evaluations, follow-ups and complaints, with list indexes;
cases indexed by center and status

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 20:20:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, the list's default sort column)
TABLES = (("evaluation", "created_at"), ("followup", "due_date"), ("complaint", "received_at"))


def upgrade():
    # A center's cases by status: SQLite reads `(center OR origin) AND status` from these two, not from
    # every case of the center (1.1 s for a station's status filter at a million cases).
    for column in ("center_id", "origin_center_id"):
        op.drop_index(f"ix_case_{column}_received_date", table_name="case")
        op.create_index(f"ix_case_{column}_status_received_date", "case", [column, "status", "received_date", "id"])
    for table, sort in TABLES:
        # Plain ADD COLUMN (no batch rebuild): nullable columns without constraints.
        op.add_column(table, sa.Column("center_id", sa.Integer(), nullable=True))
        op.add_column(table, sa.Column("origin_center_id", sa.Integer(), nullable=True))
        op.execute(
            f'UPDATE {table} SET center_id = (SELECT "case".center_id FROM "case" WHERE "case".id = {table}.case_id), '
            f'origin_center_id = (SELECT "case".origin_center_id FROM "case" WHERE "case".id = {table}.case_id)'
        )
        op.create_index(f"ix_{table}_{sort}_id_centers", table, [sort, "id", "center_id", "origin_center_id"])
        op.create_index(f"ix_{table}_center_id", table, ["center_id"])
        op.create_index(f"ix_{table}_origin_center_id", table, ["origin_center_id"])


def downgrade():
    for column in ("center_id", "origin_center_id"):
        op.drop_index(f"ix_case_{column}_status_received_date", table_name="case")
        op.create_index(f"ix_case_{column}_received_date", "case", [column, "received_date"])
    for table, sort in TABLES:
        op.drop_index(f"ix_{table}_origin_center_id", table_name=table)
        op.drop_index(f"ix_{table}_center_id", table_name=table)
        op.drop_index(f"ix_{table}_{sort}_id_centers", table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("origin_center_id")
            batch_op.drop_column("center_id")
