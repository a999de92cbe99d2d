"""Printing a case's annex forms from the console: one form at a time, scoped and audited."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import HiddenField, RadioField, SelectMultipleField, widgets
from wtforms.validators import DataRequired, Optional

import audit
from admin_views.base import forbid
from admin_views.pii import download
from annexes.catalog import ANNEXES, available
from annexes.render import AnnexNotApplicable, file_name, render_sheets, sheet
from extensions import db
from jobs.export import create_job
from jobs.tasks import enqueue_job
from lifecycle.scope import can_change_case, scope_clause
from models import Case
from models.enums import STAFF_ROLES, ExportFormat, Role, choices
from models.keys import parse_keys


class BatchExportForm(FlaskForm):
    annexes = SelectMultipleField(
        "导出哪些表单",
        choices=[(str(a.number), a.heading) for a in ANNEXES.values()],
        default=[str(n) for n in ANNEXES],
        validators=[DataRequired("请至少选择一种表单")],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    file_format = RadioField(
        "文件格式",
        choices=choices(ExportFormat),
        default=ExportFormat.ZIP.value,
        validators=[DataRequired("请选择文件格式")],
    )
    ids = HiddenField(validators=[Optional()])


def _count_in_scope(ids: list[int]) -> int:
    """How many of the posted case ids the user may read (the rest are never exported)."""
    return db.session.scalar(
        select(func.count()).select_from(Case).where(Case.id.in_(ids), scope_clause(Case, current_user))
    )


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
        try:
            one = sheet(case, number, link_allowed=can_change_case(current_user, case))
        except AnnexNotApplicable as exc:
            flash(str(exc), "error")
            return redirect(self.get_url(".details_view", id=case.id))
        pdf = render_sheets([one])
        annex = one.annex
        audit.record(db.session, audit.AuditEvent.PDF, case, f"打印《{annex.title}》（附件{number}）")
        db.session.commit()
        current_app.logger.info("%s 打印 %s 附件%s", current_user.username, case.number, number)
        return download(pdf, file_name(case, annex), "application/pdf")


class BatchExportMixin:
    """Batch export ("批量导出 PDF") of the selected rows (a list action) or of every row the filters match."""

    @property
    def supports_batch_pdf(self) -> bool:
        return self.is_action_allowed("export_pdf")

    def is_action_allowed(self, name: str) -> bool:
        if name == "export_pdf":
            return Role(current_user.role) in STAFF_ROLES
        return super().is_action_allowed(name)

    @action("export_pdf", "批量导出 PDF")
    def action_export_pdf(self, ids):
        keys = parse_keys(ids)
        in_scope = _count_in_scope(keys)
        form = BatchExportForm(formdata=None, ids=",".join(map(str, keys)))  # the action post is not this form
        return self._batch_form(form, in_scope, selected=True)

    def _filtered_ids(self, limit: int) -> tuple[int, list[int]]:
        """The ids of the cases the list's current filters and search match, in list order."""
        count, query = self.filtered_list(limit, execute=False)
        # Flask-Admin hands back a legacy Query: run it as one (SQLAlchemy deprecates passing it to scalars).
        ids = [case_id for (case_id,) in query.with_entities(Case.id).limit(limit)]
        return count, ids

    def _batch_form(self, form: BatchExportForm, count: int, selected: bool):
        return self.render(
            "case/batch_export.html",
            form=form,
            count=count,
            selected=selected,
            limit=current_app.config["EXPORT_MAX_CASES"],
            annexes=ANNEXES.values(),
        )

    @expose("/batch-export/", methods=["GET", "POST"])
    def batch_export_view(self):
        if not self.is_action_allowed("export_pdf"):
            forbid()
        limit = current_app.config["EXPORT_MAX_CASES"]
        form = BatchExportForm()
        selected = bool(form.ids.data)
        if selected:
            ids = parse_keys(form.ids.data.split(","))[:limit]
            count = _count_in_scope(ids)
        else:
            count, ids = self._filtered_ids(limit)
        if request.method == "POST" and form.validate_on_submit():
            if not ids or not count:
                flash("没有符合条件的案件，请调整筛选条件或勾选案件。", "error")
                return self._batch_form(form, 0, selected)
            if count > limit:
                flash(f"符合条件 {count} 件，单个任务最多 {limit} 件，请缩小筛选范围分批导出。", "error")
                return self._batch_form(form, count, selected)
            job = create_job(
                current_user,
                ids,
                [int(n) for n in form.annexes.data],
                form.file_format.data,
                current_app.config["EXPORT_CHUNK_SIZE"],
            )
            db.session.commit()
            enqueue_job(job.id)
            flash(f"已创建导出任务 #{job.id}（{job.total} 件），正在后台生成。", "success")
            return redirect(url_for("export_job.details_view", id=job.id))
        return self._batch_form(form, count, selected)
