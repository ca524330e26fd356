"""Business calendar: China's official workdays, company overrides and due-time arithmetic."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped, unused-ignore]
import yaml

from workflows.calendar_file import CalendarLoader, settings_from_yaml
from workflows.durations import Duration, DurationUnit
from workflows.holidays import HolidaySpan, OfficialYear, builtin_year

__all__ = ["BusinessCalendar", "Duration", "DurationUnit", "YearSource"]

logger = logging.getLogger(__name__)

_OFFICIAL_HOLIDAYS: Mapping[date, str] = chinese_calendar.holidays
_OFFICIAL_WORKDAYS: Mapping[date, str] = chinese_calendar.workdays
# The years the official data covers, derived the way chinese_calendar itself does.
_OFFICIAL_FIRST_YEAR: int = min(_OFFICIAL_HOLIDAYS).year
_OFFICIAL_LAST_YEAR: int = max(_OFFICIAL_HOLIDAYS).year

# A calendar with no workday in this many consecutive days is treated as misconfigured.
_MAX_SCAN_DAYS = 366


class YearSource(StrEnum):
    """Where a year's days off come from: China's official list (the chinese-calendar
    package's, or a notice an administrator loaded), the built-in fixed and estimated
    holidays, or weekends only (a company calendar that does not follow China's)."""

    OFFICIAL = "official"
    BUILTIN = "builtin"
    WEEKDAYS = "weekdays"


@dataclass(frozen=True)
class _Loaded:
    """The official years loaded from notices, and the answers computed from them."""

    years: Mapping[int, OfficialYear] = field(default_factory=dict)
    days: Mapping[date, bool] = field(default_factory=dict)  # listed day -> worked
    stamp: str = ""
    workdays: dict[date, bool] = field(default_factory=dict)  # memo: day -> worked
    shifts: dict[tuple[date, int], date] = field(default_factory=dict)  # memo: add()

    @classmethod
    def of(cls, years: Iterable[OfficialYear], stamp: str | None = None) -> _Loaded:
        by_year = {y.year: y for y in years}
        days: dict[date, bool] = {}
        for year in sorted(by_year.values(), key=lambda y: y.year):
            days.update({day: False for day in year.holiday_dates()})
            days.update({day: True for day in year.workdays})
        text = json.dumps([by_year[y].as_dict() for y in sorted(by_year)], sort_keys=True)
        if stamp is None:
            stamp = hashlib.sha256(text.encode()).hexdigest()[:16] if by_year else ""
        return cls(by_year, days, stamp)


def _date_set(name: str, values: Iterable[object]) -> frozenset[date]:
    days: set[date] = set()
    for value in values:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError(f"{name} must contain dates, got {value!r}")
        days.add(value)
    return frozenset(days)


@cache
def _builtin_days(year: int) -> frozenset[date]:
    return frozenset(builtin_year(year).holiday_dates())


@dataclass(frozen=True)
class BusinessCalendar:
    """Which days are worked, and due times computed from them, in one time zone.

    A day is a workday by, in order: the company's overrides (`extra_holidays`,
    `extra_workdays`), then China's official calendar (holidays and make-up working days):
    the years loaded from the State Council's notices (`load_official`), else the
    chinese-calendar package's years; for a year neither knows, Monday to Friday but the
    built-in fixed and estimated holidays (`workflows.holidays.builtin_year`).
    """

    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")
    end_of_day: time = time(18, 0)
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    official: bool = True
    _loaded: _Loaded = field(
        default_factory=_Loaded, init=False, repr=False, compare=False, hash=False
    )
    _closings: dict[date, datetime] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _warned_years: set[int] = field(
        default_factory=set, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.tz, ZoneInfo):
            raise ValueError(f"tz must be a zoneinfo.ZoneInfo, got {self.tz!r}")
        if not isinstance(self.end_of_day, time) or self.end_of_day.tzinfo is not None:
            raise ValueError(
                f"end_of_day must be a naive datetime.time (local to tz), got {self.end_of_day!r}"
            )
        holidays = _date_set("extra_holidays", self.extra_holidays)
        workdays = _date_set("extra_workdays", self.extra_workdays)
        both = sorted(holidays & workdays)
        if both:
            listed = ", ".join(day.isoformat() for day in both)
            raise ValueError(f"dates listed both as company holidays and workdays: {listed}")
        object.__setattr__(self, "extra_holidays", holidays)
        object.__setattr__(self, "extra_workdays", workdays)
        object.__setattr__(self, "official", bool(self.official))

    # -- which days are worked -------------------------------------------------------------

    def load_official(self, years: Iterable[OfficialYear], stamp: str | None = None) -> None:
        """Use these official years (from the State Council's notices) before the package's
        data and the built-in estimate; an empty list goes back to those. Thread-safe: the
        answers computed from the previous data are dropped with it. `stamp` (default: a
        fingerprint of the years) is what `official_stamp` answers from now on."""
        object.__setattr__(self, "_loaded", _Loaded.of(years, stamp))  # one atomic swap

    @property
    def official_stamp(self) -> str:
        """A fingerprint of the loaded official years ("" when none is loaded)."""
        return self._loaded.stamp

    @property
    def loaded_years(self) -> frozenset[int]:
        """The years whose official list was loaded (`load_official`)."""
        return frozenset(self._loaded.years)

    def covers(self, year: int) -> bool:
        """Whether the official data is known for `year` (always true when it is not used)."""
        return self.year_source(year) is not YearSource.BUILTIN

    def year_source(self, year: int) -> YearSource:
        """Where `year`'s days off come from."""
        if not self.official:
            return YearSource.WEEKDAYS
        if year in self._loaded.years or _OFFICIAL_FIRST_YEAR <= year <= _OFFICIAL_LAST_YEAR:
            return YearSource.OFFICIAL
        return YearSource.BUILTIN

    def holidays_of(self, year: int) -> tuple[HolidaySpan, ...]:
        """The loaded or built-in holidays of `year` (none listed for the package's years)."""
        loaded = self._loaded.years.get(year)
        if loaded is not None:
            return loaded.holidays
        if self.year_source(year) is YearSource.BUILTIN:
            return builtin_year(year).holidays
        return ()

    def is_workday(self, day: date) -> bool:
        """Whether `day` is worked; a datetime counts for its date (local to tz if aware)."""
        day = self._local_date(day)
        loaded = self._loaded
        cached = loaded.workdays.get(day)
        if cached is None:
            cached = self._compute_is_workday(day, loaded)
            loaded.workdays[day] = cached
        return cached

    def _compute_is_workday(self, day: date, loaded: _Loaded) -> bool:
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        if not self.official:
            return day.weekday() < 5
        listed = loaded.days.get(day)
        if listed is not None:
            return listed
        if day.year in loaded.years:
            return day.weekday() < 5
        if _OFFICIAL_FIRST_YEAR <= day.year <= _OFFICIAL_LAST_YEAR:
            if day in _OFFICIAL_WORKDAYS:
                return True
            return day.weekday() < 5 and day not in _OFFICIAL_HOLIDAYS
        if day.year not in self._warned_years:
            self._warned_years.add(day.year)
            logger.warning(
                "no official holiday data for %d (known: %d-%d, loaded: %s): using the "
                "built-in fixed holidays and estimated lunar ones, no make-up working days",
                day.year,
                _OFFICIAL_FIRST_YEAR,
                _OFFICIAL_LAST_YEAR,
                ", ".join(map(str, sorted(loaded.years))) or "none",
            )
        return day.weekday() < 5 and day not in _builtin_days(day.year)

    def next_workday(self, day: date) -> date:
        """The first workday strictly after `day`."""
        return self._step(self._local_date(day), 1)

    def previous_workday(self, day: date) -> date:
        """The last workday strictly before `day`."""
        return self._step(self._local_date(day), -1)

    def _step(self, origin: date, direction: int) -> date:
        one = timedelta(days=direction)
        day = origin
        for _ in range(_MAX_SCAN_DAYS):
            day += one
            if self.is_workday(day):
                return day
        where = "after" if direction > 0 else "before"
        raise ValueError(f"no workday within {_MAX_SCAN_DAYS} days {where} {origin.isoformat()}")

    def working_days_between(self, start: date, end: date) -> int:
        """The number of workdays in (start, end]; negative (minus those in (end, start]) when
        end is before start."""
        start, end = self._local_date(start), self._local_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        one = timedelta(days=1)
        count = 0
        day = start + one
        while day <= end:
            if self.is_workday(day):
                count += 1
            day += one
        return count

    # -- due times -------------------------------------------------------------------------

    def end_of_working_day(self, day: date) -> datetime:
        """Close of business on `day`, or on the next workday if `day` is not one."""
        day = self._local_date(day)
        if not self.is_workday(day):
            day = self.next_workday(day)
        return self._close_of(day)

    def due_from_date(self, day: date) -> datetime:
        """The due time meant by a bare due date: close of business on that working day."""
        if isinstance(day, datetime):
            raise TypeError(
                f"due_from_date expects a bare date, got the datetime {day!r}: "
                "a datetime is already a due time"
            )
        return self.end_of_working_day(day)

    def add(self, start: datetime, duration: Duration) -> datetime:
        """`start` moved by `duration`, as an aware datetime in tz.

        Hours are wall-clock hours and days calendar days. A positive number n of working days
        ends at close of business on the n-th workday after start's local date; zero working
        days at close of business on that date, or on the next workday if it is not one; -n
        working days at start's local time of day on the n-th workday before its local date.
        """
        if not isinstance(start, datetime):
            raise ValueError(f"start must be a datetime, got {start!r}")
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"start must be timezone-aware, got the naive datetime {start!r}")
        amount = duration.amount
        if duration.unit is DurationUnit.HOURS:
            return (start + timedelta(hours=amount)).astimezone(self.tz)
        local = start.astimezone(self.tz)
        if duration.unit is DurationUnit.DAYS:
            return self._at(local.date() + timedelta(days=amount), local.time())
        day = local.date()
        if amount == 0:
            return self.end_of_working_day(day)
        key = (day, amount)
        shifts = self._loaded.shifts
        shifted = shifts.get(key)
        if shifted is None:
            direction = 1 if amount > 0 else -1
            shifted = day
            for _ in range(abs(amount)):
                shifted = self._step(shifted, direction)
            shifts[key] = shifted
        clock = local.time()
        if amount > 0 or clock == self.end_of_day:
            return self._close_of(shifted)
        return self._at(shifted, clock)

    def _close_of(self, day: date) -> datetime:
        closing = self._closings.get(day)
        if closing is None:
            closing = self._closings[day] = self._at(day, self.end_of_day)
        return closing

    def _at(self, day: date, clock: time) -> datetime:
        # Normalise through UTC so that a wall time skipped by a DST change becomes a real one.
        naive = datetime.combine(day, clock.replace(tzinfo=None))
        return naive.replace(tzinfo=self.tz).astimezone(UTC).astimezone(self.tz)

    def _local_date(self, day: date) -> date:
        if isinstance(day, datetime):
            if day.tzinfo is not None and day.utcoffset() is not None:
                day = day.astimezone(self.tz)
            return day.date()
        if not isinstance(day, date):
            raise TypeError(f"expected a date, got {day!r}")
        return day

    # -- configuration ---------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> BusinessCalendar:
        """Load a company calendar from YAML; keyword arguments override the file's values.

        Keys: ``timezone`` ("Asia/Shanghai"), ``end_of_day`` ("18:00"), ``official`` (bool),
        ``holidays`` and ``workdays`` (lists of ISO dates); all optional.
        """
        path = Path(path)
        with path.open(encoding="utf-8") as stream:
            data = yaml.load(stream, Loader=CalendarLoader)  # a SafeLoader subclass
        return cls(**{**settings_from_yaml(data, str(path)), **kwargs})
