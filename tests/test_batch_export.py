"""Batch export on the real task queue (SQLite, and Redis when TEST_REDIS_URL is set): scope, formats,
progress, cancel, retention, and a job that survives its worker being killed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from extensions import db
from jobs import export
from jobs.queue import huey
from jobs.tasks import recover
from models import AuditLog, Case, Center, ExportChunk, ExportJob, ExportJobCase
from models.time import utcnow
from tests import pdftext
from tests.builders import center, login_as, user, wait_until

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def exports(demo_app, tmp_path):
    demo_app.config.update(EXPORT_DIR=str(tmp_path / "exports"), EXPORT_CHUNK_SIZE=4)
    return tmp_path / "exports"


def drain() -> int:
    """Run every queued task in this process, the way a worker would; returns how many ran."""
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran


def _cases(town: str, mode: str = "delegated", limit: int = 10) -> list[Case]:
    return list(
        db.session.scalars(
            select(Case).join(Case.center).where(Center.name == town, Case.mode == mode).order_by(Case.id).limit(limit)
        )
    )


def _job() -> ExportJob:
    return db.session.scalars(select(ExportJob).order_by(ExportJob.id.desc())).first()


def _export(client, cases: list[Case], annexes: list[str], file_format: str):
    return client.post(
        "/admin/case/batch-export/",
        data={"ids": ",".join(str(c.id) for c in cases), "annexes": annexes, "file_format": file_format},
    )


def _download(client, job: ExportJob):
    response = client.get(f"/admin/export_job/download/?id={job.id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


def test_selected_rows_export_as_a_zip_with_a_folder_per_case_and_nothing_out_of_scope(client, exports, queue_url):
    login_as(client, "xiashan_admin")
    mine = _cases("峡山街道便民服务中心", limit=6)
    foreign = _cases("陈店镇便民服务中心", limit=2)
    page = client.post(
        "/admin/case/action/",
        data={"action": "export_pdf", "rowid": [str(c.id) for c in mine + foreign]},
    ).get_data(as_text=True)
    assert "在您管辖范围内的有 <strong>6</strong> 件" in page
    response = client.post(
        "/admin/case/batch-export/",
        data={"ids": ",".join(str(c.id) for c in mine + foreign) + ",abc", "annexes": ["1", "3"], "file_format": "zip"},
    )
    job = _job()
    assert response.headers["Location"].endswith(f"/admin/export_job/details/?id={job.id}")
    assert (job.total, job.status) == (6, "queued")
    assert sorted(db.session.scalars(select(ExportJobCase.case_id).where(ExportJobCase.job_id == job.id))) == sorted(
        c.id for c in mine
    )
    assert drain() >= 3  # two chunks of four and the assembly
    db.session.refresh(job)
    assert job.status == "done" and job.file_name.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(_download(client, job).get_data()))
    names = archive.namelist()
    for case in mine:
        folder = f"{case.number}_{case.applicant.name}"
        assert f"{folder}/附件1_代办服务申请表.pdf" in names
        text = pdftext.text(archive.read(f"{folder}/附件3_代办服务委托协议.pdf"))
        assert case.number in text and case.applicant.name in text and "乙方免费提供代办服务" in text
    assert not [n for n in names for c in foreign if c.number in n]
    manifest = archive.read("导出清单.csv").decode("utf-8-sig")
    assert all(c.number in manifest for c in mine)
    events = db.session.execute(
        select(AuditLog.event, AuditLog.summary, AuditLog.changes)
        .where(AuditLog.event.in_(("batch_export", "pdf", "download")))
        .order_by(AuditLog.id)
    ).all()
    assert [summary for e, summary, _ in events if e == "batch_export"] == [
        "批量导出表单 6 件（附件1,3，ZIP压缩包(每件一个文件夹)）",
        f"导出任务 #{job.id} 完成：6 件已生成，0 件未生成",
    ]
    assert [e for e, _, _ in events].count("pdf") == 2
    assert [e for e, _, _ in events].count("download") == 1
    rendered = " ".join(changes for e, _, changes in events if e == "pdf")
    assert all(c.number in rendered for c in mine) and not any(c.number in rendered for c in foreign)
    assert [p.name for p in (exports / f"job-{job.id}").iterdir()] == ["export.zip"]


def test_a_form_skipped_for_a_case_that_is_put_in_is_named_in_the_manifest(client, exports, queue_url):
    login_as(client, "xiashan_admin")
    town = "峡山街道便民服务中心"
    working = next(c for c in _cases(town, limit=50) if c.status == "in_progress")
    done = next(c for c in _cases(town, limit=50) if c.status == "completed")
    _export(client, [working, done], ["1", "5"], "zip")
    drain()
    job = _job()
    archive = zipfile.ZipFile(io.BytesIO(_download(client, job).get_data()))
    names = archive.namelist()
    assert f"{working.number}_{working.applicant.name}/附件1_代办服务申请表.pdf" in names
    assert not [n for n in names if n.startswith(working.number) and "附件5" in n]
    assert f"{done.number}_{done.applicant.name}/附件5_代办服务办结单.pdf" in names
    rows = {row[1]: row for row in csv.reader(io.StringIO(archive.read("导出清单.csv").decode("utf-8-sig")))}
    assert rows[working.number][2] == "已生成"
    assert rows[working.number][3].startswith("部分表单未生成：《代办服务办结单》在登记办理结果后打印")
    assert rows[done.number][2:] == ["已生成", ""]


def test_filtered_rows_export_as_one_merged_pdf_with_a_bookmark_per_case(client, exports, queue_url):
    login_as(client, "xiashan_admin")
    query = "?flt0_status_filterequal=completed"
    page = client.get(f"/admin/case/batch-export/{query}").get_data(as_text=True)
    expected = db.session.scalar(
        select(func.count())
        .select_from(Case)
        .join(Case.center)
        .where(
            Case.status == "completed",
            Center.name.in_(("峡山街道便民服务中心",)) | Center.parent.has(name="峡山街道便民服务中心"),
        )
    )
    assert f'class="batch-count">{expected}</strong>' in page
    client.post(f"/admin/case/batch-export/{query}", data={"annexes": ["5"], "file_format": "merged"})
    drain()
    job = _job()
    assert job.status == "done" and job.total == expected
    data = _download(client, job).get_data()
    reader = pdftext.reader(data)
    cases = db.session.scalars(
        select(Case)
        .join(ExportJobCase, ExportJobCase.case_id == Case.id)
        .where(ExportJobCase.job_id == job.id, ExportJobCase.state == "done")
    ).all()
    delegated = [c for c in cases if c.mode == "delegated"]
    assert delegated and len(reader.outline) == 2 * len(delegated)  # a case entry and its forms
    titles = [entry.title for entry in reader.outline if not isinstance(entry, list)]
    assert titles == [
        f"{c.number} {c.applicant.name}"
        for c in sorted(delegated, key=lambda c: titles.index(f"{c.number} {c.applicant.name}"))
    ]
    text = pdftext.text(data)
    assert all(c.number in text for c in delegated)
    assert text.count("代办服务办结单") >= len(delegated) and "第1页共1页" in text
    failed = db.session.scalars(
        select(ExportJobCase.reason).where(ExportJobCase.job_id == job.id, ExportJobCase.state == "failed")
    ).all()
    assert len(failed) == expected - len(delegated)
    assert all("附件1至6仅用于委托代办件" in reason for reason in failed)
    body = client.get(f"/admin/export_job/details/?id={job.id}").get_data(as_text=True)
    assert f"未生成的案件（{len(failed)}）" in body and "下载 帮办代办表单_" in body


def _move_away(case: Case, town: str = "陈店镇便民服务中心") -> None:
    """Hand the case to another town, out of reach of the first town's staff (a script's doing, not a transfer)."""
    case.agent_id = None
    case.center_id = case.origin_center_id = db.session.scalar(select(Center.id).where(Center.name == town))
    db.session.commit()


def test_the_worker_renders_only_what_is_still_in_the_owners_scope(client, exports, queue_url):
    login_as(client, "xiashan_dongshan")
    station = db.session.scalar(select(Center).where(Center.name.like("%东山%")))
    cases = [c for c in db.session.scalars(select(Case).where(Case.center_id == station.id, Case.mode == "delegated"))][
        :2
    ]
    assert len(cases) == 2
    _export(client, cases, ["1"], "zip")
    job = _job()
    moved = cases[0]
    _move_away(moved)
    drain()
    db.session.refresh(job)
    states = dict(
        db.session.execute(
            select(ExportJobCase.case_id, ExportJobCase.reason).where(ExportJobCase.job_id == job.id)
        ).all()
    )
    assert "不在导出人的管辖范围" in states[moved.id] and states[cases[1].id] is None
    names = zipfile.ZipFile(io.BytesIO(_download(client, job).get_data())).namelist()
    assert not [n for n in names if moved.number in n] and [n for n in names if cases[1].number in n]


def test_the_worker_decides_the_owners_scope_once_per_job_and_a_retried_chunk_keeps_the_decision(
    client, exports, queue_url, monkeypatch
):
    login_as(client, "xiashan_admin")
    cases = _cases("峡山街道便民服务中心", limit=10)  # three chunks of four
    _export(client, cases, ["1"], "zip")
    job = _job()
    moved = cases[5]  # in the second chunk
    _move_away(moved)
    evaluated = []
    scope_clause = export.scope_clause
    monkeypatch.setattr(export, "scope_clause", lambda *args: evaluated.append(args) or scope_clause(*args))
    huey.execute(huey.dequeue())  # the first chunk starts the job
    reason = select(ExportJobCase.state, ExportJobCase.reason).where(
        ExportJobCase.job_id == job.id, ExportJobCase.case_id == moved.id
    )
    assert db.session.execute(reason).one() == ("failed", "案件已不在导出人的管辖范围内或已删除")
    # A worker takes the second chunk and dies; the queued task finds it taken, the recovery hands it on.
    assert export._claim_chunk(job.id, 1)
    db.session.execute(
        update(ExportChunk)
        .where(ExportChunk.job_id == job.id, ExportChunk.index == 1)
        .values(heartbeat_at=utcnow() - dt.timedelta(hours=1))
    )
    db.session.commit()
    drain()
    assert db.session.get(ExportJob, job.id).status == "running"
    assert recover() == {"chunks": 1, "jobs": 0}
    drain()
    db.session.refresh(job)
    assert job.status == "done" and db.session.get(ExportChunk, (job.id, 1)).attempts == 2
    assert db.session.execute(reason).one() == ("failed", "案件已不在导出人的管辖范围内或已删除")
    assert len(evaluated) == 1 and evaluated[0][1].username == "xiashan_admin"  # once, for ten cases
    names = zipfile.ZipFile(io.BytesIO(_download(client, job).get_data())).namelist()
    assert {n.split("_")[0] for n in names if n.endswith(".pdf")} == {c.number for c in cases if c is not moved}


def test_a_case_moved_away_after_the_job_started_voids_the_file_before_it_is_delivered(client, exports, queue_url):
    login_as(client, "xiashan_admin")
    cases = _cases("峡山街道便民服务中心", limit=10)
    _export(client, cases, ["1"], "zip")
    job = _job()
    huey.execute(huey.dequeue())  # the job has started: its scope was decided for all ten cases
    _move_away(cases[9])
    drain()
    db.session.refresh(job)
    assert job.status == "done" and export.counts(job.id)["done"] == 10
    path = export.export_dir() / job.file_path
    refused = client.get(f"/admin/export_job/download/?id={job.id}", follow_redirects=True)
    assert refused.headers.get("Content-Disposition") is None
    assert "1 件案件已不在其当前管辖范围内" in refused.get_data(as_text=True)
    _assert_voided(job, path, "岗位或所属机构已变更")


def test_a_cancelled_job_stops_keeps_no_file_and_offers_no_download(client, exports, queue_url):
    login_as(client, "xiashan_admin")
    cases = _cases("峡山街道便民服务中心", limit=10)
    _export(client, cases, ["1"], "zip")
    job = _job()
    huey.execute(huey.dequeue())  # one chunk rendered, two still queued
    assert export.counts(job.id)["done"] == 4
    body = client.get(f"/admin/export_job/details/?id={job.id}").get_data(as_text=True)
    assert "取消任务" in body and '已处理 <span data-field="processed">4</span> / 10 件' in body
    client.post(f"/admin/export_job/cancel/?id={job.id}")
    drain()
    db.session.refresh(job)
    assert job.status == "cancelled" and job.file_path is None
    assert export.counts(job.id)["done"] == 4  # the queued chunks did nothing
    assert not (exports / f"job-{job.id}").exists()
    page = client.get(f"/admin/export_job/download/?id={job.id}", follow_redirects=True).get_data(as_text=True)
    assert "当前已取消，没有可下载的文件" in page


def test_jobs_are_their_owners_and_expire_after_the_retention_period(client, exports, queue_url):
    login_as(client, "xiashan_admin")
    cases = _cases("峡山街道便民服务中心", limit=2)
    _export(client, cases, ["1"], "merged")
    drain()
    job = _job()
    client.post("/logout")
    login_as(client, "chendian_admin")
    assert client.get(f"/admin/export_job/download/?id={job.id}").status_code == 404
    listing = client.get("/admin/export_job/").get_data(as_text=True)
    assert f"details/?id={job.id}" not in listing
    assert client.get(f"/admin/export_job/progress/?id={job.id}").status_code == 404
    client.post("/logout")
    login_as(client, "xiashan_admin")
    assert f"details/?id={job.id}" in client.get("/admin/export_job/").get_data(as_text=True)
    client.post("/logout")
    login_as(client, "qu_audit")
    assert client.get("/admin/case/batch-export/").status_code == 403
    job.expires_at = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()
    assert export.expire_finished() == 1
    db.session.refresh(job)
    assert job.status == "expired" and not (exports / f"job-{job.id}").exists()


def _consumer(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "huey.bin.huey_consumer", "worker.huey", "-k", "process", "-w", "1", "-d", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_a_job_survives_its_worker_being_killed(client, demo_app, exports, queue_url):
    url, name = queue_url
    login_as(client, "xiashan_admin")
    cases = _cases("峡山街道便民服务中心", limit=12)
    _export(client, cases, ["1", "2", "3"], "zip")
    job = _job()
    env = dict(
        os.environ,
        DATABASE_URL=demo_app.config["SQLALCHEMY_DATABASE_URI"],
        TASK_QUEUE_URL=url,
        TASK_QUEUE_NAME=name,
        EXPORT_DIR=str(exports),
        EXPORT_CHUNK_SIZE="4",
        EXPORT_STALE_SECONDS="2",
        SECRET_KEY=demo_app.config["SECRET_KEY"],
    )
    worker = _consumer(env)
    try:
        running = (
            select(func.count())
            .select_from(ExportChunk)
            .where(ExportChunk.job_id == job.id, ExportChunk.state == "running")
        )
        wait_until(
            lambda: db.session.scalar(running) == 1 and export.counts(job.id)["done"] >= 1, 60, "a chunk in progress"
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert db.session.scalar(running) == 1  # left behind by the dead worker
    assert db.session.get(ExportJob, job.id).file_path is None
    time.sleep(2.5)  # its heartbeat goes stale
    worker = _consumer(env)
    try:
        wait_until(lambda: db.session.get(ExportJob, job.id).status == "done", 120, "the job to finish")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    job = db.session.get(ExportJob, job.id)
    assert export.counts(job.id)["done"] == 12
    assert max(db.session.scalars(select(ExportChunk.attempts).where(ExportChunk.job_id == job.id))) == 2
    names = zipfile.ZipFile(exports / job.file_path).namelist()
    assert len([n for n in names if n.endswith(".pdf")]) == 36
    assert [p.name for p in (exports / f"job-{job.id}").iterdir()] == ["export.zip"]  # no part or temporary left


# --- a finished file follows its owner's scope for as long as it exists -------------------------------


def _finished_export(client, town: str = "峡山街道便民服务中心") -> tuple[ExportJob, Path]:
    _export(client, _cases(town, limit=3), ["1"], "zip")
    drain()
    job = _job()
    assert job.status == "done"
    return job, export.export_dir() / job.file_path


def _edit_user(admin, username: str, **changes) -> None:
    """Save the user through the console's edit form, as a district admin does."""
    account = user(username)
    data = {
        "username": account.username,
        "full_name": account.full_name,
        "role": account.role,
        "center": str(account.center_id or ""),
        "active": "y" if account.active else "",
        "version": account.version,  # the edit form carries it; a stale save is refused
    }
    data.update({key: str(value) for key, value in changes.items()})
    response = admin.post(f"/admin/user/edit/?id={account.id}", data={k: v for k, v in data.items() if v})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _assert_voided(job: ExportJob, path: Path, reason: str) -> None:
    db.session.refresh(job)
    assert job.status == "expired" and job.file_path is None and reason in job.error
    assert not path.exists() and not path.parent.exists()
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.event == "export_voided", AuditLog.object_id == str(job.id))
    )
    assert row is not None and reason in row.summary


