"""The unit of work the creation and transition handlers run in (cosmicpython's pattern).

`with uow:` opens one write transaction; `uow.instances` reads and writes the instances,
their events, deadlines, outbox rows and notifications through it; `uow.commit()` commits,
and leaving the block without a commit rolls everything back. `SqlUnitOfWork` is the
database's; the unit tests use an in-memory fake of the same two protocols.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any, NamedTuple, Protocol, Self

from sqlalchemy.engine import Connection, RootTransaction

from service.store import repository as repo
from service.store import visibility
from service.store.kinds import Kind
from service.usecases import notify, references
from workflows import Actor
from workflows.events import Target
from workflows.spec import FieldSpec

Attrs = dict[str, Any]  # a creation's checked attributes (a check may complete them)
Fields = tuple[FieldSpec, ...]  # a form's fields


class Message(NamedTuple):
    """A notification about an instance: its kind and parameters (`core.notify_texts`)."""

    what: str
    params: Mapping[str, Any]
    workflow: str
    instance_id: int


class Instances(Protocol):
    """The instances and what a creation or a transition writes beside them."""

    def load(self, kind: Kind, instance_id: int) -> dict[str, Any] | None: ...

    def can_see(self, kind: Kind, row: Mapping[str, Any], actor: Actor) -> bool: ...

    def current_deadlines(self, kind: Kind, instance_id: int) -> list[dict[str, Any]]: ...

    def check_creation(
        self, kind: Kind, attrs: Attrs, actor: Actor, related: Any, fields: Fields
    ) -> None:
        """What a creation names exists and is visible (InvalidRequest, Forbidden)."""

    def check_references(self, fields: Fields, values: Mapping[str, Any]) -> None:
        """The people and departments a form names exist (InvalidData)."""

    def customer_sites(self, customer_id: int | None) -> tuple[str | None, list[dict[str, Any]]]:
        """A customer's tier and sites (none for no customer)."""

    def add(self, kind: Kind, values: Mapping[str, Any]) -> int: ...

    def update(
        self, kind: Kind, instance_id: int, seen_version: int, values: Mapping[str, Any]
    ) -> bool:
        """Only if the row is still at `seen_version`; False if it is not."""

    def add_event(self, **values: Any) -> None: ...

    def close_deadlines(self, workflow: str, instance_id: int, now: datetime) -> None: ...

    def add_deadline(self, **values: Any) -> int: ...

    def add_outbox(self, rows: Sequence[Mapping[str, Any]]) -> None: ...

    def recipients(self, targets: Iterable[Target]) -> list[str]:
        """The active users behind the targets."""

    def display_name(self, username: str | None) -> str: ...

    def notify(self, names: Sequence[str], message: Message, now: datetime) -> None: ...


class UnitOfWork(Protocol):
    instances: Instances

    @property
    def connection(self) -> Any:
        """What an entry point's `keep` callback writes through (the SQL connection)."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...


class SqlInstances:
    """`Instances` on a connection: the repository's statements, visibility, references."""

    def __init__(self, conn: Connection | None = None) -> None:
        self.conn = conn  # None: the request's read connection (reads only)

    def _writer(self) -> Connection:
        if self.conn is None:
            raise RuntimeError("writes and reference checks need a write connection")
        return self.conn

    def load(self, kind: Kind, instance_id: int) -> dict[str, Any] | None:
        return repo.load(kind, instance_id, self.conn)

    def can_see(self, kind: Kind, row: Mapping[str, Any], actor: Actor) -> bool:
        return visibility.can_see(kind, row, actor, self.conn)

    def current_deadlines(self, kind: Kind, instance_id: int) -> list[dict[str, Any]]:
        return repo.current_deadlines(kind.workflow, [instance_id], self.conn)[instance_id]

    def check_creation(
        self, kind: Kind, attrs: Attrs, actor: Actor, related: Any, fields: Fields
    ) -> None:
        references.check_creation(self._writer(), kind, attrs, actor, related, fields)

    def check_references(self, fields: Fields, values: Mapping[str, Any]) -> None:
        references.check_references(fields, values, self._writer())

    def customer_sites(self, customer_id: int | None) -> tuple[str | None, list[dict[str, Any]]]:
        return repo.customer_sites(customer_id, self.conn)

    def add(self, kind: Kind, values: Mapping[str, Any]) -> int:
        return repo.insert_instance(self._writer(), kind, values)

    def update(
        self, kind: Kind, instance_id: int, seen_version: int, values: Mapping[str, Any]
    ) -> bool:
        return repo.update_instance(self._writer(), kind, instance_id, seen_version, values)

    def add_event(self, **values: Any) -> None:
        repo.insert_event(self._writer(), **values)

    def close_deadlines(self, workflow: str, instance_id: int, now: datetime) -> None:
        repo.close_deadlines(self._writer(), workflow, instance_id, now)

    def add_deadline(self, **values: Any) -> int:
        return repo.insert_deadline(self._writer(), **values)

    def add_outbox(self, rows: Sequence[Mapping[str, Any]]) -> None:
        repo.insert_outbox_many(self._writer(), rows)

    def recipients(self, targets: Iterable[Target]) -> list[str]:
        return notify.usernames(self._writer(), targets)

    def display_name(self, username: str | None) -> str:
        return notify.display_name(self._writer(), username)

    def notify(self, names: Sequence[str], message: Message, now: datetime) -> None:
        m = message
        notify.send(self._writer(), names, m.what, m.params, m.workflow, m.instance_id, now)


class SqlUnitOfWork:
    """One write transaction (`repo.write_connection`: SQLite's writers' queue, BEGIN
    IMMEDIATE); committed by `commit()`, rolled back if the block leaves without it."""

    instances: SqlInstances

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._transaction: RootTransaction | None = None

    @property
    def connection(self) -> Connection:
        return self.instances._writer()

    def __enter__(self) -> Self:
        conn = self._stack.enter_context(repo.write_connection())
        self._transaction = conn.begin()
        self.instances = SqlInstances(conn)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self._transaction = None
            self._stack.close()

    def commit(self) -> None:
        assert self._transaction is not None, "commit inside `with uow:`"
        self._transaction.commit()
