"""Evaluation figures (domain sections 6 and 7) for a period [from, to): aggregate SQL only.

- plan completion: visits done (visited, recorded, reported) planned in the period, against
  the tier quotas (`POLICY["visit_quotas"]`, yearly) pro rata over the period; by department
  (of the visitors) and by person (visitor) against the visits they had planned in the period;
- issues raised in the period: the share resolved (resolved or customer_confirmed), and of
  the resolved ones with a deadline the share whose last `resolve` event came by `due_at`;
- satisfaction: the ratings of issue confirmations (`confirm` events in the period) and of
  customer surveys (surveyed in the period), 1-5;
- cooperation growth: for each customer with a done visit in the period, cooperation volumes
  of the period whose `period_start` is after the day of its first done visit, against those
  up to that day; loyalty: new projects and new areas recorded in the period.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.models import (
    CooperationVolume,
    Customer,
    CustomerSurvey,
    Issue,
    TransitionEvent,
    User,
    Visit,
    VisitVisitor,
)

DONE = ("visited", "recorded", "reported")
RESOLVED = ("resolved", "customer_confirmed")
YEAR = timedelta(days=365)


def _rate(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def plan_completion(
    conn: Connection, start: datetime, end: datetime, quotas: dict[str, int]
) -> dict[str, Any]:
    v, c, vv, u = (Visit.__table__, Customer.__table__, VisitVisitor.__table__, User.__table__)
    fraction = (end - start) / YEAR
    in_period = sa.and_(v.c.planned_at >= start, v.c.planned_at < end)
    done_flag = sa.case((v.c.state.in_(DONE), 1), else_=0)
    customers: dict[str, int] = dict(
        conn.execute(sa.select(c.c.tier, sa.func.count()).group_by(c.c.tier)).all()
    )
    done_by_tier: dict[str, int] = dict(
        conn.execute(
            sa.select(c.c.tier, sa.func.count())
            .select_from(v.join(c, c.c.id == v.c.customer_id))
            .where(in_period, v.c.state.in_(DONE))
            .group_by(c.c.tier)
        ).all()
    )
    by_tier: list[dict[str, Any]] = []
    for tier in sorted(set(quotas) | set(customers)):
        required = customers.get(tier, 0) * quotas.get(tier, 0) * fraction
        done = int(done_by_tier.get(tier, 0))
        by_tier.append(
            {
                "tier": tier,
                "customers": int(customers.get(tier, 0)),
                "required": round(required, 2),
                "done": done,
                "rate": _rate(done, required),
            }
        )
    per_person = (
        sa.select(vv.c.username, sa.func.count(), sa.func.sum(done_flag))
        .select_from(v.join(vv, vv.c.visit_id == v.c.id))
        .where(in_period)
        .group_by(vv.c.username)
        .order_by(vv.c.username)
    )
    by_person = [
        {"person": name, "planned": int(n), "done": int(d or 0), "rate": _rate(d or 0, n)}
        for name, n, d in conn.execute(per_person)
    ]
    # A visit counts once for a department however many of its people went.
    per_dept = (
        sa.select(
            u.c.department,
            sa.func.count(sa.distinct(v.c.id)),
            sa.func.count(sa.distinct(sa.case((v.c.state.in_(DONE), v.c.id), else_=None))),
        )
        .select_from(v.join(vv, vv.c.visit_id == v.c.id).join(u, u.c.username == vv.c.username))
        .where(in_period, u.c.department.is_not(None))
        .group_by(u.c.department)
        .order_by(u.c.department)
    )
    by_department = [
        {"department": dept, "planned": int(n), "done": int(d or 0), "rate": _rate(d or 0, n)}
        for dept, n, d in conn.execute(per_dept)
    ]
    required_total = sum(t["required"] for t in by_tier)
    done_total = sum(t["done"] for t in by_tier)
    return {
        "required": round(required_total, 2),
        "done": done_total,
        "rate": _rate(done_total, required_total),
        "by_tier": by_tier,
        "by_department": by_department,
        "by_person": by_person,
    }


def issue_resolution(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    i, e = Issue.__table__, TransitionEvent.__table__
    resolved_at = (
        sa.select(sa.func.max(e.c.at))
        .where(e.c.workflow == "issue", e.c.instance_id == i.c.id, e.c.trigger == "resolve")
        .scalar_subquery()
    )
    raised = sa.select(i.c.id, i.c.state, i.c.due_at).where(
        i.c.created_at >= start, i.c.created_at < end
    )
    sub = raised.subquery()
    raised_n, resolved_n = conn.execute(
        sa.select(sa.func.count(), sa.func.sum(sa.case((sub.c.state.in_(RESOLVED), 1), else_=0)))
    ).one()
    resolved_with_due = (
        sa.select(i.c.due_at.label("due_at"), resolved_at.label("resolved_at"))
        .where(
            i.c.created_at >= start,
            i.c.created_at < end,
            i.c.state.in_(RESOLVED),
            i.c.due_at.is_not(None),
        )
        .subquery()
    )
    with_due, on_time = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(
                sa.case((resolved_with_due.c.resolved_at <= resolved_with_due.c.due_at, 1), else_=0)
            ),
        )
    ).one()
    resolved_n = int(resolved_n or 0)
    return {
        "raised": int(raised_n),
        "resolved": resolved_n,
        "resolution_rate": _rate(resolved_n, raised_n),
        "resolved_with_deadline": int(with_due),
        "on_time": int(on_time or 0),
        "on_time_rate": _rate(on_time or 0, with_due),
    }


def satisfaction(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    e, s = TransitionEvent.__table__, CustomerSurvey.__table__
    rating = e.c.data["satisfaction"].as_integer()
    n_conf, sum_conf = conn.execute(
        sa.select(sa.func.count(rating), sa.func.sum(rating)).where(
            e.c.workflow == "issue", e.c.trigger == "confirm", e.c.at >= start, e.c.at < end
        )
    ).one()
    n_surv, sum_surv = conn.execute(
        sa.select(sa.func.count(), sa.func.sum(s.c.score)).where(
            s.c.surveyed_at >= start, s.c.surveyed_at < end
        )
    ).one()
    n_conf, n_surv = int(n_conf), int(n_surv)
    sum_conf, sum_surv = int(sum_conf or 0), int(sum_surv or 0)
    return {
        "confirmations": n_conf,
        "confirmation_average": _rate(sum_conf, n_conf),
        "surveys": n_surv,
        "survey_average": _rate(sum_surv, n_surv),
        "average": _rate(sum_conf + sum_surv, n_conf + n_surv),
    }


def cooperation(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    v, cv = Visit.__table__, CooperationVolume.__table__
    in_period = sa.and_(cv.c.period_start >= start.date(), cv.c.period_start < end.date())
    first = (
        sa.select(v.c.customer_id, sa.func.min(v.c.planned_at).label("first"))
        .where(v.c.state.in_(DONE), v.c.planned_at >= start, v.c.planned_at < end)
        .group_by(v.c.customer_id)
        .subquery()
    )
    # A period starting after the first done visit's (UTC) day is "after": comparing a date with
    # a timestamp gives the same answer on SQLite (text) and PostgreSQL (types).
    after = cv.c.period_start > first.c.first
    customers, before_sum, after_sum = conn.execute(
        sa.select(
            sa.func.count(sa.distinct(cv.c.customer_id)),
            sa.func.sum(sa.case((after, 0), else_=cv.c.amount)),
            sa.func.sum(sa.case((after, cv.c.amount), else_=0)),
        )
        .select_from(cv.join(first, first.c.customer_id == cv.c.customer_id))
        .where(in_period)
    ).one()
    projects, areas, loyal = conn.execute(
        sa.select(
            sa.func.sum(cv.c.projects),
            sa.func.sum(cv.c.new_areas),
            sa.func.count(
                sa.distinct(
                    sa.case(
                        ((cv.c.projects > 0) | (cv.c.new_areas > 0), cv.c.customer_id), else_=None
                    )
                )
            ),
        ).where(in_period)
    ).one()
    before = Decimal(str(before_sum or 0))
    after_ = Decimal(str(after_sum or 0))
    return {
        "visited_customers_with_volumes": int(customers),
        "volume_before": float(before),
        "volume_after": float(after_),
        "growth": round(float(after_ / before), 4) if before else None,
        "new_projects": int(projects or 0),
        "new_areas": int(areas or 0),
        "customers_with_new_business": int(loyal),
    }


def figures(
    conn: Connection, start: datetime, end: datetime, quotas: dict[str, int]
) -> dict[str, Any]:
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "plan_completion": plan_completion(conn, start, end, quotas),
        "issues": issue_resolution(conn, start, end),
        "satisfaction": satisfaction(conn, start, end),
        "cooperation": cooperation(conn, start, end),
    }


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """The figures flattened for CSV and Excel: (section, group, metric, value)."""
    out: list[tuple[str, str, str, Any]] = []
    plan = result["plan_completion"]
    for key in ("required", "done", "rate"):
        out.append(("plan_completion", "all", key, plan[key]))
    for section, label in (("by_tier", "tier"), ("by_department", "department")):
        for group in plan[section]:
            for key, value in group.items():
                if key != label:
                    out.append((f"plan_completion.{label}", group[label], key, value))
    for group in plan["by_person"]:
        for key, value in group.items():
            if key != "person":
                out.append(("plan_completion.person", group["person"], key, value))
    for section in ("issues", "satisfaction", "cooperation"):
        for key, value in result[section].items():
            out.append((section, "all", key, value))
    return out
