"""All loaded definitions, several versions side by side, and migrations between versions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from workflows.calendar import BusinessCalendar
from workflows.engine import CLOCK_SKEW, Workflow
from workflows.errors import DefinitionError, MigrationError, UnknownWorkflow
from workflows.loader import load_dir, migration_problems
from workflows.spec import Definition


class Registry:
    """Every workflow version, each with its one shared machine."""

    def __init__(
        self,
        definitions: Iterable[Definition],
        calendar: BusinessCalendar | None = None,
        clock_skew: timedelta = CLOCK_SKEW,
    ) -> None:
        self.calendar = calendar or BusinessCalendar()
        self._workflows: dict[tuple[str, int], Workflow] = {}
        for d in definitions:
            self._workflows[d.key] = Workflow(d, self.calendar, clock_skew)
        self._latest = {}
        for name, version in sorted(self._workflows):
            self._latest[name] = version
        # Re-reads the source files (only when something is wrong) so that the problems
        # point at the same lines as `check_dir`'s.
        problems = migration_problems([wf.definition for wf in self._workflows.values()])
        if problems:
            raise DefinitionError(problems)

    @classmethod
    def from_dir(
        cls,
        directory: str | Path = "definitions",
        calendar: BusinessCalendar | None = None,
        clock_skew: timedelta = CLOCK_SKEW,
    ) -> Registry:
        return cls(load_dir(directory), calendar, clock_skew)

    def names(self) -> list[str]:
        return sorted(self._latest)

    def versions(self, name: str) -> list[int]:
        return sorted(v for n, v in self._workflows if n == name)

    def get(self, name: str, version: int | None = None) -> Workflow:
        """The workflow `name` at `version`, or its latest version."""
        if version is None:
            if name not in self._latest:
                raise UnknownWorkflow(f"no workflow named {name!r}")
            version = self._latest[name]
        try:
            return self._workflows[(name, version)]
        except KeyError:
            raise UnknownWorkflow(f"no workflow {name!r} at version {version}") from None

    def __iter__(self) -> Any:
        return iter(self._workflows.values())


@dataclass(frozen=True, slots=True)
class Move:
    id: Any
    source: str
    dest: str


@dataclass(frozen=True, slots=True)
class Blocked:
    id: Any
    state: str
    reason: str


@dataclass
class MigrationPlan:
    """What a migration would do: the instances that move, and those that cannot."""

    workflow: str
    from_version: int
    to_version: int
    moves: list[Move] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"{self.workflow} {self.from_version} -> {self.to_version}:"
            f" {len(self.moves)} move, {len(self.blocked)} cannot"
        ]
        out += [f"  move {m.id}: {m.source} -> {m.dest}" for m in self.moves]
        out += [f"  cannot move {b.id} ({b.state}): {b.reason}" for b in self.blocked]
        return out


def plan_migration(
    registry: Registry,
    name: str,
    from_version: int,
    to_version: int,
    instances: Iterable[tuple[Any, str]],
) -> MigrationPlan:
    """Dry-run: map each `(id, state)` of `from_version` onto `to_version`."""
    old = registry.get(name, from_version).definition
    new = registry.get(name, to_version).definition
    spec = next((m for m in new.migrations if m.from_version == from_version), None)
    if spec is None and from_version != to_version:
        raise MigrationError(
            f"{name} version {to_version} declares no migration from version {from_version}"
        )
    mapping = spec.states if spec else {}
    plan = MigrationPlan(name, from_version, to_version)
    for instance_id, state in instances:
        if state not in old.states:
            plan.blocked.append(
                Blocked(instance_id, state, f"not a state of version {from_version}")
            )
            continue
        dest = mapping.get(state, state)
        if dest in new.states:
            plan.moves.append(Move(instance_id, state, dest))
        else:
            plan.blocked.append(
                Blocked(
                    instance_id,
                    state,
                    f"version {to_version} has no state {dest!r} and the migration maps none",
                )
            )
    return plan
