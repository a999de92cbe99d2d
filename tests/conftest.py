"""Fixtures: a fresh app and database per test, on SQLite always and on PostgreSQL when configured.

Each backend gets two template databases built through the Alembic migrations (one empty, one
with the demo seed) once per run: under pytest-xdist the first worker to need one builds it while
the others wait on a file lock, then all copy it. Every test works on its own copy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import itertools
import os
import shutil
import uuid
from pathlib import Path

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from config import database_url
from extensions import db
from models.time import BEIJING

TEST_DATABASE_URL = database_url(os.environ.get("TEST_DATABASE_URL", ""))
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
QUEUES = ["sqlite"] + (["redis"] if TEST_REDIS_URL else [])
_counter = itertools.count()
# Names this run's PostgreSQL templates, so that concurrent runs against one server never share them.
_RUN_ID = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        config.stash[_RUN_ID] = uuid.uuid4().hex[:8]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist: hand the controller's run id to each worker."""
    node.workerinput["template_run"] = node.config.stash[_RUN_ID]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller (or a run without workers) drops the run's PostgreSQL templates once every worker is done."""
    if TEST_DATABASE_URL and not hasattr(session.config, "workerinput"):
        PostgresDatabases.drop_templates(TEST_DATABASE_URL, session.config.stash[_RUN_ID])


def _run_id(config: pytest.Config) -> str:
    return config.workerinput["template_run"] if hasattr(config, "workerinput") else config.stash[_RUN_ID]


def _shared_dir(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every worker of this run sees: xdist gives each worker a base temp inside the controller's."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


@contextlib.contextmanager
def _exclusive(lock: Path):
    """Held by one worker at a time; fcntl locks are released by the OS if the holder dies."""
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cheapen_demo_passwords() -> None:
    """The demo accounts keep their password, hashed with argon2's cheapest parameters.

    A login verifies against the stored hash's own parameters, and the real ones (64 MiB, t=3) cost
    a fifth of a second of CPU; the suite logs the demo accounts in hundreds of times. Accounts made
    in tests (test_auth, test_login_defences) and `flask seed --demo` itself keep the real hasher.
    Written past the ORM so it leaves no audit row: the template's audit log stays the seed's.
    """
    from argon2 import PasswordHasher

    from models import User
    from seed.data.people import DEMO_PASSWORD

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    table = User.__table__
    with db.engine.begin() as conn:
        conn.execute(table.update().values(password_hash=cheap.hash(DEMO_PASSWORD)))


def _build(url: str, demo: bool) -> None:
    from flask_migrate import upgrade

    import audit

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        if demo:
            from seed.demo import seed_demo

            with audit.acting_as("seed"):
                seed_demo(db.session)
            _cheapen_demo_passwords()
        db.session.remove()
        db.engine.dispose()


class SqliteDatabases:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates: dict[str, Path] = {}

    def template(self, kind: str) -> Path:
        if kind not in self.templates:
            path = self.root / f"template_{kind}.db"
            with _exclusive(self.root / f"template_{kind}.lock"):
                if not path.exists():
                    building = self.root / f"template_{kind}.building.db"
                    building.unlink(missing_ok=True)  # left by a worker that died while building
                    _build(f"sqlite:///{building}", demo=(kind == "demo"))
                    building.replace(path)
            self.templates[kind] = path
        return self.templates[kind]

    def fresh(self, kind: str, tmp_path: Path) -> tuple[str, object]:
        target = tmp_path / f"{kind}.db"
        shutil.copy(self.template(kind), target)
        return f"sqlite:///{target}", lambda: None


class PostgresDatabases:
    """Templates are separate databases next to TEST_DATABASE_URL's; copies use CREATE DATABASE ... TEMPLATE.

    The templates belong to the run (named by its id, built under a lock shared by the workers,
    dropped by drop_templates at the end); the copies belong to the worker that made them.
    """

    KINDS = ("empty", "demo")

    def __init__(self, url: str, run_id: str, shared: Path) -> None:
        self.url = make_url(url)
        self.run_id = run_id
        self.shared = shared
        self.prefix = f"{self.url.database}_{os.getpid()}"
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.templates: dict[str, str] = {}
        self.created: list[str] = []

    @staticmethod
    def template_name(database: str, run_id: str, kind: str) -> str:
        return f"{database}_{run_id}_tpl_{kind}"

    @classmethod
    def drop_templates(cls, url: str, run_id: str) -> None:
        url = make_url(url)
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for kind in cls.KINDS:
                name = cls.template_name(url.database, run_id, kind)
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def _create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def template(self, kind: str) -> str:
        if kind not in self.templates:
            name = self.template_name(self.url.database, self.run_id, kind)
            built = self.shared / f"{name}.built"
            with _exclusive(self.shared / f"{name}.lock"):
                if not built.exists():
                    _build(self._create(name), demo=(kind == "demo"))
                    self.created.remove(name)  # the run's, not this worker's: drop_templates drops it
                    built.touch()
            self.templates[kind] = name
        return self.templates[kind]

    def fresh(self, kind: str, tmp_path: Path) -> tuple[str, object]:
        name = f"{self.prefix}_t{next(_counter)}_{uuid.uuid4().hex[:6]}"
        url = self._create(name, template=self.template(kind))

        def drop() -> None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.created.remove(name)

        return url, drop

    def close(self) -> None:
        with self.admin.connect() as conn:
            for name in list(self.created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request, tmp_path_factory):
    shared = _shared_dir(request.config, tmp_path_factory)
    if request.param == "sqlite":
        root = shared / "sqlite"
        root.mkdir(exist_ok=True)
        yield SqliteDatabases(root)
    else:
        databases = PostgresDatabases(TEST_DATABASE_URL, _run_id(request.config), shared)
        yield databases
        databases.close()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production.

    The fixture keeps an app context pushed so tests can query; Flask would otherwise reuse it
    for every request, sharing `g` (the logged-in user, the CSP nonce) and one session between
    requests and clients. After the request the test's own session is expired so it reads
    what the request committed.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


def _make_app(backend, kind: str, tmp_path: Path, config: dict | None = None):
    url, drop = backend.fresh(kind, tmp_path)
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "AUDIT_CHECKPOINT_FILE": str(tmp_path / "audit-checkpoints.log"),
    }
    settings.update(config or {})
    app = create_app(settings)
    app.test_client_class = IsolatedClient
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        db.engine.dispose()
        ctx.pop()
        drop()


