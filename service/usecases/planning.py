"""The annual visit plan: gather its inputs from the database, propose, and apply.

The algorithm is `workflows.planning.plan_year` (pure); this module reads the
customers, the year's non-cancelled visits and their visitors, and the visitor pool
(active marketing staff, then technical and after-sales people), and creates the
proposed visits through the handlers in one transaction. `plan` is the use case that
`POST /api/v1/plans` and the plan page (`/plan`) both call.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.engine import Connection

from service.core import context, roles
from service.core.errors import Conflict, Forbidden, InvalidRequest
from service.core.texts import msg
from service.store import repository as repo
from service.store.kinds import VISIT
from service.store.models import Customer, User, Visit, VisitVisitor
from service.usecases import official_calendar
from service.usecases.handlers import Context, insert_created, prepare_creation
from workflows.planning import BUSY, GAP, NO_DAYS, Plan, Shortfall, plan_year

TOPICS = ["business_cooperation", "needs_research"]
# Two plans applied at once would both see the quotas unmet: they take turns.
PLAN_LOCK = 0x7669_7369_7470  # "visitp"
PLACE = "待与客户确认 / to be agreed with the customer"


def N_(key: str) -> str:  # noqa: N802 - marks a message key for the catalog (pybabel)
    return key


REASONS = {  # why visits were not placed: message keys, read in the reader's language
    GAP: N_(
        "%(n)s not placed: the %(days)s working days left hold %(fits)s visits"
        " %(gap)s working days apart"
    ),
    BUSY: N_(
        "%(n)s not placed: no free visitor on the days that keep %(gap)s working days"
        " between visits"
    ),
    NO_DAYS: N_("%(n)s not placed: no working day left in %(year)s"),
}


def year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = context.registry().calendar.tz
    return (
        datetime.combine(date(year, 1, 1), time(0), tzinfo=tz),
        datetime.combine(date(year + 1, 1, 1), time(0), tzinfo=tz),
    )


def _pool(conn: Connection) -> list[list[str]]:
    users = User.__table__
    rows = conn.execute(
        sa.select(users.c.username, users.c.role).where(users.c.active.is_(True))
    ).all()
    marketing = sorted(r.username for r in rows if r.role in roles.MARKETING_ROLES)
    if not marketing:  # a department of one manager still gets its visits planned
        marketing = sorted(r.username for r in rows if r.role == "marketing_manager")
    support = sorted(r.username for r in rows if r.role in roles.SUPPORT_ROLES)
    return [marketing, support]


def propose(conn: Connection, year: int, start: date, visitors_per_visit: int = 2) -> Plan:
    """The plan of `year` from `start` on, from what the database holds now."""
    begin, end = year_bounds(year)
    visits, links = Visit.__table__, VisitVisitor.__table__
    in_year = sa.and_(
        visits.c.planned_at >= begin, visits.c.planned_at < end, visits.c.state != "cancelled"
    )
    customers = [
        (int(r.id), str(r.tier))
        for r in conn.execute(sa.select(Customer.__table__.c.id, Customer.__table__.c.tier))
    ]
    existing: dict[int, list[datetime]] = defaultdict(list)
    for r in conn.execute(sa.select(visits.c.customer_id, visits.c.planned_at).where(in_year)):
        existing[int(r.customer_id)].append(r.planned_at)
    bookings = [
        (str(r.username), r.planned_at)
        for r in conn.execute(
            sa.select(links.c.username, visits.c.planned_at)
            .join(visits, visits.c.id == links.c.visit_id)
            .where(in_year)
        )
    ]
    return plan_year(
        year,
        customers,
        context.current().quotas().per_tier,  # the year's whole quota: its visits due by month-end
        existing,
        _pool(conn),
        bookings,
        context.registry().calendar,
        start=start,
        visitors_per_visit=visitors_per_visit,
        min_gap=context.config().get("PLAN_MIN_GAP_WORKING_DAYS"),
        max_per_day=int(context.config().get("PLAN_MAX_VISITS_PER_DAY") or 1),
    )


def default_start(year: int) -> date:
    """Tomorrow (local), or 1 January of a year still to come."""
    tomorrow = context.now().astimezone(context.registry().calendar.tz).date() + timedelta(1)
    return max(tomorrow, date(year, 1, 1))


def payload_of(visit: Any, year: int) -> dict[str, Any]:
    return {
        "customer_id": visit.customer_id,
        "planned_at": visit.planned_at.isoformat(),
        "visitors": list(visit.visitors),
        "topics": TOPICS,
        "place": PLACE,
        "purpose": f"{year} 年度走访计划 / annual plan {year}",
    }


def represent(plan: Plan) -> dict[str, Any]:
    return {
        "year": plan.year,
        "from": plan.start.isoformat(),
        "visits": [payload_of(v, plan.year) for v in plan.visits],
        "clashes": [
            {
                "username": c.username,
                "date": c.day.isoformat(),
                "half_day": c.half,
                "times": [t.isoformat() for t in c.times],
            }
            for c in plan.clashes
        ],
        "summary": plan.summary(),
        "calendar": official_calendar.status(plan.year),
        "min_gap_working_days": plan.min_gap,
        "working_days": plan.working_days,
        "shortfalls": [shortfall(s, plan) for s in plan.shortfalls],
        "visitors": [
            {"username": name, "existing": old, "planned": new, "total": old + new}
            for name, (old, new) in sorted(plan.loads.items())
        ],
    }


def shortfall(s: Shortfall, plan: Plan) -> dict[str, Any]:
    """A customer's visits not placed, each reason with its count and message (a `Text`:
    English in the API's JSON, the reader's language on the page)."""
    values = {"days": plan.working_days, "fits": s.fits, "gap": plan.min_gap, "year": plan.year}
    return {
        "customer_id": s.customer_id,
        "tier": s.tier,
        "quota": s.quota,
        "existing": s.existing,
        "wanted": s.wanted,
        "planned": s.planned,
        "not_placed": s.not_placed,
        "reasons": [
            {"reason": code, "count": n, "message": msg(REASONS[code], **values, n=n)}
            for code, n in s.reasons.items()
        ],
    }


def digest(represented: Mapping[str, Any]) -> str:
    """A fingerprint of a plan's proposed visits: what a preview showed, to apply only that."""
    text = json.dumps(represented["visits"], sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def run(
    year: int,
    start: date,
    visitors_per_visit: int,
    dry_run: bool,
    ctx: Context,
    expected: str | None = None,
) -> dict[str, Any]:
    """Propose the plan; unless a dry run, create its visits in one transaction. With
    `expected` (a preview's `digest`), applying a plan that differs is a 409 writing nothing."""
    if dry_run:
        with repo.reading() as conn:
            return {"dry_run": True, **represent(propose(conn, year, start, visitors_per_visit))}
    with repo.writing() as conn:
        if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already serialises
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PLAN_LOCK})
        plan = propose(conn, year, start, visitors_per_visit)
        if expected is not None and digest(represent(plan)) != expected:
            raise Conflict(msg("the plan changed since it was previewed"))
        now = context.now()
        ids = []
        for visit in plan.visits:
            creation = prepare_creation(VISIT, payload_of(visit, year), ctx, conn)
            ids.append(insert_created(conn, VISIT, creation, ctx, now))
    context.committed()
    return {"dry_run": False, **represent(plan), "created": ids}