def _district_admin(demo_app):
    admin = demo_app.test_client()
    login_as(admin, "qu_admin")
    return admin


def test_an_owner_moved_to_another_center_can_no_longer_download_and_the_file_is_gone(
    client, demo_app, exports, queue_url
):
    login_as(client, "xiashan_admin")
    job, path = _finished_export(client)
    admin = _district_admin(demo_app)
    _edit_user(admin, "xiashan_admin", full_name="许峡山")  # a change that keeps the scope keeps the file
    assert _download(client, job).data == path.read_bytes()
    _edit_user(admin, "xiashan_admin", center=center("陈店镇便民服务中心").id)
    refused = client.get(f"/admin/export_job/download/?id={job.id}")
    assert refused.status_code == 302 and "download" not in refused.headers["Location"]
    body = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "不能下载" in body and "3 件案件已不在其当前管辖范围内" in body and "请按当前权限重新导出" in body
    assert "下载 帮办代办表单_" not in body
    _assert_voided(job, path, "岗位或所属机构已变更")


def test_an_owner_given_a_narrower_role_can_no_longer_download(client, demo_app, exports, queue_url):
    login_as(client, "xiashan_admin")
    job, path = _finished_export(client)  # cases of the town center itself
    _edit_user(
        _district_admin(demo_app), "xiashan_admin", role="village_operator", center=center("东山社区便民服务站").id
    )
    page = client.get(f"/admin/export_job/details/?id={job.id}", follow_redirects=True).get_data(as_text=True)
    assert "已过期删除" in page and "不在其当前管辖范围内" in page and "下载 帮办代办表单_" not in page
    _assert_voided(job, path, "岗位或所属机构已变更")
    assert client.get(f"/admin/export_job/download/?id={job.id}").status_code == 302


