"""The annual visit plan: pure planning over a business calendar, no I/O.

For a year (from a given day on), each customer gets the visits its tier's quota still
needs (quota minus the visits it already has that year, never negative), spread evenly
over the remaining workdays and never closer than `min_gap` working days to another visit
of the same customer (existing ones included). What does not fit is not crammed in: each
customer's shortfall says how many visits were not placed and why (no working day left;
the gap leaves room for fewer; no free visitor on the days that keep the gap).

A workday has half-day slots (09:30 and 14:30 by default, in working hours); no visitor is
booked twice in one half day nor more than `max_per_day` times a day, counting existing
bookings, and each visit takes the least-loaded free visitor of each group (one marketing
person, then technical or after-sales people), the load being a visitor's existing visits
in the period plus those planned. Clashes already present in the existing bookings (a
visitor with two visits in one half day) are reported. The result depends only on the
inputs.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from workflows.calendar import BusinessCalendar
from workflows.placement import (
    Book,
    CustomerDays,
    ProposedVisit,
    book_of,
    earliest_fit,
    half_day,
    place,
    spread,
)

__all__ = [
    "DEFAULT_SLOTS",
    "Clash",
    "Plan",
    "ProposedVisit",
    "Shortfall",
    "default_min_gap",
    "plan_year",
]

DEFAULT_SLOTS: tuple[time, ...] = (time(9, 30), time(14, 30))
WORKING_DAYS_A_YEAR = 250  # about: 365 days less weekends and the 13 days of public holidays

# Why visits were not placed (Shortfall.reasons' keys)
NO_DAYS = "no_days"  # no working day left in the year
GAP = "gap"  # the remaining working days hold fewer visits min_gap apart
BUSY = "busy"  # no free visitor on the days that keep the gap


def default_min_gap(quotas: Mapping[str, int]) -> int:
    """Half the spacing of the largest quota over a year's working days: 10 for 12 a year,
    so that the largest quota fits with room for holidays and busy visitors."""
    largest = max((int(q) for q in quotas.values()), default=0)
    return max(1, WORKING_DAYS_A_YEAR // max(largest, 1) // 2)


@dataclass(frozen=True, slots=True)
class Clash:
    """A visitor booked more than once in one half day (`times` in the calendar's zone)."""

    username: str
    day: date
    half: str  # am | pm
    times: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A customer's visits wanted (quota less existing), planned, and not placed by reason."""

    customer_id: int
    tier: str
    quota: int
    existing: int
    wanted: int
    planned: int
    fits: int  # how many visits min_gap apart the remaining working days hold
    reasons: Mapping[str, int] = field(default_factory=dict)

    @property
    def not_placed(self) -> int:
        return self.wanted - self.planned


@dataclass(frozen=True, slots=True)
class Plan:
    year: int
    start: date
    visits: tuple[ProposedVisit, ...]
    clashes: tuple[Clash, ...]
    # per customer: (tier, quota, existing, proposed)
    needs: Mapping[int, tuple[str, int, int, int]] = field(default_factory=dict)
    unplaced: Mapping[int, int] = field(default_factory=dict)  # customer -> visits not placed
    shortfalls: tuple[Shortfall, ...] = ()  # the customers with visits not placed
    loads: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # existing, planned
    min_gap: int = 0
    working_days: int = 0  # the workdays from start to the end of the year

    def summary(self) -> dict[str, dict[str, int]]:
        """Per tier: customers, the quota they add up to, visits existing and proposed."""
        out: dict[str, dict[str, int]] = {}
        for customer_id, (tier, quota, existing, proposed) in sorted(self.needs.items()):
            row = out.setdefault(
                tier, {"customers": 0, "quota": 0, "existing": 0, "proposed": 0, "unplaced": 0}
            )
            row["customers"] += 1
            row["quota"] += quota
            row["existing"] += existing
            row["proposed"] += proposed
            row["unplaced"] += self.unplaced.get(customer_id, 0)
        return out


def find_clashes(
    bookings: Iterable[tuple[str, datetime]], calendar: BusinessCalendar
) -> list[Clash]:
    """Every visitor with two or more bookings in one half day, sorted."""
    by_slot: dict[tuple[str, date, str], list[datetime]] = defaultdict(list)
    for username, moment in bookings:
        day, half = half_day(moment, calendar)
        by_slot[(username, day, half)].append(moment.astimezone(calendar.tz))
    return [
        Clash(username, day, half, tuple(sorted(times)))
        for (username, day, half), times in sorted(by_slot.items())
        if len(times) > 1
    ]


def remaining_workdays(year: int, start: date, calendar: BusinessCalendar) -> list[date]:
    day = max(start, date(year, 1, 1))
    last = date(year, 12, 31)
    out = []
    while day <= last:
        if calendar.is_workday(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def plan_year(
    year: int,
    customers: Sequence[tuple[int, str]],
    quotas: Mapping[str, int],
    existing: Mapping[int, Sequence[datetime]],
    visitor_groups: Sequence[Sequence[str]],
    bookings: Sequence[tuple[str, datetime]],
    calendar: BusinessCalendar,
    start: date | None = None,
    slots: Sequence[time] = DEFAULT_SLOTS,
    visitors_per_visit: int = 2,
    min_gap: int | None = None,
    max_per_day: int = 1,
) -> Plan:
    """Propose the visits of `year` from `start` (default 1 January) on.

    `customers` are (id, tier); `existing` a customer's non-cancelled visits of the year;
    `visitor_groups` the pool by role in the order a visit takes them (marketing first,
    then technical and after-sales); `bookings` every visitor's existing visits.
    A visit gets one visitor from each group in turn (the last group fills the rest),
    falling back to any free visitor of another group. `min_gap` (working days between two
    visits of one customer) defaults to `default_min_gap(quotas)`; `max_per_day` caps a
    visitor's visits a day.
    """
    gap = default_min_gap(quotas) if min_gap is None else min_gap
    start = start or date(year, 1, 1)
    _check(year, start, slots, visitors_per_visit, gap, max_per_day)
    year_days = remaining_workdays(year, date(year, 1, 1), calendar)
    first = bisect_right(year_days, start - timedelta(days=1))  # index of the first day left
    days = year_days[first:]

    def position(moment: datetime) -> int:  # working days from 1 January up to that day
        return bisect_right(year_days, moment.astimezone(calendar.tz).date())

    book = book_of(visitor_groups, max_per_day, bookings, start, year, calendar)
    taken = {
        customer_id: CustomerDays(sorted(position(m) for m in existing.get(customer_id, ())), gap)
        for customer_id, _tier in customers
    }
    wanted, rows = _wanted(customers, quotas, existing, taken, first, len(days))
    visits: list[ProposedVisit] = []
    placed: dict[int, int] = defaultdict(int)
    for target, customer_id in wanted:
        proposal = None
        for crew in (visitors_per_visit, 1):  # a full crew if any day has one, else fewer
            proposal = proposal or place(
                round(target), taken[customer_id], customer_id, days, first, slots,
                (visitors_per_visit, crew), book, calendar,
            )  # fmt: skip
        if proposal is not None:
            placed[customer_id] += 1
            visits.append(proposal)
    visits.sort(key=lambda v: (v.planned_at, v.customer_id))
    return _result(year, start, visits, bookings, calendar, rows, placed, book, gap, len(days))


def _check(
    year: int,
    start: date,
    slots: Sequence[time],
    visitors_per_visit: int,
    gap: int,
    max_per_day: int,
) -> None:
    if visitors_per_visit < 1:
        raise ValueError("visitors_per_visit must be at least 1")
    if not slots:
        raise ValueError("at least one time slot is needed")
    if max_per_day < 1:
        raise ValueError("max_per_day must be at least 1")
    if gap < 0:
        raise ValueError("min_gap must not be negative")
    if start.year != year:
        raise ValueError(f"start {start} is not in {year}")


def _wanted(
    customers: Sequence[tuple[int, str]],
    quotas: Mapping[str, int],
    existing: Mapping[int, Sequence[datetime]],
    taken: Mapping[int, CustomerDays],
    first: int,
    length: int,
) -> tuple[list[tuple[float, int]], dict[int, tuple[str, int, int, int, int]]]:
    """The visits to place as (target index in the days left, customer), in target order,
    and per customer (tier, quota, visits it has, visits wanted, visits that fit)."""
    wanted: list[tuple[float, int]] = []
    rows: dict[int, tuple[str, int, int, int, int]] = {}
    for customer_id, tier in sorted(customers):
        quota = int(quotas.get(tier, 0))
        have = len(existing.get(customer_id, ()))
        count = max(0, quota - have)
        days = taken[customer_id]
        fitting = earliest_fit(days, first, length)
        rows[customer_id] = (tier, quota, have, count, len(fitting))
        wanted += [(t, customer_id) for t in spread(count, fitting, length, days.gap)]
    wanted.sort()
    return wanted, rows


def _result(
    year: int,
    start: date,
    visits: list[ProposedVisit],
    bookings: Sequence[tuple[str, datetime]],
    calendar: BusinessCalendar,
    rows: Mapping[int, tuple[str, int, int, int, int]],
    placed: Mapping[int, int],
    book: Book,
    gap: int,
    length: int,
) -> Plan:
    needs: dict[int, tuple[str, int, int, int]] = {}
    unplaced: dict[int, int] = {}
    shortfalls = []
    for customer_id, (tier, quota, have, count, fits) in rows.items():
        done = placed.get(customer_id, 0)
        needs[customer_id] = (tier, quota, have, done)
        if done >= count:
            continue
        unplaced[customer_id] = count - done
        reasons: dict[str, int] = {}
        if length == 0:
            reasons[NO_DAYS] = count
        else:
            if fits < count:
                reasons[GAP] = count - fits
            if done < min(count, fits):
                reasons[BUSY] = min(count, fits) - done
        shortfalls.append(Shortfall(customer_id, tier, quota, have, count, done, fits, reasons))
    loads = {
        name: (book.existing.get(name, 0), book.planned.get(name, 0)) for name in book.existing
    }
    return Plan(
        year, start, tuple(visits), tuple(find_clashes(bookings, calendar)), needs, unplaced,
        tuple(shortfalls), loads, gap, length,
    )  # fmt: skip
