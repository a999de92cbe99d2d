"""The signed-in user's own account page: change password (asks for the old one)."""

from __future__ import annotations

from flask import flash, redirect, session, url_for
from flask_admin import BaseView, expose
from flask_login import current_user, login_user

import audit
from admin_views.base import SignedInMixin
from auth.passwords import password_error
from auth.views import PasswordChangeForm
from extensions import db
from models import User
from security import start_session_clock


class AccountView(SignedInMixin, BaseView):
    @expose("/", methods=["GET", "POST"])
    def index(self):
        form = PasswordChangeForm()
        if form.validate_on_submit():
            user = db.session.get(User, current_user.id)
            if not user.check_password(form.old_password.data):
                form.old_password.errors.append("原密码不正确")
            elif form.new_password.data != form.confirm.data:
                form.confirm.errors.append("两次输入的新密码不一致")
            elif message := password_error(form.new_password.data, user.username):
                form.new_password.errors.append(message)
            elif form.new_password.data == form.old_password.data:
                form.new_password.errors.append("新密码不能与原密码相同")
            else:
                user.set_password(form.new_password.data)
                user.session_epoch += 1  # other sessions of this account end; this one is renewed below
                audit.record(db.session, audit.AuditEvent.PASSWORD_CHANGE, user, summary=f"修改密码：{user.username}")
                db.session.commit()
                session.clear()
                login_user(user)
                start_session_clock()
                flash("密码已修改，其他设备上的登录已失效。", "info")
                return redirect(url_for("admin.index"))
        return self.render("auth/password.html", form=form)
