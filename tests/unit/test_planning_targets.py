"""The annual plan against the visit targets (workflows.quotas): a year planned from
1 January keeps every customer up with the visits due at each month-end."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.unit.test_planning import GROUPS, TZ, plan
from workflows.quotas import due_between, month_end


@pytest.mark.parametrize("quota", [1, 2, 4, 5, 6, 7, 12])
def test_a_whole_year_plan_is_never_behind_the_visits_due(quota: int) -> None:
    customers = [(1, "t"), (2, "t"), (3, "t")]
    result = plan(customers=customers, quotas={"t": quota}, visitor_groups=GROUPS)
    assert not result.shortfalls
    year_start = datetime(2026, 1, 1, tzinfo=TZ)
    for customer_id, _tier in customers:
        times = sorted(v.planned_at for v in result.visits if v.customer_id == customer_id)
        assert len(times) == quota
        for month in range(1, 13):
            end = month_end(2026, month, TZ)
            assert end is not None
            planned = sum(1 for t in times if t < end)
            assert planned >= due_between(quota, year_start, end, TZ), (customer_id, month)
