"""Lean SQL for the transition path: SQLAlchemy Core, few statements, one transaction."""

from __future__ import annotations

import contextvars
import fcntl
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler

from service.core import context
from service.core.statuses import DeadlineStatus
from service.store.db import db
from service.store.kinds import Kind
from service.store.models import (
    Customer,
    Deadline,
    NoticeItem,
    OutboxMessage,
    TransitionEvent,
    VisitVisitor,
)
from service.store.paging import page_rows

_WRITING = contextvars.ContextVar("visitflow_writing", default=False)
_QUEUE_KEY = "visitflow.sqlite_writers"
events_t = TransitionEvent.__table__
deadlines_t = Deadline.__table__
outbox_t = OutboxMessage.__table__
visitors_t = VisitVisitor.__table__
notice_items_t = NoticeItem.__table__


class _WriterQueue:
    """Writers to one SQLite file wait here, in line, instead of in SQLite's busy handler.

    SQLite lets one writer in at a time and makes the others sleep and retry in growing steps
    (up to 100 ms), which turns a 1 ms write into a long tail under load. Threads of a process
    queue on a lock, processes on an flock of a file beside the database; the kernel wakes the
    next writer as soon as the file is unlocked.
    """

    def __init__(self, path: str) -> None:
        self._thread_lock = threading.Lock()
        self._path = path
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._thread_lock:
            if self._pid != os.getpid():  # a forked child opens its own descriptor
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            assert self._fd is not None
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


def configure_engine(app: Flask) -> None:
    """SQLite: WAL, a busy timeout, foreign keys, BEGIN IMMEDIATE and a queue for writes.

    pysqlite begins transactions lazily and as DEFERRED; two writers that both read first
    then deadlock on the upgrade instead of waiting. Writes begin IMMEDIATE instead.
    """
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    database = engine.url.database
    if database and database != ":memory:":
        app.extensions[_QUEUE_KEY] = _WriterQueue(f"{database}.write-lock")

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        # straight to the driver: this runs once per transaction, on every request
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        dbapi.execute("BEGIN IMMEDIATE" if _WRITING.get() else "BEGIN")


@contextmanager
def writing() -> Iterator[Connection]:
    """One write transaction on its own connection: commit on success, roll back on error.

    It does not go through the ORM session (whose bookkeeping costs more than the SQL on
    this path); reads that must see the write's result use the connection it yields.
    """
    with write_connection() as conn, conn.begin():
        yield conn


@contextmanager
def write_connection() -> Iterator[Connection]:
    """A connection of its own whose transactions write (BEGIN IMMEDIATE on SQLite), its
    turn taken in the writers' queue; the caller begins and ends the transaction."""
    if db.session.registry.has() and db.session().in_transaction():
        db.session.rollback()  # so that the session's next read sees this write
    queue: _WriterQueue | None = context.current().state.get(_QUEUE_KEY)
    token = _WRITING.set(True)
    try:
        with queue.turn() if queue else nullcontext(), db.engine.connect() as conn:
            yield conn
    finally:
        _WRITING.reset(token)


@contextmanager
def reading() -> Iterator[Connection]:
    """A short read transaction on its own connection (cheaper than the ORM session's)."""
    with db.engine.connect() as conn:
        yield conn


