"""`python -m workflows check [DIR]`, `diagram NAME [--state S]`, `migrate NAME FROM TO`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from workflows.diagram import mermaid
from workflows.errors import DefinitionError, WorkflowError
from workflows.loader import check_dir
from workflows.registry import Registry, plan_migration


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check a folder of definitions")
    check.add_argument("directory", nargs="?", default="definitions")
    diagram = sub.add_parser("diagram", help="print the Mermaid state diagram of a definition")
    diagram.add_argument("name")
    diagram.add_argument("--state", help="highlight this state")
    diagram.add_argument("--version", type=int, help="definition version (default: latest)")
    diagram.add_argument("--lang", default="en", choices=["en", "zh"])
    diagram.add_argument("--dir", default="definitions")
    migrate = sub.add_parser(
        "migrate", help="dry-run a migration of instances read as JSON lines {id, state}"
    )
    migrate.add_argument("name")
    migrate.add_argument("from_version", type=int)
    migrate.add_argument("to_version", type=int)
    migrate.add_argument("--instances", default="-", help="JSON-lines file (default stdin)")
    migrate.add_argument("--dir", default="definitions")
    args = parser.parse_args(argv)

    if args.command == "check":
        definitions, problems = check_dir(args.directory)
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
    try:
        registry = Registry.from_dir(args.dir)
        if args.command == "diagram":
            workflow = registry.get(args.name, args.version)
            print(mermaid(workflow.definition, args.state, args.lang), end="")
            return 0
        stream = sys.stdin if args.instances == "-" else open(args.instances, encoding="utf-8")
        with stream:
            rows = [json.loads(line) for line in stream if line.strip()]
        plan = plan_migration(
            registry,
            args.name,
            args.from_version,
            args.to_version,
            ((row["id"], row["state"]) for row in rows),
        )
        print("\n".join(plan.lines()))
        return 1 if plan.blocked else 0
    except DefinitionError as err:
        print(err, file=sys.stderr)
        return 1
    except (WorkflowError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
