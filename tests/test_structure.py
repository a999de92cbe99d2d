"""The import graph: no circle anywhere in the project, and background jobs never import the app (the
worker module does), so the old circle app -> admin_views -> jobs -> app cannot come back."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
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
            m for m in imported_modules(path) if m.split(".")[0] in ("app", "admin_views", "worker")
        )
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {name: modules for name, modules in offenders.items() if modules} == {}
    assert len(offenders) >= 3  # the walk did find the package's files


def test_the_walk_sees_an_import_hidden_inside_a_function(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\ndef f():\n    from app import create_app\n    return create_app\n")
    assert imported_modules(sample) == {"os", "app"}


_NOT_PROJECT = {".venv", "tests", "migrations", "bench", "node_modules"}


def _project_modules(root: Path) -> dict[str, Path]:
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[0] in _NOT_PROJECT or parts[0].startswith("."):
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def import_circles(root: Path) -> list[list[str]]:
    """Groups of project modules that import each other round a circle (imports inside functions count)."""
    modules = _project_modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                edges.add(node.module)
                edges.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {m for m in edges if m in modules and m != name}
    # Tarjan's strongly connected components, iteratively (no recursion limit to meet).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            child = next(edges, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    circles.append(sorted(group))
    return circles


def test_no_module_of_the_project_imports_itself_round_a_circle():
    assert len(_project_modules(ROOT)) > 60  # the walk found the project
    assert import_circles(ROOT) == []


def test_the_circle_finder_finds_a_circle_through_a_function_level_import(tmp_path):
    (tmp_path / "lifecycle").mkdir()
    (tmp_path / "lifecycle" / "__init__.py").write_text("")
    (tmp_path / "lifecycle" / "deadlines.py").write_text("def f():\n    from lifecycle.table import RUNNING\n")
    (tmp_path / "lifecycle" / "table.py").write_text("from lifecycle import promises\n")
    (tmp_path / "lifecycle" / "promises.py").write_text("from lifecycle.deadlines import f\n")
    (tmp_path / "app.py").write_text("import lifecycle.table\n")
    assert import_circles(tmp_path) == [["lifecycle.deadlines", "lifecycle.promises", "lifecycle.table"]]


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
