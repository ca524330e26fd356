"""The customers pages: key customers by tier with this year's visits done against the tier's
yearly quota and the visits of it due by today, one customer's page with its visits and
issues, and (for marketing) the form to add or edit a customer through the API's use cases
(`service.usecases.customers`). The form offers an existing customer's tier to admins only: the
others change it through the tier review.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from service.core import groups, labels, roles, runtime
from service.core.errors import InvalidRequest
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import (
    _,
    bp,
    error_page,
    represent_rows,
    translated,
    tz,
    visible_rows,
)
from service.entrypoints.web.issues import ledger_rows
from service.store import repository as repo
from service.store.db import db
from service.store.kinds import ISSUE, VISIT
from service.store.models import Customer
from service.usecases import customers as use_cases
from service.usecases import reviews
from service.usecases.customers import ADMIN_REASON, CRITERIA, TIERS
from workflows.quotas import Quotas


def tier_labels() -> dict[str, str]:
    return labels.rendered(labels.TIERS)


def criteria_labels() -> dict[str, str]:
    return labels.rendered(labels.CRITERIA)


def tier_reasons() -> dict[str, str]:
    """Why a tier changed outside a review, as the tier history shows it."""
    return {ADMIN_REASON: _("Set by an administrator")}


def may_edit() -> bool:
    return use_cases.may_edit(web_actor())


def done_this_year() -> dict[int, int]:
    """Visits done (visited, recorded or reported) per customer, planned in this local year."""
    zone = tz()
    year = runtime.now().astimezone(zone).year
    v = VISIT.table
    rows = repo.connection().execute(
        sa.select(v.c.customer_id, sa.func.count())
        .where(
            v.c.state.in_(groups.took_place()),
            v.c.planned_at >= datetime(year, 1, 1, tzinfo=zone),
            v.c.planned_at < datetime(year + 1, 1, 1, tzinfo=zone),
        )
        .group_by(v.c.customer_id)
    )
    return {int(customer_id): int(count) for customer_id, count in rows}


def _target(quotas: Quotas, tier: str, done: int, now: datetime) -> dict[str, Any]:
    """This year's quota of the tier, the visits of it due by now (those of the months
    ended: `workflows.quotas`), and whether the customer is behind them."""
    due = quotas.due_by(tier, now)
    return {
        "required": quotas.yearly(tier),
        "due": due,
        "behind": done < due,
        "today": now.astimezone(quotas.tz).date(),
    }


@bp.route("/customers")
@login_required
def customers() -> str:
    quotas, now = runtime.quotas(), runtime.now()
    done = done_this_year()
    c = Customer.__table__
    rows = repo.connection().execute(sa.select(c).order_by(c.c.name, c.c.id)).mappings()
    by_tier: dict[str, list[dict[str, Any]]] = {tier: [] for tier in TIERS}
    for r in rows:
        count = done.get(r["id"], 0)
        by_tier.setdefault(r["tier"], []).append(
            {**r, "done": count, **_target(quotas, r["tier"], count, now)}
        )
    return render_template(
        "web/customers.html",
        by_tier=by_tier,
        tiers=tier_labels(),
        year=runtime.now().astimezone(tz()).year,
        may_add=use_cases.may_add(web_actor()),
    )


@bp.route("/customers/<int:customer_id>")
@login_required
def customer(customer_id: int) -> Any:
    return customer_page(customer_id)


def customer_page(
    customer_id: int,
    site_errors: dict[str, list[str]] | None = None,
    site_raw: Mapping[str, str] | None = None,
    status: int = 200,
) -> Any:
    """The customer page; with a site form refused, its errors and input."""
    row = db.session.get(Customer, customer_id)
    if row is None:
        return error_page(404, _("There is nothing here, or you may not see it."))
    v, i = VISIT.table, ISSUE.table
    conn = repo.connection()
    visits = [
        dict(r)
        for r in conn.execute(
            visible_rows(VISIT, [v.c.customer_id == customer_id]).order_by(
                v.c.planned_at.desc(), v.c.id.desc()
            )
        ).mappings()
    ]
    issues = [
        dict(r)
        for r in conn.execute(
            visible_rows(ISSUE, [i.c.customer_id == customer_id]).order_by(i.c.id.desc())
        ).mappings()
    ]
    count = done_this_year().get(customer_id, 0)
    return render_template(
        "web/customer.html",
        customer=row,
        tiers=tier_labels(),
        criteria=criteria_labels(),
        visits=represent_rows(VISIT, visits),
        issues=ledger_rows(represent_rows(ISSUE, issues)),
        done=count,
        **_target(runtime.quotas(), row.tier, count, runtime.now()),
        year=runtime.now().astimezone(tz()).year,
        may_edit=may_edit(),
        tier_history=reviews.history(customer_id),
        tier_reasons=tier_reasons(),
        pending_reviews=reviews.search(None, "pending", customer_id)[0],
        may_propose=web_actor().role in roles.PROPOSERS,
        site_errors=site_errors or {},
        site_raw=site_raw or {},
    ), status


# -- adding and editing (marketing; admins edit) -----------------------------------------
def _form_data(form: MultiDict[str, str], adding: bool) -> dict[str, Any]:
    """The form's fields as the use case takes them. An edit sends the tier only if the
    form had one (an admin's form), for the use case to refuse it from anyone else."""
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "criteria": [c for c in form.getlist("criteria") if c],
    }
    if adding or "tier" in form:
        data["tier"] = form.get("tier", "")
    for name in ("industry", "region"):
        value = form.get(name, "").strip()
        data[name] = value or None
    return data


def customer_form(row: Customer | None) -> Any:
    actor = web_actor()
    allowed = use_cases.may_add(actor) if row is None else use_cases.may_edit(actor)
    if not allowed:
        return error_page(403, _("Only marketing adds and edits key customers."))
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        raw: MultiDict[str, str] = MultiDict(request.form)
        data = _form_data(raw, adding=row is None)
        try:
            if row is None:
                row = use_cases.add(data, actor)
            else:
                row = use_cases.edit(row.id, data, actor)
        except InvalidRequest as err:
            errors, status = translated(err.errors), 422
        else:
            flash(_("Customer %(name)s saved.", name=row.name), "success")
            return redirect(url_for("web.customer", customer_id=row.id))
    elif row is not None:
        raw = MultiDict(
            [
                ("name", row.name),
                ("tier", row.tier),
                ("industry", row.industry or ""),
                ("region", row.region or ""),
                *(("criteria", c) for c in row.criteria or []),
            ]
        )
    else:
        raw = MultiDict()
    return render_template(
        "web/customer_form.html",
        customer=row,
        raw=raw,
        errors=errors,
        tiers=tier_labels(),
        criteria=criteria_labels(),
        all_criteria=CRITERIA,
        tier_editable=row is None or use_cases.may_set_tier(actor),
        may_propose=actor.role in roles.PROPOSERS,
    ), status


@bp.route("/customers/new", methods=["GET", "POST"])
@login_required
def customer_new() -> Any:
    return customer_form(None)


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@login_required
def customer_edit(customer_id: int) -> Any:
    row = db.session.get(Customer, customer_id)
    if row is None:
        return error_page(404, _("There is nothing here, or you may not see it."))
    return customer_form(row)
