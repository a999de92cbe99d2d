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

from sqlalchemy import Column, ColumnElement, literal_column, or_, select, table
from sqlalchemy.orm import InstrumentedAttribute

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
    for table_name, column in CONTAINS_COLUMNS + PREFIX_COLUMNS:
        names.add(pattern_index(table_name, column))
    for table_name, column in CONTAINS_COLUMNS:
        names.add(trigram_index(table_name, column))
    return names


_DIALECT_OBJECTS = frozenset(dialect_object_names())


def is_dialect_object(name: str | None) -> bool:
    """True for the search indexes and FTS5 tables (with their shadow tables) the migrations add per dialect."""
    return bool(name) and (name in _DIALECT_OBJECTS or name.startswith("fts_"))


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object hook: compare everything but the per-dialect search objects."""
    return not is_dialect_object(name)


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _glob_escape(term: str) -> str:
    # GLOB has no escape character; a bracket expression matches its one character literally.
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in term)


def _core(column: InstrumentedAttribute | Column) -> Column:
    return column.property.columns[0] if isinstance(column, InstrumentedAttribute) else column


def _key(column: InstrumentedAttribute | Column) -> tuple[str, str]:
    core = _core(column)
    return core.table.name, core.name


def starts_with(column: InstrumentedAttribute | Column, term: str, dialect: str) -> ColumnElement[bool]:
    """`column` begins with `term`, as typed or in capitals (case numbers, credit codes), index-served."""
    variants = dict.fromkeys([term, term.upper()])
    if dialect == "sqlite":
        # SQLite serves GLOB 'x*' from an ordinary (BINARY) index; LIKE is case-insensitive and would not be.
        return or_(*(column.op("GLOB")(_glob_escape(v) + "*") for v in variants))
    return or_(*(column.like(_like_escape(v) + "%", escape="\\") for v in variants))


def contains(column: InstrumentedAttribute | Column, term: str, dialect: str) -> ColumnElement[bool]:
    """`column` holds `term` anywhere, from the trigram index; a term too short for trigrams matches from the start."""
    table_name, column_name = _key(column)
    if len(term) < SHORTEST_CONTAINS_TERM or (table_name, column_name) not in CONTAINS_COLUMNS:
        return starts_with(column, term, dialect)
    if dialect == "sqlite":
        fts = table(fts_table(table_name, column_name))
        phrase = '"' + term.replace('"', '""') + '"'
        hits = select(literal_column("rowid")).select_from(fts).where(literal_column(fts.name).op("MATCH")(phrase))
        (pk,) = _core(column).table.primary_key.columns
        return pk.in_(hits)
    return column.ilike("%" + _like_escape(term) + "%", escape="\\")


def matches(column: InstrumentedAttribute | Column, term: str, dialect: str) -> ColumnElement[bool]:
    """The list search of one term on one column: by the column's strategy above, or a plain
    case-insensitive substring for the small reference tables (centers, items, agents, users)."""
    key = _key(column)
    if key in CONTAINS_COLUMNS:
        return contains(column, term, dialect)
    if key in PREFIX_COLUMNS:
        return starts_with(column, term, dialect)
    return column.ilike("%" + _like_escape(term) + "%", escape="\\")
