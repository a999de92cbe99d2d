"""Headers, session lifetimes, CSRF and production settings."""

import time

import pytest
from sqlalchemy import func, select

from app import create_app
from extensions import db
from models import AuditLog, User
from security import unsafe_settings
from tests.builders import DEMO_PASSWORD, login_as


def test_console_pages_send_the_security_headers(client):
    login_as(client, "qu_admin")
    response = client.get("/admin/case/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_every_script_tag_carries_the_nonce_and_comes_from_the_app(client):
    login_as(client, "qu_admin")
    response = client.get("/admin/case/new/")
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    body = response.get_data(as_text=True)
    scripts = body.split("<script")[1:]
    assert scripts
    for tag in scripts:
        head = tag.split(">")[0]
        assert f'nonce="{nonce}"' in head, head
        assert "http://" not in head and "https://" not in head


def test_no_page_loads_an_asset_from_outside_the_app(client):
    login_as(client, "qu_admin")
    for url in ["/login", "/admin/", "/admin/case/", "/admin/case/new/"]:
        body = client.get(url).get_data(as_text=True)
        for attribute in ('src="http', "src='http", 'href="http', "href='http", 'src="//', 'href="//'):
            assert attribute not in body, (url, attribute)


def test_an_idle_session_expires_after_30_minutes(client):
    login_as(client, "qu_admin")
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 31 * 60
    response = client.get("/admin/case/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_session_expires_12_hours_after_login_even_when_active(client):
    login_as(client, "qu_admin")
    with client.session_transaction() as session:
        session["login_at"] = int(time.time()) - 12 * 3600 - 1
    response = client.get("/admin/case/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_active_session_stays_open(client):
    login_as(client, "qu_admin")
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 29 * 60
    response = client.get("/admin/case/")
    assert response.status_code == 200 and "案件台账" in response.get_data(as_text=True)


def test_disabling_a_user_ends_its_sessions_at_once(client):
    login_as(client, "xiashan_admin")
    assert client.get("/admin/case/").status_code == 200
    user = db.session.scalar(select(User).where(User.username == "xiashan_admin"))
    user.active = False
    db.session.commit()
    response = client.get("/admin/case/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_five_failures_lock_the_account_for_30_minutes_and_are_audited(client):
    for _ in range(5):
        client.post("/login", data={"username": "chendian_admin", "password": "wrong-password"})
    response = client.post("/login", data={"username": "chendian_admin", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    assert "用户名或密码错误，或账号已被锁定" in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditLog).where(AuditLog.event == "lockout", AuditLog.username == "chendian_admin"))
    user = db.session.scalar(select(User).where(User.username == "chendian_admin"))
    assert user.locked_until is not None


def test_csrf_is_required_on_state_changing_requests(demo_app_csrf):
    client = demo_app_csrf.test_client()
    response = client.post("/login", data={"username": "qu_admin", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "请求格式有误" in response.get_data(as_text=True)


def test_security_check_lists_the_unsafe_development_defaults(demo_app):
    result = demo_app.test_cli_runner().invoke(args=["security-check"])
    assert result.exit_code != 0
    assert "SECRET_KEY 仍为开发默认值" in result.output
    assert "AUDIT_HMAC_KEY 未设置" in result.output
    assert "SESSION_COOKIE_SECURE 未开启" in result.output
    assert "RATELIMIT_STORAGE_URI 为进程内存储(memory://)" in result.output


def test_safe_settings_pass_the_check():
    config = {
        "SECRET_KEY": "x" * 48,
        "AUDIT_HMAC_KEY": "a" * 48,
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "WTF_CSRF_ENABLED": True,
        "MAX_CONTENT_LENGTH": 1024,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/console",
        "RATELIMIT_STORAGE_URI": "redis://queue:6379/1",
    }
    assert unsafe_settings(config) == []


@pytest.mark.parametrize("storage", ["memory://", "", None])
def test_rate_limit_counters_in_process_memory_are_unsafe(storage):
    # Flask-Limiter's own default is memory://, so an unset value counts as memory too.
    problems = unsafe_settings({"RATELIMIT_STORAGE_URI": storage})
    assert any(p.startswith("RATELIMIT_STORAGE_URI 为进程内存储(memory://)") for p in problems)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "开发默认值"),
        ({"SECRET_KEY": "short"}, "过短"),
        ({"SECRET_KEY": "k" * 40, "AUDIT_HMAC_KEY": "a" * 40, "DEBUG": True}, "DEBUG"),
        ({"SECRET_KEY": "k" * 40}, "AUDIT_HMAC_KEY 未设置"),
        ({"SECRET_KEY": "k" * 40, "AUDIT_HMAC_KEY": "short"}, "AUDIT_HMAC_KEY 过短"),
        ({"SECRET_KEY": "k" * 40, "AUDIT_HMAC_KEY": "k" * 40}, "AUDIT_HMAC_KEY 与 SECRET_KEY 相同"),
        (
            {"SECRET_KEY": "k" * 40, "AUDIT_HMAC_KEY": "a" * 40, "RATELIMIT_STORAGE_URI": "memory://"},
            "RATELIMIT_STORAGE_URI 为进程内存储",
        ),
    ],
)
def test_production_refuses_to_start_with_unsafe_settings(overrides, message):
    config = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    config.update(overrides)
    with pytest.raises(RuntimeError, match=message):
        create_app(config)


def test_errors_show_a_chinese_page_without_traceback(client):
    login_as(client, "qu_admin")
    response = client.get("/admin/no-such-page/")
    body = response.get_data(as_text=True)
    assert response.status_code == 404 and "记录不存在或页面未找到" in body and "Traceback" not in body


def test_oversized_requests_are_refused(demo_app):
    client = demo_app.test_client()
    response = client.post("/login", data={"username": "x" * (3 * 1024 * 1024), "password": "y"})
    assert response.status_code == 413 and "提交的内容过大" in response.get_data(as_text=True)


def _token_of(body: str) -> str:
    return body.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]


def _login_with_csrf(client, username: str) -> None:
    token = _token_of(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})


@pytest.mark.parametrize("url", ["/admin/case/new/", "/admin/applicant/new/", "/admin/department/new/"])
def test_every_console_form_carries_its_csrf_token(demo_app_csrf, url):
    client = demo_app_csrf.test_client()
    _login_with_csrf(client, "qu_admin")
    form = client.get(url).get_data(as_text=True).split('class="admin-form')[1].split("</form>")[0]
    assert 'name="csrf_token"' in form


def test_a_case_is_saved_through_the_real_form_with_csrf_on(demo_app_csrf):
    from models import Case, Center, ServiceItem

    client = demo_app_csrf.test_client()
    _login_with_csrf(client, "xiashan_dongshan")
    page = client.get("/admin/case/new/").get_data(as_text=True)
    form = page.split('class="admin-form')[1]
    station = db.session.scalar(select(Center).where(Center.name == "东山社区便民服务站"))
    item = next(i for i in db.session.scalars(select(ServiceItem)) if i.is_stationed_at(station))
    applicant = db.session.scalar(select(Case).where(Case.center_id == station.id).limit(1)).applicant
    before = db.session.scalar(select(func.count()).select_from(Case))
    response = client.post(
        "/admin/case/new/",
        data={
            "csrf_token": _token_of(form),
            "center": station.id,
            "mode": "on_site",
            "items": [item.id],
            "applicant": applicant.id,
            "received_date": "2026-11-25",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Case)) == before + 1


def test_production_starts_with_its_rate_limit_counters_in_redis(tmp_path):
    config = {
        "ENV_NAME": "production",
        "SECRET_KEY": "k" * 40,
        "AUDIT_HMAC_KEY": "a" * 40,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'console.db'}",
    }
    assert create_app(config).config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"
