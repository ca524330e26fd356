"""The annual visit plan: pure planning over a business calendar, no I/O.

For a year (from a given day on), each customer gets the visits its tier's quota still
needs (quota minus the visits it already has that year, never negative), spread evenly
over the remaining workdays. A workday has half-day slots (09:30 and 14:30 by default);
no visitor is booked twice in one half day, counting existing bookings, and each visit
takes the least-loaded free visitor of each group (one marketing person, then technical
or after-sales people). Clashes already present in the existing bookings (a visitor with
two visits in one half day) are reported. The result depends only on the inputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from workflows.calendar import BusinessCalendar

__all__ = ["Clash", "Plan", "ProposedVisit", "plan_year", "DEFAULT_SLOTS"]

DEFAULT_SLOTS: tuple[time, ...] = (time(9, 30), time(14, 30))
HalfDay = tuple[date, str]  # (local date, "am" | "pm")


@dataclass(frozen=True, slots=True)
class ProposedVisit:
    customer_id: int
    planned_at: datetime  # aware, in the calendar's time zone
    visitors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Clash:
    """A visitor booked more than once in one half day (`times` in the calendar's zone)."""

    username: str
    day: date
    half: str  # am | pm
    times: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    year: int
    start: date
    visits: tuple[ProposedVisit, ...]
    clashes: tuple[Clash, ...]
    # per customer: (tier, quota, existing, proposed)
    needs: Mapping[int, tuple[str, int, int, int]] = field(default_factory=dict)
    unplaced: Mapping[int, int] = field(default_factory=dict)  # customer -> visits not placed

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


def half_day(moment: datetime, calendar: BusinessCalendar) -> HalfDay:
    local = moment.astimezone(calendar.tz)
    return local.date(), ("am" if local.hour < 12 else "pm")


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


def _offsets(limit: int) -> Iterable[int]:
    """0, +1, -1, +2, -2, ...: the target day first, then ever farther either side."""
    yield 0
    for step in range(1, limit + 1):
        yield step
        yield -step


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
) -> Plan:
    """Propose the visits of `year` from `start` (default 1 January) on.

    `customers` are (id, tier); `existing` a customer's non-cancelled visits of the year;
    `visitor_groups` the pool by role in the order a visit takes them (marketing first,
    then technical and after-sales); `bookings` every visitor's existing visits.
    A visit gets one visitor from each group in turn (the last group fills the rest),
    falling back to any free visitor of another group.
    """
    if visitors_per_visit < 1:
        raise ValueError("visitors_per_visit must be at least 1")
    if not slots:
        raise ValueError("at least one time slot is needed")
    start = start or date(year, 1, 1)
    if start.year != year:
        raise ValueError(f"start {start} is not in {year}")
    days = remaining_workdays(year, start, calendar)
    clashes = find_clashes(bookings, calendar)

    groups = [sorted(set(g)) for g in visitor_groups if g]
    busy: set[tuple[str, date, str]] = set()
    load: dict[str, int] = {name: 0 for g in groups for name in g}
    for username, moment in bookings:
        day, half = half_day(moment, calendar)
        busy.add((username, day, half))
        if username in load and day >= start and day.year == year:
            load[username] += 1
    customer_days: set[tuple[int, date]] = set()
    for customer_id, moments in existing.items():
        for moment in moments:
            customer_days.add((customer_id, moment.astimezone(calendar.tz).date()))

    needs: dict[int, tuple[str, int, int, int]] = {}
    wanted: list[tuple[int, int, int]] = []  # (target day index, customer, nth)
    for customer_id, tier in sorted(customers):
        quota = int(quotas.get(tier, 0))
        have = len(existing.get(customer_id, ()))
        count = max(0, quota - have)
        needs[customer_id] = (tier, quota, have, count)
        if days:
            for nth in range(count):
                wanted.append((int((nth + 0.5) * len(days) / count), customer_id, nth))
    wanted.sort()

    visits: list[ProposedVisit] = []
    unplaced: dict[int, int] = defaultdict(int)
    placed: dict[int, int] = defaultdict(int)
    for target, customer_id, _nth in wanted:
        proposal = _place(
            target, customer_id, days, slots, groups, visitors_per_visit,
            busy, load, customer_days, calendar,
        )  # fmt: skip
        if proposal is None:
            unplaced[customer_id] += 1
            continue
        placed[customer_id] += 1
        visits.append(proposal)
    for customer_id, (tier, quota, have, count) in needs.items():
        needs[customer_id] = (tier, quota, have, placed.get(customer_id, 0))
        if not days and count:
            unplaced[customer_id] += count
    visits.sort(key=lambda v: (v.planned_at, v.customer_id))
    return Plan(year, start, tuple(visits), tuple(clashes), needs, dict(unplaced))


def _place(
    target: int,
    customer_id: int,
    days: Sequence[date],
    slots: Sequence[time],
    groups: Sequence[Sequence[str]],
    per_visit: int,
    busy: set[tuple[str, date, str]],
    load: dict[str, int],
    customer_days: set[tuple[int, date]],
    calendar: BusinessCalendar,
) -> ProposedVisit | None:
    """The nearest slot to the target day where the visit gets its visitors; books it."""
    best: tuple[tuple[int, ...], date, time, tuple[str, ...]] | None = None
    for offset in _offsets(len(days)):
        index = target + offset
        if not 0 <= index < len(days):
            continue
        day = days[index]
        if (customer_id, day) in customer_days:
            continue
        for slot in slots:
            half = "am" if slot.hour < 12 else "pm"
            chosen = _choose(groups, per_visit, day, half, busy, load)
            if not chosen:
                continue
            # Among the slots of this day, the one whose visitors are least loaded.
            key = (len(chosen) * -1, *sorted(load[n] for n in chosen))
            if best is None or key < best[0]:
                best = (key, day, slot, chosen)
        if best is not None:
            break
    if best is None:
        return None
    _key, day, slot, chosen = best
    half = "am" if slot.hour < 12 else "pm"
    for name in chosen:
        busy.add((name, day, half))
        load[name] += 1
    customer_days.add((customer_id, day))
    moment = datetime.combine(day, slot, tzinfo=calendar.tz)
    return ProposedVisit(customer_id, moment, chosen)


def _choose(
    groups: Sequence[Sequence[str]],
    per_visit: int,
    day: date,
    half: str,
    busy: set[tuple[str, date, str]],
    load: Mapping[str, int],
) -> tuple[str, ...]:
    """One least-loaded free visitor per group in order (the last group fills the rest).

    The first group (marketing, who organise the visit) is required; other seats fall back
    to any free visitor of another group.
    """
    chosen: list[str] = []

    def free(group: Iterable[str]) -> list[str]:
        names = [n for n in group if n not in chosen and (n, day, half) not in busy]
        return sorted(names, key=lambda n: (load[n], n))

    if not groups:
        return ()
    for seat in range(per_visit):
        group = groups[min(seat, len(groups) - 1)]
        candidates = free(group)
        if not candidates and seat > 0:
            candidates = free(n for g in groups[1:] for n in g) or free(groups[0])
        if not candidates:
            if seat == 0:
                return ()
            break
        chosen.append(candidates[0])
    return tuple(chosen)
