"""The compliance report (issue 7): for a period [start, end), clause by clause of the
regulation, how many cases VisitFlow holds evidence for and every exception.

One function per clause builds its `Cases`: the SQL of the clause's cases in the period
and of the condition that makes one an exception. The database counts them and pages
through the exceptions in a stable order, so a page costs what it shows, not the year;
`stream` walks every exception in chunks for a download. An exception is
`{"workflow", "id", "name", "reason", "at"}` with `reason` a code the page translates.
Nothing here reads a request; the states of a visit that took place are the definition's
(`service.core.groups`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from service.core import groups
from service.reports.compliance_sql import (
    any_deadline_running,
    c,
    customer_name,
    deadline_expired,
    deadline_running,
    exception_columns,
    i,
    last_event,
    less_than_a_day,
    n,
    v,
)
from workflows.quotas import Quotas


@dataclass(frozen=True)
class Cases:
    """A clause's cases in a period: the rows of `source` that match `where`; those that
    also match `exception` are its exceptions, `columns` (labelled `id`, `name`, `reason`,
    `at` and any extra) in `order` (ending with a unique key, so that pages are stable)."""

    clause: str
    workflow: str
    source: sa.FromClause
    where: sa.ColumnElement[bool]
    exception: sa.ColumnElement[bool]
    columns: tuple[sa.ColumnElement[Any], ...]
    order: tuple[sa.ColumnElement[Any], ...]
    progress: sa.ColumnElement[bool] = sa.false()

    def exceptions(self) -> sa.Select[Any]:
        return self.matching(self.exception)

    def in_progress(self) -> sa.Select[Any]:
        return self.matching(self.progress)

    def matching(self, condition: sa.ColumnElement[bool]) -> sa.Select[Any]:
        return (
            sa.select(*self.columns)
            .select_from(self.source)
            .where(self.where, condition)
            .order_by(*self.order)
        )


def as_of(end: datetime, now: datetime) -> datetime:
    """The report's moment: the end of its period (the start of the day after its last
    one), or now when the period runs into the future. A deadline at or before it has
    passed; one after it is still running."""
    return min(end, now)


def required_visits(quotas: Quotas, start: datetime, end: datetime) -> dict[str, int]:
    """Per tier, the visits one of its customers owes in [start, end) (only the tiers owing
    some): its quota's visits falling due at the month-ends in the period (workflows.quotas)."""
    owed = {tier: quotas.due_between(tier, start, end) for tier in sorted(quotas.tiers())}
    return {tier: n for tier, n in owed.items() if n > 0}


def _per_tier(owed: Mapping[str, int]) -> sa.ColumnElement[int]:
    return sa.case(owed, value=c.c.tier, else_=0) if owed else sa.literal(0, sa.Integer)


