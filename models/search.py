"""Text-search columns and the per-dialect indexes that serve them.

A list search must not scan a million rows. Each searchable text column is matched one of two ways:
- from its start (case numbers, credit codes, user names; and any term of one or two characters):
  a B-tree range, which PostgreSQL serves from a `varchar_pattern_ops` index whatever the database
  collation (under C.UTF-8 a plain index cannot serve LIKE 'x%') and SQLite from its ordinary index
  through GLOB, which is case-sensitive and so index-served;
- anywhere inside it, for terms of three characters or more: a trigram index, pg_trgm's GIN on
  PostgreSQL and an FTS5 `trigram` table on SQLite. Neither can serve a shorter term (a trigram
  needs three characters), so a one- or two-character term falls back to the start: "张三" finds
  张三 and 张三丰, not 李张三.

The migrations create these indexes per dialect (0006); they are not in the models' metadata, and
migrations/env.py and the drift test leave them out of the comparison by name (`is_dialect_object`).
SQLite keeps each FTS5 table in step with its table through triggers; a later migration that
rebuilds such a table with batch_alter_table must recreate them.
"""

from __future__ import annotations

# (table, column) pairs matched anywhere inside (trigram) as well as from the start.
CONTAINS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("case", "applicant_name"),
    ("applicant", "name"),
    ("audit_log", "summary"),
)
# (table, column) pairs matched from the start only.
PREFIX_COLUMNS: tuple[tuple[str, str], ...] = (
    ("case", "number"),
    ("applicant", "credit_code"),
    ("audit_log", "username"),
)
SHORTEST_CONTAINS_TERM = 3


def fts_table(table: str, column: str) -> str:
    return f"fts_{table}_{column}"


def trigram_index(table: str, column: str) -> str:
    return f"ix_{table}_{column}_trgm"


def pattern_index(table: str, column: str) -> str:
    return f"ix_{table}_{column}_pattern"


def dialect_object_names() -> set[str]:
    names = set()
    for table, column in CONTAINS_COLUMNS + PREFIX_COLUMNS:
        names.add(pattern_index(table, column))
    for table, column in CONTAINS_COLUMNS:
        names.add(trigram_index(table, column))
    return names


_DIALECT_OBJECTS = frozenset(dialect_object_names())


def is_dialect_object(name: str | None) -> bool:
    """True for the search indexes and FTS5 tables (with their shadow tables) the migrations add per dialect."""
    return bool(name) and (name in _DIALECT_OBJECTS or name.startswith("fts_"))


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object hook: compare everything but the per-dialect search objects."""
    return not is_dialect_object(name)
