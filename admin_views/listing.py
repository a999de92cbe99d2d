"""Lists that stay fast on a million rows: page ids first, a capped count, far pages read from the end.

Flask-Admin's get_list counts every matching row, casts each searched column to text for ILIKE,
and pages with OFFSET over the full, eagerly joined rows. On a million cases that took seconds
(issue 11). Here, for every console list:
- the count is exact up to COUNT_CAP rows; past it PostgreSQL's planner estimate is shown as "约 N"
  (asked first, so a large set is never counted); SQLite has no estimate, so past the cap it shows
  "超过 10,000" and pages as far as the cap (a clerk narrows the filter or turns the sort); either counts the scope's disjoint parts one at a time (lifecycle/scope.py scope_parts), each a
  range of an index leading with its center column, and adds them up;
- the page's primary keys are selected first, over the filter and sort columns' indexes only, and
  the rows with their eager loads are read after, for those keys alone;
- a page past the middle is read from the other end in the reverse order, so the last page costs
  what the first does;
- the order always ends with the primary key, so pages neither repeat nor skip rows;
- search goes through models/search.py: index-served prefix and trigram matches, with a joined
  column (an evaluation's case number) searched as a key subquery instead of a join.
"""

from __future__ import annotations

import typing as t

from sqlalchemy import func, inspect, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import MANYTOONE
from sqlalchemy.sql.expression import ClauseElement, Executable

from extensions import db
from models.search import matches

# Rows counted exactly before the count turns into an estimate.
COUNT_CAP = 10_000


class ApproximateCount(int):
    """A row count from the planner's estimate: the pager reads it as an int, the page prints "约 N"."""

    def __str__(self) -> str:
        return f"约 {int(self):,}"


class CappedCount(int):
    """More rows than COUNT_CAP, on a database without an estimate: the pager stops at the cap."""

    def __str__(self) -> str:
        return f"超过 {int(self):,}"


class _Explain(Executable, ClauseElement):
    """EXPLAIN (FORMAT JSON) of a statement, with its parameters bound as usual."""

    inherit_cache = False

    def __init__(self, statement) -> None:
        self.statement = statement


@compiles(_Explain, "postgresql")
def _compile_explain(element, compiler, **kw):
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def _estimated_rows(statement) -> int:
    plan = db.session.execute(_Explain(statement)).scalar()
    return int(plan[0]["Plan"]["Plan Rows"])


