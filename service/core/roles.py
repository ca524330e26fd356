"""Role sets that more than one entry point checks, defined once."""

from __future__ import annotations

# The KPIs (regulation 7(二)) and what keeps them: the figures, their exports, the
# dashboard, the compliance report and the half-yearly evaluations with their snapshot.
KPI_READERS = frozenset(
    {"marketing_staff", "marketing_manager", "management", "supervision", "admin"}
)