def test_deactivating_an_owner_deletes_their_finished_exports_at_once(client, demo_app, exports, queue_url):
    login_as(client, "xiashan_admin")
    job, path = _finished_export(client)
    _edit_user(_district_admin(demo_app), "xiashan_admin", active="")
    _assert_voided(job, path, "账号已停用")
    assert "/login" in client.get(f"/admin/export_job/download/?id={job.id}").headers["Location"]


def test_a_scope_change_made_outside_the_console_is_caught_at_download(client, exports, queue_url):
    login_as(client, "xiashan_admin")
    job, path = _finished_export(client)
    owner = user("xiashan_admin")
    owner.center_id = center("陈店镇便民服务中心").id  # e.g. by a script or another tool, not the user form
    db.session.commit()
    refused = client.get(f"/admin/export_job/download/?id={job.id}", follow_redirects=True)
    assert "3 件案件已不在其当前管辖范围内" in refused.get_data(as_text=True)
    assert refused.headers.get("Content-Disposition") is None
    _assert_voided(job, path, "岗位或所属机构已变更")


def test_the_retention_sweep_also_voids_files_of_deactivated_owners(client, exports, queue_url):
    login_as(client, "xiashan_admin")
    job, path = _finished_export(client)
    user("xiashan_admin").active = False
    db.session.commit()
    assert export.expire_finished() == 1
    _assert_voided(job, path, "账号已停用")
