"""Evaluation figures (domain sections 6 and 7) for a period [from, to).

- plan completion: visits done (visited, recorded, reported) planned in the period, against
  the visits due in it by the tier quotas (`POLICY["visit_quotas"]`, yearly, each quota's
  visits due at month-ends: `workflows.quotas`), a whole number, times the tier's customers;
  by department (of the visitors) and by person (visitor) against the visits they had
  planned in the period;
- issues raised in the period: the share solved (resolved or customer_confirmed), and of
  the resolved ones with a deadline the share whose last `resolve` event came by `due_at`;
- satisfaction: the ratings of issue confirmations (`confirm` events in the period) and of
  customer surveys (surveyed in the period), 1-5;
- cooperation growth: for each done visit of the period, the customer's cooperation volume
  of the volume period the visit fell in (the latest `period_start` on or before its UTC
  day) against that of the next one; visits with both recorded are compared. Loyalty: new
  projects and new areas of the volume periods starting in the period.

Every figure is a sum of counts, and a count over a period is the sum of its days' counts.
So the counts are kept per day in `kpi_tallies` (the UTC day of the moment a count is
anchored at, or a volume's `period_start`): a period is its whole days from the tallies
plus its partial first and last days counted from the rows. Database triggers mark a day
dirty when a row it counts changes (migration 0006); dirty days are counted from the rows
too, until `refresh` (the worker, every `KPI_REFRESH_INTERVAL`) has recounted them. The
rows are the truth; the tallies only make a year cost a few tens of thousands of rows.
"""

from service.reports.kpi.counting import (
    DATE_MEASURES,
    DAY,
    Counts,
    count_dates,
    count_moments,
    utc_date,
)
from service.reports.kpi.figures import (
    cooperation,
    figures,
    issue_resolution,
    plan_completion,
    satisfaction,
)
from service.reports.kpi.tallies import count_day, counts, refresh

__all__ = [
    "DATE_MEASURES",
    "DAY",
    "Counts",
    "cooperation",
    "count_dates",
    "count_day",
    "count_moments",
    "counts",
    "figures",
    "issue_resolution",
    "plan_completion",
    "refresh",
    "satisfaction",
    "utc_date",
]
