"""Every problem the notice parser names has its message key listed for the catalog, so that
the holidays page shows it in Chinese (and `pybabel update` keeps it)."""

from __future__ import annotations

import ast
from pathlib import Path

from service.entrypoints.web.holidays import NOTICE_MESSAGES

ROOT = Path(__file__).resolve().parents[2]


def _problem_keys(path: Path) -> set[str]:
    """The string keys `workflows/notice.py` passes to `problem(...)` / `Problem(...)`, and the
    module-level message constants."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            first = node.args[0]
            if name in ("problem", "Problem") and isinstance(first, ast.Constant):
                keys.add(str(first.value))
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if any(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets):
                if isinstance(node.value.value, str) and " " in node.value.value:
                    keys.add(node.value.value)
    return keys


def test_each_problem_of_the_notice_parser_is_listed_for_the_catalog() -> None:
    keys = _problem_keys(ROOT / "workflows" / "notice.py")
    assert len(keys) >= 12
    assert keys == set(NOTICE_MESSAGES)
