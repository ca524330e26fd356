"""Tests for workflows.calendar: official 2026 holidays, company overrides and due times."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped, unused-ignore]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.calendar import BusinessCalendar, Duration, DurationUnit

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()

SPRING_FESTIVAL_2026 = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # 15th..23rd
NATIONAL_DAY_2026 = [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]  # 1st..7th
MAKE_UP_SATURDAYS_2026 = [date(2026, 2, 14), date(2026, 2, 28)]


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def working_days(n: int) -> Duration:
    return Duration(n, DurationUnit.WORKING_DAYS)


def write_calendar(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the package's own data agrees with what these tests assert ------------------------------


def test_official_data_matches_the_2026_dates_used_here() -> None:
    assert all(day in chinese_calendar.holidays for day in SPRING_FESTIVAL_2026)
    assert all(day in chinese_calendar.holidays for day in NATIONAL_DAY_2026)
    assert all(day in chinese_calendar.workdays for day in MAKE_UP_SATURDAYS_2026)


# -- which days are worked -----------------------------------------------------------------


@pytest.mark.parametrize("day", SPRING_FESTIVAL_2026, ids=str)
def test_spring_festival_2026_is_off(day: date) -> None:
    assert not CAL.is_workday(day)


@pytest.mark.parametrize("day", MAKE_UP_SATURDAYS_2026, ids=str)
def test_make_up_saturdays_2026_are_worked(day: date) -> None:
    assert day.weekday() == 5
    assert CAL.is_workday(day)


@pytest.mark.parametrize("day", NATIONAL_DAY_2026, ids=str)
def test_national_day_2026_is_off(day: date) -> None:
    assert not CAL.is_workday(day)


def test_ordinary_weekdays_are_worked_and_weekends_are_not() -> None:
    assert CAL.is_workday(date(2026, 3, 4))  # Wednesday
    assert not CAL.is_workday(date(2026, 3, 7))  # Saturday
    assert not CAL.is_workday(date(2026, 3, 8))  # Sunday


def test_company_holiday_and_workday_override_official() -> None:
    cal = BusinessCalendar(
        extra_holidays=frozenset({date(2026, 3, 4)}),
        extra_workdays=frozenset({date(2026, 10, 5)}),
    )
    assert not cal.is_workday(date(2026, 3, 4))
    assert cal.is_workday(date(2026, 10, 5))


def test_official_false_uses_weekends_only() -> None:
    cal = BusinessCalendar(official=False)
    assert cal.is_workday(date(2026, 10, 1))  # Thursday, National Day officially
    assert not cal.is_workday(date(2026, 2, 14))  # make-up Saturday officially


def test_overlapping_overrides_are_rejected() -> None:
    day = date(2026, 3, 4)
    with pytest.raises(ValueError, match="2026-03-04"):
        BusinessCalendar(extra_holidays=frozenset({day}), extra_workdays=frozenset({day}))


def test_covers_the_official_years_only() -> None:
    assert CAL.covers(2026)
    assert CAL.covers(2004)
    assert not CAL.covers(2003)
    assert not CAL.covers(2030)
    assert BusinessCalendar(official=False).covers(2030)


def test_uncovered_year_uses_the_builtin_holidays_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cal = BusinessCalendar()
    with caplog.at_level(logging.WARNING, logger="workflows.calendar"):
        assert not cal.is_workday(date(2030, 1, 1))  # a Tuesday, but New Year's Day
        assert not cal.is_workday(date(2030, 1, 5))  # Saturday
        assert cal.is_workday(date(2030, 1, 7))  # Monday
        assert not cal.is_workday(date(2030, 10, 4))  # National Day, a Friday
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2030" in warnings[0].getMessage()
    assert cal.year_source(2030) == "builtin" and cal.year_source(2026) == "official"


def test_uncovered_year_still_applies_company_overrides(caplog: pytest.LogCaptureFixture) -> None:
    cal = BusinessCalendar(
        extra_holidays=frozenset({date(2030, 1, 1)}),
        extra_workdays=frozenset({date(2030, 1, 5)}),
    )
    with caplog.at_level(logging.WARNING, logger="workflows.calendar"):
        assert not cal.is_workday(date(2030, 1, 1))
        assert cal.is_workday(date(2030, 1, 5))


def test_creating_a_calendar_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="workflows.calendar"):
        BusinessCalendar()
    assert caplog.records == []


def test_next_and_previous_workday_jump_spring_festival() -> None:
    assert CAL.next_workday(date(2026, 2, 14)) == date(2026, 2, 24)
    assert CAL.previous_workday(date(2026, 2, 24)) == date(2026, 2, 14)


def test_next_workday_is_strictly_after() -> None:
    assert CAL.next_workday(date(2026, 3, 4)) == date(2026, 3, 5)


def test_working_days_between_counts_half_open_interval() -> None:
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2  # 14th, 24th
    assert CAL.working_days_between(date(2026, 3, 4), date(2026, 3, 4)) == 0


def test_working_days_between_is_negative_backwards() -> None:
    assert CAL.working_days_between(date(2026, 2, 24), date(2026, 2, 13)) == -2


# -- due times -----------------------------------------------------------------------------


def test_due_from_date_is_close_of_business_that_day() -> None:
    assert CAL.due_from_date(date(2026, 3, 4)) == shanghai(2026, 3, 4, 18, 0)


def test_due_from_date_on_a_holiday_moves_to_next_workday() -> None:
    assert CAL.due_from_date(date(2026, 10, 1)) == shanghai(2026, 10, 8, 18, 0)


def test_due_from_date_rejects_a_datetime() -> None:
    with pytest.raises(TypeError):
        CAL.due_from_date(shanghai(2026, 3, 4, 9, 0))


def test_end_of_working_day_uses_configured_time_and_zone() -> None:
    cal = BusinessCalendar(end_of_day=time(17, 30))
    result = cal.end_of_working_day(date(2026, 3, 7))  # Saturday -> Monday
    assert result == shanghai(2026, 3, 9, 17, 30)
    assert result.tzinfo == SHANGHAI


def test_add_working_days_across_a_weekend() -> None:
    friday_visit = shanghai(2026, 3, 6, 10, 15)
    assert CAL.add(friday_visit, working_days(2)) == shanghai(2026, 3, 10, 18, 0)  # Tuesday


def test_add_working_days_to_a_make_up_saturday() -> None:
    assert CAL.add(shanghai(2026, 2, 13, 9, 0), working_days(1)) == shanghai(2026, 2, 14, 18, 0)


def test_add_working_days_across_spring_festival() -> None:
    assert CAL.add(shanghai(2026, 2, 13, 9, 0), working_days(2)) == shanghai(2026, 2, 24, 18, 0)


def test_add_zero_working_days_on_a_workday_is_its_close() -> None:
    assert CAL.add(shanghai(2026, 3, 4, 9, 0), working_days(0)) == shanghai(2026, 3, 4, 18, 0)


def test_add_zero_working_days_on_a_holiday_is_next_workday_close() -> None:
    assert CAL.add(shanghai(2026, 10, 3, 9, 0), working_days(0)) == shanghai(2026, 10, 8, 18, 0)


def test_negative_working_days_keep_time_of_day() -> None:
    due = shanghai(2026, 2, 24, 18, 0)
    assert CAL.add(due, working_days(-1)) == shanghai(2026, 2, 14, 18, 0)
    assert CAL.add(due, working_days(-2)) == shanghai(2026, 2, 13, 18, 0)


def test_negative_working_days_from_a_weekend() -> None:
    sunday = shanghai(2026, 3, 8, 10, 0)
    assert CAL.add(sunday, working_days(-1)) == shanghai(2026, 3, 6, 10, 0)


def test_add_hours_is_wall_clock() -> None:
    start = shanghai(2026, 3, 6, 17, 0)
    assert CAL.add(start, Duration(4, DurationUnit.HOURS)) == shanghai(2026, 3, 6, 21, 0)
    assert CAL.add(start, Duration(-2, DurationUnit.HOURS)) == shanghai(2026, 3, 6, 15, 0)


def test_add_days_is_calendar_days_ignoring_holidays() -> None:
    start = shanghai(2026, 9, 30, 11, 0)
    assert CAL.add(start, Duration(3, DurationUnit.DAYS)) == shanghai(2026, 10, 3, 11, 0)


def test_utc_start_is_counted_from_its_shanghai_date() -> None:
    start = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # Saturday 04:00 in Shanghai
    result = CAL.add(start, working_days(1))
    assert result == shanghai(2026, 3, 9, 18, 0)  # Monday, not Friday's next workday
    assert result.tzinfo == SHANGHAI
    assert result.utcoffset() == timedelta(hours=8)


def test_utc_start_plus_hours_is_returned_in_shanghai() -> None:
    result = CAL.add(datetime(2026, 3, 6, 20, 0, tzinfo=UTC), Duration(1, DurationUnit.HOURS))
    assert result.tzinfo == SHANGHAI
    assert (result.year, result.month, result.day, result.hour) == (2026, 3, 7, 5)


def test_naive_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add(datetime(2026, 3, 6, 10, 0), working_days(1))


# -- Duration.parse -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"working_days": 2}, Duration(2, DurationUnit.WORKING_DAYS)),
        ({"hours": -4}, Duration(-4, DurationUnit.HOURS)),
        ({"days": 3}, Duration(3, DurationUnit.DAYS)),
    ],
)
def test_duration_parse_accepts_each_unit(spec: dict[str, object], expected: Duration) -> None:
    assert Duration.parse(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "exactly one"),
        ({"hours": 1, "days": 1}, "exactly one"),
        ({"weeks": 1}, "unknown duration unit 'weeks'"),
        ({"hours": 1.5}, "must be an integer"),
        ({"hours": "2"}, "must be an integer"),
        ({"days": True}, "must be an integer"),
        ({"working_days": None}, "must be an integer"),
    ],
)
def test_duration_parse_rejects_bad_specs(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Duration.parse(spec)


def test_duration_parse_rejects_a_non_mapping() -> None:
    with pytest.raises(ValueError, match="mapping"):
        Duration.parse([("hours", 1)])  # type: ignore[arg-type]


# -- from_file -----------------------------------------------------------------------------


def test_from_file_company_holiday_and_workday(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "holidays: [2026-03-04]\nworkdays: ['2026-10-05']\n",
    )
    cal = BusinessCalendar.from_file(path)
    assert not cal.is_workday(date(2026, 3, 4))  # a Wednesday made a company holiday
    assert cal.is_workday(date(2026, 10, 5))  # National Day made a company workday
    assert cal.is_workday(date(2026, 3, 5))  # the rest stays official


def test_from_file_reads_timezone_end_of_day_and_official(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "timezone: Asia/Tokyo\nend_of_day: 17:30\nofficial: false\nholidays: []\nworkdays: []\n",
    )
    cal = BusinessCalendar.from_file(str(path))
    assert cal.tz == ZoneInfo("Asia/Tokyo")
    assert cal.end_of_day == time(17, 30)  # unquoted 17:30 is not read as base-60 1050
    assert not cal.official


def test_from_file_keyword_arguments_override_the_file(tmp_path: Path) -> None:
    path = write_calendar(tmp_path, "end_of_day: '17:00'\nofficial: false\n")
    cal = BusinessCalendar.from_file(path, official=True)
    assert cal.official
    assert cal.end_of_day == time(17, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("holiday: [2026-03-04]\n", "unknown key"),
        ("holidays: [not-a-date]\n", "holidays must hold dates"),
        ("holidays: 2026-03-04\n", "must be a list"),
        ("timezone: Mars/Olympus\n", "unknown timezone"),
        ("end_of_day: six\n", "end_of_day"),
        ("official: maybe\n", "official must be"),
        ("- 2026-03-04\n", "must be a mapping"),
    ],
)
def test_from_file_rejects_bad_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_file(write_calendar(tmp_path, text))


# -- property --------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, database=None)
@given(
    start=st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2026, 12, 31, 23, 59),
        timezones=st.sampled_from([SHANGHAI, UTC]),
    ),
    n=st.integers(min_value=1, max_value=30),
)
def test_adding_working_days_lands_on_close_of_a_workday(start: datetime, n: int) -> None:
    local_start = start.astimezone(SHANGHAI)
    result = CAL.add(start, working_days(n))
    assert result.tzinfo == SHANGHAI
    assert CAL.is_workday(result.date())
    assert result.timetz().replace(tzinfo=None) == CAL.end_of_day
    assert CAL.working_days_between(local_start.date(), result.date()) == n
