"""Server time of every console page at several data sizes (issue 11); prints figures, asserts nothing.

Run: make bench-pages (or python bench/pages.py --size 10k --size 1m).

Each page is requested in-process through the Flask test client, logged in through the real login
form with CSRF on, once per role: one warm-up request, then --rounds timed ones (median and p95 of
the whole request, the response body read). A SQLAlchemy listener on the engine counts the SQL
statements each request runs and times them, so --explain can print the plan of each page's
slowest query (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).

The cases, names and numbers a page asks for are chosen from the data by SQL at start, per role,
inside that role's scope. Databases: see build_database (bench/.work/ for SQLite, bench_<size> on
PostgreSQL); `flask seed --bulk N` writes the bulk cases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import re
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / ".work"

# The demo logins (seed/data/people.py) that stand for each role.
ROLE_USERS = {
    "district": "qu_admin",
    "town": "xiashan_admin",
    "village": "xiashan_dongshan",
    "auditor": "qu_audit",
}
DEFAULT_ROLES = ("district", "town", "village")


@dataclass(frozen=True)
class Page:
    """One measured request: a view endpoint, its query string (from the role's terms) and method.

    `params` returns the query arguments, a ready URL (the last page, read from the pager), or
    None when the role's data offers nothing to ask for.
    """

    key: str
    label: str
    endpoint: str
    params: Callable[[dict], dict | str | None] = lambda terms: {}
    method: str = "GET"
    form: dict = field(default_factory=dict)


def _flt(terms: dict, name: str, value) -> dict | None:
    arg = terms["filters"].get(name)
    return None if arg is None or value is None else {f"flt0_{arg}": value}


IN_PROGRESS = {"status": "in_progress"}

# Every list, search, sort, filter, details, edit, home page and export. The list pages of all
# registered ModelViews are here (tests/test_bench_pages.py checks that none is left out).
PAGES: list[Page] = [
    Page("home", "home page", "admin.index"),
    Page("case", "case list, page 1", "case.index_view"),
    Page("case_p500", "case list, page 500", "case.index_view", lambda t: {"page": 499}),
    Page("case_last", "case list, last page", "case.index_view", lambda t: t["case_last_url"]),
    Page("case_number", "case search, full number", "case.index_view", lambda t: {"search": t["number"]}),
    Page("case_prefix", "case search, number prefix", "case.index_view", lambda t: {"search": t["number_prefix"]}),
    Page("case_name3", "case search, 3-char name", "case.index_view", lambda t: t["name3"] and {"search": t["name3"]}),
    Page("case_name2", "case search, 2-char name", "case.index_view", lambda t: t["name2"] and {"search": t["name2"]}),
    Page("case_sort", "case list, by applicant asc", "case.index_view", lambda t: {"sort": t["applicant_sort"]}),
    Page(
        "case_sort_desc",
        "case list, by applicant desc",
        "case.index_view",
        lambda t: {"sort": t["applicant_sort"], "desc": 1},
    ),
    Page("case_status", "case filter, status", "case.index_view", lambda t: _flt(t, "status", "in_progress")),
    Page("case_mode", "case filter, mode", "case.index_view", lambda t: _flt(t, "mode", "delegated")),
    Page("case_town", "case filter, town", "case.index_view", lambda t: _flt(t, "town", t["town_id"])),
    Page("case_center", "case filter, center", "case.index_view", lambda t: _flt(t, "center", t["center_id"])),
    Page("case_item", "case filter, item", "case.index_view", lambda t: _flt(t, "item", t["item_id"])),
    Page("case_received", "case filter, received dates", "case.index_view", lambda t: _flt(t, "received", t["dates"])),
    Page("case_overdue", "case filter, overdue", "case.index_view", lambda t: _flt(t, "deadline", "overdue")),
    Page("case_due_soon", "case filter, due soon", "case.index_view", lambda t: _flt(t, "deadline", "due_soon")),
    Page("case_extended", "case filter, extended", "case.index_view", lambda t: _flt(t, "extended", "1")),
    Page("case_details", "case details", "case.details_view", lambda t: {"id": t["case_id"]}),
    Page("case_edit", "case edit form", "case.edit_view", lambda t: t["edit_id"] and {"id": t["edit_id"]}),
    Page(
        "export_csv",
        "CSV export, in progress",
        "case.export_masked",
        lambda t: _flt(t, "status", "in_progress"),
        "POST",
        {"format": "csv"},
    ),
    Page(
        "export_xlsx",
        "XLSX export, in progress",
        "case.export_masked",
        lambda t: _flt(t, "status", "in_progress"),
        "POST",
        {"format": "xlsx"},
    ),
    Page("export_csv_all", "CSV export, whole scope", "case.export_masked", method="POST", form={"format": "csv"}),
    Page("export_xlsx_all", "XLSX export, whole scope", "case.export_masked", method="POST", form={"format": "xlsx"}),
    Page("applicant", "applicant list", "applicant.index_view"),
    Page(
        "applicant_name",
        "applicant search, name",
        "applicant.index_view",
        lambda t: t["name3"] and {"search": t["name3"]},
    ),
    Page("agent", "agent list", "agent.index_view"),
    Page("evaluation", "evaluation list", "evaluation.index_view"),
    Page("followup", "follow-up list", "followup.index_view"),
    Page("complaint", "complaint list", "complaint.index_view"),
    Page("extension", "extension list", "case_extension.index_view"),
    Page("audit_log", "audit log list", "audit_log.index_view"),
    Page("audit_log_search", "audit log search", "audit_log.index_view", lambda t: {"search": t["number"]}),
    Page("export_job", "batch export job list", "export_job.index_view"),
    Page("center", "center list", "center.index_view"),
    Page("service_item", "service item list", "service_item.index_view"),
    Page("department", "department list", "department.index_view"),
    Page("holiday_year", "holiday year list", "holiday_year.index_view"),
    Page("holiday_day", "holiday day list", "holiday_day.index_view"),
    Page("user", "user list", "user.index_view"),
]

# (role name in the printout, filter class, column key) of the case filters the pages use; the URL
# argument is read from the view (ConsoleModelView.get_filter_arg), so a renamed filter is noticed.
CASE_FILTERS = {
    "status": ("FilterEqual", "status"),
    "mode": ("FilterEqual", "mode"),
    "town": ("TownFilter", "center_id"),
    "center": ("CenterFilter", "center_id"),
    "item": ("ItemFilter", "id"),
    "received": ("DateBetweenFilter", "received_date"),
    "deadline": ("DeadlineFilter", "promised_date"),
    "extended": ("ExtendedFilter", "extended"),
}


# --- data ---------------------------------------------------------------------------------------
def parse_size(name: str) -> int:
    """Bulk case count of a size name: demo → 0, 10k → 10,000, 1m → 1,000,000, 2500 → 2,500."""
    lowered = name.lower()
    if lowered == "demo":
        return 0
    factor = {"k": 1_000, "m": 1_000_000}.get(lowered[-1:], 1)
    digits = lowered[:-1] if factor > 1 else lowered
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"unknown size {name!r}: demo, 10k, 1m or a number")
    return int(digits) * factor


def _flask(args: list[str], url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env, check=True)


def bulk_available() -> bool:
    """Whether this checkout's `flask seed` has the --bulk option (issue 11, written separately)."""
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "seed", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": "sqlite://"},
    )
    return "--bulk" in out.stdout


