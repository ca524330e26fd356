"""The visit pages: the list, the month calendar, planning a visit, one visit and its steps.

Every change goes through `service.usecases.handlers` with `source="web"`; every read through the
same visibility rules as the API.
"""

from __future__ import annotations

import calendar as calendar_mod
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from service.core import runtime
from service.core.errors import InvalidRequest
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import (
    _,
    as_datetime,
    bp,
    choices,
    creation_form,
    customer_options,
    definition_of,
    lang,
    local_time,
    person,
    represent_rows,
    translated,
    tz,
    user_options,
    visible_rows,
)
from service.entrypoints.web.filtering import describe, filtered_page
from service.entrypoints.web.forms import bind, parse
from service.entrypoints.web.instances import fire_page, instance_context
from service.store import filters
from service.store import repository as repo
from service.store.kinds import VISIT
from service.store.models import VisitVisitor
from service.usecases import handlers


# -- visits: list ------------------------------------------------------------------------
@bp.route("/visits")
@login_required
def visits() -> Any:
    t = VISIT.table
    found = filtered_page(VISIT, t.c.planned_at.desc(), t.c.id.desc())
    filter_errors = found.errors
    definition = definition_of(VISIT)
    return render_template(
        "web/visits.html",
        items=represent_rows(VISIT, found.rows),
        total=found.total,
        page=found.page,
        pages=found.pages,
        customers=customer_options(),
        customer_names=dict(customer_options()),
        users=user_options(),
        states=[(s.name, s.label.get(lang())) for s in definition.states.values()],
        may_create=runtime.registry().get("visit").may_create(web_actor()),
        filter_errors=filter_errors,
    ), (422 if filter_errors else 200)


# -- visits: month calendar --------------------------------------------------------------
NOT_A_MONTH = "Not a month (2026-12)."


@bp.route("/visits/calendar")
@login_required
def visits_calendar() -> tuple[str, int]:
    today = runtime.now().astimezone(tz()).date()
    (year, month), filter_errors = calendar_filters(today)
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    t = VISIT.table
    where = [
        t.c.planned_at >= datetime.combine(first, time.min, tz()),
        t.c.planned_at < datetime.combine(following, time.min, tz()),
    ]
    visitor = "" if filter_errors else request.args.get("visitor", "").strip()
    if visitor:
        where.extend(filters.where(VISIT, {"visitor": visitor}))
    query = visible_rows(VISIT, where).order_by(t.c.planned_at)
    rows = [] if filter_errors else list(repo.connection().execute(query).mappings())
    customers = dict(customer_options())
    by_day: dict[date, list[dict[str, Any]]] = {}
    for r in rows:
        at = r["planned_at"].astimezone(tz())
        by_day.setdefault(at.date(), []).append(
            {
                "id": r["id"],
                "time": at.strftime("%H:%M"),
                "customer": customers.get(str(r["customer_id"]), ""),
                "state": r["state"],
            }
        )
    weeks = calendar_mod.Calendar(firstweekday=0).monthdatescalendar(year, month)
    previous = first - timedelta(days=1)
    return render_template(
        "web/calendar.html",
        weeks=weeks,
        by_day=by_day,
        month=first,
        today=today,
        previous=f"{previous.year:04d}-{previous.month:02d}",
        next=f"{following.year:04d}-{following.month:02d}",
        visitor=visitor,
        users=user_options(),
        filter_errors=filter_errors,
    ), (422 if filter_errors else 200)


def calendar_filters(today: date) -> tuple[tuple[int, int], list[tuple[str, str]]]:
    """The asked month (`2026-12`, this month when absent) and visitor, or this month and the
    errors as the list pages show them: a bad value is named, never silently replaced."""
    errors: list[tuple[str, str]] = []
    asked = request.args.get("month", "").strip()
    year, month = today.year, today.month
    if asked:
        try:
            if len(asked) != 7 or asked[4] != "-":
                raise ValueError(asked)
            year, month = int(asked[:4]), int(asked[5:])
            date(year, month, 1)
        except ValueError:
            year, month = today.year, today.month
            errors.append((_("Month"), _(NOT_A_MONTH)))
    try:
        filters.parse(VISIT, {"visitor": request.args.get("visitor", "")})
    except filters.Invalid as err:
        errors.extend(describe(VISIT, err.errors))
    return (year, month), errors


