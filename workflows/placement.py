"""Placing the plan's visits: visitors' bookings and loads, a customer's working days
taken, where its visits should go, and the nearest slot that keeps the gap."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from workflows.calendar import BusinessCalendar

HalfDay = tuple[date, str]  # (local date, "am" | "pm")


@dataclass(frozen=True, slots=True)
class ProposedVisit:
    customer_id: int
    planned_at: datetime  # aware, in the calendar's time zone
    visitors: tuple[str, ...]


def half_day(moment: datetime, calendar: BusinessCalendar) -> HalfDay:
    local = moment.astimezone(calendar.tz)
    return local.date(), ("am" if local.hour < 12 else "pm")


def offsets(limit: int) -> Iterable[int]:
    """0, +1, -1, +2, -2, ...: the target day first, then ever farther either side."""
    yield 0
    for step in range(1, limit + 1):
        yield step
        yield -step


@dataclass
class Book:
    """Who is busy when, and how loaded, while the plan is made."""

    groups: list[list[str]]
    max_per_day: int
    busy: set[tuple[str, date, str]] = field(default_factory=set)
    per_day: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    existing: dict[str, int] = field(default_factory=dict)
    planned: dict[str, int] = field(default_factory=dict)

    def load(self, name: str) -> int:
        return self.existing.get(name, 0) + self.planned.get(name, 0)

    def free(self, name: str, day: date, half: str) -> bool:
        return (name, day, half) not in self.busy and self.per_day[(name, day)] < self.max_per_day

    def take(self, names: Iterable[str], day: date, half: str, planned: bool = True) -> None:
        for name in names:
            self.busy.add((name, day, half))
            self.per_day[(name, day)] += 1
            if planned:
                self.planned[name] = self.planned.get(name, 0) + 1


@dataclass
class CustomerDays:
    """One customer's working-day positions taken (existing visits, then planned ones)."""

    positions: list[int]
    gap: int

    def allows(self, position: int) -> bool:
        return all(abs(position - p) >= max(self.gap, 1) for p in self.positions)


def book_of(
    visitor_groups: Sequence[Sequence[str]],
    max_per_day: int,
    bookings: Sequence[tuple[str, datetime]],
    start: date,
    year: int,
    calendar: BusinessCalendar,
) -> Book:
    groups = [sorted(set(g)) for g in visitor_groups if g]
    book = Book(groups, max_per_day, existing={name: 0 for g in groups for name in g})
    for username, moment in bookings:
        day, half = half_day(moment, calendar)
        book.take([username], day, half, planned=False)
        if username in book.existing and day >= start and day.year == year:
            book.existing[username] += 1
    return book


def earliest_fit(customer: CustomerDays, first: int, length: int) -> list[int]:
    """The earliest packing of visits min_gap apart into the days left (indexes in them):
    as many as can fit around the customer's existing visits."""
    out: list[int] = []
    probe = CustomerDays(list(customer.positions), customer.gap)
    for index in range(length):
        if probe.allows(first + index + 1):
            out.append(index)
            probe.positions.append(first + index + 1)
    return out


def spread(count: int, fitting: list[int], length: int, gap: int) -> list[float]:
    """Where the `count` visits (at most as many as fit) should go: evenly spread, or, when
    the gap binds, min_gap apart centred in the days left, or the packing itself."""
    count = min(count, len(fitting))
    if count == 0:
        return []
    if count == len(fitting) and len(fitting) > 1:
        return [float(i) for i in fitting]
    spacing = length / count
    if spacing >= gap:
        return [(nth + 0.5) * spacing for nth in range(count)]
    offset = (length - 1 - (count - 1) * gap) / 2
    return [offset + nth * gap for nth in range(count)]


def place(
    target: int,
    customer: CustomerDays,
    customer_id: int,
    days: Sequence[date],
    first: int,
    slots: Sequence[time],
    crew: tuple[int, int],
    book: Book,
    calendar: BusinessCalendar,
) -> ProposedVisit | None:
    """The nearest slot to the target day that keeps the customer's gap and gets the visit
    its visitors (`crew`: how many it asks for, and the fewest to accept; the least-loaded
    of that day's slots); books it."""
    per_visit, fewest = crew
    best: tuple[tuple[int, ...], date, time, tuple[str, ...]] | None = None
    for offset in offsets(len(days)):
        index = target + offset
        if not 0 <= index < len(days) or not customer.allows(first + index + 1):
            continue
        day = days[index]
        for slot in slots:
            half = "am" if slot.hour < 12 else "pm"
            chosen = choose(book, per_visit, day, half)
            if len(chosen) < fewest:
                continue
            key = (len(chosen) * -1, *sorted(book.load(n) for n in chosen))
            if best is None or key < best[0]:
                best = (key, day, slot, chosen)
        if best is not None:
            customer.positions.append(first + index + 1)
            break
    if best is None:
        return None
    _key, day, slot, chosen = best
    book.take(chosen, day, "am" if slot.hour < 12 else "pm")
    moment = datetime.combine(day, slot, tzinfo=calendar.tz)
    return ProposedVisit(customer_id, moment, chosen)


def choose(book: Book, per_visit: int, day: date, half: str) -> tuple[str, ...]:
    """One least-loaded free visitor per group in order (the last group fills the rest).

    The first group (marketing, who organise the visit) is required; other seats fall back
    to any free visitor of another group.
    """
    groups = book.groups
    chosen: list[str] = []

    def free(group: Iterable[str]) -> list[str]:
        names = [n for n in group if n not in chosen and book.free(n, day, half)]
        return sorted(names, key=lambda n: (book.load(n), n))

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