def _populate(url: str, bulk: int) -> None:
    started = time.perf_counter()
    print(f"  建库 {url}: db upgrade, seed --demo" + (f", seed --bulk {bulk}" if bulk else ""), flush=True)
    _flask(["db", "upgrade"], url)
    _flask(["seed", "--demo"], url)
    if bulk:
        _flask(["seed", "--bulk", str(bulk)], url)
    print(f"  建库完成，用时 {time.perf_counter() - started:.0f} s", flush=True)


def _has_cases(url: str) -> bool:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        return inspect(engine).has_table("case")
    finally:
        engine.dispose()


def prepare_database(url: str, bulk: int) -> None:
    """Build the database at `url` if it is missing, then bring it to the code's migration head.

    The upgrade keeps a database built earlier in step with migrations added since (new indexes
    and columns are what a re-run measures).
    """
    build_database(url, bulk)
    _flask(["db", "upgrade"], url)


def build_database(url: str, bulk: int) -> None:
    """Create and fill the database at `url` unless it already holds the schema.

    A SQLite file is built under another name and renamed when complete; a PostgreSQL database
    this function created is dropped again if the build fails, so a broken half never counts as built.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if bulk and not bulk_available():
        sys.exit(
            "`flask seed --bulk N` is not in this checkout yet (issue 11, branch h-bulk): "
            "merge it first, or use --size demo / --size NAME=URL of a database already built."
        )
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".building")
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
        _populate(str(parsed.set(database=str(partial))), bulk)
        partial.rename(path)
        return
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database})
            if exists and _has_cases(url):
                return
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        try:
            _populate(url, bulk)
        except BaseException:
            if not exists:
                with server.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            raise
    finally:
        server.dispose()


def size_url(name: str, postgres: str | None) -> str:
    """Where a size lives when no URL is given: bench/.work/pages-<name>.db or bench_<name> on --postgres."""
    if postgres:
        return postgres.rstrip("/") + f"/bench_{name.lower()}"
    return f"sqlite:///{WORK / f'pages-{name.lower()}.db'}"


# --- measuring -------------------------------------------------------------------------------------
class QueryLog:
    """Counts and times every statement the engine sends, per request."""

    def __init__(self) -> None:
        self.queries: list[tuple[float, str, object]] = []
        self._started: list[float] = []

    def before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._started.append(time.perf_counter())

    def after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.queries.append((time.perf_counter() - self._started.pop(), statement, parameters))

    def reset(self) -> None:
        self.queries = []


@dataclass
class Result:
    times: list[float]
    queries: list[int]
    status: int
    slowest: tuple[float, str, object] | None
    url: str = ""
    wanted: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000

    @property
    def rounds_text(self) -> str:
        return f" (n={len(self.times)})" if len(self.times) < self.wanted else ""

    @property
    def query_text(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_PAGER = re.compile(r'<ul class="pagination">(.*?)</ul>', re.S)
_PAGE_LINK = re.compile(r'<a class="page-link" href="([^"]+)">\s*([^<]*?)\s*</a>')


def csrf_token(page: str) -> str:
    match = _CSRF.search(page)
    if not match:
        raise SystemExit("no csrf_token in the page: has the login form or list template changed?")
    return match.group(1)


def last_page_url(page_one: str, fallback: str) -> str:
    """The list's last page as the pager links to it (its » link, or the highest numbered one)."""
    pager = _PAGER.search(page_one)
    if not pager:
        return fallback  # one page only
    links = [(html.unescape(href), label) for href, label in _PAGE_LINK.findall(pager.group(1))]
    links = [(href, label) for href, label in links if not href.startswith("javascript")]
    for href, label in links:
        if label in ("»", "&raquo;"):
            return href
    numbered = [(int(label), href) for href, label in links if label.isdigit()]
    return max(numbered)[1] if numbered else fallback