# -- visits: new -------------------------------------------------------------------------
def clashes(visitors: Sequence[str], planned_at: Any) -> list[dict[str, Any]]:
    """Visits within ±WEB_CLASH_HOURS of `planned_at` that one of `visitors` already has."""
    at = as_datetime(planned_at) if isinstance(planned_at, str) else None
    names = [v for v in visitors if isinstance(v, str)]
    if at is None or at.tzinfo is None or not names:
        return []
    window = timedelta(hours=current_app.config["WEB_CLASH_HOURS"])
    t, vv = VISIT.table, VisitVisitor.__table__
    rows = repo.connection().execute(
        sa.select(vv.c.username, t.c.id, t.c.planned_at)
        .join(t, t.c.id == vv.c.visit_id)
        .where(
            vv.c.username.in_(names),
            t.c.planned_at.between(at - window, at + window),
            t.c.state != "cancelled",
        )
        .order_by(t.c.planned_at, vv.c.username)
    )
    return [{"username": r.username, "id": r.id, "planned_at": r.planned_at} for r in rows]


def clash_message(clash: Mapping[str, Any]) -> str:
    return _(
        "%(user)s already has visit #%(id)s at %(time)s.",
        user=person(clash["username"]),
        id=clash["id"],
        time=local_time(clash["planned_at"]),
    )


@bp.route("/visits/new", methods=["GET", "POST"])
@login_required
def visit_new() -> Any:
    actor, specs = creation_form(VISIT.workflow, _("Your role may not plan visits."))
    errors: dict[str, Any] = {}
    warnings: list[str] = []
    status = 200
    if request.method == "POST":
        raw: MultiDict[str, str] = MultiDict(request.form)
        data = parse(specs, request.form, tz())
        found = clashes(data.get("visitors") or [], data.get("planned_at"))
        if request.form.get("action") == "check":
            warnings = [clash_message(c) for c in found]
            if not found:
                flash(_("No visitor has another visit within two hours of that time."), "info")
        else:
            try:
                rep = handlers.create(VISIT, data, handlers.Context(actor, "web", g.request_id))
            except InvalidRequest as err:
                errors, status = translated(err.errors), 422
                warnings = [clash_message(c) for c in found]
            else:
                for c in found:
                    flash(clash_message(c), "warning")
                flash(_("Visit #%(id)s planned.", id=rep["id"]), "success")
                return redirect(url_for("web.visit", visit_id=rep["id"]))
    else:
        raw = MultiDict({"visitors": actor.username})
    fields = bind(specs, raw, errors, lang(), choices(customer_id=customer_options()))
    return render_template(
        "web/visit_new.html", fields=fields, errors=errors, warnings=warnings
    ), status


# -- one visit and its step forms ---------------------------------------------------------
@bp.route("/visits/<int:visit_id>")
@login_required
def visit(visit_id: int) -> str:
    context = instance_context(VISIT, visit_id, _("Plan"))
    rep = context["instance"]
    return render_template(
        "web/visit.html",
        visit=rep,
        customer=dict(customer_options()).get(str(rep["customer_id"]), ""),
        may_raise=runtime.registry().get("issue").may_create(web_actor()),
        **context,
    )


@bp.route("/visits/<int:visit_id>/fire/<trigger>", methods=["GET", "POST"])
@login_required
def visit_fire(visit_id: int, trigger: str) -> Any:
    return fire_page(VISIT, visit_id, trigger, url_for("web.visit", visit_id=visit_id))
