"""A load run against the production server (issue 11); prints figures, asserts nothing.

Run: make bench-load (or python bench/load.py --database-url postgresql://postgres@127.0.0.1:5432/bench_10k).

Starts gunicorn as README "生产部署(gunicorn)" does (APP_ENV=production with its own random keys),
waits for /healthz, then runs locust headless (bench/locustfile.py) with 20 and then 100 users,
each step for --duration seconds after every user has logged in (statistics are reset once
spawning ends, so the logins' argon2 work is not in the figures). Prints, per step, throughput,
p50/p95 and errors overall and per kind of request.

Cookies go over plain HTTP here, so SESSION_COOKIE_SECURE=0: the only production default the
run changes (security-check lists it; the server still starts).
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
BIN = Path(sys.executable).parent


def start_server(database_url: str, workers: int, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "SESSION_COOKIE_SECURE": "0",
        # Production refuses per-process rate-limit counters (security.py); the bench's own Redis keys.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/14"),
        "RATELIMIT_KEY_PREFIX": f"bench-load-{secrets.token_hex(4)}",
        # Nothing here exports, but the queue must not be the console's own instance/tasks.db.
        "TASK_QUEUE_URL": os.environ.get("TASK_QUEUE_URL", f"sqlite:///{WORK / 'load-tasks.db'}"),
    }
    command = [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "app:create_app()"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {server.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    stop(server)
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {log}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_step(users: int, duration: int, port: int, think: float, prefix: Path) -> list[dict]:
    """Runs locust headless with `users` users; returns the rows of its stats CSV."""
    spawn_rate = max(1, users // 10)  # every user in within ~10 s
    run_time = duration + users // spawn_rate + 2
    env = {**os.environ, "BENCH_LOAD_THINK": str(think)}
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--host",
        f"http://127.0.0.1:{port}",
        "-u",
        str(users),
        "-r",
        str(spawn_rate),
        "-t",
        f"{run_time}s",
        "--reset-stats",
        "--only-summary",
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
        "--logfile",
        str(prefix) + ".log",
        "--stop-timeout",
        "10",
    ]
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def print_failures(prefix: Path) -> None:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return
    with path.open(newline="") as handle:
        for row in list(csv.DictReader(handle))[:5]:
            print(f"  error: {row['Name']}: {row['Error'][:120]} ({row['Occurrences']}×)")


def print_step(users: int, rows: list[dict]) -> None:
    print(f"\n{users} users")
    print(f"  {'request':<22} {'count':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        if row["Name"] in ("login", "login form"):
            continue  # made while spawning; reset with the statistics
        name = "all" if row["Name"] == "Aggregated" else row["Name"]
        print(
            f"  {name:<22} {int(row['Request Count']):>7} {float(row['Requests/s']):>7.1f}"
            f" {row['50%']:>8} {row['95%']:>8} {int(row['Failure Count']):>7}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_10k"),
        help="a database built by bench/pages.py (default: bench_10k on the local PostgreSQL)",
    )
    parser.add_argument("--users", default="20,100", help="user counts, one step each (default 20,100)")
    parser.add_argument("--duration", type=int, default=60, help="seconds per step once all users are in (default 60)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's clicks, s (default 1)")
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    steps = [int(part) for part in args.users.split(",") if part.strip()]
    server = start_server(args.database_url, args.workers, args.port, WORK / "load-gunicorn.log")
    try:
        print(
            f"gunicorn -w {args.workers} on {args.database_url}; {args.duration} s per step after spawning, "
            f"think time {args.think} s on average; times are client-side (locust on the same 2 cores)"
        )
        for users in steps:
            rows = run_step(users, args.duration, args.port, args.think, WORK / f"load-{users}")
            print_step(users, rows)
            print_failures(WORK / f"load-{users}")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
