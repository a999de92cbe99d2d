"""Login and logout pages; failed logins count per account and lock it for 30 minutes."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

import audit
from extensions import db
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


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        now = utcnow()
        if user is not None and user.locked_until and user.locked_until > now:
            audit.record(db.session, "login_locked", user, summary=f"锁定期内尝试登录：{user.username}", actor=user)
            db.session.commit()
            flash(_BAD_LOGIN, "error")
        elif user is not None and user.active and user.check_password(form.password.data):
            user.failed_logins = 0
            user.locked_until = None
            session.clear()  # a fresh session at login (no fixation)
            login_user(user)
            start_session_clock()
            audit.record(db.session, "login", user, summary=f"登录：{user.username}", actor=user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        else:
            if user is not None:
                user.failed_logins += 1
                audit.record(db.session, "login_failed", user, summary=f"登录失败：{user.username}", actor=user)
                if user.failed_logins >= MAX_FAILURES:
                    user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
                    user.failed_logins = 0
                    audit.record(
                        db.session,
                        "lockout",
                        user,
                        summary=f"连续{MAX_FAILURES}次失败，锁定{LOCK_MINUTES}分钟",
                        actor=user,
                    )
            else:
                # Spend the same argon2 time as a real check, so timing does not tell which names exist.
                User(password_hash=_DUMMY_HASH).check_password(form.password.data)
                audit.record(db.session, "login_failed", None, summary="登录失败：未知用户名")
            db.session.commit()
            flash(_BAD_LOGIN, "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user = db.session.get(User, current_user.id)
    user.session_epoch += 1  # a replayed cookie of this session no longer loads the user
    audit.record(db.session, "logout", user, summary=f"退出：{user.username}")
    db.session.commit()
    logout_user()
    session.clear()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"))


class PasswordChangeForm(FlaskForm):
    old_password = PasswordField("原密码", validators=[DataRequired("请输入原密码"), Length(max=128)])
    new_password = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=128)])
    confirm = PasswordField("再次输入新密码", validators=[DataRequired("请再次输入新密码"), Length(max=128)])
