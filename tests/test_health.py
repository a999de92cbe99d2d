"""The load balancer's health check: up while the database answers, 503 (not a 500 page) when it does not."""

from __future__ import annotations

from app import create_app


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
