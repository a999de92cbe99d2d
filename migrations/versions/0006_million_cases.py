"""a million cases: the applicant's name copied onto the case, scope, deadline and search indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 19:20:00

The search indexes differ per dialect (models/search.py): pg_trgm GIN and varchar_pattern_ops
indexes on PostgreSQL, FTS5 trigram tables kept in step by triggers on SQLite. Their DDL is written
out here, not imported, so that this revision stays what it was when later ones change the models.
"""

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out as of this revision (models/search.py holds the live lists).
CONTAINS = (("case", "applicant_name"), ("applicant", "name"), ("audit_log", "summary"))
PREFIX = (("case", "number"), ("applicant", "credit_code"), ("audit_log", "username"))


def _sqlite_fts(table: str, column: str) -> list[str]:
    fts = f"fts_{table}_{column}"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', content_rowid='id', tokenize='trigram')",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        f'CREATE TRIGGER {fts}_ai AFTER INSERT ON "{table}" BEGIN '
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
        f'CREATE TRIGGER {fts}_ad AFTER DELETE ON "{table}" BEGIN '
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); END",
        f'CREATE TRIGGER {fts}_au AFTER UPDATE OF {column} ON "{table}" BEGIN '
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
    ]


def upgrade():
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applicant_name", sa.String(length=100), server_default="", nullable=False))
        batch_op.create_index("ix_case_origin_center_id_received_date", ["origin_center_id", "received_date"])
        batch_op.create_index("ix_case_applicant_name_id", ["applicant_name", "id"])
        batch_op.create_index("ix_case_status_promised_date", ["status", "promised_date"])
    op.execute(
        'UPDATE "case" SET applicant_name = (SELECT applicant.name FROM applicant WHERE applicant.id = "case".applicant_id)'
    )

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table, column in CONTAINS:
            op.execute(f'CREATE INDEX ix_{table}_{column}_trgm ON "{table}" USING gin ({column} gin_trgm_ops)')
        for table, column in CONTAINS + PREFIX:
            op.execute(f'CREATE INDEX ix_{table}_{column}_pattern ON "{table}" ({column} varchar_pattern_ops)')
    elif dialect == "sqlite":
        for table, column in CONTAINS:
            for statement in _sqlite_fts(table, column):
                op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table, column in CONTAINS + PREFIX:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}_pattern")
        for table, column in CONTAINS:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}_trgm")
    elif dialect == "sqlite":
        for table, column in CONTAINS:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS fts_{table}_{column}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS fts_{table}_{column}")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_status_promised_date")
        batch_op.drop_index("ix_case_applicant_name_id")
        batch_op.drop_index("ix_case_origin_center_id_received_date")
        batch_op.drop_column("applicant_name")
