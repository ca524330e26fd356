"""Tallies: a period's counts from the daily tallies plus its partial and dirty days."""

from __future__ import annotations

import time as clock
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.reports.kpi.counting import (
    DATE_MEASURES,
    DAY,
    Counts,
    count_dates,
    count_moments,
    unindexed,
)
from service.store.models import (
    KpiDirty,
    KpiTally,
)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def count_day(conn: Connection, day: date) -> Counts:
    """Everything one day's tallies hold."""
    start = _midnight(day)
    return count_moments(conn, start, start + DAY) + count_dates(conn, day, day + DAY)


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