def login(client, username: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(page)})
    if response.status_code != 302:
        raise SystemExit(f"login as {username} failed (HTTP {response.status_code})")


def choose_terms(app, client, username: str) -> dict:
    """What this role's pages ask for, picked by SQL inside the role's scope."""
    from flask import url_for
    from sqlalchemy import func, select

    from extensions import db
    from lifecycle.scope import scope_clause
    from lifecycle.transitions import RUNNING
    from models import Applicant, Case, Center, User
    from models.case import case_item
    from models.enums import Tier

    admin = app.extensions["admin"][0]
    views = {view.endpoint: view for view in admin._views}
    terms: dict = {"views": views}
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        terms["role"] = user.role
        in_scope = scope_clause(Case, user)
        may_write = scope_clause(Case, user, write=True)
        running = db.session.scalar(
            select(Case).where(may_write, Case.status.in_(RUNNING)).order_by(Case.id.desc()).limit(1)
        )
        case = running or db.session.scalar(select(Case).where(in_scope).order_by(Case.id.desc()).limit(1))
        if case is None:
            raise SystemExit(f"{username} sees no case: is the database seeded?")
        terms["case_id"] = case.id
        terms["edit_id"] = running.id if running is not None else None
        terms["number"] = case.number
        terms["number_prefix"] = case.number.rsplit("-", 1)[0]  # CN-V-20250312: that day's cases of the tier
        for length in (3, 2):
            terms[f"name{length}"] = db.session.scalar(
                select(Applicant.name)
                .join(Case, Case.applicant_id == Applicant.id)
                .where(in_scope, func.length(Applicant.name) == length)
                .order_by(Case.id.desc())
                .limit(1)
            )
        if terms["name2"] is None and terms["name3"]:
            # No two-character name in scope: search the first two characters of a three-character
            # one, which has the same trigram problem (issue 11) and matches that name at least.
            terms["name2"] = terms["name3"][:2]
        center = case.center
        town = center if center.tier == Tier.TOWN.value else center.parent
        if town is None or town.tier != Tier.TOWN.value:
            town = db.session.scalar(
                select(Center).where(Center.tier == Tier.TOWN.value, scope_clause(Center, user)).order_by(Center.id)
            )
        terms["town_id"] = town.id if town else None
        terms["center_id"] = center.id
        terms["item_id"] = db.session.scalar(select(case_item.c.item_id).where(case_item.c.case_id == case.id).limit(1))
        start = case.received_date - dt.timedelta(days=90)
        terms["dates"] = f"{start:%Y-%m-%d} to {case.received_date:%Y-%m-%d}"

        view = views["case"]
        terms["applicant_sort"] = [name for name, _ in view._list_columns].index("applicant")
        terms["filters"] = {}
        for name, (cls, column) in CASE_FILTERS.items():
            for arg, (_, flt) in view._filter_args.items():
                if type(flt).__name__ == cls and getattr(getattr(flt, "column", None), "key", None) == column:
                    terms["filters"][name] = arg
                    break
            else:
                print(f"  warning: the case view has no {cls} on {column}; its page is skipped")
        with app.test_request_context():
            first = url_for("case.index_view")
    page_one = client.get(first).get_data(as_text=True)
    terms["case_last_url"] = last_page_url(page_one, first)
    terms["csrf"] = csrf_token(page_one)
    return terms