# -- the use case ----------------------------------------------------------------------------
class PlanRequest(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    from_ = fields.Date(data_key="from", load_default=None)
    dry_run = fields.Boolean(load_default=True)
    visitors_per_visit = fields.Integer(
        load_default=2, strict=True, validate=validate.Range(min=1, max=5)
    )

    @validates_schema
    def _in_year(self, data: dict[str, Any], **_: Any) -> None:
        start = data.get("from_")
        if start is not None and start.year != data.get("year"):
            raise ValidationError("must be a day of `year`", "from")


def plan(body: Mapping[str, Any], ctx: Context, expected: str | None = None) -> dict[str, Any]:
    """Check a plan request (`year`, `from`, `dry_run`, `visitors_per_visit`) and run it.

    Refusals, in the API's order, write nothing: bad fields, a year that is over or a
    start before tomorrow (422), a caller who is not a marketing manager (403), a plan
    that is no longer the previewed one (409, with `expected`).
    """
    try:
        args = PlanRequest().load(body)
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_": err.messages}
        raise InvalidRequest("invalid plan request", messages) from None
    year: int = args["year"]
    earliest = default_start(year)
    if earliest.year != year:
        raise InvalidRequest("invalid plan request", {"year": ["the year is over"]})
    start: date = args["from_"] or earliest
    if start < earliest:
        raise InvalidRequest("invalid plan request", {"from": ["must be after today"]})
    if ctx.actor.role not in roles.PLANNERS:
        raise Forbidden(msg("only a marketing manager may plan the year's visits"))
    return run(year, start, args["visitors_per_visit"], args["dry_run"], ctx, expected)
