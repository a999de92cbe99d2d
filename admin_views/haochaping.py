"""好差评 in and out: upload the provincial system's file, download 差评整改反馈 for upload back."""

from __future__ import annotations

import datetime as dt

from flask import current_app, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

import audit
from admin_views.base import forbid
from admin_views.pii import EXPORT_FORMATS, send_table
from extensions import db
from lifecycle.haochaping import (
    EXPORT_HEADERS,
    FIELDS,
    HEADER_VARIANTS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    REQUIRED,
    FileError,
    count_feedback,
    feedback_batches,
    import_file,
    may_import,
)
from models.time import today_beijing

EXPORT_TITLE = "好差评差评整改反馈"
SOURCES = {
    "haochaping": "仅好差评系统导入的评价和投诉",
    "all": "全部评价和投诉(含纸质评价表、一次性评价链接、其他渠道投诉)",
}


class HaochapingView(BaseView):
    """District admins import for the district, town admins for their town (rows outside it are
    reported, not imported); they also export the follow-ups they own. Village clerks and the
    auditor get 403: the 差评 loop is the admins' (lifecycle/supervision.py::responsible_admin)."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and may_import(current_user)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        forbid()

    def _page(self, import_error: str = "", export: dict | None = None, export_errors: dict | None = None):
        today = today_beijing()
        values = {"start": today.replace(day=1).isoformat(), "end": today.isoformat(), "format": "xlsx"}
        values["source"] = "haochaping"
        values.update(export or {})
        return self.render(
            "haochaping/index.html",
            fields=FIELDS,
            required=REQUIRED,
            variants=HEADER_VARIANTS,
            feedback_fields=EXPORT_HEADERS[len(FIELDS) :],
            max_mb=MAX_FILE_BYTES // 1024 // 1024,
            max_rows=MAX_ROWS,
            sources=SOURCES,
            import_error=import_error,
            export=values,
            export_errors=export_errors or {},
        )

    @expose("/")
    def index(self):
        return self._page()

    @expose("/import/", methods=["POST"])
    def import_view(self):
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return self._page(import_error="请选择要导入的文件(CSV 或 XLSX)")
        name = upload.filename
        data = upload.read(MAX_FILE_BYTES + 1)
        user = current_user._get_current_object()
        try:
            report = import_file(db.session, data, name, user, current_app.config["FOLLOWUP_WORKING_DAYS"])
        except FileError as exc:
            db.session.rollback()
            # A refused file is on record too: who tried to import what, and why nothing was.
            audit.record(
                db.session, audit.AuditEvent.HAOCHAPING_IMPORT, summary=f"好差评导入未执行 {name[:60]}：{exc}"[:200]
            )
            db.session.commit()
            return self._page(import_error=f"未导入：{exc}")
        return self.render("haochaping/result.html", report=report)

    @expose("/export/", methods=["POST"])
    def export_view(self):
        form = {key: (request.form.get(key) or "").strip() for key in ("start", "end", "format", "source")}
        errors: dict[str, str] = {}
        days = {}
        for key, text in (("start", "开始日期"), ("end", "结束日期")):
            try:
                days[key] = dt.date.fromisoformat(form[key])
            except ValueError:
                errors[key] = f"请填写{text}(如 2026-11-01)"
        if not errors and days["start"] > days["end"]:
            errors["end"] = "结束日期不能早于开始日期"
        if form["format"] not in EXPORT_FORMATS:
            errors["format"] = "请选择文件格式"
        if form["source"] not in SOURCES:
            errors["source"] = "请选择导出范围"
        if errors:
            return self._page(export=form, export_errors=errors)
        user = current_user._get_current_object()
        only_imported = form["source"] == "haochaping"
        rows = count_feedback(db.session, user, days["start"], days["end"], only_imported)
        limit = current_app.config["EXPORT_MAX_ROWS"]
        if rows > limit:
            errors["end"] = f"符合条件 {rows} 行，单次最多导出 {limit} 行，请缩小日期范围分批导出"
            return self._page(export=form, export_errors=errors)
        audit.record(
            db.session,
            audit.AuditEvent.EXPORT,
            summary=f"导出{EXPORT_TITLE} {days['start']}至{days['end']} {rows} 行({form['format']})",
            changes={
                "start": days["start"].isoformat(),
                "end": days["end"].isoformat(),
                "source": form["source"],
                "rows": rows,
                "format": form["format"],
            },
        )
        # Committed before the first byte goes out: a download cut short is still on record.
        db.session.commit()
        batches = feedback_batches(
            db.session, user, days["start"], days["end"], only_imported, current_app.config["EXPORT_BATCH_ROWS"]
        )
        return send_table(EXPORT_TITLE, list(EXPORT_HEADERS), batches, form["format"])