class FastListMixin:
    """get_list for large tables; goes before Flask-Admin's sqla ModelView in the bases."""

    def list_options(self) -> list:
        """Loader options for the page's rows (never for the count or the key query)."""
        return [joinedload(path) for path in self._auto_joins]

    def _dialect(self) -> str:
        return db.session.get_bind().dialect.name

    # --- count ----------------------------------------------------------------------
    def get_count_queries(self) -> list:
        """The list's count query, one part per disjoint piece of the scope (added up by the count)."""
        return [self.get_count_query()]

    def _capped_count(self, count_queries: list) -> int:
        """The exact count up to COUNT_CAP; past it PostgreSQL's estimate (ApproximateCount) or, on
        SQLite, the cap itself (CappedCount).

        On PostgreSQL the planner is asked first (a millisecond): a set it expects to be larger than
        the cap is not counted at all, since counting even to the cap read 20,000 heap pages for a
        station's filter at a million cases. SQLite has no estimate, and its exact count of a
        district's million cases took longer than the page (issue 11). Each scope part is counted
        on its own index.
        """
        postgres = self._dialect() == "postgresql"
        matching = [query.with_entities(literal_column("1")) for query in count_queries]
        estimate = sum(_estimated_rows(part.statement) for part in matching) if postgres else None
        if estimate is not None and estimate > COUNT_CAP:
            return ApproximateCount(estimate)
        counted = sum(
            db.session.scalar(select(func.count()).select_from(part.limit(COUNT_CAP + 1).subquery()))
            for part in matching
        )
        if counted <= COUNT_CAP:
            return counted
        if estimate is None:
            return CappedCount(COUNT_CAP)
        return ApproximateCount(max(estimate, counted))

    # --- order ----------------------------------------------------------------------
    def _order_terms(self, sort_column, sort_desc: bool) -> list[tuple[t.Any, list, bool]]:
        """(field, joins, descending) in order: the chosen column or the default sort, then the key."""
        terms: list[tuple[t.Any, list, bool]] = []
        if sort_column is not None and sort_column in self._sortable_columns:
            fields = self._sortable_columns[sort_column]
            joins = self._sortable_joins.get(sort_column)
            if isinstance(fields, list):
                terms += [(f, j, sort_desc) for f, j in zip(fields, joins, strict=False)]
            else:
                terms.append((fields, joins, sort_desc))
        else:
            terms += list(self._get_default_order())
        pk = self._list_pk()
        if not any(field is pk for field, _, _ in terms):
            terms.append((pk, [], terms[-1][2] if terms else False))
        return terms

    def _apply_order(self, query, joins, terms, reverse: bool):
        for field, sort_joins, descending in terms:
            query, joins = self._order_by(query, joins, sort_joins, field, descending != reverse)
        return query, joins

    def _list_pk(self):
        keys = inspect(self.model).primary_key
        return getattr(self.model, keys[0].key) if len(keys) == 1 else None

    # --- search ---------------------------------------------------------------------
    def _apply_search(self, query, count_query, joins, count_joins, search):
        dialect = self._dialect()
        for term in search.split(" "):
            if not term:
                continue
            clause = or_(*(self._search_clause(field, path, term, dialect) for field, path in self._search_fields))
            query = query.filter(clause)
            if count_query is not None:
                count_query = count_query.filter(clause)
        return query, count_query, joins, count_joins

    def _narrowed(self, query, count_queries: list, search, filters):
        """The page query with its joins, and each count query, with the search and the filters applied."""
        counts = []
        for count_query in count_queries:
            page_query, joins, count_joins = query, {}, {}
            if self._search_supported and search:
                page_query, count_query, joins, count_joins = self._apply_search(
                    page_query, count_query, joins, count_joins, search
                )
            if filters and self._filters:
                page_query, count_query, joins, count_joins = self._apply_filters(
                    page_query, count_query, joins, count_joins, filters
                )
            counts.append(count_query)
        return page_query, joins, counts

    def _search_clause(self, field, path, term: str, dialect: str):
        """One term on one searchable field; a field behind a many-to-one hop becomes `fk IN (keys)`."""
        if not path:
            return matches(field, term, dialect)
        if len(path) != 1 or path[0].property.direction is not MANYTOONE:
            raise TypeError(f"search path {path} is not a single many-to-one hop")
        (local,) = path[0].property.local_columns
        remote_pk = inspect(path[0].property.mapper).primary_key[0]
        return local.in_(select(remote_pk).where(matches(field, term, dialect)))

    # --- the list -------------------------------------------------------------------
    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        pk = self._list_pk()
        if page_size is None:
            page_size = self.page_size
        if not execute or pk is None or not page_size:
            # A query for the caller to stream (exports), or a model without a single key.
            return super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)

        query, joins, count_queries = self._narrowed(self.get_query(), self.get_count_queries(), search, filters)
        count = self._capped_count(count_queries)

        offset = (page or 0) * page_size
        terms = self._order_terms(sort_column, sort_desc)
        if count and offset > count // 2 and not isinstance(count, CappedCount):
            # Read from the end: the rows after this page, in reverse, then turned around.
            limit = min(page_size, count - offset)
            if limit <= 0:
                return count, []
            keyed, _ = self._apply_order(query.with_entities(pk), joins, terms, reverse=True)
            ids = [key for (key,) in keyed.limit(limit).offset(max(count - offset - limit, 0))][::-1]
        else:
            keyed, _ = self._apply_order(query.with_entities(pk), joins, terms, reverse=False)
            ids = [key for (key,) in keyed.limit(page_size).offset(offset)]
        if not ids:
            return count, []
        # The keys came through the scoped query; the rows are read by key alone, without the scope again.
        rows = db.session.query(self.model).options(*self.list_options()).filter(pk.in_(ids)).all()
        position = {key: index for index, key in enumerate(ids)}
        rows.sort(key=lambda row: position[getattr(row, pk.key)])
        return count, rows
