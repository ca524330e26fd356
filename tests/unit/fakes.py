"""An in-memory unit of work for the handlers' unit tests (cosmicpython's FakeUnitOfWork):
the same protocols as `service.usecases.unit_of_work`, over dicts, with no database."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from service.core.errors import InvalidRequest
from service.core.statuses import DeadlineStatus
from service.store.kinds import RECTIFICATION, VISIT, Kind
from service.usecases.unit_of_work import Message
from workflows import Actor, InvalidData
from workflows.events import Target
from workflows.spec import FieldSpec, FieldType


@dataclass
class FakeInstances:
    """Instances and what is written beside them, in lists a test can read."""

    customers: set[int] = field(default_factory=set)
    sites: dict[int, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)  # tier, sites
    people: dict[str, str] = field(default_factory=dict)  # username -> display name
    hidden: set[tuple[str, int]] = field(default_factory=set)  # (workflow, id) not visible
    rows: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    before_update: Callable[[], None] | None = None  # a concurrent writer, for the tests
    last_id: int = 0

    def load(self, kind: Kind, instance_id: int) -> dict[str, Any] | None:
        row = self.rows.get((kind.workflow, instance_id))
        return dict(row) if row is not None else None

    def can_see(self, kind: Kind, row: Mapping[str, Any], actor: Actor) -> bool:
        return (kind.workflow, row["id"]) not in self.hidden

    def current_deadlines(self, kind: Kind, instance_id: int) -> list[dict[str, Any]]:
        running = (DeadlineStatus.OPEN, DeadlineStatus.FIRED)
        found = [
            d
            for d in self.deadlines
            if (d["workflow"], d["instance_id"]) == (kind.workflow, instance_id)
            and d["status"] in running
        ]
        return sorted(found, key=lambda d: d["due_at"])

    def check_creation(
        self,
        kind: Kind,
        attrs: dict[str, Any],
        actor: Actor,
        related: Any,
        fields: tuple[FieldSpec, ...],
    ) -> None:
        errors = self._unknown_people(fields, attrs)
        if kind is VISIT and attrs["customer_id"] not in self.customers:
            errors["customer_id"] = [f"no customer {attrs['customer_id']}"]
        if kind is RECTIFICATION:
            attrs["related"] = list(related or [])
        if errors:
            raise InvalidRequest(f"invalid {kind.workflow} fields", errors)

    def customer_sites(self, customer_id: int | None) -> tuple[str | None, list[dict[str, Any]]]:
        return self.sites.get(customer_id or 0, (None, []))

    def check_references(self, fields: tuple[FieldSpec, ...], values: Mapping[str, Any]) -> None:
        errors = self._unknown_people(fields, values)
        if errors:
            raise InvalidData(errors)

    def _unknown_people(
        self, fields: tuple[FieldSpec, ...], values: Mapping[str, Any]
    ) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for f in fields:
            value = values.get(f.name)
            names = [value] if f.type is FieldType.USER and value else []
            names += list(value or []) if f.type is FieldType.USERS else []
            unknown = [n for n in names if n not in self.people]
            if unknown:
                errors[f.name] = [f"unknown users: {', '.join(unknown)}"]
        return errors

    def add(self, kind: Kind, values: Mapping[str, Any]) -> int:
        self.last_id += 1
        instance_id = self.last_id
        row = dict.fromkeys(kind.table.columns.keys())
        self.rows[(kind.workflow, instance_id)] = {**row, **values, "id": instance_id}
        return instance_id

    def update(
        self, kind: Kind, instance_id: int, seen_version: int, values: Mapping[str, Any]
    ) -> bool:
        if self.before_update is not None:
            self.before_update()
        row = self.rows[(kind.workflow, instance_id)]
        if row["version"] != seen_version:
            return False
        row.update(values, version=seen_version + 1)
        return True

    def add_event(self, **values: Any) -> None:
        self.events.append(values)

    def close_deadlines(self, workflow: str, instance_id: int, now: datetime) -> None:
        for d in self.deadlines:
            if (d["workflow"], d["instance_id"]) == (workflow, instance_id):
                if d["status"] != DeadlineStatus.CLOSED:
                    d.update(status=DeadlineStatus.CLOSED, closed_at=now)

    def add_deadline(self, **values: Any) -> int:
        self.deadlines.append({**values, "id": len(self.deadlines) + 1})
        return len(self.deadlines)

    def add_outbox(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.outbox.extend(dict(r) for r in rows)

    def recipients(self, targets: Iterable[Target]) -> list[str]:
        return [t.value for t in targets if t.kind == "user" and t.value in self.people]

    def display_name(self, username: str | None) -> str:
        return self.people.get(username or "", username or "")

    def notify(self, names: Sequence[str], message: Message, now: datetime) -> None:
        for name in names:
            self.notifications.append(
                {"username": name, "kind": message.what, "id": message.instance_id}
            )


class FakeUnitOfWork:
    """Counts its commits; leaving `with` without one puts the instances back as they were."""

    connection: Any = None  # an entry point's `keep` gets nothing to write through

    def __init__(self, instances: FakeInstances | None = None) -> None:
        self.instances = instances or FakeInstances()
        self.commits = 0
        self._saved: FakeInstances | None = None
        self._committed = False

    def __enter__(self) -> Self:
        self._saved = copy.deepcopy(self.instances)
        self._committed = False
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._committed and self._saved is not None:
            self.instances.__dict__.update(self._saved.__dict__)  # the rollback
        self._saved = None

    def commit(self) -> None:
        self.commits += 1
        self._committed = True
