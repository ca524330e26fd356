"""Counting: a period's KPI counts from the rows, by moment and by date."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from service.core import groups
from service.store.models import (
    CooperationVolume,
    Customer,
    CustomerSurvey,
    Issue,
    TransitionEvent,
    User,
    Visit,
    VisitVisitor,
)

DAY = timedelta(days=1)
# Counts anchored at a date (a volume's period_start) rather than at a moment.
DATE_MEASURES = ("new_projects", "new_areas", "new_business")

Counts = Counter[tuple[str, str]]


class utc_date(FunctionElement[date]):  # noqa: N801 (a SQL function)
    """The UTC calendar day of a stored timestamp."""

    type = sa.Date()
    inherit_cache = True


@compiles(utc_date)
def _utc_date_sqlite(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_pg(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC')::date"


class unindexed(FunctionElement[date]):  # noqa: N801 (a SQL function)
    """A column SQLite's planner must not look up by its index (`+column`)."""

    type = sa.Date()
    inherit_cache = True


@compiles(unindexed)
def _unindexed(element: unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)  # type: ignore[no-any-return]


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


# -- counting from the rows ------------------------------------------------------------
def count_moments(conn: Connection, lo: datetime, hi: datetime) -> Counts:
    """The counts anchored at a moment in [lo, hi), from the rows themselves."""
    took_place = Visit.__table__.c.state.in_(groups.took_place())
    out: Counts = Counter()
    for part in (
        _visits(conn, lo, hi, took_place),
        _issues(conn, lo, hi),
        _ratings(conn, lo, hi),
        _volumes(conn, lo, hi, took_place),
    ):
        out.update(part)  # unlike +, keeps the zero counts
    return out


def _visits(conn: Connection, lo: datetime, hi: datetime, done: sa.ColumnElement[bool]) -> Counts:
    """Visits done by tier; planned and done by person (visitor) and by department."""
    v, c, vv, u = (Visit.__table__, Customer.__table__, VisitVisitor.__table__, User.__table__)
    out: Counts = Counter()
    in_period = sa.and_(v.c.planned_at >= lo, v.c.planned_at < hi)
    for tier, n in conn.execute(
        sa.select(c.c.tier, sa.func.count())
        .select_from(v.join(c, c.c.id == v.c.customer_id))
        .where(in_period, done)
        .group_by(c.c.tier)
    ):
        out["done_tier", tier] += n
    for name, n, d in conn.execute(
        sa.select(vv.c.username, sa.func.count(), sa.func.sum(sa.case((done, 1), else_=0)))
        .select_from(v.join(vv, vv.c.visit_id == v.c.id))
        .where(in_period)
        .group_by(vv.c.username)
    ):
        out["planned_person", name] += n
        out["done_person", name] += d or 0
    # A visit counts once for a department however many of its people went.
    for dept, n, d in conn.execute(
        sa.select(
            u.c.department,
            sa.func.count(sa.distinct(v.c.id)),
            sa.func.count(sa.distinct(sa.case((done, v.c.id), else_=None))),
        )
        .select_from(v.join(vv, vv.c.visit_id == v.c.id).join(u, u.c.username == vv.c.username))
        .where(in_period, u.c.department.is_not(None))
        .group_by(u.c.department)
    ):
        out["planned_department", dept] += n
        out["done_department", dept] += d or 0
    return out


def _issues(conn: Connection, lo: datetime, hi: datetime) -> Counts:
    """Issues raised; of them resolved, resolved with a deadline, resolved by it."""
    i, e = Issue.__table__, TransitionEvent.__table__
    resolved = i.c.state.in_(groups.solved())
    with_due = sa.and_(resolved, i.c.due_at.is_not(None))
    resolved_at = (
        sa.select(sa.func.max(e.c.at))
        .where(e.c.workflow == "issue", e.c.instance_id == i.c.id, e.c.trigger == "resolve")
        .scalar_subquery()
    )
    raised, n_resolved, n_due, on_time = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((resolved, 1), else_=0)),
            sa.func.sum(sa.case((with_due, 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(with_due, resolved_at <= i.c.due_at), 1), else_=0)),
        ).where(i.c.created_at >= lo, i.c.created_at < hi)
    ).one()
    out: Counts = Counter()
    out["raised", ""] += raised
    out["resolved", ""] += n_resolved or 0
    out["resolved_with_deadline", ""] += n_due or 0
    out["on_time", ""] += on_time or 0
    return out


def _ratings(conn: Connection, lo: datetime, hi: datetime) -> Counts:
    """The satisfaction ratings of issue confirmations and of customer surveys."""
    e, s = TransitionEvent.__table__, CustomerSurvey.__table__
    out: Counts = Counter()
    rating = e.c.data["satisfaction"].as_integer()
    n, total = conn.execute(
        sa.select(sa.func.count(rating), sa.func.sum(rating)).where(
            e.c.workflow == "issue", e.c.trigger == "confirm", e.c.at >= lo, e.c.at < hi
        )
    ).one()
    out["confirmations", ""] += n
    out["confirmation_points", ""] += total or 0
    n, total = conn.execute(
        sa.select(sa.func.count(), sa.func.sum(s.c.score)).where(
            s.c.surveyed_at >= lo, s.c.surveyed_at < hi
        )
    ).one()
    out["surveys", ""] += n
    out["survey_points", ""] += total or 0
    return out


def _volumes(conn: Connection, lo: datetime, hi: datetime, done: sa.ColumnElement[bool]) -> Counts:
    """The cooperation volumes before and after each visit done, where both are known."""
    v, cv = Visit.__table__, CooperationVolume.__table__
    out: Counts = Counter()
    in_period = sa.and_(v.c.planned_at >= lo, v.c.planned_at < hi)
    day = utc_date(v.c.planned_at)
    same = cv.c.customer_id == v.c.customer_id
    amount = sa.type_coerce(cv.c.amount, sa.Float)  # summed in cents: no Decimal per row
    before = (
        sa.select(amount)
        .where(same, cv.c.period_start <= day)
        .order_by(cv.c.period_start.desc())
        .limit(1)
        .scalar_subquery()
    )
    after = (
        sa.select(amount)
        .where(same, cv.c.period_start > day)
        .order_by(cv.c.period_start)
        .limit(1)
        .scalar_subquery()
    )
    # Summed here: SQL filtering on both would run each lookup twice.
    for volume_before, volume_after in conn.execute(
        sa.select(before, after).where(in_period, done)
    ):
        if volume_before is not None and volume_after is not None:
            out["visits_compared", ""] += 1
            out["volume_before", ""] += round(volume_before * 100)  # in cents: exact sums
            out["volume_after", ""] += round(volume_after * 100)
    return out


def count_dates(conn: Connection, lo: date, hi: date) -> Counts:
    """The counts anchored at a date in [lo, hi) (cooperation volumes' period_start)."""
    cv = CooperationVolume.__table__
    projects, areas, records = conn.execute(
        sa.select(
            sa.func.sum(cv.c.projects),
            sa.func.sum(cv.c.new_areas),
            sa.func.sum(sa.case(((cv.c.projects > 0) | (cv.c.new_areas > 0), 1), else_=0)),
        ).where(cv.c.period_start >= lo, cv.c.period_start < hi)
    ).one()
    out: Counts = Counter()
    out["new_projects", ""] += projects or 0
    out["new_areas", ""] += areas or 0
    out["new_business", ""] += records or 0
    return out


# -- counting with the tallies ----------------------------------------------------------
