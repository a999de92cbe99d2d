"""PDF benchmarks for issue 5; prints figures, asserts nothing. Run: make bench (or python bench/pdf.py).

1. Steady-state render time of each annex: the console's xhtml2pdf form against the same form laid
   out directly by ReportLab (bench/reportlab_forms.py), interleaved in one run. Target: ≤ 1.5×.
2. Batch throughput: a 1,000-case export through the real queue and real worker processes
   (huey_consumer -k process), with 1 worker and then 2. Target: 2 workers ≥ 1.8× of 1.
3. Worker memory: peak RSS (VmHWM) of the worker processes for a 100-case and a 5,000-case batch.
   Target: growth < 50 MB.

The batch runs use a private SQLite database under bench/.work/ with the demo seed plus cloned
delegated cases, and a private SQLite queue; nothing of the console's own instance is touched.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / ".work"


def _app(database: Path):
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    from app import create_app

    return create_app()


def render_times(app, rounds: int) -> None:
    from sqlalchemy import select

    from annexes.catalog import available
    from annexes.render import document_html, render_sheets, sheet
    from bench import reportlab_forms
    from extensions import db
    from models import Case

    print(f"1. 单张表单稳态生成时间（中位数，{rounds} 轮交替，已预热）")
    print("   附件  xhtml2pdf(ms)  ReportLab直接(ms)  倍数   页数")
    with app.test_request_context():
        cases = {
            status: db.session.scalar(
                select(Case).where(Case.mode == "delegated", Case.status == status).order_by(Case.id).limit(1)
            )
            for status in ("completed", "terminated")
        }
        worst = 0.0
        for number in range(1, 7):
            case = cases["terminated"] if number == 4 else cases["completed"]
            assert number in [a.number for a in available(case)]
            one = sheet(case, number, base_url="http://127.0.0.1:5000", secret=b"bench", link_allowed=True)
            blocks = reportlab_forms.structure(document_html([one]))
            hotline = case.center.hotline
            ours, theirs = [], []
            for _ in range(3):
                render_sheets([one])
                reportlab_forms.build(blocks, hotline)
            for _ in range(rounds):
                start = time.perf_counter()
                pdf = render_sheets([one])
                ours.append(time.perf_counter() - start)
                start = time.perf_counter()
                reportlab_forms.build(blocks, hotline)
                theirs.append(time.perf_counter() - start)
            a, b = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
            worst = max(worst, a / b)
            pages = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")
            print(f"   {number}     {a:9.1f}      {b:9.1f}        {a / b:4.2f}   {pages}")
        print(f"   最大倍数 {worst:.2f}（目标 ≤ 1.5）")


def prepare_database(total: int) -> Path:
    """The demo seed plus clones of its delegated cases, so a batch has `total` distinct cases."""
    WORK.mkdir(parents=True, exist_ok=True)
    database = WORK / "bench.db"
    if not database.exists():
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}")
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*flask, "seed", "--demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    app = _app(database)
    from sqlalchemy import func, select

    import audit
    from extensions import db
    from models import Case, CaseMaterial

    with app.app_context(), audit.acting_as("bench"):
        templates = db.session.scalars(
            select(Case).where(Case.mode == "delegated", Case.status == "completed").order_by(Case.id)
        ).all()
        have = db.session.scalar(
            select(func.count()).select_from(Case).where(Case.mode == "delegated", Case.status == "completed")
        )
        copied = (
            "center_id origin_center_id mode applicant_id agent_id delegation_scope received_date summary "
            "result_delivery delivery_address completion_result completion_signed handover_note "
            "application_confirmed undertaking_confirmed agreement_signed"
        ).split()
        for i in range(total - have):
            source = templates[i % len(templates)]
            clone = Case(**{name: getattr(source, name) for name in copied})
            clone.items = list(source.items)
            clone.materials = [CaseMaterial(name=m.name, form=m.form, copies=m.copies) for m in source.materials]
            db.session.add(clone)
            db.session.flush()
            clone.status, clone.closed_date = "completed", source.closed_date
            if i % 500 == 499:
                db.session.commit()
        db.session.commit()
    return database


def _worker_peak_kb(group: int) -> int:
    """The largest VmHWM among the processes of the consumer's process group."""
    peak = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            pid = int(status.parent.name)
            if os.getpgid(pid) != group:
                continue
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError, ProcessLookupError):
            continue
    return peak


