"""Printing a case's annex forms from the console: one form at a time, scoped and audited."""

from __future__ import annotations

from flask import current_app, flash, redirect, request
from flask_admin import expose
from flask_login import current_user

import audit
from admin_views.pii import download
from annexes.catalog import ANNEXES, available, refusal
from annexes.render import file_name, render_sheets, sheet
from extensions import db
from models import Case


def public_base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


class AnnexMixin:
    """GET /admin/case/annex/<n>/?id=<case id>: annex n of a case the user may read."""

    def annexes_of(self, case: Case) -> list:
        return available(case)

    @expose("/annex/<int:number>/")
    def annex_view(self, number: int):
        case = self.get_one(request.args.get("id"))
        if case is None:
            flash("案件不存在或不在您的管辖范围内。", "error")
            return redirect(self.get_url(".index_view"))
        reason = refusal(case, number)
        if reason is not None:
            flash(reason, "error")
            return redirect(self.get_url(".details_view", id=case.id))
        form = sheet(case, number, base_url=public_base_url(), secret=current_app.config["SECRET_KEY"].encode())
        pdf = render_sheets([form])
        annex = ANNEXES[number]
        audit.record(db.session, "pdf", case, f"打印《{annex.title}》（附件{number}）")
        db.session.commit()
        current_app.logger.info("%s 打印 %s 附件%s", current_user.username, case.number, number)
        return download(pdf, file_name(case, annex), "application/pdf")
