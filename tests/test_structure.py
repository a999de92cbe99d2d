"""The import graph: background jobs never import the app (the worker module does), so there is no circle
app -> admin_views -> jobs -> app."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", ["jobs", "annexes"])
def test_nothing_under_the_package_imports_the_app_or_the_views(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] in ("app", "admin_views", "worker")
        )
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {name: modules for name, modules in offenders.items() if modules} == {}
    assert len(offenders) >= 3  # the walk did find the package's files


def test_the_walk_sees_an_import_hidden_inside_a_function(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\ndef f():\n    from app import create_app\n    return create_app\n")
    assert _imported_modules(sample) == {"os", "app"}


def _fresh(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run `code` in a new interpreter at the project root, on throwaway database, queue and export paths."""
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}",
        TASK_QUEUE_URL=f"sqlite:///{tmp_path / 'tasks.db'}",
        EXPORT_DIR=str(tmp_path / "exports"),
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_the_tasks_import_in_a_fresh_interpreter_without_the_app_or_the_views(tmp_path):
    out = _fresh(
        "import sys\n"
        "import jobs.tasks\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('app', 'admin_views', 'worker')))\n"
        "print(sorted(name.rsplit('.', 1)[-1] for name in jobs.tasks.huey._registry._registry))\n",
        tmp_path,
    ).stdout.splitlines()
    assert out == [
        "[]",
        "['assemble_export', 'expire_old_exports', 'recover_every_minute', 'remove_export_files', 'render_chunk']",
    ]


def test_a_task_outside_any_app_refuses_to_run_until_the_worker_module_registers_one(tmp_path):
    out = _fresh(
        "import jobs.tasks\n"
        "try:\n"
        "    with jobs.tasks.app_context():\n"
        "        pass\n"
        "except RuntimeError as error:\n"
        "    print(error)\n"
        "import worker\n"
        "from flask import current_app\n"
        "from annexes.render import has_xhtml2pdf_patches\n"
        "with jobs.tasks.app_context() as app:\n"
        "    print(app is worker.app, current_app.name, worker.huey is jobs.tasks.huey, has_xhtml2pdf_patches())\n",
        tmp_path,
    ).stdout.splitlines()
    assert out == ["No app for the task queue: start workers with `huey_consumer worker.huey`.", "True app True True"]
