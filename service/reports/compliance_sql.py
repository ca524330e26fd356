"""The SQL the compliance report's clauses are built of: the tables, a day's length compared
to the microsecond, deadlines running or expired, an instance's last event, the columns an
exception shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from service.core.statuses import DeadlineStatus
from service.store.models import (
    Customer,
    Deadline,
    Issue,
    RectificationNotice,
    TransitionEvent,
    Visit,
)

v, c, i, n = (
    Visit.__table__,
    Customer.__table__,
    Issue.__table__,
    RectificationNotice.__table__,
)
e, d = TransitionEvent.__table__, Deadline.__table__


class less_than_a_day(FunctionElement[bool]):  # noqa: N801 (a SQL function)
    """`less_than_a_day(earlier, later)`: `later` comes less than 24 hours after `earlier`
    (or before it), to the microsecond."""

    type = sa.Boolean()
    inherit_cache = True


@compiles(less_than_a_day)
def _less_than_a_day_sqlite(element: less_than_a_day, compiler: Any, **kw: Any) -> str:
    # Naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's format): a day later is the
    # whole seconds moved by datetime() with the same fraction after them, compared as text.
    # julianday() would round to milliseconds, and a fraction near a second could carry.
    earlier, later = (compiler.process(x, **kw) for x in element.clauses)
    return f"({later} < (datetime(substr({earlier}, 1, 19), '+1 day') || substr({earlier}, 20)))"


@compiles(less_than_a_day, "postgresql")
def _less_than_a_day_pg(element: less_than_a_day, compiler: Any, **kw: Any) -> str:
    earlier, later = (compiler.process(x, **kw) for x in element.clauses)
    return f"(({later}) - ({earlier}) < interval '24 hours')"


def deadline_running(
    workflow: str, instance_id: sa.ColumnElement[Any], kind: str, moment: datetime
) -> sa.ColumnElement[bool]:
    """The instance's deadline of `kind` is open and due after `moment`: the case is still
    in progress, not late. The open deadlines due later are few, so a set of ids again."""
    open_ = sa.select(d.c.instance_id).where(
        d.c.workflow == workflow,
        d.c.kind == kind,
        d.c.status == DeadlineStatus.OPEN,
        d.c.due_at > moment,
    )
    return instance_id.in_(open_)


def any_deadline_running(
    workflow: str, instance_id: sa.ColumnElement[Any], moment: datetime
) -> sa.ColumnElement[bool]:
    """The instance has some deadline open and due after `moment`."""
    open_ = sa.select(d.c.instance_id).where(
        d.c.workflow == workflow, d.c.status == DeadlineStatus.OPEN, d.c.due_at > moment
    )
    return instance_id.in_(open_)


def deadline_expired(
    workflow: str, instance_id: sa.ColumnElement[Any], kind: str
) -> sa.ColumnElement[bool]:
    """The instance's deadline of `kind` fired (the deadlines table or the audit trail).
    A set of ids rather than two correlated lookups per case: the fired ones are few."""
    fired = sa.select(d.c.instance_id).where(
        d.c.workflow == workflow, d.c.kind == kind, d.c.status == DeadlineStatus.FIRED
    )
    expired = sa.select(e.c.instance_id).where(
        e.c.workflow == workflow, e.c.trigger == f"expire:{kind}"
    )
    return instance_id.in_(sa.union(fired, expired))


def last_event(workflow: str, instance_id: Any, trigger: str) -> Any:
    return (
        sa.select(sa.func.max(e.c.at))
        .where(e.c.workflow == workflow, e.c.instance_id == instance_id, e.c.trigger == trigger)
        .scalar_subquery()
    )


def customer_name(customer_id: Any) -> Any:
    """The customer's name, looked up for the rows shown only: visits.customer_id is a
    required foreign key, so a join would drop no case, and it would cost one lookup for
    every case counted."""
    return sa.select(c.c.name).where(c.c.id == customer_id).scalar_subquery()


def exception_columns(
    id_: Any, name: Any, reason: Any, at: Any
) -> tuple[sa.ColumnElement[Any], ...]:
    reason = sa.literal(reason, sa.String) if isinstance(reason, str) else reason
    return (
        id_.label("id"),
        name.label("name"),
        reason.label("reason"),
        (sa.null() if at is None else at).label("at"),
    )
