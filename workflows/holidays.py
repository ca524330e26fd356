"""China's public holidays as spans: the official list of a year, or a built-in estimate."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import chinese_calendar  # type: ignore[import-untyped, unused-ignore]
from lunardate import LunarDate  # type: ignore[import-untyped, unused-ignore]

__all__ = ["HolidaySpan", "OfficialYear", "builtin_year"]


@dataclass(frozen=True, slots=True)
class HolidaySpan:
    """Consecutive days off for one holiday (`start` to `end`, both included)."""

    name: str
    start: date
    end: date
    estimated: bool = False

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"{self.name}: {self.end} is before {self.start}")

    def days(self) -> Iterator[date]:
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": self.length,
            "estimated": self.estimated,
        }


@dataclass(frozen=True, slots=True)
class OfficialYear:
    """One year's days off and make-up working days (调休), as a notice or estimate gives."""

    year: int
    holidays: tuple[HolidaySpan, ...]
    workdays: tuple[date, ...] = ()

    def holiday_dates(self) -> dict[date, str]:
        return {day: span.name for span in self.holidays for day in span.days()}

    def as_dict(self) -> dict[str, object]:
        return {
            "year": self.year,
            "holidays": [span.as_dict() for span in self.holidays],
            "workdays": [day.isoformat() for day in self.workdays],
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> OfficialYear:
        """The inverse of `as_dict` (as stored in the database)."""
        spans = data.get("holidays") or []
        workdays = data.get("workdays") or []
        assert isinstance(spans, list) and isinstance(workdays, list)
        return cls(
            int(str(data["year"])),
            tuple(
                HolidaySpan(
                    str(s["name"]),
                    date.fromisoformat(s["from"]),
                    date.fromisoformat(s["to"]),
                    bool(s.get("estimated", False)),
                )
                for s in spans
            ),
            tuple(date.fromisoformat(str(d)) for d in workdays),
        )


def _span(name: str, start: date, days: int, estimated: bool) -> HolidaySpan:
    return HolidaySpan(name, start, start + timedelta(days=days - 1), estimated)


def _solar_term(year: int, name: str) -> date:
    terms: Iterable[tuple[date, str]] = chinese_calendar.get_solar_terms(
        date(year, 3, 1), date(year, 5, 1)
    )
    return next(day for day, term in terms if term == name)


def _lunar(year: int, month: int, day: int) -> date:
    solar: date = LunarDate(year, month, day).to_solar_date()
    return solar


@cache
def builtin_year(year: int) -> OfficialYear:
    """The holidays China keeps every year, for a year without its official notice yet.

    Fixed: 元旦 1 January, 劳动节 1-5 May and 国庆节 1-7 October, as the recent notices
    give them. Estimated from the lunar calendar and the solar terms (the notice decides
    the bridges and the make-up working days, which no rule gives): 春节 from New Year's
    Eve to the 7th day of the first month, 清明节, 端午节 and 中秋节 on their day.
    """
    new_year = _lunar(year, 1, 1)
    spans = [
        _span("元旦", date(year, 1, 1), 1, False),
        _span("春节", new_year - timedelta(days=1), 8, True),
        _span("清明节", _solar_term(year, "清明"), 1, True),
        _span("劳动节", date(year, 5, 1), 5, False),
        _span("端午节", _lunar(year, 5, 5), 1, True),
        _span("中秋节", _lunar(year, 8, 15), 1, True),
        _span("国庆节", date(year, 10, 1), 7, False),
    ]
    seen: set[date] = set()
    kept = []
    for span in sorted(spans, key=lambda s: s.start):
        if set(span.days()) <= seen:  # 中秋节 inside 国庆节
            continue
        seen.update(span.days())
        kept.append(span)
    return OfficialYear(year, tuple(kept))
