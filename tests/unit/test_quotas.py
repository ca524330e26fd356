"""Visit targets (workflows.quotas): a yearly quota as whole visits due at month-ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.quotas import Quotas, due_between, due_by, due_months, month_end

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A local Shanghai moment, or any moment written with its offset."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=SH)


def month(year: int, m: int) -> tuple[datetime, datetime]:
    """The local month [first midnight, next first midnight)."""
    start = datetime(year, m, 1, tzinfo=SH)
    end = datetime(year + (m == 12), m % 12 + 1, 1, tzinfo=SH)
    return start, end


@pytest.mark.parametrize(
    ("quota", "months"),
    [
        (12, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)),
        (6, (2, 4, 6, 8, 10, 12)),
        (4, (3, 6, 9, 12)),
        (2, (6, 12)),
        (1, (12,)),
        (5, (3, 5, 8, 10, 12)),  # 12k/5 = 2.4, 4.8, 7.2, 9.6, 12 rounded up
        (7, (2, 4, 6, 7, 9, 11, 12)),  # 1.71, 3.43, 5.14, 6.86, 8.57, 10.29, 12
        (24, tuple(m for m in range(1, 13) for _ in range(2))),  # two a month
        (0, ()),
    ],
)
def test_visit_k_falls_due_at_the_end_of_month_ceil_12k_over_q(
    quota: int, months: tuple[int, ...]
) -> None:
    assert due_months(quota) == months


def test_each_month_of_the_year_holds_its_due_visits() -> None:
    # 5 a year: March, May, August, October and December; none in the other months
    by_month = [due_between(5, *month(2026, m), SH) for m in range(1, 13)]
    assert by_month == [0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1]
    assert [due_between(2, *month(2026, m), SH) for m in range(1, 13)] == [0] * 5 + [1] + [
        0
    ] * 5 + [1]


def test_a_visit_is_due_only_once_its_month_has_ended_local_time() -> None:
    jan = at("2026-01-01T00:00:00")
    assert due_between(12, jan, at("2026-01-31T23:59:59"), SH) == 0
    assert due_between(12, jan, at("2026-02-01T00:00:00"), SH) == 1
    # the same two moments written in UTC: Shanghai's midnight is 16:00 UTC the day before
    assert due_between(12, jan, at("2026-01-31T15:59:59+00:00"), SH) == 0
    assert due_between(12, jan, at("2026-01-31T16:00:00+00:00"), SH) == 1
    # by UTC's own midnight of 1 February it has long been due in Shanghai
    assert due_by(12, at("2026-02-01T00:00:00+00:00"), SH) == 1
    assert due_by(12, at("2026-01-31T15:59:59.999999+00:00"), SH) == 0


def test_a_period_starting_at_a_month_end_does_not_owe_that_month() -> None:
    # January's visit is due at 1 February 00:00: it is January's, not February's
    assert due_between(12, *month(2026, 2), SH) == 1
    assert due_between(12, at("2026-02-01T00:00:00"), at("2026-02-01T00:00:01"), SH) == 0
    assert due_between(12, at("2026-01-31T23:59:59"), at("2026-02-01T00:00:00"), SH) == 1


def test_february_of_a_leap_year_is_one_month_like_any_other() -> None:
    assert month(2028, 2)[1] - month(2028, 2)[0] == timedelta(days=29)
    assert due_between(12, *month(2028, 2), SH) == 1
    assert due_between(6, *month(2028, 2), SH) == 1  # visit 1 of 6 is due at February's end
    assert due_between(12, at("2028-01-01T00:00:00"), at("2029-01-01T00:00:00"), SH) == 12
    # 29 February is before the end of February: nothing due yet that day
    assert due_by(6, at("2028-02-29T23:59:59"), SH) == 0
    assert due_by(6, at("2028-03-01T00:00:00"), SH) == 1


def test_a_period_across_new_year_counts_both_years() -> None:
    # 1 Dec 2026 to 1 Feb 2027: December's and January's month-ends
    start, end = at("2026-12-01T00:00:00"), at("2027-02-01T00:00:00")
    assert due_between(12, start, end, SH) == 2
    assert due_between(6, start, end, SH) == 1  # December's; February's is not yet
    assert due_between(2, start, end, SH) == 1  # December's
    # the second half of 2026 and the first of 2027: June's and December's, then June's
    assert due_between(2, at("2026-07-01T00:00:00"), at("2027-07-01T00:00:00"), SH) == 2
    # three years and a month: 3 × 4, plus the quarter-end of March 2029
    assert due_between(4, at("2026-01-01T00:00:00"), at("2029-04-01T00:00:00"), SH) == 13


def test_the_last_day_of_the_year_owes_all_but_december() -> None:
    assert due_by(12, at("2026-12-31T23:59:59"), SH) == 11
    assert due_by(2, at("2026-12-31T23:59:59"), SH) == 1
    # the whole year, its last moment included, owes the quota
    assert due_between(12, at("2026-01-01T00:00:00"), at("2027-01-01T00:00:00"), SH) == 12
    # at new year's midnight the year is a new one: nothing of it is due yet
    assert due_by(12, at("2027-01-01T00:00:00"), SH) == 0
    # a period of only 31 December owes December's visit, due at its end
    assert due_between(12, at("2026-12-31T00:00:00"), at("2027-01-01T00:00:00"), SH) == 1


def test_a_quota_of_zero_owes_nothing_and_bad_quotas_are_refused() -> None:
    assert due_between(0, at("2026-01-01T00:00:00"), at("2030-01-01T00:00:00"), SH) == 0
    assert due_by(0, at("2026-12-31T12:00:00"), SH) == 0
    for bad in (-1, 1.5, True, "12"):
        with pytest.raises(ValueError, match="whole number"):
            due_months(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="whole number"):
        Quotas({"core": -2}, SH)
    with pytest.raises(ValueError, match="aware"):
        due_between(12, datetime(2026, 1, 1), at("2026-02-01T00:00:00"), SH)


def test_an_empty_or_reversed_period_owes_nothing_and_the_far_future_is_safe() -> None:
    moment = at("2026-05-01T00:00:00")
    assert due_between(12, moment, moment, SH) == 0
    assert due_between(12, moment, at("2026-01-01T00:00:00"), SH) == 0
    assert month_end(9999, 12, SH) is None
    far = datetime(9999, 12, 31, 12, tzinfo=UTC)
    assert due_between(12, at("9999-01-01T00:00:00"), far, SH) == 11


def test_more_than_twelve_a_year_puts_several_in_a_month() -> None:
    assert due_between(24, *month(2026, 3), SH) == 2
    # 13 a year: 12k/13 rounds up to k for k = 1..12, and 156/13 = 12: two in December
    assert [due_between(13, *month(2026, m), SH) for m in range(1, 13)] == [1] * 11 + [2]


def test_quotas_answer_per_tier_and_unknown_tiers_owe_nothing() -> None:
    quotas = Quotas({"core": 12, "important": 6, "general": 2}, SH)
    march = month(2026, 3)
    assert [quotas.due_between(t, *march) for t in ("core", "important", "general")] == [1, 0, 0]
    assert quotas.due_between("unknown", *march) == 0
    now = at("2026-11-02T10:00:00")
    assert [quotas.due_by(t, now) for t in ("core", "important", "general")] == [10, 5, 1]


@given(
    quota=st.integers(min_value=0, max_value=40),
    cuts=st.lists(
        st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)),
        max_size=6,
    ),
)
def test_periods_that_tile_a_span_add_up_to_its_target(quota: int, cuts: list[datetime]) -> None:
    lo, hi = at("2025-01-01T00:00:00"), at("2029-01-01T00:00:00")
    points = sorted({lo, hi, *(c.replace(tzinfo=SH) for c in cuts)})
    parts = [due_between(quota, a, b, SH) for a, b in zip(points, points[1:], strict=False)]
    assert sum(parts) == due_between(quota, lo, hi, SH) == 4 * quota
    assert all(isinstance(p, int) and p >= 0 for p in parts)


@pytest.mark.parametrize("bad", ["-1", "1.5", "'12'", "true"])
def test_a_policy_file_with_a_bad_quota_is_refused_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    from service.core.config import load_policy

    (tmp_path / "policy.yaml").write_text(f"visit_quotas: {{core: {bad}}}\n", encoding="utf-8")
    monkeypatch.delenv("POLICY_FILE", raising=False)
    with pytest.raises(ValueError, match="visit_quotas.core must be a whole number"):
        load_policy(tmp_path)
    (tmp_path / "policy.yaml").write_text("visit_quotas: {core: 4}\n", encoding="utf-8")
    assert load_policy(tmp_path)["visit_quotas"] == {"core": 4, "important": 6, "general": 2}
