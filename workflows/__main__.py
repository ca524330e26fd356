"""`python -m workflows check [DIR]`, `diagram NAME [--state S] [--format svg]`, `migrate ...`.

`migrate NAME FROM TO` dry-runs a migration of the instances given as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from workflows.diagram import mermaid
from workflows.diagram_svg import svg
from workflows.errors import DefinitionError, WorkflowError
from workflows.loader import check_dir
from workflows.registry import Registry, plan_migration


class BadInput(WorkflowError):
    """The instances given to `migrate` cannot be read."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workflows", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check a folder of definitions")
    check.add_argument("directory", nargs="?", default="definitions")
    diagram = sub.add_parser("diagram", help="print the Mermaid state diagram of a definition")
    diagram.add_argument("name")
    diagram.add_argument("--state", help="highlight this state")
    diagram.add_argument("--version", type=int, help="definition version (default: latest)")
    diagram.add_argument("--lang", default="en", choices=["en", "zh"])
    diagram.add_argument(
        "--format", default="mermaid", choices=["mermaid", "svg"], help="Mermaid text or SVG"
    )
    diagram.add_argument("--dir", default="definitions")
    migrate = sub.add_parser(
        "migrate", help="dry-run a migration of instances read as JSON lines {id, state}"
    )
    migrate.add_argument("name")
    migrate.add_argument("from_version", type=int)
    migrate.add_argument("to_version", type=int)
    migrate.add_argument("--instances", default="-", help="JSON-lines file (default stdin)")
    migrate.add_argument("--dir", default="definitions")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        return _check(args.directory)
    try:
        registry = Registry.from_dir(args.dir)
        if args.command == "diagram":
            workflow = registry.get(args.name, args.version)
            draw = svg if args.format == "svg" else mermaid
            print(draw(workflow.definition, args.state, args.lang), end="")
            return 0
        return _migrate(registry, args)
    except DefinitionError as err:
        print(err, file=sys.stderr)
        return 1
    except (WorkflowError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _check(directory: str) -> int:
    definitions, problems = check_dir(directory)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    for d in definitions:
        print(
            f"ok {d.name} v{d.version}: {len(d.states)} states,"
            f" {len(d.transitions)} transitions ({d.source})"
        )
    return 0


def _migrate(registry: Registry, args: argparse.Namespace) -> int:
    instances = _read_instances(args.instances)
    plan = plan_migration(registry, args.name, args.from_version, args.to_version, instances)
    print("\n".join(plan.lines()))
    return 1 if plan.blocked else 0


def _read_instances(source: str) -> list[tuple[Any, str]]:
    """The `(id, state)` of each JSON line of file `source` ("-" for stdin)."""
    try:
        if source == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(source, encoding="utf-8") as f:
                lines = f.read().splitlines()
    except OSError as err:
        raise BadInput(f"cannot read {source}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise BadInput(f"cannot read {source}: not UTF-8 text") from None
    where = "stdin" if source == "-" else source
    return [_instance(line, f"{where}:{n}") for n, line in enumerate(lines, 1) if line.strip()]


def _instance(line: str, where: str) -> tuple[Any, str]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise BadInput(f"{where}: invalid JSON: {err.msg}") from None
    if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("state"), str):
        raise BadInput(f'{where}: expected an object such as {{"id": 1, "state": "draft"}}')
    return row["id"], row["state"]


if __name__ == "__main__":
    sys.exit(main())
