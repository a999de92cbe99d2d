"""Login and logout pages; failed logins count per account (locked for 30 minutes) and per address (throttled)."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import case as when
from sqlalchemy import or_, select, update
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

import audit
from extensions import db, limiter
from models import User
from models.time import utcnow
from security import start_session_clock

bp = Blueprint("auth", __name__)

MAX_FAILURES = 5
LOCK_MINUTES = 30
_BAD_LOGIN = "用户名或密码错误，或账号已被锁定。"
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$dUZks1sO9lXo6nBd0ojBwQ$aXT4VpTUCGuYlEIs2S3kf53Ly1FquLel/3r3O57fbb8"


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=32)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if not target:
        return url_for("admin.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("admin.index")
    return target


def _password_matches(user: User | None, password: str) -> bool:
    """Exactly one argon2 verification on every attempt, whatever the account's state.

    Unknown, locked and deactivated accounts, a wrong or an empty password all cost the same
    time as a real check, so timing does not tell which names exist or what state they are in.
    """
    if user is None:
        User(password_hash=_DUMMY_HASH).check_password(password)
        return False
    return user.check_password(password)


_COUNTED, _LOCKED_NOW, _ALREADY_LOCKED = "counted", "locked now", "already locked"


def _count_failure(user: User, now: dt.datetime) -> str:
    """Count one failed login in the database itself and lock the account on the MAX_FAILURES-th.

    One conditional UPDATE, not a read-modify-write of the loaded row: app servers on several
    machines (or gunicorn workers) failing the same account at once would otherwise each write
    back their own "count + 1" and lose failures. The row lock the UPDATE takes orders them, and
    the SET expressions read the row as it is then (PostgreSQL re-reads it after waiting;
    SQLite writes one at a time). Returns _ALREADY_LOCKED when another server locked the account
    after this request read it.
    """
    reached = User.failed_logins + 1 >= MAX_FAILURES
    row = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(
            failed_logins=when((reached, 0), else_=User.failed_logins + 1),
            locked_until=when((reached, now + dt.timedelta(minutes=LOCK_MINUTES)), else_=None),
        )
        .returning(User.locked_until)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.expire(user, ["failed_logins", "locked_until"])
    if row is None:
        return _ALREADY_LOCKED
    return _LOCKED_NOW if row.locked_until is not None else _COUNTED


def _login_failed(response) -> bool:
    return response.status_code != 302  # a successful login redirects; it does not count


def _throttled(limit) -> None:
    audit.record(
        db.session, audit.AuditEvent.LOGIN_THROTTLED, summary=f"登录失败过于频繁，已暂停受理：{limit.limit}"[:200]
    )
    db.session.commit()


@bp.errorhandler(429)
def too_many_attempts(error):
    current = limiter.current_limit
    wait = max(int(current.reset_at - time.time()), 1) if current else 60
    flash(f"该地址登录失败次数过多，请 {wait} 秒后再试。如忘记密码，请联系区政务服务数据管理局。", "error")
    return render_template("auth/login.html", form=LoginForm(formdata=None)), 429


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["POST"],
    deduct_when=_login_failed,
    on_breach=_throttled,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = LoginForm()
    submitted = form.validate_on_submit()
    if request.method == "POST" and not submitted:
        _password_matches(None, form.password.data or "")  # an empty or overlong field costs the same
    elif submitted:
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        now = utcnow()
        password_ok = _password_matches(user, form.password.data)
        if user is not None and user.locked_until and user.locked_until > now:
            audit.record(
                db.session,
                audit.AuditEvent.LOGIN_LOCKED,
                user,
                summary=f"锁定期内尝试登录：{user.username}",
                actor=user,
            )
            db.session.commit()
            flash(_BAD_LOGIN, "error")
        elif user is not None and user.active and password_ok:
            user.failed_logins = 0
            user.locked_until = None
            session.clear()  # a fresh session at login (no fixation)
            login_user(user)
            start_session_clock()
            audit.record(db.session, audit.AuditEvent.LOGIN, user, summary=f"登录：{user.username}", actor=user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        else:
            if user is not None:
                outcome = _count_failure(user, now)
                if outcome == _ALREADY_LOCKED:
                    event, summary = audit.AuditEvent.LOGIN_LOCKED, f"锁定期内尝试登录：{user.username}"
                else:
                    event, summary = audit.AuditEvent.LOGIN_FAILED, f"登录失败：{user.username}"
                audit.record(db.session, event, user, summary=summary, actor=user)
                if outcome == _LOCKED_NOW:
                    audit.record(
                        db.session,
                        audit.AuditEvent.LOCKOUT,
                        user,
                        summary=f"连续{MAX_FAILURES}次失败，锁定{LOCK_MINUTES}分钟",
                        actor=user,
                    )
            else:
                audit.record(db.session, audit.AuditEvent.LOGIN_FAILED, None, summary="登录失败：未知用户名")
            db.session.commit()
            flash(_BAD_LOGIN, "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user = db.session.get(User, current_user.id)
    user.session_epoch += 1  # a replayed cookie of this session no longer loads the user
    audit.record(db.session, audit.AuditEvent.LOGOUT, user, summary=f"退出：{user.username}")
    db.session.commit()
    logout_user()
    session.clear()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"))


class PasswordChangeForm(FlaskForm):
    old_password = PasswordField("原密码", validators=[DataRequired("请输入原密码"), Length(max=128)])
    new_password = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=128)])
    confirm = PasswordField("再次输入新密码", validators=[DataRequired("请再次输入新密码"), Length(max=128)])
