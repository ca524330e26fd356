"""China's holidays: the built-in fallback, the State Council notice parser, loading a year."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from workflows.calendar import BusinessCalendar, Duration, DurationUnit
from workflows.holidays import builtin_year
from workflows.notice import NoticeError, parse_notice

NOTICES = Path(__file__).resolve().parents[1] / "support" / "notices"
TZ = ZoneInfo("Asia/Shanghai")


def notice(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


# -- the built-in fallback ------------------------------------------------------------------
def test_builtin_2027_has_the_fixed_holidays_and_marks_the_lunar_ones_estimated() -> None:
    year = builtin_year(2027)
    spans = {s.name: (s.start, s.end, s.estimated) for s in year.holidays}
    assert spans["元旦"] == (date(2027, 1, 1), date(2027, 1, 1), False)
    assert spans["劳动节"] == (date(2027, 5, 1), date(2027, 5, 5), False)
    assert spans["国庆节"] == (date(2027, 10, 1), date(2027, 10, 7), False)
    assert spans["春节"] == (date(2027, 2, 5), date(2027, 2, 12), True)  # 除夕 to 初七
    assert spans["清明节"][0] == date(2027, 4, 5) and spans["清明节"][2]
    assert spans["端午节"][0] == date(2027, 6, 9) and spans["中秋节"][0] == date(2027, 9, 15)
    assert year.workdays == ()  # make-up working days come with the notice only


@pytest.mark.parametrize("year", [2025, 2026])
def test_builtin_estimate_is_within_the_official_days_off_of_known_years(year: int) -> None:
    estimated = builtin_year(year).holiday_dates()
    official = {d for d in chinese_calendar.holidays if d.year == year}
    assert set(estimated) <= official


def test_a_year_without_data_books_no_visit_on_national_day_or_new_year() -> None:
    cal = BusinessCalendar(tz=TZ)
    assert cal.year_source(2027) == "builtin" and not cal.covers(2027)
    assert [d for d in days_of(2027) if d.month == 10 and d.day <= 7 and cal.is_workday(d)] == []
    assert not cal.is_workday(date(2027, 1, 1)) and not cal.is_workday(date(2027, 2, 8))
    assert cal.is_workday(date(2027, 10, 8))  # a Friday after the week off
    assert cal.holidays_of(2027) == builtin_year(2027).holidays


def test_deadlines_in_working_days_skip_the_builtin_holidays() -> None:
    cal = BusinessCalendar(tz=TZ)
    start = datetime(2027, 9, 30, 10, tzinfo=TZ)  # Thursday before National Day
    due = cal.add(start, Duration(1, DurationUnit.WORKING_DAYS))
    assert due.date() == date(2027, 10, 8)


# -- the notice parser ----------------------------------------------------------------------
@pytest.mark.parametrize("year", [2025, 2026])
def test_the_real_notices_give_chinese_calendars_days(year: int) -> None:
    parsed = parse_notice(notice(year))
    assert parsed.year == year
    official = {d for d in chinese_calendar.holidays if d.year == year}
    assert set(parsed.holiday_dates()) == official
    assert set(parsed.workdays) == {d for d in chinese_calendar.workdays if d.year == year}


def test_the_2025_notice_reads_ranges_across_months_and_combined_holidays() -> None:
    spans = {s.name: (s.start, s.end) for s in parse_notice(notice(2025)).holidays}
    assert spans["春节"] == (date(2025, 1, 28), date(2025, 2, 4))
    assert spans["端午节"] == (date(2025, 5, 31), date(2025, 6, 2))
    assert spans["国庆节、中秋节"] == (date(2025, 10, 1), date(2025, 10, 8))


def test_a_loaded_notice_gives_the_same_workdays_as_the_package() -> None:
    package = BusinessCalendar(tz=TZ)
    loaded = BusinessCalendar(tz=TZ)
    loaded.load_official([parse_notice(notice(2026))])
    assert loaded.official_stamp and not package.official_stamp
    assert [d for d in days_of(2026) if loaded.is_workday(d) != package.is_workday(d)] == []


def test_the_stamp_given_with_the_years_is_the_one_the_calendar_answers() -> None:
    """`official_calendar.sync` compares the database's stamp with this one: reloading
    (and dropping the memos) only when they differ, not at every request."""
    cal = BusinessCalendar(tz=TZ)
    cal.load_official([parse_notice(notice(2026))], "2026:abc")
    assert cal.official_stamp == "2026:abc"


def test_a_loaded_year_replaces_the_builtin_estimate_and_its_make_up_saturday_is_worked() -> None:
    text = notice(2026).replace("2026", "2027").replace("2025", "2026")
    text = text.split("一、")[0] + (
        "一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n"
        "二、国庆节：9月30日（周四）至10月7日（周四）放假调休，共8天。"
        "9月26日（周日）、10月9日（周六）上班。\n"
    )
    cal = BusinessCalendar(tz=TZ)
    assert not cal.is_workday(date(2027, 10, 9))  # a Saturday, before the notice
    assert cal.is_workday(date(2027, 9, 30))
    cal.load_official([parse_notice(text)])
    assert cal.year_source(2027) == "official"
    assert cal.is_workday(date(2027, 10, 9)) and cal.is_workday(date(2027, 9, 26))
    assert not cal.is_workday(date(2027, 9, 30))
    assert cal.is_workday(date(2027, 5, 3))  # no 劳动节 in this (short) notice: a Monday
    cal.load_official([])
    assert cal.year_source(2027) == "builtin" and not cal.is_workday(date(2027, 10, 9))


def test_a_notice_with_the_year_of_the_dates_written_out_crosses_the_year() -> None:
    text = (
        "一、元旦：2018年12月30日（周日）至2019年1月1日（周二）放假调休，共3天。"
        "2018年12月29日（周六）上班。"
    )
    parsed = parse_notice(text, year=2019)
    assert [(s.start, s.end) for s in parsed.holidays] == [(date(2018, 12, 30), date(2019, 1, 1))]
    assert parsed.workdays == (date(2018, 12, 29),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the year is not in the text"),
        ("关于2027年部分节假日安排的通知\n各省、自治区：请周知。", "no holiday found"),
        ("关于2027年部分节假日安排的通知\n一、元旦：放假。", "元旦: no day off found"),
        (
            "关于2027年部分节假日安排的通知\n一、元旦：1月1日（周四）放假1天。",
            "2027-01-01 is not a 周四",
        ),
        (
            "关于2027年部分节假日安排的通知\n一、劳动节：5月1日至5日放假调休，共4天。",
            "4 days announced but the dates give 5",
        ),
        (
            "关于2027年部分节假日安排的通知\n一、国庆节：10月7日至1日放假。",
            "before it starts",
        ),
        ("关于2027年部分节假日安排的通知\n一、春节：2月30日放假。", "2月30日 is not a date"),
        (
            "关于2027年部分节假日安排的通知\n一、国庆节：10月1日至7日放假。10月4日（周一）上班。",
            "2027-10-04 is both a day off and a working day",
        ),
        (
            "关于2027年部分节假日安排的通知\n一、国庆节：10月1日至7日放假。10月8日上班。",
            "2027-10-08 is a weekday",
        ),
        (
            "关于2027年部分节假日安排的通知\n一、元旦：1月1日放假。\n二、新年：1月1日放假。",
            "2027-01-01 is off for both 元旦 and 新年",
        ),
    ],
)
def test_text_that_yields_nothing_or_disagrees_is_refused_saying_why(
    text: str, message: str
) -> None:
    with pytest.raises(NoticeError) as caught:
        parse_notice(text)
    assert message in str(caught.value)
    assert caught.value.problems


def test_a_year_given_that_is_not_the_notices_is_refused() -> None:
    with pytest.raises(NoticeError, match="the notice is for 2026, not 2027"):
        parse_notice(notice(2026), year=2027)


def test_full_width_digits_and_brackets_are_read() -> None:
    parsed = parse_notice("一、元旦：１月１日（周五）放假１天。", year=2027)
    assert parsed.holiday_dates() == {date(2027, 1, 1): "元旦"}