@pytest.fixture
def app(backend, tmp_path):
    """An app on an empty, migrated database."""
    yield from _make_app(backend, "empty", tmp_path)


@pytest.fixture
def demo_app(backend, tmp_path):
    """An app on a database holding the demo seed."""
    yield from _make_app(backend, "demo", tmp_path)


@pytest.fixture
def demo_app_csrf(backend, tmp_path):
    """The demo app with CSRF protection on, as in production."""
    yield from _make_app(backend, "demo", tmp_path, {"WTF_CSRF_ENABLED": True})


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def travel_to():
    """Move every clock to a Beijing wall-clock time ("2026-12-30 10:00") for the rest of the test.

    Call it before logging in: session ages are measured on the same clock.
    """
    travellers = []

    def travel(moment: str) -> None:
        traveller = time_machine.travel(dt.datetime.fromisoformat(moment).replace(tzinfo=BEIJING), tick=True)
        traveller.start()
        travellers.append(traveller)

    yield travel
    for traveller in reversed(travellers):
        traveller.stop()


@pytest.fixture(params=QUEUES)
def queue_url(request, tmp_path):
    """A private task queue for the test: a SQLite file, or (CI) a Redis queue under a name of its own,
    as several machines' workers share one."""
    from jobs import queue
    from jobs.queue import huey

    url = f"sqlite:///{tmp_path / 'tasks.db'}" if request.param == "sqlite" else TEST_REDIS_URL
    name = f"test-{uuid.uuid4().hex[:12]}"
    queue.connect(url, name)
    huey.flush()
    yield url, name
    huey.flush()
    queue.connect(f"sqlite:///{tmp_path / 'idle.db'}")
