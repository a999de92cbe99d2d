"""Login, logout and account creation."""

import pytest
from sqlalchemy import select

from extensions import db
from models import AuditLog, User
from models.enums import Role, Tier
from tests.builders import DEMO_PASSWORD, login_as, make_center, make_district, make_user


@pytest.fixture
def accounts(app):
    district = make_district()
    town = make_center(district, Tier.TOWN, "峡山街道便民服务中心")
    make_user("qu_admin", Role.DISTRICT_ADMIN, district)
    make_user("xiashan_admin", Role.TOWN_ADMIN, town)
    db.session.commit()
    return app.test_client()


def test_every_console_page_requires_login(accounts):
    for url in ["/admin/", "/admin/case/", "/admin/user/", "/admin/audit_log/", "/admin/case/new/"]:
        response = accounts.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_login_page_is_in_chinese(accounts):
    body = accounts.get("/login").get_data(as_text=True)
    assert "用户名" in body and "密码" in body and "登录" in body


def test_login_then_home_shows_the_users_role(accounts):
    login_as(accounts, "xiashan_admin")
    body = accounts.get("/admin/").get_data(as_text=True)
    assert "镇街管理员" in body and "峡山街道便民服务中心" in body
    assert db.session.scalar(select(AuditLog).where(AuditLog.event == "login", AuditLog.username == "xiashan_admin"))


def test_wrong_password_and_unknown_user_get_the_same_message(accounts):
    wrong = accounts.post("/login", data={"username": "qu_admin", "password": "nope"}, follow_redirects=True)
    unknown = accounts.post("/login", data={"username": "ghost", "password": "nope"}, follow_redirects=True)
    assert "用户名或密码错误" in wrong.get_data(as_text=True)
    assert "用户名或密码错误" in unknown.get_data(as_text=True)
    assert db.session.scalar(select(AuditLog).where(AuditLog.event == "login_failed", AuditLog.username == "qu_admin"))


def test_logout_is_a_post_and_a_replayed_cookie_no_longer_works(accounts):
    login_as(accounts, "qu_admin")
    cookie = accounts.get_cookie("session").value
    assert accounts.get("/logout").status_code == 405
    assert accounts.post("/logout").status_code == 302
    accounts.set_cookie("session", cookie)
    response = accounts.get("/admin/case/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_login_never_redirects_off_site(accounts, target):
    response = accounts.post(f"/login?next={target}", data={"username": "qu_admin", "password": DEMO_PASSWORD})
    assert response.headers["Location"].endswith("/admin/")


def test_login_follows_a_local_next(accounts):
    response = accounts.post("/login?next=/admin/case/", data={"username": "qu_admin", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/admin/case/"


def test_create_user_asks_for_the_password_twice(app, accounts):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "zhang_san", "--role", "auditor", "--full-name", "张三"],
        input="Strong#Pass2026\nStrong#Pass2026\n",
    )
    assert result.exit_code == 0, result.output
    assert "已创建用户 zhang_san" in result.output
    created = db.session.scalar(select(User).where(User.username == "zhang_san"))
    assert created.check_password("Strong#Pass2026") and created.role == "auditor"


def test_create_user_refuses_mismatched_or_weak_passwords(app, accounts):
    runner = app.test_cli_runner()
    mismatch = runner.invoke(
        args=["create-user", "li_si", "--role", "auditor"], input="Strong#Pass2026\nOther#Pass2026\nweak\nweak\n"
    )
    assert mismatch.exit_code != 0
    weak = runner.invoke(args=["create-user", "li_si", "--role", "auditor"], input="short\nshort\n")
    assert weak.exit_code != 0 and "密码长度至少10位" in weak.output
    assert db.session.scalar(select(User).where(User.username == "li_si")) is None


def test_create_user_checks_the_role_needs_a_center(app, accounts):
    result = app.test_cli_runner().invoke(
        args=["create-user", "wang_wu", "--role", "town_admin"], input="Strong#Pass2026\nStrong#Pass2026\n"
    )
    assert result.exit_code != 0 and "须指定所属镇(街道)" in result.output


def test_changing_the_password_asks_for_the_old_one_and_applies_the_policy(accounts):
    login_as(accounts, "qu_admin")
    page = accounts.get("/admin/account/").get_data(as_text=True)
    assert "修改密码" in page and "原密码" in page
    wrong_old = accounts.post(
        "/admin/account/",
        data={"old_password": "nope", "new_password": "Better#Pass2026", "confirm": "Better#Pass2026"},
    )
    assert "原密码不正确" in wrong_old.get_data(as_text=True)
    weak = accounts.post(
        "/admin/account/",
        data={"old_password": DEMO_PASSWORD, "new_password": "qu_admin#Pass1", "confirm": "qu_admin#Pass1"},
    )
    assert "密码不能包含用户名" in weak.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "qu_admin"))
    assert user.check_password(DEMO_PASSWORD)


def test_a_password_change_ends_other_sessions_and_is_audited(accounts, app):
    other = app.test_client()
    login_as(other, "qu_admin")
    login_as(accounts, "qu_admin")
    response = accounts.post(
        "/admin/account/",
        data={"old_password": DEMO_PASSWORD, "new_password": "Better#Pass2026", "confirm": "Better#Pass2026"},
    )
    assert response.status_code == 302
    renewed = accounts.get("/admin/case/")
    assert renewed.status_code == 200, renewed.headers.get("Location")  # this session was renewed
    assert other.get("/admin/case/").status_code == 302  # the other one ended
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.username == "qu_admin")).check_password("Better#Pass2026")
    assert db.session.scalar(select(AuditLog).where(AuditLog.event == "password_change"))
