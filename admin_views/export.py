"""The clerk's batch export jobs: progress, cancel, failures, download (own jobs only)."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, request, send_file
from flask_admin import expose
from sqlalchemy import select

import audit
from admin_views.base import ConsoleModelView
from extensions import db
from jobs import export
from jobs.tasks import remove_export_files
from models import Case, ExportJob, ExportJobCase
from models.enums import STAFF_ROLES, ExportItemState, ExportStatus
from models.time import format_beijing, utcnow

FAILURES_SHOWN = 200


def duration(seconds: float | None) -> str:
    """Seconds as a clerk reads them: 42 秒, 3 分 05 秒, 1 小时 02 分."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} 分 {seconds:02d} 秒"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes:02d} 分"


def _progress(job: ExportJob) -> dict:
    tally = export.counts(job.id)
    processed = tally[ExportItemState.DONE.value] + tally[ExportItemState.FAILED.value]
    rate = eta = elapsed = None
    if job.started_at:
        elapsed = max(((job.finished_at or utcnow()) - job.started_at).total_seconds(), 0.001)
        if processed:
            rate = processed / elapsed * 60  # cases per minute
            if job.status in export.ACTIVE:
                eta = (job.total - processed) / (processed / elapsed)
    return {
        "id": job.id,
        "status": job.status,
        "status_label": job.status_label,
        "total": job.total,
        "processed": processed,
        "done": tally[ExportItemState.DONE.value],
        "failed": tally[ExportItemState.FAILED.value],
        "percent": int(processed * 100 / job.total) if job.total else 100,
        "rate": round(rate, 1) if rate is not None else None,
        "eta_seconds": int(eta) if eta is not None else None,
        "eta": duration(eta),
        "elapsed": duration(elapsed),
        "finished": job.status not in export.ACTIVE,
        "downloadable": job.status == ExportStatus.DONE and bool(job.file_path),
        "error": job.error or "",
    }


class ExportJobView(ConsoleModelView):
    read_roles = STAFF_ROLES
    write_roles = frozenset()
    create_roles = frozenset()
    delete_roles = frozenset()
    can_export = False
    details_template = "export_job/details.html"
    column_default_sort = ("id", True)
    column_list = ["id", "created_at", "status", "format", "annexes", "total", "finished_at", "expires_at"]
    column_labels = {
        "id": "任务号",
        "created_at": "创建时间",
        "status": "状态",
        "format": "格式",
        "annexes": "表单(附件)",
        "total": "案件数",
        "finished_at": "完成时间",
        "expires_at": "文件保留至",
    }
    column_formatters = {
        "created_at": lambda v, c, m, n: format_beijing(m.created_at),
        "finished_at": lambda v, c, m, n: format_beijing(m.finished_at),
        "expires_at": lambda v, c, m, n: format_beijing(m.expires_at),
        "status": lambda v, c, m, n: m.status_label,
        "format": lambda v, c, m, n: m.format_label,
    }

    def get_one(self, id) -> ExportJob | None:
        """The user's own job, its file voided first if it holds cases the user may no longer read.

        The one exception to "no state change on GET": a file its owner lost the right to must go
        the moment it is asked for (job page, progress, download), not at the next sweep.
        """
        job = super().get_one(id)
        if job is not None and export.void_if_out_of_scope(job):
            db.session.commit()
        return job

    def _own(self) -> ExportJob:
        job = self.get_one(request.args.get("id"))
        if job is None:
            abort(404)
        return job

    def failures(self, job: ExportJob) -> list[tuple[str, str]]:
        rows = db.session.execute(
            select(Case.number, ExportJobCase.reason)
            .join(Case, Case.id == ExportJobCase.case_id)
            .where(ExportJobCase.job_id == job.id, ExportJobCase.state == ExportItemState.FAILED.value)
            .order_by(ExportJobCase.position)
            .limit(FAILURES_SHOWN)
        ).all()
        return [(number, reason or "") for number, reason in rows]

    def progress_of(self, job: ExportJob) -> dict:
        return _progress(job)

    @expose("/progress/")
    def progress_view(self):
        return jsonify(_progress(self._own()))

    @expose("/cancel/", methods=["POST"])
    def cancel_view(self):
        job = self._own()
        if export.cancel(job):
            audit.record(db.session, audit.AuditEvent.BATCH_EXPORT, job, f"取消导出任务 #{job.id}")
            db.session.commit()
            remove_export_files(job.id)
            flash(f"导出任务 #{job.id} 已取消，已生成的部分文件将被删除。", "success")
        else:
            flash(f"导出任务 #{job.id} 已结束（{job.status_label}），无需取消。", "warning")
        return redirect(self.get_url(".details_view", id=job.id))

    @expose("/download/")
    def download_view(self):
        job = self._own()
        if job.status != ExportStatus.DONE or not job.file_path:
            if job.status == ExportStatus.EXPIRED and job.error:
                flash(f"导出任务 #{job.id} 不能下载：{job.error}如仍需要，请按当前权限重新导出。", "error")
            else:
                flash(f"导出任务 #{job.id} 当前{job.status_label}，没有可下载的文件。", "error")
            return redirect(self.get_url(".details_view", id=job.id))
        path = export.export_dir() / job.file_path
        if not path.is_file():
            flash("导出文件已不存在（可能已超过保留期被删除），请重新导出。", "error")
            return redirect(self.get_url(".details_view", id=job.id))
        audit.record(db.session, audit.AuditEvent.DOWNLOAD, job, f"下载导出任务 #{job.id}（{job.total} 件）")
        db.session.commit()
        mimetype = "application/pdf" if path.suffix == ".pdf" else "application/zip"
        return send_file(path, mimetype=mimetype, as_attachment=True, download_name=job.file_name)

    def retention_hours(self) -> int:
        return current_app.config["EXPORT_RETENTION_HOURS"]
