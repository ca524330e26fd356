"""The annual visit plan page (`/plan`): a preview of the year's plan, then applying it.

The same use case as `POST /api/v1/plans` (`service.usecases.planning.plan`): a preview
(`GET /plan?year=...`) is its dry run; "Apply" posts the same parameters with the preview's
fingerprint, so that what is created is what was shown (a plan that changed meanwhile is
shown again instead). Only the roles the API allows (a marketing manager) see the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from service.core import roles, runtime
from service.core.errors import Conflict, InvalidRequest
from service.core.texts import render
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import _, bp, error_page, translated, tz
from service.entrypoints.web.customers import tier_labels
from service.entrypoints.web.messages import N_
from service.store import repository as repo
from service.store.models import Customer
from service.usecases import planning
from service.usecases.handlers import Context

PLAN_MESSAGES = (  # the planner's field messages, for the catalog
    N_("the year is over"),
    N_("must be after today"),
    N_("must be a day of `year`"),
    N_("Must be greater than or equal to 2000 and less than or equal to 2100."),
    N_("Must be greater than or equal to 1 and less than or equal to 5."),
)
FIELDS = ("year", "from", "visitors_per_visit")
_INT = re.compile(r"[0-9]{1,6}")


@bp.context_processor
def plan_globals() -> dict[str, Any]:
    return {"planners": roles.PLANNERS}


def default_year() -> int:
    """The year still to be planned: this one, or the next on its last day."""
    return (runtime.now().astimezone(tz()).date() + timedelta(days=1)).year


def request_body(raw: Mapping[str, str]) -> dict[str, Any]:
    """The form's fields as the API's JSON body: numbers as numbers, blanks left out (the
    planner's defaults), anything else as typed, for the planner to refuse."""
    body: dict[str, Any] = {}
    for name in FIELDS:
        value = (raw.get(name) or "").strip()
        if value:
            body[name] = int(value) if name != "from" and _INT.fullmatch(value) else value
    return body


def customers() -> dict[int, tuple[str, str]]:
    c = Customer.__table__
    rows = repo.connection().execute(sa.select(c.c.id, c.c.name, c.c.tier))
    return {int(r.id): (r.name, r.tier) for r in rows}


def by_month(visits: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The proposed visits by month, then by customer (by name), each with its visits."""
    names = customers()
    months: dict[str, dict[int, list[Mapping[str, Any]]]] = {}
    for visit in sorted(visits, key=lambda v: v["planned_at"]):
        month = visit["planned_at"][:7]
        months.setdefault(month, {}).setdefault(visit["customer_id"], []).append(visit)
    out = []
    for month, per_customer in months.items():
        rows = [
            {
                "customer_id": customer_id,
                "name": names.get(customer_id, (f"#{customer_id}", ""))[0],
                "tier": names.get(customer_id, ("", ""))[1],
                "visits": items,
            }
            for customer_id, items in per_customer.items()
        ]
        rows.sort(key=lambda r: (r["name"], r["customer_id"]))
        out.append(
            {"month": month, "customers": rows, "count": sum(len(i) for i in per_customer.values())}
        )
    return out


def totals(summary: Mapping[str, Mapping[str, int]]) -> list[tuple[str, Mapping[str, int]]]:
    """The summary's tiers in their order (core, important, general), then any other."""
    order = list(tier_labels())
    return sorted(summary.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)


def _render(
    raw: Mapping[str, str], errors: dict[str, list[str]], result: dict[str, Any] | None, status: int
) -> tuple[str, int]:
    summary = result["summary"] if result else {}
    return render_template(
        "web/plan.html",
        raw=raw,
        errors=errors,
        result=result,
        months=by_month(result["visits"]) if result else [],
        totals=totals(summary),
        total={
            k: sum(row[k] for row in summary.values())
            for k in ("customers", "quota", "existing", "proposed", "unplaced")
        },
        digest=planning.digest(result) if result else "",
        tiers=tier_labels(),
        halves={"am": _("morning"), "pm": _("afternoon")},
        names={k: v[0] for k, v in customers().items()},
        say=render,
    ), status


@bp.route("/plan", methods=["GET", "POST"])
@login_required
def plan() -> Any:
    actor = web_actor()
    if actor.role not in roles.PLANNERS:
        return error_page(403, _("Only a marketing manager plans the year's visits."))
    ctx = Context(actor, "web", g.request_id)
    if request.method == "POST":
        raw: MultiDict[str, str] = MultiDict(request.form)
        body = request_body(raw)
        try:
            result = planning.plan(
                {**body, "dry_run": False}, ctx, expected=raw.get("digest") or None
            )
        except InvalidRequest as err:
            return _render(raw, translated(err.errors), None, 422)
        except Conflict:
            flash(
                _("The plan changed since the preview: check it again before applying."), "warning"
            )
            return _render(raw, {}, planning.plan({**body, "dry_run": True}, ctx), 409)
        created = result["created"]
        if not created:
            flash(_("Nothing to plan: every customer already has its visits."), "info")
            return redirect(url_for("web.visits"))
        flash(
            _("%(n)s visits of the %(year)s plan created.", n=len(created), year=result["year"]),
            "success",
        )
        first = min(v["planned_at"] for v in result["visits"])
        return redirect(url_for("web.visits_calendar", month=first[:7]))
    raw = MultiDict(request.args)
    if not raw.get("year"):
        raw = MultiDict({"year": str(default_year()), "visitors_per_visit": "2"})
        return _render(raw, {}, None, 200)
    try:
        result = planning.plan({**request_body(raw), "dry_run": True}, ctx)
    except InvalidRequest as err:
        return _render(raw, translated(err.errors), None, 422)
    return _render(raw, {}, result, 200)
