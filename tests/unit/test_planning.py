"""The annual visit plan (workflows.planning): quotas, workdays, spread, clashes, load."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from workflows.calendar import BusinessCalendar
from workflows.notice import parse_notice
from workflows.planning import default_min_gap, plan_year, remaining_workdays

TZ = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar(tz=TZ)
QUOTAS = {"core": 12, "important": 6, "general": 2}
CUSTOMERS = [(1, "core"), (2, "important"), (3, "general"), (4, "core")]
GROUPS = [["mary", "mia"], ["tom", "ted", "amy"]]

SPRING_FESTIVAL_2026 = {date(2026, 2, d) for d in range(15, 24)}
NATIONAL_DAY_2026 = {date(2026, 10, d) for d in range(1, 8)}


def at(day: str, hh: int = 10, mm: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hh, mm), tzinfo=TZ)


def plan(**over: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "year": 2026,
        "customers": CUSTOMERS,
        "quotas": QUOTAS,
        "existing": {},
        "visitor_groups": GROUPS,
        "bookings": [],
        "calendar": CAL,
    }
    args.update(over)
    return plan_year(**args)  # type: ignore[arg-type]


def test_each_tier_quota_is_met_counting_existing_visits() -> None:
    existing = {1: [at("2026-01-05"), at("2026-01-06")], 3: [at("2026-03-02")] * 3}
    result = plan(existing=existing)
    per_customer = Counter(v.customer_id for v in result.visits)
    assert per_customer == {1: 10, 2: 6, 4: 12}  # customer 3 already has more than 2
    assert result.summary()["core"] == {
        "customers": 2, "quota": 24, "existing": 2, "proposed": 22, "unplaced": 0,
    }  # fmt: skip
    assert result.summary()["general"]["proposed"] == 0


def test_dates_are_workdays_avoiding_spring_festival_and_national_day() -> None:
    many = [(i, "core") for i in range(1, 31)]
    result = plan(customers=many)
    days = {v.planned_at.date() for v in result.visits}
    assert all(CAL.is_workday(d) for d in days)
    assert not days & (SPRING_FESTIVAL_2026 | NATIONAL_DAY_2026)
    assert all(v.planned_at.weekday() < 5 or v.planned_at.date() in {
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
        date(2026, 9, 20), date(2026, 10, 10)} for v in result.visits)  # fmt: skip
    assert {v.planned_at.timetz() for v in result.visits} <= {
        time(9, 30, tzinfo=TZ),
        time(14, 30, tzinfo=TZ),
    }


def test_a_customers_visits_are_spread_evenly_over_the_rest_of_the_year() -> None:
    result = plan(start=date(2026, 3, 1))
    mine = sorted(v.planned_at.date() for v in result.visits if v.customer_id == 1)
    assert len(mine) == 12 and mine[0] >= date(2026, 3, 1) and mine[-1] <= date(2026, 12, 31)
    gaps = [(b - a).days for a, b in zip(mine, mine[1:], strict=False)]
    average = (mine[-1] - mine[0]).days / len(gaps)
    assert all(abs(g - average) <= 10 for g in gaps), gaps  # holidays and weekends shift a few


def test_only_the_rest_of_the_year_is_planned_from_the_start_day() -> None:
    result = plan(start=date(2026, 12, 1))
    assert result.visits and min(v.planned_at.date() for v in result.visits) >= date(2026, 12, 1)
    assert Counter(v.customer_id for v in result.visits)[1] == 3  # 23 working days, 10 apart


def test_no_visitor_is_booked_twice_in_a_half_day_counting_existing_bookings() -> None:
    many = [(i, "core") for i in range(1, 41)]
    bookings = [("mary", at("2026-12-01", 10)), ("tom", at("2026-12-01", 15))]
    result = plan(customers=many, bookings=bookings, start=date(2026, 12, 1))
    seen = Counter((b[0], b[1].date(), b[1].hour < 12) for b in bookings)
    for v in result.visits:
        for name in v.visitors:
            seen[(name, v.planned_at.date(), v.planned_at.hour < 12)] += 1
    assert max(seen.values()) == 1


def test_each_visit_has_a_marketing_person_and_a_technical_or_after_sales_one() -> None:
    result = plan()
    for v in result.visits:
        assert len(v.visitors) == 2
        assert v.visitors[0] in GROUPS[0] and v.visitors[1] in GROUPS[1]
    three = plan(visitors_per_visit=3)
    assert all(len(v.visitors) == 3 and len(set(v.visitors)) == 3 for v in three.visits)


def test_load_is_balanced_within_one_visit_between_visitors_of_the_same_role() -> None:
    result = plan(customers=[(i, "core") for i in range(1, 8)])
    load = Counter(name for v in result.visits for name in v.visitors)
    for group in GROUPS:
        counts = [load[name] for name in group]
        assert max(counts) - min(counts) <= 1, load


def test_existing_bookings_count_towards_a_visitors_load() -> None:
    bookings = [("tom", at(f"2026-12-{d:02d}", 10)) for d in (1, 2, 3, 4)]
    result = plan(customers=[(1, "important")], bookings=bookings, start=date(2026, 12, 1))
    load = Counter(name for v in result.visits for name in v.visitors)
    assert load["tom"] < load["ted"] and load["tom"] < load["amy"]


def test_clashes_in_existing_bookings_are_reported() -> None:
    bookings = [
        ("tom", at("2026-11-10", 9)),
        ("tom", at("2026-11-10", 11, 30)),  # same morning: a clash
        ("tom", at("2026-11-10", 14)),  # afternoon: fine
        ("mary", at("2026-11-10", 9)),
        ("mary", at("2026-11-11", 9)),
    ]
    result = plan(bookings=bookings)
    assert [(c.username, c.day, c.half, len(c.times)) for c in result.clashes] == [
        ("tom", date(2026, 11, 10), "am", 2)
    ]


def test_the_plan_is_deterministic_and_applying_it_leaves_nothing_to_plan() -> None:
    first, second = plan(), plan()
    assert first == second
    existing: dict[int, list[datetime]] = {}
    bookings = []
    for v in first.visits:
        existing.setdefault(v.customer_id, []).append(v.planned_at)
        bookings += [(name, v.planned_at) for name in v.visitors]
    again = plan(existing=existing, bookings=bookings)
    assert again.visits == () and again.clashes == ()  # the applied plan has no clash


def test_no_workdays_left_means_every_needed_visit_is_unplaced() -> None:
    result = plan(start=date(2026, 12, 31), calendar=BusinessCalendar(
        tz=TZ, extra_holidays=frozenset({date(2026, 12, 31)})))  # fmt: skip
    assert result.visits == ()
    assert result.unplaced == {1: 12, 2: 6, 3: 2, 4: 12}


def test_a_start_outside_the_year_is_refused() -> None:
    with pytest.raises(ValueError):
        plan(start=date(2027, 1, 1))


# -- spreading instead of cramming --------------------------------------------------------
def _working_gaps(days: list[date], calendar: BusinessCalendar = CAL) -> list[int]:
    days = sorted(days)
    return [calendar.working_days_between(a, b) for a, b in zip(days, days[1:], strict=False)]


def test_the_default_gap_lets_a_quota_of_twelve_fit_in_a_year() -> None:
    assert default_min_gap(QUOTAS) == 10
    result = plan()
    mine = [v.planned_at.date() for v in result.visits if v.customer_id == 1]
    assert len(mine) == 12 and min(_working_gaps(mine)) >= 10
    assert result.shortfalls == () and result.min_gap == 10


def test_the_rest_of_the_year_from_today_is_not_crammed_and_says_what_does_not_fit() -> None:
    result = plan(start=date(2026, 12, 3))
    assert result.working_days == 21  # 3 to 31 December 2026
    per_customer = Counter(v.customer_id for v in result.visits)
    assert per_customer == {1: 3, 2: 3, 3: 2, 4: 2}
    for customer_id in per_customer:
        mine = [v.planned_at.date() for v in result.visits if v.customer_id == customer_id]
        assert all(g >= 10 for g in _working_gaps(mine)), mine
    short = {s.customer_id: s for s in result.shortfalls}
    assert set(short) == {1, 2, 4}
    assert (short[1].wanted, short[1].planned, short[1].not_placed) == (12, 3, 9)
    assert short[1].reasons == {"gap": 9} and short[1].fits == 3
    # three core-like visits fit only on the 1st, 11th and 21st day left, where two
    # marketing people can take two of the three customers wanting them
    assert short[4].reasons == {"gap": 9, "busy": 1}
    assert result.unplaced == {1: 9, 2: 3, 4: 10}
    per_day = Counter((name, v.planned_at.date()) for v in result.visits for name in v.visitors)
    assert max(per_day.values()) == 1  # nobody on two visits a day


def test_the_gap_counts_the_customers_existing_visits() -> None:
    existing = {1: [at("2026-12-10"), at("2026-12-24")]}
    result = plan(customers=[(1, "core")], existing=existing, start=date(2026, 12, 3))
    mine = [v.planned_at.date() for v in result.visits]
    every = mine + [date(2026, 12, 10), date(2026, 12, 24)]
    assert min(_working_gaps(every)) >= 10
    assert result.shortfalls[0].reasons == {"gap": 10 - len(mine)}


def test_a_configured_gap_is_kept() -> None:
    result = plan(customers=[(1, "core")], min_gap=30)
    mine = [v.planned_at.date() for v in result.visits]
    assert min(_working_gaps(mine)) >= 30 and len(mine) == 9  # 248 working days hold 9
    assert result.shortfalls[0].reasons == {"gap": 3}


def test_visitors_are_balanced_by_their_load_existing_visits_included() -> None:
    bookings = [("mary", at(f"2026-{m:02d}-15", 10)) for m in range(1, 12)]
    result = plan(customers=[(i, "core") for i in range(1, 5)], bookings=bookings)
    load = Counter(name for v in result.visits for name in v.visitors)
    assert result.loads["mary"] == (11, load["mary"])
    later = plan(customers=[(i, "core") for i in range(1, 5)], bookings=bookings,
                 start=date(2026, 6, 1))  # fmt: skip
    assert later.loads["mary"][0] == 6  # her visits of June to November
    totals = {name: sum(later.loads[name]) for name in GROUPS[0]}
    assert later.loads["mary"][1] < later.loads["mia"][1]  # she has six already
    assert abs(totals["mary"] - totals["mia"]) <= 2, later.loads


def test_a_single_busy_visitor_leaves_visits_unplaced_saying_so() -> None:
    december = [d for d in remaining_workdays(2026, date(2026, 12, 3), CAL)]
    bookings = [("mary", at(d.isoformat(), 10)) for d in december[:15]]
    result = plan(customers=[(1, "important")], visitor_groups=[["mary"], ["tom"]],
                  bookings=bookings, start=date(2026, 12, 3))  # fmt: skip
    assert [v.planned_at.date() for v in result.visits] == [date(2026, 12, 24)]
    short = result.shortfalls[0]
    assert (short.wanted, short.planned, short.fits) == (6, 1, 3)
    assert short.reasons == {"gap": 3, "busy": 2}


def test_2027_without_official_data_books_no_public_holiday() -> None:
    cal = BusinessCalendar(tz=TZ)
    result = plan(year=2027, calendar=cal, customers=[(i, "core") for i in range(1, 21)])
    days = {v.planned_at.date() for v in result.visits}
    off = {date(2027, 1, 1)} | {date(2027, 5, d) for d in range(1, 6)}
    off |= {date(2027, 10, d) for d in range(1, 8)} | {date(2027, 2, d) for d in range(5, 13)}
    assert days and not days & off
    assert all(d.weekday() < 5 for d in days)


def test_make_up_saturdays_are_working_days_for_the_plan() -> None:
    days = remaining_workdays(2026, date(2026, 2, 9), CAL)
    assert date(2026, 2, 14) in days and date(2026, 2, 28) in days
    assert date(2026, 2, 16) not in days
    result = plan(customers=[(i, "core") for i in range(1, 41)], start=date(2026, 2, 9))
    saturdays = {v.planned_at.date() for v in result.visits if v.planned_at.weekday() == 5}
    assert saturdays and saturdays <= {date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                                       date(2026, 10, 10)}  # fmt: skip


def test_a_loaded_notice_decides_the_plans_days() -> None:
    cal = BusinessCalendar(tz=TZ)
    notice = "一、国庆节：9月30日（周四）至10月8日（周五）放假调休，共9天。10月9日（周六）上班。"
    cal.load_official([parse_notice(notice, year=2027)])
    days = remaining_workdays(2027, date(2027, 9, 27), cal)
    assert days[:5] == [date(2027, 9, 27), date(2027, 9, 28), date(2027, 9, 29),
                        date(2027, 10, 9), date(2027, 10, 11)]  # fmt: skip
    assert date(2027, 1, 1) in remaining_workdays(2027, date(2027, 1, 1), cal)  # not listed
