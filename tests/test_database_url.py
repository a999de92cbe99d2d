"""DATABASE_URL as people write it: a bare postgresql:// runs on psycopg 3, the installed driver."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import database_url


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("postgresql://bb:secret@db.example:5432/console", "postgresql+psycopg://bb:secret@db.example:5432/console"),
        ("postgres://bb@db.example/console", "postgresql+psycopg://bb@db.example/console"),
        (
            "PostgreSQL://bb@db.example/console?sslmode=require",
            "postgresql+psycopg://bb@db.example/console?sslmode=require",
        ),
        ("postgresql+psycopg://bb@db.example/console", "postgresql+psycopg://bb@db.example/console"),
        ("postgresql+psycopg2://bb@db.example/console", "postgresql+psycopg2://bb@db.example/console"),
        ("sqlite:////srv/console/console.db", "sqlite:////srv/console/console.db"),
        ("", ""),
    ],
)
def test_a_bare_postgresql_url_gets_the_psycopg_driver_and_an_explicit_one_is_kept(written, used):
    assert database_url(written) == used


def test_the_console_started_with_a_bare_postgresql_url_uses_psycopg():
    # A process of its own: Config reads DATABASE_URL once, at import. No connection is made.
    script = (
        "from app import create_app\n"
        "from extensions import db\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    print(db.engine.url.drivername, db.engine.dialect.driver)\n"
    )
    env = dict(os.environ, DATABASE_URL="postgresql://bb@127.0.0.1:1/console")
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["postgresql+psycopg", "psycopg"]