def may_open(terms: dict, page: Page) -> bool:
    from models.enums import Role

    view = terms["views"].get(page.endpoint.split(".")[0])
    if view is None or not hasattr(view, "read_roles"):
        return True
    role = Role(terms["role"])
    if role not in view.read_roles:
        return False
    # The edit form of a role that only reads (the auditor) is a 403 by design, not a page to time.
    return not page.endpoint.endswith("edit_view") or role in view.write_roles


def page_url(app, page: Page, terms: dict) -> str | None:
    from flask import url_for

    params = page.params(terms)
    if params is None or params == "":
        return None
    if isinstance(params, str):
        return params
    with app.test_request_context():
        return url_for(page.endpoint, **params)


# A page slower than the budget allows (an N+1 export at 1M: tens of seconds a request) is timed
# fewer times, but never fewer than this; the table shows how many.
MIN_ROUNDS = 3


def measure(
    client, log: QueryLog, page: Page, url: str, terms: dict, rounds: int, warmup: bool = True, budget: float = 120.0
) -> Result:
    def once():
        log.reset()
        started = time.perf_counter()
        if page.method == "POST":
            response = client.post(url, data={**page.form, "csrf_token": terms["csrf"]})
        else:
            response = client.get(url)
        response.get_data()
        elapsed = time.perf_counter() - started
        response.close()
        return response.status_code, elapsed

    if warmup:
        status, _ = once()
        if status != 200:
            return Result([0.0], [len(log.queries)], status, None, url)
    times, counts = [], []
    slowest = None
    spent = 0.0
    for done in range(rounds):
        if done >= MIN_ROUNDS and spent > budget:
            break
        status, elapsed = once()
        spent += elapsed
        if status != 200:
            return Result([elapsed], [len(log.queries)], status, None, url)
        times.append(elapsed)
        counts.append(len(log.queries))
        selects = [q for q in log.queries if q[1].lstrip().upper().startswith(("SELECT", "WITH"))]
        if selects:
            top = max(selects, key=lambda q: q[0])
            if slowest is None or top[0] > slowest[0]:
                slowest = top
    return Result(times, counts, status, slowest, url, rounds)