def run_batch(database: Path, cases: int, workers: int, annexes: list[int], file_format: str) -> dict:
    """Export `cases` cases through a fresh queue and `workers` worker processes; time it."""
    queue_file = WORK / f"queue-{cases}-{workers}.db"
    queue_file.unlink(missing_ok=True)
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{database}",
        TASK_QUEUE_URL=f"sqlite:///{queue_file}",
        EXPORT_DIR=str(WORK / "exports"),
    )
    os.environ.update(env)
    from jobs import queue

    queue.connect(env["TASK_QUEUE_URL"])
    app = _app(database)
    from sqlalchemy import select

    from extensions import db
    from jobs import export
    from jobs.tasks import enqueue_job
    from models import Case, ExportJob, User

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "huey.bin.huey_consumer",
            "worker.huey",
            "-k",
            "process",
            "-w",
            str(workers),
            "-d",
            "0.05",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(3)  # workers import and start, as they would have long before a clerk's request
        with app.app_context():
            user = db.session.scalar(select(User).where(User.username == "qu_admin"))
            ids = list(
                db.session.scalars(
                    select(Case.id)
                    .where(Case.mode == "delegated", Case.status == "completed")
                    .order_by(Case.id)
                    .limit(cases)
                )
            )
            assert len(ids) == cases, (len(ids), cases)
            job = export.create_job(user, ids, annexes, file_format, app.config["EXPORT_CHUNK_SIZE"])
            db.session.commit()
            start = time.perf_counter()
            enqueue_job(job.id)
            while True:
                db.session.expire_all()
                status = db.session.get(ExportJob, job.id).status
                if status not in ("queued", "running"):
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - start
            job = db.session.get(ExportJob, job.id)
            result = {
                "status": status,
                "seconds": elapsed,
                "per_second": cases / elapsed,
                "size_mb": (job.file_size or 0) / 1048576,
                "peak_mb": _worker_peak_kb(worker.pid) / 1024,
            }
            export.remove_files(job.id)
            return result
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="renders per annex and engine")
    parser.add_argument("--cases", type=int, default=1000, help="cases in the throughput batch")
    parser.add_argument("--small", type=int, default=100, help="cases in the small memory batch")
    parser.add_argument("--big", type=int, default=5000, help="cases in the big memory batch")
    parser.add_argument("--skip", choices=["render", "batch", "memory"], action="append", default=[])
    args = parser.parse_args()
    database = prepare_database(max(args.cases, args.big))
    if "render" not in args.skip:
        render_times(_app(database), args.rounds)
    if "batch" not in args.skip:
        print(f"2. {args.cases} 件批量导出（附件1，ZIP），真实队列与工作进程")
        one = run_batch(database, args.cases, 1, [1], "zip")
        print(f"   1 个工作进程：{one['seconds']:.1f} s，{one['per_second']:.2f} 件/s，{one['size_mb']:.1f} MB")
        two = run_batch(database, args.cases, 2, [1], "zip")
        print(f"   2 个工作进程：{two['seconds']:.1f} s，{two['per_second']:.2f} 件/s，{two['size_mb']:.1f} MB")
        print(f"   吞吐量倍数 {two['per_second'] / one['per_second']:.2f}（目标 ≥ 1.8）")
    if "memory" not in args.skip:
        print("3. 工作进程内存峰值（附件1，ZIP，2 个工作进程）")
        small = run_batch(database, args.small, 2, [1], "zip")
        big = run_batch(database, args.big, 2, [1], "zip")
        print(
            f"   {args.small} 件：{small['peak_mb']:.0f} MB；{args.big} 件：{big['peak_mb']:.0f} MB（{big['seconds']:.0f} s）"
        )
        print(f"   增长 {big['peak_mb'] - small['peak_mb']:.0f} MB（目标 < 50）")


if __name__ == "__main__":
    main()
