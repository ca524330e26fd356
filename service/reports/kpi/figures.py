"""Figures: the evaluation's rates and averages from a period's counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.reports.kpi.counting import Counts
from service.reports.kpi.tallies import counts
from service.store.models import (
    Customer,
)
from workflows.quotas import Quotas


def _rate(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _by(c: Counts, planned: str, done: str, label: str) -> list[dict[str, Any]]:
    keys = sorted({k for (m, k), n in c.items() if m == planned and n})
    return [
        {
            label: key,
            "planned": int(c[planned, key]),
            "done": int(c[done, key]),
            "rate": _rate(c[done, key], c[planned, key]),
        }
        for key in keys
    ]


def plan_completion(
    conn: Connection, c: Counts, start: datetime, end: datetime, quotas: Quotas
) -> dict[str, Any]:
    """Per tier, visits done against the visits due in the period (`quotas.due_between`
    times the tier's customers): whole numbers; no rate where nothing is due."""
    customer = Customer.__table__
    customers: dict[str, int] = dict(
        conn.execute(sa.select(customer.c.tier, sa.func.count()).group_by(customer.c.tier)).all()
    )
    done_tiers = {k for (m, k), n in c.items() if m == "done_tier" and n}
    by_tier: list[dict[str, Any]] = []
    for tier in sorted(quotas.tiers() | set(customers) | done_tiers):
        count = int(customers.get(tier, 0))
        required = count * quotas.due_between(tier, start, end)
        done = int(c["done_tier", tier])
        by_tier.append(
            {
                "tier": tier,
                "customers": count,
                "required": required,
                "done": done,
                "rate": _rate(done, required),
            }
        )
    required_total = sum(t["required"] for t in by_tier)
    done_total = sum(t["done"] for t in by_tier)
    return {
        "required": required_total,
        "done": done_total,
        "rate": _rate(done_total, required_total),
        "by_tier": by_tier,
        "by_department": _by(c, "planned_department", "done_department", "department"),
        "by_person": _by(c, "planned_person", "done_person", "person"),
    }


def issue_resolution(c: Counts) -> dict[str, Any]:
    raised, resolved = int(c["raised", ""]), int(c["resolved", ""])
    with_due, on_time = int(c["resolved_with_deadline", ""]), int(c["on_time", ""])
    return {
        "raised": raised,
        "resolved": resolved,
        "resolution_rate": _rate(resolved, raised),
        "resolved_with_deadline": with_due,
        "on_time": on_time,
        "on_time_rate": _rate(on_time, with_due),
    }


def satisfaction(c: Counts) -> dict[str, Any]:
    n_conf, sum_conf = int(c["confirmations", ""]), int(c["confirmation_points", ""])
    n_surv, sum_surv = int(c["surveys", ""]), int(c["survey_points", ""])
    return {
        "confirmations": n_conf,
        "confirmation_average": _rate(sum_conf, n_conf),
        "surveys": n_surv,
        "survey_average": _rate(sum_surv, n_surv),
        "average": _rate(sum_conf + sum_surv, n_conf + n_surv),
    }


def cooperation(c: Counts) -> dict[str, Any]:
    before, after = c["volume_before", ""] / 100, c["volume_after", ""] / 100
    return {
        "visits_compared": int(c["visits_compared", ""]),
        "volume_before": before,
        "volume_after": after,
        "growth": round(after / before, 4) if before else None,
        "new_projects": int(c["new_projects", ""]),
        "new_areas": int(c["new_areas", ""]),
        "volumes_with_new_business": int(c["new_business", ""]),
    }


def figures(
    conn: Connection,
    start: datetime,
    end: datetime,
    quotas: Quotas,
    tallies: bool = True,
) -> dict[str, Any]:
    """The period's figures; `tallies=False` counts everything from the rows (the check).
    `quotas` says what the tiers' customers owe in the period (`context.current().quotas()`)."""
    c = counts(conn, start, end, tallies)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "plan_completion": plan_completion(conn, c, start, end, quotas),
        "issues": issue_resolution(c),
        "satisfaction": satisfaction(c),
        "cooperation": cooperation(c),
    }
