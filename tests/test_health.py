"""The load balancer's health check: up while the database (and Redis, where configured) answers,
503 (not a 500 page) when this server cannot serve; a queue outage alone is reported, not fatal."""

from __future__ import annotations

import os
import socket

import pytest

from app import create_app
from jobs import queue

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def test_the_health_check_answers_without_login_while_the_database_is_up(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_the_health_check_says_503_when_the_database_cannot_be_reached(tmp_path):
    unreachable = f"sqlite:///{tmp_path / 'no-such-dir' / 'console.db'}"
    server = create_app({"SQLALCHEMY_DATABASE_URI": unreachable, "TESTING": True})
    response = server.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}


def _closed_redis() -> str:
    """A Redis address nothing listens on: a port just bound and let go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def idle_queue(tmp_path):
    """Puts the task queue back on a SQLite file after a test points it at Redis."""
    yield
    queue.connect(f"sqlite:///{tmp_path / 'idle.db'}")


def _app(tmp_path, **config):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'console.db'}", "TESTING": True, **config})


def test_rate_limit_counters_out_of_reach_take_the_server_out_of_the_pool(tmp_path):
    server = _app(tmp_path, RATELIMIT_STORAGE_URI=_closed_redis())
    response = server.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "ok", "rate_limit": "unreachable"}


def test_a_queue_out_of_reach_leaves_the_server_serving_but_says_so(tmp_path, idle_queue):
    queue.connect(_closed_redis())
    response = _app(tmp_path).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "degraded", "database": "ok", "task_queue": "unreachable"}


if TEST_REDIS_URL:  # CI (.ci/run) sets it; there a Redis that does not answer fails the test

    def test_the_health_check_reports_redis_where_it_is_configured(tmp_path, idle_queue):
        queue.connect(TEST_REDIS_URL, "test-health")
        response = _app(tmp_path, RATELIMIT_STORAGE_URI=TEST_REDIS_URL).test_client().get("/healthz")
        assert response.status_code == 200
        assert response.get_json() == {"status": "ok", "database": "ok", "rate_limit": "ok", "task_queue": "ok"}