@contextmanager
def snapshot() -> Iterator[Connection]:
    """A read transaction that sees one state of the database in all its statements, for
    reads that must agree with each other (the KPIs: tallies, dirty days, the rows). SQLite's
    read transactions do already; PostgreSQL's READ COMMITTED gives each statement its own."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        yield conn


def connection() -> Connection:
    """The request's read connection (the ORM session's); never inside `writing()`."""
    if _WRITING.get():  # SQLite: a second connection would wait for our own write lock
        raise RuntimeError("inside a write transaction: use the connection writing() gave")
    return db.session.connection()


class Prepared:
    """A Core statement compiled once for a dialect and run on the DBAPI cursor.

    Executing a Core construct costs SQLAlchemy about 30 µs of bookkeeping per statement,
    more than SQLite needs to run it; the transition path writes five or six rows, so its
    writes skip that layer. The SQL text and the bind processors (our UTC datetimes, JSON) are
    SQLAlchemy's own, taken from the compiled statement.
    """

    def __init__(self, statement: sa.ClauseElement, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self._compiled = compiled
        self.sql = compiled.string
        self._names = compiled.positiontup if dialect.positional else None
        # values written into the statement itself, such as the 1 of `version + 1`
        self._literals = {
            name: bind.value for name, bind in compiled.binds.items() if not bind.required
        }
        # name -> processor; SQLAlchemy types a tuple-of-processors case we never compile
        self._processors: dict[str, Callable[[Any], Any]] = dict(
            compiled._bind_processors  # type: ignore[arg-type]
        )

    def params(self, values: Mapping[str, Any]) -> Any:
        params = {**self._literals, **values}
        for name, process in self._processors.items():
            if name in params:
                params[name] = process(params[name])
        return [params[n] for n in self._names] if self._names is not None else params

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(self.sql, self.params(values))
        return cursor

    def insert_once(self, conn: Connection, values: Mapping[str, Any]) -> bool:
        """Run an INSERT guarded by a unique key; False (and nothing written) if the key is
        taken already. The caller's transaction must then roll back (PostgreSQL has
        aborted it)."""
        try:
            self.execute(conn, values)
        except conn.dialect.loaded_dbapi.IntegrityError:
            return False
        return True

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(self.sql, [self.params(r) for r in rows])


@cache
def _prepared(key: str, dialect: sa.Dialect, columns: tuple[str, ...] = ()) -> Prepared:
    return Prepared(_STATEMENTS[key](columns), dialect)


def _update_instance(table: sa.Table, columns: tuple[str, ...]) -> sa.Update:
    return (
        table.update()
        .where(table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_seen"))
        .values(version=table.c.version + 1, **{c: sa.bindparam(c) for c in columns})
    )


_STATEMENTS: dict[str, Any] = {
    "close_deadlines": lambda _: (
        deadlines_t.update()
        .where(
            deadlines_t.c.workflow == sa.bindparam("b_workflow"),
            deadlines_t.c.instance_id == sa.bindparam("b_instance"),
            deadlines_t.c.status != DeadlineStatus.CLOSED,  # open, or fired and still running
        )
        .values(status=DeadlineStatus.CLOSED, closed_at=sa.bindparam("closed_at"))
    ),
    "insert_deadline": lambda columns: (
        deadlines_t.insert()
        .values({c: sa.bindparam(c) for c in columns})
        .returning(deadlines_t.c.id)
    ),
    "insert_event": lambda columns: events_t.insert().values({c: sa.bindparam(c) for c in columns}),
    "insert_outbox": lambda _: outbox_t.insert().values(
        topic=sa.bindparam("topic"),
        payload=sa.bindparam("payload"),
        created_at=sa.bindparam("created_at"),
        attempts=0,  # literal: Python-side column defaults are applied by SQLAlchemy's execute
    ),
}
for _kind_name in ("visits", "issues", "rectification_notices"):
    _STATEMENTS[f"update:{_kind_name}"] = lambda columns, name=_kind_name: _update_instance(
        db.metadata.tables[name], columns
    )


@cache
def _select_one(table: sa.Table) -> sa.Select[Any]:
    return sa.select(table).where(table.c.id == sa.bindparam("b_id"))


_INSERT_VISITORS = visitors_t.insert()


class PreparedRow:
    """A one-row SELECT of a whole table, compiled once, its columns typed by SQLAlchemy's
    own result processors (our UTC datetimes, JSON)."""

    def __init__(self, table: sa.Table, dialect: sa.Dialect) -> None:
        self._statement = Prepared(_select_one(table), dialect)
        self._names = [c.name for c in table.columns]
        self._processors = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in table.columns
        ]

    def fetch(self, conn: Connection, values: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self._statement.execute(conn, values).fetchone()
        if found is None:
            return None
        return {
            name: process(value) if process is not None and value is not None else value
            for name, process, value in zip(self._names, self._processors, found, strict=True)
        }


@cache
def _prepared_row(table: sa.Table, dialect: sa.Dialect) -> PreparedRow:
    return PreparedRow(table, dialect)


ID_MAX = 2**31 - 1  # ids are SQL INTEGER columns: 32 bits on PostgreSQL


def holds_id(value: int) -> bool:
    """Whether an id column can hold `value` (a larger number names no row)."""
    return -ID_MAX - 1 <= value <= ID_MAX


def load(kind: Kind, instance_id: int, conn: Connection | None = None) -> dict[str, Any] | None:
    """One instance row as a dict, or None."""
    if not holds_id(instance_id):
        return None
    conn = conn or connection()
    return _prepared_row(kind.table, conn.dialect).fetch(conn, {"b_id": instance_id})


def update_instance(
    conn: Connection, kind: Kind, instance_id: int, seen_version: int, values: Mapping[str, Any]
) -> bool:
    """Optimistic update: only if the row is still at `seen_version`; False if it is not."""
    stmt = _prepared(f"update:{kind.table.name}", conn.dialect, tuple(sorted(values)))
    cursor = stmt.execute(conn, {"b_id": instance_id, "b_seen": seen_version, **values})
    return bool(cursor.rowcount == 1)


def insert_instance(conn: Connection, kind: Kind, values: Mapping[str, Any]) -> int:
    result = conn.execute(kind.table.insert().values(**values).returning(kind.table.c.id))
    instance_id: int = result.scalar_one()
    if kind.workflow == "visit" and values.get("visitors"):
        conn.execute(
            _INSERT_VISITORS,
            [{"visit_id": instance_id, "username": u} for u in values["visitors"]],
        )
    if kind.workflow == "rectification":
        insert_notice_items(conn, instance_id, values["department"], values.get("related") or [])
    return instance_id


def insert_notice_items(
    conn: Connection, notice_id: int, department: str, related: Sequence[Mapping[str, Any]]
) -> None:
    """Index a notice's related items: its addressed department may see them (visibility)."""
    keys = dict.fromkeys((str(r["workflow"]), int(r["id"])) for r in related)
    if keys:
        conn.execute(
            notice_items_t.insert(),
            [
                {"notice_id": notice_id, "workflow": w, "item_id": i, "department": department}
                for w, i in keys
            ],
        )


