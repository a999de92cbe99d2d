"""closed-case figures index: the home page's completed, terminated and on-time counts read from an index

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 23:10:00

The supervision home page (lifecycle/statistics.py) counts cases closed in a period by center, how they
ended and whether on time, and the 12-month trend reads a year of them on every visit. With only
ix_case_closed_date the database fetched every such case row (78,000 rows at 200,000 cases: 126 ms on
PostgreSQL); with the columns those counts read in one index it reads the index alone.
"""

from alembic import op


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COLUMNS = [
    "closed_date",
    "status",
    "center_id",
    "origin_center_id",
    "promised_date",
    "received_date",
    "result_recorded_at",
    "termination_recorded_at",
]


def upgrade():
    # Plain index operations (no batch): on SQLite a batch rebuild of "case" would drop 0006's FTS triggers.
    op.create_index("ix_case_closed_date_figures", "case", COLUMNS)


def downgrade():
    op.drop_index("ix_case_closed_date_figures", table_name="case")
