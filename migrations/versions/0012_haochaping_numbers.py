"""好差评 import: the provincial record number (评价编号, unique) and channel on evaluations and complaints

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 22:20:00

A file from the provincial 好差评 system is imported as often as a clerk uploads it; the unique
number is what records each of its rows once (issue 12).
"""

from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("evaluation", "complaint")


def upgrade():
    # Plain operations (no batch): nullable columns and an index need no table rebuild on SQLite.
    for table in TABLES:
        op.add_column(table, sa.Column("haochaping_number", sa.String(length=40), nullable=True))
        op.add_column(table, sa.Column("haochaping_channel", sa.String(length=32), nullable=True))
        op.create_index(f"uq_{table}_haochaping_number", table, ["haochaping_number"], unique=True)


def downgrade():
    for table in TABLES:
        op.drop_index(f"uq_{table}_haochaping_number", table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("haochaping_channel")
            batch_op.drop_column("haochaping_number")