def took_place(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    """Visits planned in [start, end) that took place (the definition's state group)."""
    return sa.and_(
        v.c.planned_at >= start, v.c.planned_at < end, v.c.state.in_(groups.took_place())
    )


def visit_frequency(start: datetime, end: datetime, quotas: Quotas, moment: datetime) -> Cases:
    """3(二): every customer visited as often as its tier's quota asks in the period, each
    visit due at the end of its month. Short of the visits already due by `moment` is an
    exception (shown against those); short only of visits due later is in progress."""
    owed = required_visits(quotas, start, end)
    due = required_visits(quotas, start, min(end, moment))
    done = (
        sa.select(v.c.customer_id, sa.func.count().label("n"))
        .where(took_place(start, end))
        .group_by(v.c.customer_id)
        .subquery()
    )
    count = sa.func.coalesce(done.c.n, 0)
    required, due_now = _per_tier(owed), _per_tier(due)
    behind = count < due_now
    # constant where they cannot hold, so that the database skips those queries: nothing
    # due yet, or (a period over) everything due
    exception = behind if due else sa.false()
    progress = sa.and_(sa.not_(behind), count < required) if due != owed else sa.false()
    return Cases(
        clause="3(二)",
        workflow="customer",
        source=c.outerjoin(done, done.c.customer_id == c.c.id),
        where=c.c.tier.in_(sorted(owed)),
        exception=exception,
        progress=progress,
        columns=(
            *exception_columns(c.c.id, c.c.name, "below_quota", None),
            count.label("done"),
            sa.case((behind, due_now), else_=required).label("required"),
            c.c.tier.label("tier"),
        ),
        order=(c.c.name, c.c.id),
    )


def planned_ahead(start: datetime, end: datetime, moment: datetime) -> Cases:
    """3(三): a visit planned at least a day before it takes place."""
    return Cases(
        clause="3(三)",
        workflow="visit",
        source=v,
        where=sa.and_(v.c.planned_at >= start, v.c.planned_at < end, v.c.state != "cancelled"),
        exception=less_than_a_day(v.c.created_at, v.c.planned_at),
        columns=exception_columns(
            v.c.id, customer_name(v.c.customer_id), "planned_late", v.c.planned_at
        ),
        order=(v.c.planned_at, v.c.id),
    )


def checked_in(start: datetime, end: datetime, moment: datetime) -> Cases:
    """4(二): a visit that took place has a valid check-in (usecases.checkins): one, with no
    flag (outside every site's radius, poor accuracy, a device clock off the server's)."""
    flagged = sa.func.coalesce(sa.cast(v.c.checkin_flags, sa.String), "[]") != "[]"
    return Cases(
        clause="4(二)",
        workflow="visit",
        source=v,
        where=took_place(start, end),
        exception=sa.or_(sa.not_(v.c.checked_in), flagged),
        columns=exception_columns(
            v.c.id,
            customer_name(v.c.customer_id),
            sa.case((sa.not_(v.c.checked_in), "no_check_in"), else_="check_in_flagged"),
            v.c.planned_at,
        ),
        order=(v.c.planned_at, v.c.id),
    )


def records_on_time(start: datetime, end: datetime, moment: datetime) -> Cases:
    """4(三): a visit carried out has its record submitted before the record deadline fired;
    one still waiting for its record while that deadline runs is in progress."""
    expired = deadline_expired("visit", v.c.id, "record")
    return Cases(
        clause="4(三)",
        workflow="visit",
        source=v,
        where=took_place(start, end),
        exception=expired,
        progress=sa.and_(
            v.c.state == "visited",
            sa.not_(expired),
            deadline_running("visit", v.c.id, "record", moment),
        ),
        columns=exception_columns(
            v.c.id, customer_name(v.c.customer_id), "record_late", v.c.planned_at
        ),
        order=(v.c.planned_at, v.c.id),
    )


class Settling(NamedTuple):
    """How a case is settled in time: it is an exception while `unsettled` or once `late`,
    unless it still `running` (in progress); `reasons` name the two exceptions."""

    unsettled: sa.ColumnElement[bool]
    late: sa.ColumnElement[bool]
    running: sa.ColumnElement[bool]
    reasons: tuple[str, str]  # (still unsettled, settled late)


def settled_in_time(
    clause: str,
    workflow: str,
    source: sa.FromClause,
    where: sa.ColumnElement[bool],
    settling: Settling,
    shown: tuple[Any, Any, Any],
    order: tuple[sa.ColumnElement[Any], ...] | None = None,
) -> Cases:
    """A clause whose cases must be settled by a deadline; `shown` is (id, name, at), and
    the cases are in `at`'s order unless `order` says otherwise."""
    key, name, at = shown
    unsettled_reason, late_reason = settling.reasons
    return Cases(
        clause=clause,
        workflow=workflow,
        source=source,
        where=where,
        exception=sa.and_(sa.or_(settling.unsettled, settling.late), sa.not_(settling.running)),
        progress=settling.running,
        columns=exception_columns(
            key, name, sa.case((settling.unsettled, unsettled_reason), else_=late_reason), at
        ),
        order=order or (at, key),
    )


def reports_made(start: datetime, end: datetime, moment: datetime) -> Cases:
    """5(一): a recorded visit has its report, made before the report deadline fired; one
    unreported while its report deadline runs past the report's moment is in progress."""
    unreported = v.c.state != "reported"
    expired = deadline_expired("visit", v.c.id, "report")
    running = sa.and_(
        unreported, sa.not_(expired), deadline_running("visit", v.c.id, "report", moment)
    )
    return settled_in_time(
        "5(一)",
        "visit",
        v,
        sa.and_(
            v.c.planned_at >= start,
            v.c.planned_at < end,
            v.c.state.in_(("recorded", "reported")),
        ),
        Settling(unreported, expired, running, ("no_report", "report_late")),
        (v.c.id, customer_name(v.c.customer_id), v.c.planned_at),
    )


def ledger_closed(start: datetime, end: datetime, moment: datetime) -> Cases:
    """5(一)3: a ledger issue raised in the period closed with the customer's confirmation,
    resolved (its last resolution) by its deadline. One open before its deadline (the
    ledger's, or while unassigned its answer deadline) is in progress."""
    open_ = i.c.state != "customer_confirmed"
    running = sa.and_(
        open_,
        sa.or_(
            i.c.due_at > moment,
            sa.and_(i.c.due_at.is_(None), any_deadline_running("issue", i.c.id, moment)),
        ),
    )
    # a NULL comparison (no deadline, never resolved) is no exception, as in Python
    late = last_event("issue", i.c.id, "resolve") > i.c.due_at
    return settled_in_time(
        "5(一)3",
        "issue",
        i,
        sa.and_(i.c.created_at >= start, i.c.created_at < end),
        Settling(open_, late, running, ("not_confirmed", "resolved_late")),
        (i.c.id, i.c.title, i.c.due_at),
        order=(i.c.created_at, i.c.id),
    )


def notices_handled(start: datetime, end: datetime, moment: datetime) -> Cases:
    """7(一)3: a rectification notice due in the period verified by its due date; one
    unverified and due after the report's moment is in progress."""
    unverified = n.c.state != "verified"
    running = sa.and_(unverified, n.c.due_at > moment)
    late = last_event("rectification", n.c.id, "verify") > n.c.due_at
    return settled_in_time(
        "7(一)3",
        "rectification",
        n,
        sa.and_(n.c.due_at >= start, n.c.due_at < end),
        Settling(unverified, late, running, ("not_verified", "verified_late")),
        (n.c.id, n.c.department, n.c.due_at),
    )


CLAUSES: tuple[str, ...] = ("3(二)", "3(三)", "4(二)", "4(三)", "5(一)", "5(一)3", "7(一)3")
_PLAIN = {
    "3(三)": planned_ahead,
    "4(二)": checked_in,
    "4(三)": records_on_time,
    "5(一)": reports_made,
    "5(一)3": ledger_closed,
    "7(一)3": notices_handled,
}


def cases(clause: str, start: datetime, end: datetime, quotas: Quotas, moment: datetime) -> Cases:
    """The clause's cases in the period as of `moment` (see `as_of`); KeyError for a
    clause not in CLAUSES."""
    if clause == "3(二)":
        return visit_frequency(start, end, quotas, moment)
    return _PLAIN[clause](start, end, moment)


def count(conn: Connection, of: Cases) -> tuple[int, int, int]:
    """(cases, exceptions, in progress): each case is one row, at most one of the two."""

    def tally(condition: sa.ColumnElement[bool]) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    total, exceptions, running = conn.execute(
        sa.select(sa.func.count(), tally(of.exception), tally(of.progress))
        .select_from(of.source)
        .where(of.where)
    ).one()
    return int(total), int(exceptions), int(running)


def _exception(workflow: str, row: RowMapping) -> dict[str, Any]:
    found = {"workflow": workflow, **row, "id": int(row["id"])}
    if workflow == "customer":
        found.update(done=int(row["done"]), required=int(row["required"]))
    return found


def exceptions(
    conn: Connection,
    of: Cases,
    limit: int | None = None,
    offset: int = 0,
    running: bool = False,
) -> list[dict[str, Any]]:
    """The exceptions (or with `running` the cases in progress) in order: all of them, or
    `limit` of them after the first `offset`."""
    query = of.in_progress() if running else of.exceptions()
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [_exception(of.workflow, row) for row in conn.execute(query).mappings()]


def stream(
    conn: Connection, of: Cases, chunk: int = 1000, running: bool = False
) -> Iterator[dict[str, Any]]:
    """Every exception (or case in progress) in order, fetched `chunk` rows at a time (a
    server-side cursor on PostgreSQL): memory stays flat however many there are. Consume
    it with `conn` open."""
    query = of.in_progress() if running else of.exceptions()
    result = conn.execute(query.execution_options(yield_per=chunk))
    try:
        for row in result.mappings():
            yield _exception(of.workflow, row)
    finally:
        result.close()


def section(
    conn: Connection,
    clause: str,
    start: datetime,
    end: datetime,
    quotas: Quotas,
    moment: datetime,
    limit: int | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """`{"clause", "total", "compliant", "exception_count", "exceptions",
    "in_progress_count", "in_progress"}` as of `moment`: the clause's counts, its
    exceptions (all of them or `limit` after `offset`) and its cases still running (all,
    or the first `limit`), which are neither compliant nor exceptions."""
    of = cases(clause, start, end, quotas, moment)
    total, broken, running = count(conn, of)
    return {
        "clause": clause,
        "total": total,
        "compliant": total - broken - running,
        "exception_count": broken,
        "exceptions": exceptions(conn, of, limit, offset) if broken else [],
        "in_progress_count": running,
        "in_progress": exceptions(conn, of, limit, running=True) if running else [],
    }


def report(
    conn: Connection,
    start: datetime,
    end: datetime,
    quotas: Quotas,
    moment: datetime,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Every clause's section as of `moment`, in the regulation's order, with at most
    `limit` exceptions and cases in progress each (every one without)."""
    return [section(conn, clause, start, end, quotas, moment, limit) for clause in CLAUSES]
