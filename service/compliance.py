"""The compliance report (issue 7): for a period [start, end), clause by clause of the
regulation, how many cases VisitFlow holds evidence for and every exception.

One function per clause, each reading with SQL through a `Connection` and returning
`{"clause", "total", "compliant", "exceptions"}`; an exception is
`{"workflow", "id", "name", "reason", "at"}` with `reason` a code the page translates.
Nothing here knows of Flask or of a request.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.models import (
    Customer,
    Deadline,
    Issue,
    RectificationNotice,
    TransitionEvent,
    Visit,
)

DONE = ("visited", "recorded", "reported")
YEAR = timedelta(days=365)
AHEAD = timedelta(days=1)

v, c, i, n = (
    Visit.__table__,
    Customer.__table__,
    Issue.__table__,
    RectificationNotice.__table__,
)
e, d = TransitionEvent.__table__, Deadline.__table__


def _result(clause: str, total: int, exceptions: list[dict[str, Any]]) -> dict[str, Any]:
    broken = {(x["workflow"], x["id"]) for x in exceptions}
    return {
        "clause": clause,
        "total": total,
        "compliant": total - len(broken),
        "exceptions": exceptions,
    }


def _exception(workflow: str, id_: int, name: str, reason: str, at: Any = None) -> dict[str, Any]:
    return {"workflow": workflow, "id": int(id_), "name": name, "reason": reason, "at": at}


def _expired(workflow: str, instance_id: Any, kind: str) -> sa.ColumnElement[bool]:
    """The instance's deadline of `kind` fired (the deadlines table or the audit trail)."""
    fired = sa.exists().where(
        d.c.workflow == workflow,
        d.c.instance_id == instance_id,
        d.c.kind == kind,
        d.c.status == "fired",
    )
    expired = sa.exists().where(
        e.c.workflow == workflow,
        e.c.instance_id == instance_id,
        e.c.trigger == f"expire:{kind}",
    )
    return sa.or_(fired, expired)


def _last_event(workflow: str, instance_id: Any, trigger: str) -> Any:
    return (
        sa.select(sa.func.max(e.c.at))
        .where(e.c.workflow == workflow, e.c.instance_id == instance_id, e.c.trigger == trigger)
        .scalar_subquery()
    )


