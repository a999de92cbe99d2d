"""Application factory for the 帮办代办 console."""

from __future__ import annotations

from flask import Flask, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user, user_logged_in, user_logged_out
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, ValidationError

import audit
from annexes.render import install_xhtml2pdf_patches
from config import INSTANCE_DIR, Config
from extensions import babel, csrf, db, limiter, migrate
from lifecycle import enforcement
from models.keys import parse_key
from security import init_security


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # WAL lets the web server and the worker read while one writes; FKs are off by default in SQLite.
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class KeyConverter(IntegerConverter):
    """`<int:...>` in URLs: ASCII digits within 64 bits (werkzeug's \\d also matches "١" and "²")."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        key = parse_key(value)
        if key is None:
            raise ValidationError()
        return key


def _install_session_hooks() -> None:
    """Rules and audit hang on the Session class once per process (every app shares them)."""
    if not event.contains(Session, "before_flush", enforcement._before_flush):
        enforcement.install(Session)
        audit.install(Session, lambda: audit.chain_key(current_app.config))
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


def _act_in_request(user) -> None:
    """Attribute this request's audit rows and progress-log entries to `user` (None: anonymous)."""
    token = audit.set_actor(audit.actor_for(user, request.remote_addr or ""))
    # The first token restores whatever was set before the request, however often login or logout re-set it.
    g.setdefault("audit_actor_token", token)


def _audit_actor_from_login() -> None:
    # Reading current_user makes Flask-Login load the user now (it is lazy), so every write in
    # the request, even one made before a view runs, is attributed to the signed-in clerk.
    _act_in_request(current_user if current_user.is_authenticated else None)


def _audit_actor_on_login(sender, user, **extra) -> None:
    _act_in_request(user)


def _audit_actor_on_logout(sender, user, **extra) -> None:
    _act_in_request(None)


def _audit_actor_reset(error: BaseException | None) -> None:
    token = g.pop("audit_actor_token", None)
    if token is not None:
        audit.reset_actor(token)


def _install_audit_actor(app: Flask) -> None:
    """The request names the audit actor; audit.py and lifecycle/ never read the request themselves."""
    # First of all before_request hooks: the limiter's, which audits a throttled login, runs after it.
    app.before_request(_audit_actor_from_login)
    app.teardown_request(_audit_actor_reset)
    user_logged_in.connect(_audit_actor_on_login)
    user_logged_out.connect(_audit_actor_on_logout)


def _trust_proxies(app: Flask) -> None:
    """Behind a reverse proxy, take the client's address and scheme from the headers the proxy sets.

    The login throttle counts per address and the audit log records it: without this, every
    client behind the proxy would share the proxy's address (one clerk's typos would lock out a
    whole center). Only as many hops as configured are trusted, so a client cannot prepend its own.
    """
    hops = {name: app.config[f"PROXY_FIX_X_{name.upper()}"] for name in ("for", "proto", "host")}
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops["for"], x_proto=hops["proto"], x_host=hops["host"])


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.url_map.converters["int"] = KeyConverter
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    INSTANCE_DIR.mkdir(exist_ok=True)
    _trust_proxies(app)
    _install_audit_actor(app)
    init_security(app)

    _install_session_hooks()
    install_xhtml2pdf_patches()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=lambda: "zh_Hans_CN", timezone_selector=lambda: "Asia/Shanghai")

    from auth import init_auth

    init_auth(app)

    from admin_views import init_admin

    init_admin(app)

    from public import init_public

    init_public(app)

    from cli import init_cli

    init_cli(app)

    from templating import init_templating

    init_templating(app)

    @app.route("/")
    def index():
        return redirect(url_for("admin.index"))

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page(code))

    return app


_ERROR_TEXT = {
    400: "请求格式有误，请返回重试。",
    403: "您没有权限访问该页面。",
    404: "记录不存在或页面未找到。",
    405: "不支持该请求方式。",
    413: "提交的内容过大。",
    429: "操作过于频繁，请稍后再试。",
    500: "系统内部错误，请稍后重试；如持续出现请联系区政务服务数据管理局。",
}


def _error_page(code: int):
    def handler(error):
        return render_template("error.html", code=code, message=_ERROR_TEXT[code]), code

    return handler
