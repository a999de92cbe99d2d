"""case tally: cases counted by center, first center and status, kept in step with the cases

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 23:40:00

The home page counted every case in a login's scope by status on each visit: a million index
entries for the district (issue 11). models/case_tally.py keeps the counts; this creates the table
and counts the cases once.
"""

from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_tally",
        sa.Column("center_id", sa.Integer(), nullable=False),
        sa.Column("origin_center_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("center_id", "origin_center_id", "status", name=op.f("pk_case_tally")),
    )
    op.execute(
        "INSERT INTO case_tally (center_id, origin_center_id, status, cases) "
        'SELECT center_id, origin_center_id, status, count(*) FROM "case" GROUP BY center_id, origin_center_id, status'
    )


def downgrade():
    op.drop_table("case_tally")
