"""Request-level security: headers and CSP nonces, session lifetimes, and production settings checks."""

from __future__ import annotations

import secrets
import time

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from config import DEFAULT_SECRET_KEY

MIN_SECRET_KEY_LENGTH = 32
IDLE_TIMEOUT_SECONDS = 30 * 60
ABSOLUTE_TIMEOUT_SECONDS = 12 * 60 * 60


def csp_nonce() -> str:
    """The nonce of this response's Content-Security-Policy, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _content_security_policy() -> str:
    # No inline script: every <script> carries the nonce (Flask-Admin emits it through
    # csp_nonce_generator); inline styles stay allowed because Select2 and Bootstrap set them.
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{csp_nonce()}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _set_headers(response):
    response.headers["Content-Security-Policy"] = _content_security_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if not request.path.startswith("/static/") and "/static/" not in request.path:
        # Console pages carry personal data: never keep them in a browser or proxy cache.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _enforce_session_lifetime():
    """Idle (30 min) and absolute (12 h) limits, checked on the server with signed timestamps."""
    if not current_user.is_authenticated:
        return None
    now = int(time.time())
    started = session.get("login_at", 0)
    seen = session.get("seen_at", 0)
    if now - started > ABSOLUTE_TIMEOUT_SECONDS or now - seen > IDLE_TIMEOUT_SECONDS:
        logout_user()
        session.clear()
        flash("会话已超时，请重新登录。", "warning")
        return redirect(url_for("auth.login"))
    session["seen_at"] = now
    return None


def start_session_clock() -> None:
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now


def unsafe_settings(config: dict) -> list[str]:
    """Every setting that must not reach production, in Chinese."""
    problems = []
    key = config.get("SECRET_KEY") or ""
    if key == DEFAULT_SECRET_KEY:
        problems.append("SECRET_KEY 仍为开发默认值，请设置随机密钥(环境变量 SECRET_KEY)")
    elif len(key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY 过短(少于{MIN_SECRET_KEY_LENGTH}个字符)")
    audit_key = config.get("AUDIT_HMAC_KEY") or ""
    if not audit_key:
        problems.append("AUDIT_HMAC_KEY 未设置：审计日志哈希链须使用独立密钥(环境变量 AUDIT_HMAC_KEY，不存于数据库)")
    elif len(audit_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"AUDIT_HMAC_KEY 过短(少于{MIN_SECRET_KEY_LENGTH}个字符)")
    elif audit_key == key:
        problems.append("AUDIT_HMAC_KEY 与 SECRET_KEY 相同，请使用另一个随机密钥")
    if config.get("DEBUG"):
        problems.append("DEBUG 已开启，生产环境必须关闭")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE 未开启，会话 Cookie 可能经明文 HTTP 传输")
    if not config.get("WTF_CSRF_ENABLED", True):
        problems.append("CSRF 防护已关闭")
    if not config.get("MAX_CONTENT_LENGTH"):
        problems.append("未限制请求大小(MAX_CONTENT_LENGTH)")
    if str(config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://"):
        # Counters in one process's memory: each gunicorn worker and each app server counts on its
        # own, so N of them allow N times LOGIN_RATE_LIMIT. Flask-Limiter's default, hence "or".
        problems.append(
            "RATELIMIT_STORAGE_URI 为进程内存储(memory://)：每个进程、每台服务器各自计数，登录限流形同虚设；"
            "请设置 redis://主机:端口/库"
        )
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problems.append("使用 SQLite 嵌入式数据库；多人多机部署请改用 PostgreSQL(DATABASE_URL)")
    return problems


def check_production(config: dict) -> None:
    """Refuse to start in production with a default or short key, no audit key of its own, debug on,
    or rate-limit counters kept in each process's memory."""
    if config.get("ENV_NAME") != "production":
        return
    fatal = [
        p
        for p in unsafe_settings(config)
        if p.startswith(("SECRET_KEY", "AUDIT_HMAC_KEY", "DEBUG", "CSRF", "RATELIMIT_STORAGE_URI"))
    ]
    if fatal:
        raise RuntimeError("生产环境配置不安全，拒绝启动：" + "；".join(fatal))


def init_security(app: Flask) -> None:
    check_production(app.config)
    app.after_request(_set_headers)
    app.before_request(_enforce_session_lifetime)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
