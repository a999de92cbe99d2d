"""Login defences seen from outside: every failure costs one argon2 check, and an address is throttled."""

from __future__ import annotations

import datetime as dt

import argon2
import pytest
from sqlalchemy import select

from extensions import db
from models import AuditLog, User
from models.time import utcnow
from tests.builders import DEMO_PASSWORD, login_as
from tests.conftest import _make_app


@pytest.fixture
def verifications(monkeypatch):
    """Counts argon2 verifications, the expensive step whose presence or absence timing reveals."""
    calls = []
    original = argon2.PasswordHasher.verify

    def counted(self, hash, password):
        calls.append(hash)
        return original(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counted)
    return calls


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _lock(username: str) -> None:
    _user(username).locked_until = utcnow() + dt.timedelta(minutes=20)
    db.session.commit()


def _deactivate(username: str) -> None:
    _user(username).active = False
    db.session.commit()


# (what is wrong, how to set it up, username, password)
FAILURES = [
    ("unknown user", None, "no_such_user", DEMO_PASSWORD),
    ("wrong password", None, "chendian_admin", "Wrong#Pass2026"),
    ("locked, right password", _lock, "chendian_admin", DEMO_PASSWORD),
    ("locked, wrong password", _lock, "chendian_admin", "Wrong#Pass2026"),
    ("deactivated, right password", _deactivate, "chendian_admin", DEMO_PASSWORD),
    ("deactivated, wrong password", _deactivate, "chendian_admin", "Wrong#Pass2026"),
    ("empty password", None, "chendian_admin", ""),
    ("empty username and password", None, "", ""),
]


@pytest.mark.parametrize(("case", "setup", "username", "password"), FAILURES, ids=[f[0] for f in FAILURES])
def test_every_failed_login_costs_exactly_one_argon2_verification(
    client, verifications, case, setup, username, password
):
    if setup:
        setup("chendian_admin")
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 200  # the login page again, never a redirect
    assert len(verifications) == 1, case


def test_a_successful_login_costs_one_verification_too(client, verifications):
    login_as(client, "chendian_admin")
    assert len(verifications) == 1


def _attempt(client, address: str, password: str = "Wrong#Pass2026", username: str = "chendian_admin"):
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_the_eleventh_failed_attempt_in_a_minute_from_one_address_gets_a_chinese_429(demo_app):
    client = demo_app.test_client()
    for _ in range(10):
        assert _attempt(client, "10.20.30.40").status_code == 200
    refused = _attempt(client, "10.20.30.40", DEMO_PASSWORD)  # even the right password waits
    body = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "登录失败次数过多" in body and "秒后再试" in body and 'name="username"' in body
    assert "Too Many Requests" not in body
    row = db.session.scalar(select(AuditLog).where(AuditLog.event == "login_throttled"))
    assert row is not None and row.ip == "10.20.30.40" and "10 per 1 minute" in row.summary
    other = demo_app.test_client()
    # Another address is not throttled (chendian_admin itself is locked by now: another account).
    assert _attempt(other, "10.20.30.41", DEMO_PASSWORD, "xiashan_admin").status_code == 302


def test_successful_logins_from_one_address_are_not_throttled(demo_app):
    client = demo_app.test_client()
    for _ in range(12):
        response = _attempt(client, "10.20.30.50", DEMO_PASSWORD)
        assert response.status_code == 302 and "/login" not in response.headers["Location"]
        client.post("/logout")


def test_the_login_limit_is_configurable(demo_app):
    demo_app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    client = demo_app.test_client()
    responses = [_attempt(client, "10.20.30.60") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert "登录失败次数过多" in responses[2].get_data(as_text=True)


# --- behind a reverse proxy ------------------------------------------------------------------------
PROXY = "10.0.0.1"  # every request reaches the app from the proxy's address


@pytest.fixture
def proxied_app(backend, tmp_path):
    """The demo app configured as behind one reverse proxy (PROXY_FIX_X_FOR=1)."""
    yield from _make_app(backend, "demo", tmp_path, {"PROXY_FIX_X_FOR": 1, "LOGIN_RATE_LIMIT": "2 per minute"})


def _via_proxy(client, forwarded_for: str, password: str = "Wrong#Pass2026"):
    return client.post(
        "/login",
        data={"username": "chendian_admin", "password": password},
        environ_base={"REMOTE_ADDR": PROXY},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_behind_a_proxy_the_login_throttle_counts_each_client_address_not_the_proxys(proxied_app):
    client = proxied_app.test_client()
    assert [_via_proxy(client, "203.0.113.5").status_code for _ in range(3)] == [200, 200, 429]
    row = db.session.scalar(select(AuditLog).where(AuditLog.event == "login_throttled"))
    assert row.ip == "203.0.113.5"
    # Another clerk behind the same proxy still gets to try.
    assert _via_proxy(client, "203.0.113.6").status_code == 200
    # A client cannot name another address: the one trusted hop is the proxy's, the rightmost.
    assert _via_proxy(client, "198.51.100.9, 203.0.113.5").status_code == 429


def test_without_a_configured_proxy_a_forwarded_for_header_is_ignored(demo_app):
    demo_app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    client = demo_app.test_client()
    statuses = [_via_proxy(client, f"203.0.113.{n}").status_code for n in (20, 21, 22)]
    assert statuses == [200, 200, 429]  # all three came from 10.0.0.1, whatever they claimed
    row = db.session.scalar(select(AuditLog).where(AuditLog.event == "login_throttled"))
    assert row.ip == PROXY
