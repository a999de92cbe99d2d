"""deploy/: the environment file example names every setting the code reads, and passes the production check."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "deploy" / "console.env.example"
# Where settings are read from the environment: the app's config and the queue (read before any app exists).
READERS = [ROOT / "config.py", ROOT / "jobs" / "queue.py"]


def _read_by_code() -> set[str]:
    found = set()
    for path in READERS:
        found |= set(re.findall(r"os\.environ\.get\(\"([A-Z_]+)\"", path.read_text()))
    return found


def _example() -> dict[str, str]:
    """The example's settings, commented defaults included (the leading # dropped)."""
    lines = (line.removeprefix("#") for line in EXAMPLE.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))


def test_the_example_environment_file_lists_every_setting_the_code_reads():
    assert len(_read_by_code()) >= 20  # the search itself still finds them
    assert set(_example()) == _read_by_code()


def test_the_example_environment_file_passes_the_production_check_once_its_keys_are_set():
    env = {key: value for key, value in _example().items() if not key.startswith(("SECRET", "AUDIT_HMAC"))}
    env.update(
        PATH=os.environ["PATH"],
        SECRET_KEY=secrets.token_urlsafe(48),
        AUDIT_HMAC_KEY=secrets.token_urlsafe(48),
        AUDIT_CHECKPOINT_FILE=os.devnull,
    )
    env.pop("EXPORT_DIR")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "security-check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "安全检查通过" in result.stdout
