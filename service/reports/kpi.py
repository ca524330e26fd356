"""Evaluation figures (domain sections 6 and 7) for a period [from, to).

- plan completion: visits done (visited, recorded, reported) planned in the period, against
  the visits due in it by the tier quotas (`POLICY["visit_quotas"]`, yearly, each quota's
  visits due at month-ends: `workflows.quotas`), a whole number, times the tier's customers;
  by department (of the visitors) and by person (visitor) against the visits they had
  planned in the period;
- issues raised in the period: the share resolved (resolved or customer_confirmed), and of
  the resolved ones with a deadline the share whose last `resolve` event came by `due_at`;
- satisfaction: the ratings of issue confirmations (`confirm` events in the period) and of
  customer surveys (surveyed in the period), 1-5;
- cooperation growth: for each done visit of the period, the customer's cooperation volume
  of the volume period the visit fell in (the latest `period_start` on or before its UTC
  day) against that of the next one; visits with both recorded are compared. Loyalty: new
  projects and new areas of the volume periods starting in the period.

Every figure is a sum of counts, and a count over a period is the sum of its days' counts.
So the counts are kept per day in `kpi_tallies` (the UTC day of the moment a count is
anchored at, or a volume's `period_start`): a period is its whole days from the tallies
plus its partial first and last days counted from the rows. Database triggers mark a day
dirty when a row it counts changes (migration 0006); dirty days are counted from the rows
too, until `refresh` (the worker, every `KPI_REFRESH_INTERVAL`) has recounted them. The
rows are the truth; the tallies only make a year cost a few tens of thousands of rows.
"""

from __future__ import annotations

import time as clock
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from service.store.models import (
    CooperationVolume,
    Customer,
    CustomerSurvey,
    Issue,
    KpiDirty,
    KpiTally,
    TransitionEvent,
    User,
    Visit,
    VisitVisitor,
)
from workflows.quotas import Quotas

DONE = ("visited", "recorded", "reported")
RESOLVED = ("resolved", "customer_confirmed")
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


