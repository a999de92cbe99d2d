"""Fixtures: a fresh app and database per test, on SQLite always and on PostgreSQL when configured.

Each backend gets two template databases built once per session through the Alembic
migrations (one empty, one with the demo seed); every test works on its own copy.
"""

from __future__ import annotations

import datetime as dt
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
_counter = itertools.count()


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
        db.session.remove()
        db.engine.dispose()


class SqliteDatabases:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates: dict[str, Path] = {}

    def template(self, kind: str) -> Path:
        if kind not in self.templates:
            path = self.root / f"template_{kind}.db"
            _build(f"sqlite:///{path}", demo=(kind == "demo"))
            self.templates[kind] = path
        return self.templates[kind]

    def fresh(self, kind: str, tmp_path: Path) -> tuple[str, object]:
        target = tmp_path / f"{kind}.db"
        shutil.copy(self.template(kind), target)
        return f"sqlite:///{target}", lambda: None


class PostgresDatabases:
    """Templates are separate databases next to TEST_DATABASE_URL's; copies use CREATE DATABASE ... TEMPLATE."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.prefix = f"{self.url.database}_{os.getpid()}"
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.templates: dict[str, str] = {}
        self.created: list[str] = []

    def _create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def template(self, kind: str) -> str:
        if kind not in self.templates:
            name = f"{self.prefix}_tpl_{kind}"
            url = self._create(name)
            _build(url, demo=(kind == "demo"))
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
    if request.param == "sqlite":
        yield SqliteDatabases(tmp_path_factory.mktemp("sqlite"))
    else:
        databases = PostgresDatabases(TEST_DATABASE_URL)
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
