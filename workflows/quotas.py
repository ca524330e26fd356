"""Visit targets: when the visits of a yearly tier quota fall due, the one rule for all figures.

A yearly quota of q visits is q whole visits spread over the year's calendar months: visit
k (k = 1..q) falls due at the end of month ceil(12k / q), in the calendar's time zone. So
12 a year is one a month, 6 one every two months, 4 one a quarter, 2 one at the end of June
and one at the end of December, 5 at the ends of March, May, August, October and December;
more than 12 puts several in a month. A month's end is the first moment of the next month
(midnight, local time): a visit is never owed before its month has ended.

The target of a period [start, end) is the number of month-ends due in it (a month-end at
`end` itself included, one at `start` not: the month's last moment lies inside the period),
over every year the period overlaps. Periods that tile a year add up to its quota exactly,
and every target is a whole number. `due_by` is what is owed of this year by a moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["Quotas", "due_between", "due_by", "due_months", "month_end"]

MONTHS = 12


def _check_quota(quota: int) -> int:
    if isinstance(quota, bool) or not isinstance(quota, int) or quota < 0:
        raise ValueError(f"a yearly quota is a whole number of visits, 0 or more: {quota!r}")
    return quota


def _check_aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")


def due_months(quota: int) -> tuple[int, ...]:
    """The month (1-12) at whose end each of the quota's visits falls due, in order."""
    q = _check_quota(quota)
    return tuple(-(-MONTHS * k // q) for k in range(1, q + 1))


def month_end(year: int, month: int, tz: ZoneInfo) -> datetime | None:
    """The moment month `month` of `year` ends in `tz` (the next month's first midnight);
    None past the last year a datetime holds."""
    if month == MONTHS:
        year, month = year + 1, 0
    if year > datetime.max.year:
        return None
    return datetime(year, month + 1, 1, tzinfo=tz)


def _due_in_year(
    months: tuple[int, ...], year: int, start: datetime, end: datetime, tz: ZoneInfo
) -> int:
    count = 0
    for month in months:
        moment = month_end(year, month, tz)
        if moment is not None and start < moment <= end:
            count += 1
    return count


def due_between(quota: int, start: datetime, end: datetime, tz: ZoneInfo) -> int:
    """The visits of a yearly `quota` falling due in [start, end): the month-ends m with
    start < m <= end, over every year the period overlaps (0 for an empty period)."""
    _check_aware("start", start)
    _check_aware("end", end)
    months = due_months(quota)
    if not months or end <= start:
        return 0
    first, last = start.astimezone(tz).year, end.astimezone(tz).year
    if first == last:
        return _due_in_year(months, first, start, end, tz)
    # a month-end of year y falls in y or at the first moment of y + 1: whole years between
    inner = max(0, last - first - 1) * len(months)
    return (
        _due_in_year(months, first, start, end, tz)
        + inner
        + _due_in_year(months, last, start, end, tz)
    )


def due_by(quota: int, moment: datetime, tz: ZoneInfo) -> int:
    """The visits of a yearly `quota` due from the start of `moment`'s year (local) up to
    `moment`: what is owed of this year so far."""
    _check_aware("moment", moment)
    year_start = datetime(moment.astimezone(tz).year, 1, 1, tzinfo=tz)
    return due_between(quota, year_start, moment, tz)


@dataclass(frozen=True)
class Quotas:
    """The yearly visits per customer of each tier (`POLICY["visit_quotas"]`) in the
    calendar's time zone: what a customer of a tier owes in a period or by a moment."""

    per_tier: Mapping[str, int]
    tz: ZoneInfo

    def __post_init__(self) -> None:
        for quota in self.per_tier.values():
            _check_quota(quota)

    def yearly(self, tier: str) -> int:
        return int(self.per_tier.get(tier, 0))

    def tiers(self) -> set[str]:
        return set(self.per_tier)

    def due_between(self, tier: str, start: datetime, end: datetime) -> int:
        """One customer's visits of `tier` falling due in [start, end)."""
        return due_between(self.yearly(tier), start, end, self.tz)

    def due_by(self, tier: str, moment: datetime) -> int:
        """One customer's visits of `tier` due this year by `moment`."""
        return due_by(self.yearly(tier), moment, self.tz)