_SELECT_LIST = re.compile(r"^SELECT (.{300,}?) \nFROM", re.S)


def shorten(statement: str) -> str:
    """The statement with an ORM's long column list cut to a count, so the plan stays readable."""
    match = _SELECT_LIST.match(statement.strip())
    if not match:
        return statement.strip()
    columns = match.group(1).count(" AS ") or match.group(1).count(",") + 1
    return f"SELECT <{columns} columns> \nFROM" + statement.strip()[match.end() :]


def explain(app, statement: str, parameters) -> str:
    from extensions import db

    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if db.engine.dialect.name == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                lines = [row[0] for row in cursor.fetchall()]
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                lines = [f"{row[-1]}  (id {row[0]}, parent {row[1]})" for row in cursor.fetchall()]
            raw.rollback()
            return "\n".join(lines)
        finally:
            raw.close()


def run_size(
    url: str,
    roles: list[str],
    pages: list[Page],
    rounds: int,
    password: str,
    warmup: bool = True,
    budget: float = 120.0,
) -> dict:
    """{(page key, role): Result} for one database, and the app under "_app"."""
    from sqlalchemy import event

    from app import create_app
    from config import database_url
    from extensions import db

    # The case edit form leaves center and mode out on purpose (they change only by hand-off).
    warnings.filterwarnings("ignore", "Fields missing from ruleset", UserWarning)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url)})
    log = QueryLog()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", log.before)
        event.listen(db.engine, "after_cursor_execute", log.after)
    results: dict = {}
    for role in roles:
        username = ROLE_USERS[role]
        client = app.test_client()
        login(client, username, password)
        terms = choose_terms(app, client, username)
        shown = {k: terms[k] for k in ("case_id", "number", "name3", "name2", "town_id", "center_id", "item_id")}
        print(f"  {role} ({username}): {shown}", flush=True)
        for page in pages:
            if not may_open(terms, page):
                continue
            url_ = page_url(app, page, terms)
            if url_ is None:
                print(f"    {page.label}: no data for this role, skipped")
                continue
            result = measure(client, log, page, url_, terms, rounds, warmup, budget)
            results[(page.key, role)] = result
            shown_time = f"{result.median:9.1f} ms" if result.status == 200 else f"HTTP {result.status}"
            print(f"    {page.label:<32} {shown_time}  {result.query_text} queries{result.rounds_text}", flush=True)
    results["_app"] = app
    return results


