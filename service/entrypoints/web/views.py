"""The pages: sign in, inbox, visits (list, calendar, new, one visit, its transition forms).

Every change goes through `service.usecases.handlers` with `source="web"`; every read through the
same visibility rules as the API. Refusals render as pages with the API's status codes.
"""

from __future__ import annotations

import calendar as calendar_mod
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from service.core import runtime, texts
from service.core.errors import DomainError, InvalidRequest
from service.entrypoints.errors import from_workflow_error, status_of
from service.entrypoints.web import LANGUAGES, csrf
from service.entrypoints.web.auth import (
    check_login,
    load_actor,
    login_required,
    safe_next,
    sign_in,
    web_actor,
)
from service.entrypoints.web.auth import sign_out as end_session
from service.entrypoints.web.common import (  # noqa: F401 - re-exported for the other page modules
    _,
    as_datetime,
    bp,
    choices,
    customer_options,
    definition_of,
    department_options,
    error_page,
    lang,
    local_time,
    page_args,
    page_count,
    page_of,
    past,
    people,
    person,
    represent_rows,
    show,
    state_label,
    translated,
    trigger_label,
    tz,
    user_options,
    visible_rows,
)
from service.entrypoints.web.filtering import describe, page_filters
from service.entrypoints.web.forms import bind, parse
from service.entrypoints.web.instances import (  # noqa: F401 - re-exported for the other page modules
    data_sections,
    deadline_rows,
    fire_page,
    history_rows,
    instance_context,
    names_for,
)
from service.store import filters
from service.store import repository as repo
from service.store.kinds import KINDS, VISIT, Kind
from service.store.models import VisitVisitor
from service.usecases import handlers
from service.usecases.inbox import inbox as inbox_items
from workflows import WorkflowError


# -- request set-up, errors --------------------------------------------------------------
@bp.before_request
def before() -> None:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
    if request.method == "POST":
        csrf.protect()  # every form of the pages; the API and webhooks have their own auth


@bp.after_request
def no_store(response: Response) -> Response:
    # Pages show confidential customer data: keep them out of shared caches and history.
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@bp.errorhandler(CSRFError)
def csrf_refused(err: CSRFError) -> tuple[str, int]:
    return error_page(400, _("The form has expired or did not come from this site. Reload it."))


@bp.errorhandler(DomainError)
def api_refused(err: DomainError) -> tuple[str, int]:
    status, _code = status_of(err)
    if status == 404:
        return error_page(404, _("There is nothing here, or you may not see it."))
    return error_page(status, texts.message(err.message))


@bp.errorhandler(WorkflowError)
def workflow_refused(err: WorkflowError) -> tuple[str, int]:
    status, _code, message, _errors = from_workflow_error(err)
    if status == 403:
        if (request.endpoint or "").startswith("web.visit"):
            message = _("Your role or part in this visit does not allow it.")
        else:
            message = _("Your role or part in this does not allow it.")
    elif status == 409:
        message = _("This step is not possible from the current state.")
    return error_page(status, message)


@bp.errorhandler(HTTPException)
def http_refused(err: HTTPException) -> tuple[str, int]:
    status = err.code or 500
    if status == 404:
        return error_page(404, _("There is nothing here, or you may not see it."))
    if status == 413:
        limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // 1024
        return error_page(413, _("What was sent is too large: at most %(n)s KB.", n=limit))
    return error_page(status, err.description or err.name)


def lang_url(code: str) -> str:
    args = MultiDict(request.args)
    args["lang"] = code
    return f"{request.path}?{urlencode(list(args.items(multi=True)))}"


def page_url(page_no: int) -> str:
    args = MultiDict(request.args)
    args["page"] = str(page_no)
    return f"{request.path}?{urlencode(list(args.items(multi=True)))}"


@bp.context_processor
def template_globals() -> dict[str, Any]:
    return {
        "lang": lang(),
        "lang_url": lang_url,
        "page_url": page_url,
        "local_time": local_time,
        "actor": load_actor(),
        "state_label": state_label,
        "person": person,
        "people": people,
    }


# -- sign in, sign out -------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = safe_next(request.values.get("next")) or url_for("web.inbox")
    error = None
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        actor = check_login(username, request.form.get("password", ""))
        if actor is not None:
            sign_in(actor)
            return redirect(target)
        error = _("Unknown username or wrong password.")
        status = 401
    elif load_actor() is not None:
        return redirect(target)
    username = request.form.get("username", "")
    return render_template("web/login.html", error=error, username=username, next=target), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    end_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.login"))


# -- inbox -------------------------------------------------------------------------------
def summary(kind: Kind, item: Mapping[str, Any], customers: Mapping[str, str]) -> str:
    if kind is VISIT:
        name = customers.get(str(item.get("customer_id")), "")
        return f"{name} · {local_time(item.get('planned_at'))}"
    if kind.workflow == "issue":
        return str(item.get("title") or "")
    findings = str(item.get("findings") or "")
    return findings if len(findings) <= 80 else findings[:79] + "…"


def object_url(workflow: str, instance_id: int) -> str | None:
    if workflow == "visit":
        return url_for("web.visit", visit_id=instance_id)
    if workflow == "issue":
        return url_for("web.issue", issue_id=instance_id)
    if workflow == "rectification":
        return url_for("web.notice", notice_id=instance_id)
    return None


@bp.route("/")
@login_required
def inbox() -> str:
    actor = web_actor()
    page_no, per_page = page_args()
    items, total = inbox_items(actor, page_no, per_page)
    customers = dict(customer_options())
    now = runtime.now()
    rows = []
    for item in items:
        kind = KINDS[item["workflow"]]
        due = min((d["due_at"] for d in item["deadlines"]), default=None)
        rows.append(
            {
                "item": item,
                "kind_label": definition_of(kind).label.get(lang()),
                "summary": summary(kind, item, customers),
                "due": due,
                "overdue": item["overdue"] or past(due, now),
                "url": object_url(item["workflow"], item["id"]),
            }
        )
    return render_template(
        "web/inbox.html", rows=rows, total=total, page=page_no, per_page=per_page
    )


# -- visits: list ------------------------------------------------------------------------
@bp.route("/visits")
@login_required
def visits() -> Any:
    args, filter_errors = page_filters(VISIT)
    page_no, per_page = page_args(args)
    rows: list[dict[str, Any]] = []
    total = 0
    if not filter_errors:
        t = VISIT.table
        query = visible_rows(VISIT, filters.where(VISIT, args))
        rows, total = page_of(
            query.order_by(t.c.planned_at.desc(), t.c.id.desc()), page_no, per_page
        )
    definition = definition_of(VISIT)
    return render_template(
        "web/visits.html",
        items=represent_rows(VISIT, rows),
        total=total,
        page=page_no,
        pages=page_count(total, per_page),
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
    actor = web_actor()
    workflow = runtime.registry().get("visit")
    if not workflow.may_create(actor):
        return error_page(403, _("Your role may not plan visits."))
    specs = workflow.definition.create.fields
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
