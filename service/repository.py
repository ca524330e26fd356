"""Lean SQL for the transition path: SQLAlchemy Core, few statements, one transaction."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Connection

from service.extensions import db
from service.kinds import Kind
from service.models import Deadline, OutboxMessage, TransitionEvent, VisitVisitor

_WRITING = contextvars.ContextVar("visitflow_writing", default=False)
events_t = TransitionEvent.__table__
deadlines_t = Deadline.__table__
outbox_t = OutboxMessage.__table__
visitors_t = VisitVisitor.__table__


def configure_engine(app: Flask) -> None:
    """SQLite: WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for writes.

    pysqlite begins transactions lazily and as DEFERRED; two writers that both read first
    then deadlock on the upgrade instead of waiting. Writes begin IMMEDIATE instead.
    """
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITING.get() else "BEGIN")


@contextmanager
def writing() -> Iterator[Connection]:
    """One write transaction on its own connection: commit on success, roll back on error.

    It does not go through the ORM session (whose bookkeeping costs more than the SQL on
    this path); reads that must see the write's result use the connection it yields.
    """
    session = db.session()
    if session.in_transaction():  # so that the session's next read sees this write
        session.rollback()
    token = _WRITING.set(True)
    try:
        with db.engine.begin() as conn:
            yield conn
    finally:
        _WRITING.reset(token)


def connection() -> Connection:
    """The request's read connection (the ORM session's)."""
    return db.session.connection()


# Statements built once: executing a cached construct skips SQLAlchemy's per-call building.
@cache
def _select_one(table: sa.Table) -> sa.Select[Any]:
    return sa.select(table).where(table.c.id == sa.bindparam("b_id"))


@cache
def _update_instance(table: sa.Table, columns: tuple[str, ...]) -> sa.Update:
    return (
        table.update()
        .where(table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_seen"))
        .values(version=table.c.version + 1, **{c: sa.bindparam(c) for c in columns})
    )


_CLOSE_DEADLINES = (
    deadlines_t.update()
    .where(
        deadlines_t.c.workflow == sa.bindparam("b_workflow"),
        deadlines_t.c.instance_id == sa.bindparam("b_instance"),
        deadlines_t.c.status.in_(("open", "fired")),
    )
    .values(status="closed", closed_at=sa.bindparam("closed_at"))
)
_INSERT_DEADLINE = deadlines_t.insert().returning(deadlines_t.c.id)
_INSERT_EVENT = events_t.insert()
_INSERT_OUTBOX = outbox_t.insert()
_INSERT_VISITORS = visitors_t.insert()


def load(kind: Kind, instance_id: int, conn: Connection | None = None) -> dict[str, Any] | None:
    """One instance row as a dict, or None."""
    row = (conn or connection()).execute(_select_one(kind.table), {"b_id": instance_id})
    found = row.mappings().first()
    return dict(found) if found is not None else None


def update_instance(
    conn: Connection, kind: Kind, instance_id: int, seen_version: int, values: Mapping[str, Any]
) -> bool:
    """Optimistic update: only if the row is still at `seen_version`; False if it is not."""
    stmt = _update_instance(kind.table, tuple(sorted(values)))
    result = conn.execute(stmt, {"b_id": instance_id, "b_seen": seen_version, **values})
    return result.rowcount == 1


def insert_instance(conn: Connection, kind: Kind, values: Mapping[str, Any]) -> int:
    result = conn.execute(kind.table.insert().values(**values).returning(kind.table.c.id))
    instance_id: int = result.scalar_one()
    if kind.workflow == "visit" and values.get("visitors"):
        conn.execute(
            _INSERT_VISITORS,
            [{"visit_id": instance_id, "username": u} for u in values["visitors"]],
        )
    return instance_id


def insert_event(conn: Connection, **values: Any) -> None:
    conn.execute(_INSERT_EVENT, values)


def close_deadlines(conn: Connection, workflow: str, instance_id: int, now: datetime) -> None:
    conn.execute(
        _CLOSE_DEADLINES, {"b_workflow": workflow, "b_instance": instance_id, "closed_at": now}
    )


def insert_deadline(conn: Connection, **values: Any) -> int:
    deadline_id: int = conn.execute(_INSERT_DEADLINE, values).scalar_one()
    return deadline_id


def insert_outbox(conn: Connection, topic: str, payload: Mapping[str, Any], now: datetime) -> None:
    conn.execute(_INSERT_OUTBOX, {"topic": topic, "payload": dict(payload), "created_at": now})


def insert_outbox_many(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Several outbox rows in one statement: {"topic", "payload", "created_at"} each."""
    if rows:
        conn.execute(_INSERT_OUTBOX, list(rows))


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
                deadlines_t.c.status.in_(("open", "fired")),
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
    conn = connection()
    total = conn.execute(sa.select(sa.func.count()).select_from(events_t).where(*where)).scalar()
    rows = conn.execute(
        sa.select(events_t)
        .where(*where)
        .order_by(events_t.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).mappings()
    return [dict(r) for r in rows], int(total or 0)