def insert_event(conn: Connection, **values: Any) -> None:
    _prepared("insert_event", conn.dialect, tuple(sorted(values))).execute(conn, values)


def close_deadlines(conn: Connection, workflow: str, instance_id: int, now: datetime) -> None:
    _prepared("close_deadlines", conn.dialect).execute(
        conn, {"b_workflow": workflow, "b_instance": instance_id, "closed_at": now}
    )


def insert_deadline(conn: Connection, **values: Any) -> int:
    cursor = _prepared("insert_deadline", conn.dialect, tuple(sorted(values))).execute(conn, values)
    deadline_id: int = cursor.fetchone()[0]
    return deadline_id


def insert_outbox(conn: Connection, topic: str, payload: Mapping[str, Any], now: datetime) -> None:
    insert_outbox_many(conn, [{"topic": topic, "payload": dict(payload), "created_at": now}])


def insert_outbox_many(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Several outbox rows in one call: {"topic", "payload", "created_at"} each."""
    if rows:
        _prepared("insert_outbox", conn.dialect).execute_many(conn, rows)


def current_deadlines(
    workflow: str, instance_ids: Sequence[int], conn: Connection | None = None
) -> dict[int, list[dict[str, Any]]]:
    """The deadlines of each instance's current state (open, or fired and still running)."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in instance_ids}
    if not instance_ids:
        return out
    rows = (
        (conn or connection())
        .execute(
            sa.select(
                deadlines_t.c.instance_id,
                deadlines_t.c.kind,
                deadlines_t.c.state,
                deadlines_t.c.due_at,
                deadlines_t.c.status,
            )
            .where(
                deadlines_t.c.workflow == workflow,
                deadlines_t.c.instance_id.in_(instance_ids),
                deadlines_t.c.status.in_((DeadlineStatus.OPEN, DeadlineStatus.FIRED)),
            )
            .order_by(deadlines_t.c.due_at)
        )
        .mappings()
    )
    for row in rows:
        out[row["instance_id"]].append(dict(row))
    return out


def history(workflow: str, instance_id: int, page: int, per_page: int) -> tuple[list[Any], int]:
    where = (events_t.c.workflow == workflow, events_t.c.instance_id == instance_id)
    query = sa.select(events_t).where(*where).order_by(events_t.c.id)
    return page_rows(connection(), query, page, per_page)


def customer_sites(
    customer_id: int | None, conn: Connection | None = None
) -> tuple[str | None, list[dict[str, Any]]]:
    """A customer's tier and sites; (None, []) for none or an unknown one."""
    if customer_id is None or not holds_id(customer_id):
        return None, []
    table = Customer.__table__
    row = (
        (conn or connection())
        .execute(sa.select(table.c.tier, table.c.sites).where(table.c.id == customer_id))
        .first()
    )
    return (row.tier, list(row.sites or [])) if row is not None else (None, [])