def _rate(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


# -- counting from the rows ------------------------------------------------------------
def count_moments(conn: Connection, lo: datetime, hi: datetime) -> Counts:
    """The counts anchored at a moment in [lo, hi), from the rows themselves."""
    v, c, vv, u = (Visit.__table__, Customer.__table__, VisitVisitor.__table__, User.__table__)
    i, e, s, cv = (
        Issue.__table__,
        TransitionEvent.__table__,
        CustomerSurvey.__table__,
        CooperationVolume.__table__,
    )
    out: Counts = Counter()
    in_period = sa.and_(v.c.planned_at >= lo, v.c.planned_at < hi)
    done = v.c.state.in_(DONE)
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

    resolved = i.c.state.in_(RESOLVED)
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
    out["raised", ""] += raised
    out["resolved", ""] += n_resolved or 0
    out["resolved_with_deadline", ""] += n_due or 0
    out["on_time", ""] += on_time or 0

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


def count_day(conn: Connection, day: date) -> Counts:
    """Everything one day's tallies hold."""
    start = _midnight(day)
    return count_moments(conn, start, start + DAY) + count_dates(conn, day, day + DAY)


# -- counting with the tallies ----------------------------------------------------------
def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _days_within(start: datetime, end: datetime) -> tuple[date, date]:
    """The UTC days wholly inside [start, end): [first, last)."""
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    first = lo.date() if lo == _midnight(lo.date()) else lo.date() + DAY
    return first, hi.date()


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as [first, last + 1) ranges."""
    run: list[date] = []
    for day in sorted(days):
        if run and day != run[-1] + DAY:
            yield run[0], run[-1] + DAY
            run = []
        run.append(day)
    if run:
        yield run[0], run[-1] + DAY


def _tallied(conn: Connection, lo: date, hi: date, dirty: list[date], dates: bool) -> Counts:
    t = KpiTally.__table__
    kind = t.c.measure.in_(DATE_MEASURES)
    # Most rows are of the moment measures: read them in key order, summed as they come,
    # rather than found by day and sorted for GROUP BY (SQLite's pick without statistics).
    day = t.c.day if dates else unindexed(t.c.day)
    where = [day >= lo, day < hi, kind if dates else ~kind]
    if dirty:
        where.append(t.c.day.not_in(dirty))
    out: Counts = Counter()
    for measure, key, value in conn.execute(
        sa.select(t.c.measure, t.c.key, sa.func.sum(t.c.value))
        .where(*where)
        .group_by(t.c.measure, t.c.key)
    ):
        out[measure, key] += round(value)
    return out


def counts(conn: Connection, start: datetime, end: datetime, tallies: bool = True) -> Counts:
    """The period's counts: whole clean days from the tallies, the rest from the rows."""
    d_lo, d_hi = start.date(), end.date()  # volume periods: the period's own calendar days
    if not tallies:
        return count_moments(conn, start, end) + count_dates(conn, d_lo, d_hi)
    first, last = _days_within(start, end)
    dirty: list[date] = list(
        conn.execute(
            sa.select(KpiDirty.day)
            .distinct()
            .where(KpiDirty.day >= min(first, d_lo), KpiDirty.day < max(last, d_hi))
        ).scalars()
    )
    out: Counts = Counter()
    if first < last:
        if start < _midnight(first):
            out += count_moments(conn, start, _midnight(first))
        if _midnight(last) < end:
            out += count_moments(conn, _midnight(last), end)
        inside = [d for d in dirty if first <= d < last]
        out += _tallied(conn, first, last, inside, dates=False)
        for lo, hi in _runs(inside):
            out += count_moments(conn, _midnight(lo), _midnight(hi))
    else:
        out += count_moments(conn, start, end)
    if d_lo < d_hi:
        inside = [d for d in dirty if d_lo <= d < d_hi]
        out += _tallied(conn, d_lo, d_hi, inside, dates=True)
        for lo, hi in _runs(inside):
            out += count_dates(conn, lo, hi)
    return out


def refresh(conn: Connection, budget: float = 0.05) -> int:
    """Recount dirty days into the tallies, oldest first, for about `budget` seconds.

    Runs inside the caller's write transaction. A day's marks are removed before it is
    recounted, so a change committed meanwhile leaves its own mark for the next round.
    Returns the number of days recounted.
    """
    d, t = KpiDirty.__table__, KpiTally.__table__
    deadline = clock.monotonic() + budget
    done = 0
    while clock.monotonic() < deadline or not done:
        day = conn.execute(sa.select(sa.func.min(d.c.day))).scalar()
        if day is None:
            break
        conn.execute(sa.delete(d).where(d.c.day == day))
        conn.execute(sa.delete(t).where(t.c.day == day))
        rows = [
            {"day": day, "measure": measure, "key": key, "value": value}
            for (measure, key), value in count_day(conn, day).items()
            if value
        ]
        if rows:
            conn.execute(sa.insert(t), rows)
        done += 1
    return done


# -- the figures ------------------------------------------------------------------------
def _by(c: Counts, planned: str, done: str, label: str) -> list[dict[str, Any]]:
    keys = sorted({k for (m, k), n in c.items() if m == planned and n})
    return [
        {
            label: key,
            "planned": int(c[planned, key]),
            "done": int(c[done, key]),
            "rate": _rate(c[done, key], c[planned, key]),
        }
        for key in keys
    ]


def plan_completion(
    conn: Connection, c: Counts, start: datetime, end: datetime, quotas: Quotas
) -> dict[str, Any]:
    """Per tier, visits done against the visits due in the period (`quotas.due_between`
    times the tier's customers): whole numbers; no rate where nothing is due."""
    customer = Customer.__table__
    customers: dict[str, int] = dict(
        conn.execute(sa.select(customer.c.tier, sa.func.count()).group_by(customer.c.tier)).all()
    )
    done_tiers = {k for (m, k), n in c.items() if m == "done_tier" and n}
    by_tier: list[dict[str, Any]] = []
    for tier in sorted(quotas.tiers() | set(customers) | done_tiers):
        count = int(customers.get(tier, 0))
        required = count * quotas.due_between(tier, start, end)
        done = int(c["done_tier", tier])
        by_tier.append(
            {
                "tier": tier,
                "customers": count,
                "required": required,
                "done": done,
                "rate": _rate(done, required),
            }
        )
    required_total = sum(t["required"] for t in by_tier)
    done_total = sum(t["done"] for t in by_tier)
    return {
        "required": required_total,
        "done": done_total,
        "rate": _rate(done_total, required_total),
        "by_tier": by_tier,
        "by_department": _by(c, "planned_department", "done_department", "department"),
        "by_person": _by(c, "planned_person", "done_person", "person"),
    }


def issue_resolution(c: Counts) -> dict[str, Any]:
    raised, resolved = int(c["raised", ""]), int(c["resolved", ""])
    with_due, on_time = int(c["resolved_with_deadline", ""]), int(c["on_time", ""])
    return {
        "raised": raised,
        "resolved": resolved,
        "resolution_rate": _rate(resolved, raised),
        "resolved_with_deadline": with_due,
        "on_time": on_time,
        "on_time_rate": _rate(on_time, with_due),
    }


def satisfaction(c: Counts) -> dict[str, Any]:
    n_conf, sum_conf = int(c["confirmations", ""]), int(c["confirmation_points", ""])
    n_surv, sum_surv = int(c["surveys", ""]), int(c["survey_points", ""])
    return {
        "confirmations": n_conf,
        "confirmation_average": _rate(sum_conf, n_conf),
        "surveys": n_surv,
        "survey_average": _rate(sum_surv, n_surv),
        "average": _rate(sum_conf + sum_surv, n_conf + n_surv),
    }


def cooperation(c: Counts) -> dict[str, Any]:
    before, after = c["volume_before", ""] / 100, c["volume_after", ""] / 100
    return {
        "visits_compared": int(c["visits_compared", ""]),
        "volume_before": before,
        "volume_after": after,
        "growth": round(after / before, 4) if before else None,
        "new_projects": int(c["new_projects", ""]),
        "new_areas": int(c["new_areas", ""]),
        "volumes_with_new_business": int(c["new_business", ""]),
    }


def figures(
    conn: Connection,
    start: datetime,
    end: datetime,
    quotas: Quotas,
    tallies: bool = True,
) -> dict[str, Any]:
    """The period's figures; `tallies=False` counts everything from the rows (the check).
    `quotas` says what the tiers' customers owe in the period (`runtime.quotas()`)."""
    c = counts(conn, start, end, tallies)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "plan_completion": plan_completion(conn, c, start, end, quotas),
        "issues": issue_resolution(c),
        "satisfaction": satisfaction(c),
        "cooperation": cooperation(c),
    }