def print_table(sizes: list[str], per_size: list[dict], roles: list[str], pages: list[Page]) -> None:
    widths = [max(10, len(name) + 4) for name in sizes]
    head = f"{'page':<32} {'role':<9}"
    for name, width in zip(sizes, widths, strict=True):
        head += f" | {name + ' med':>{width}} {'p95':>8} {'queries':>8}"
    ratio = f"{sizes[-1]}/{sizes[0]}"
    if len(sizes) > 1:
        head += f" | {ratio:>9}"
    print()
    print(head)
    print("-" * len(head))
    for page in pages:
        for role in roles:
            cells = [results.get((page.key, role)) for results in per_size]
            if all(cell is None for cell in cells):
                continue
            line = f"{page.label:<32} {role:<9}"
            for cell, width in zip(cells, widths, strict=True):
                if cell is None:
                    line += f" | {'—':>{width}} {'':>8} {'':>8}"
                elif cell.status != 200:
                    line += f" | {'HTTP ' + str(cell.status):>{width}} {'':>8} {'':>8}"
                else:
                    # Under the full rounds (slow page, --budget) a p95 means little: the count is shown instead.
                    p95 = f"{cell.p95:.1f}ms" if not cell.rounds_text else f"n={len(cell.times)}"
                    line += f" | {f'{cell.median:.1f}ms':>{width}} {p95:>8} {cell.query_text:>8}"
            if len(sizes) > 1:
                first, last = cells[0], cells[-1]
                if first is not None and last is not None and first.status == last.status == 200:
                    line += f" | {f'{last.median / first.median:.1f}x':>{max(9, len(ratio))}}"
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        action="append",
        metavar="NAME[=URL]",
        help="data size: demo, 10k, 1m or a number of bulk cases, optionally =DATABASE_URL (default: 10k and 1m)",
    )
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="put sizes given without a URL on this PostgreSQL server as bench_<size> "
        "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432)",
    )
    parser.add_argument("--rounds", type=int, default=12, help="timed requests per page after 1 warm-up (default 12)")
    parser.add_argument(
        "--only", action="append", metavar="PAGE", help="page key (repeatable): " + ", ".join(p.key for p in PAGES)
    )
    parser.add_argument("--roles", default=",".join(DEFAULT_ROLES), help="comma list of " + ", ".join(ROLE_USERS))
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help=f"seconds of timed requests per page after which it stops early, at least {MIN_ROUNDS} rounds (default 120)",
    )
    parser.add_argument("--explain", action="store_true", help="print the plan of each page's slowest query")
    parser.add_argument("--password", default=None, help="the demo accounts' password (default: seed's)")
    args = parser.parse_args()

    from seed.data.people import DEMO_PASSWORD

    sizes = args.size or ["10k", "1m"]
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLE_USERS]
    if unknown:
        parser.error(f"unknown role {unknown}: choose from {', '.join(ROLE_USERS)}")
    pages = PAGES
    if args.only:
        known = {p.key for p in PAGES}
        missing = [k for k in args.only if k not in known]
        if missing:
            parser.error(f"unknown page {missing}: choose from {', '.join(sorted(known))}")
        pages = [p for p in PAGES if p.key in args.only]
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    names, per_size = [], []
    for spec in sizes:
        name, _, url = spec.partition("=")
        bulk = parse_size(name)
        url = url or size_url(name, args.postgres)
        prepare_database(url, bulk)
        print(f"\n== {name}: {url}", flush=True)
        names.append((name, "sqlite" if url.startswith("sqlite") else "pg"))
        per_size.append(run_size(url, roles, pages, args.rounds, args.password or DEMO_PASSWORD, budget=args.budget))

    # A run over both backends labels each column with its own ("10k pg", "10k sqlite").
    mixed = len({backend for _, backend in names}) > 1
    names = [f"{name} {backend}" if mixed else name for name, backend in names]
    print(f"\nmedian and p95 of {args.rounds} requests after 1 warm-up, server time in-process; queries per request")
    print_table(names, per_size, roles, pages)

    if args.explain:
        for name, results in zip(names, per_size, strict=True):
            app = results["_app"]
            print(f"\n== slowest query of each page at {name}")
            for page in pages:
                for role in roles:
                    result = results.get((page.key, role))
                    if result is None or result.slowest is None:
                        continue
                    seconds, statement, parameters = result.slowest
                    print(f"\n--- {page.label} / {role}: {seconds * 1000:.1f} ms  ({result.url})")
                    print(shorten(statement))
                    print(f"parameters: {parameters!r}")
                    print(explain(app, statement, parameters))


if __name__ == "__main__":
    main()