def visit_frequency(
    conn: Connection, start: datetime, end: datetime, quotas: dict[str, int]
) -> dict[str, Any]:
    """3(二): every customer visited at least its tier's yearly quota, pro rata, rounded up."""
    fraction = (end - start) / YEAR
    done = (
        sa.select(v.c.customer_id, sa.func.count().label("n"))
        .where(v.c.planned_at >= start, v.c.planned_at < end, v.c.state.in_(DONE))
        .group_by(v.c.customer_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(c.c.id, c.c.name, c.c.tier, sa.func.coalesce(done.c.n, 0))
        .select_from(c.outerjoin(done, done.c.customer_id == c.c.id))
        .order_by(c.c.name, c.c.id)
    ).all()
    exceptions = []
    total = 0
    for id_, name, tier, count in rows:
        # to a tenth first: a leap year (366/365 of the quota) still asks for the quota
        required = math.ceil(round(quotas.get(tier, 0) * fraction, 1))
        if required <= 0:
            continue
        total += 1
        if count < required:
            exceptions.append(
                {**_exception("customer", id_, name, "below_quota"), "done": int(count)}
                | {"required": required, "tier": tier}
            )
    return _result("3(二)", total, exceptions)


def planned_ahead(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """3(三): a visit planned at least a day before it takes place."""
    rows = conn.execute(
        sa.select(v.c.id, c.c.name, v.c.created_at, v.c.planned_at)
        .select_from(v.join(c, c.c.id == v.c.customer_id))
        .where(v.c.planned_at >= start, v.c.planned_at < end, v.c.state != "cancelled")
        .order_by(v.c.planned_at, v.c.id)
    ).all()
    exceptions = [
        _exception("visit", id_, name, "planned_late", planned)
        for id_, name, created, planned in rows
        if planned - created < AHEAD
    ]
    return _result("3(三)", len(rows), exceptions)


def records_on_time(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """4(三): a visit carried out has its record submitted before the record deadline fired."""
    late = _expired("visit", v.c.id, "record")
    rows = conn.execute(
        sa.select(v.c.id, c.c.name, v.c.planned_at, v.c.state, late.label("late"))
        .select_from(v.join(c, c.c.id == v.c.customer_id))
        .where(v.c.planned_at >= start, v.c.planned_at < end, v.c.state.in_(DONE))
        .order_by(v.c.planned_at, v.c.id)
    ).all()
    exceptions = [
        _exception("visit", r.id, r.name, "record_late", r.planned_at) for r in rows if r.late
    ]
    return _result("4(三)", len(rows), exceptions)


def reports_made(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """5(一): a recorded visit has its report, made before the report deadline fired."""
    late = _expired("visit", v.c.id, "report")
    rows = conn.execute(
        sa.select(v.c.id, c.c.name, v.c.planned_at, v.c.state, late.label("late"))
        .select_from(v.join(c, c.c.id == v.c.customer_id))
        .where(
            v.c.planned_at >= start,
            v.c.planned_at < end,
            v.c.state.in_(("recorded", "reported")),
        )
        .order_by(v.c.planned_at, v.c.id)
    ).all()
    exceptions = []
    for r in rows:
        if r.state != "reported":
            exceptions.append(_exception("visit", r.id, r.name, "no_report", r.planned_at))
        elif r.late:
            exceptions.append(_exception("visit", r.id, r.name, "report_late", r.planned_at))
    return _result("5(一)", len(rows), exceptions)


def ledger_closed(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """5(一)3: a ledger issue raised in the period closed with the customer's confirmation,
    resolved (its last resolution) by its deadline."""
    resolved_at = _last_event("issue", i.c.id, "resolve")
    rows = conn.execute(
        sa.select(i.c.id, i.c.title, i.c.state, i.c.due_at, resolved_at.label("resolved_at"))
        .where(i.c.created_at >= start, i.c.created_at < end)
        .order_by(i.c.created_at, i.c.id)
    ).all()
    exceptions = []
    for r in rows:
        if r.state != "customer_confirmed":
            exceptions.append(_exception("issue", r.id, r.title, "not_confirmed", r.due_at))
        elif r.due_at is not None and r.resolved_at is not None and r.resolved_at > r.due_at:
            exceptions.append(_exception("issue", r.id, r.title, "resolved_late", r.due_at))
    return _result("5(一)3", len(rows), exceptions)


def notices_handled(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """7(一)3: a rectification notice due in the period verified by its due date."""
    verified_at = _last_event("rectification", n.c.id, "verify")
    rows = conn.execute(
        sa.select(n.c.id, n.c.department, n.c.state, n.c.due_at, verified_at.label("verified_at"))
        .where(n.c.due_at >= start, n.c.due_at < end)
        .order_by(n.c.due_at, n.c.id)
    ).all()
    exceptions = []
    for r in rows:
        if r.state != "verified":
            exceptions.append(
                _exception("rectification", r.id, r.department, "not_verified", r.due_at)
            )
        elif r.verified_at is not None and r.verified_at > r.due_at:
            exceptions.append(
                _exception("rectification", r.id, r.department, "verified_late", r.due_at)
            )
    return _result("7(一)3", len(rows), exceptions)


CLAUSES: tuple[str, ...] = ("3(二)", "3(三)", "4(三)", "5(一)", "5(一)3", "7(一)3")


def report(
    conn: Connection, start: datetime, end: datetime, quotas: dict[str, int]
) -> list[dict[str, Any]]:
    """Every clause's section, in the regulation's order."""
    plain: list[Callable[[Connection, datetime, datetime], dict[str, Any]]] = [
        planned_ahead,
        records_on_time,
        reports_made,
        ledger_closed,
        notices_handled,
    ]
    return [visit_frequency(conn, start, end, quotas), *(f(conn, start, end) for f in plain)]
