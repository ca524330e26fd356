"""The pages: sign in, inbox, visits (list, calendar, new, one visit, its transition forms).

Every change goes through `service.handlers` with `source="web"`; every read through the
same visibility rules as the API. Refusals render as pages with the API's status codes.
"""

from __future__ import annotations

import calendar as calendar_mod
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from service import handlers, runtime, visibility
from service import repository as repo
from service.api.instances import _filters as list_filters
from service.errors import ApiError, InvalidRequest, from_workflow_error
from service.inbox import inbox as inbox_items
from service.kinds import KINDS, VISIT, Kind
from service.models import Customer, Department, User, VisitVisitor
from service.representation import represent
from service.web import LANGUAGES, csrf
from service.web.auth import (
    check_login,
    load_actor,
    login_required,
    safe_next,
    sign_in,
    web_actor,
)
from service.web.auth import sign_out as end_session
from service.web.forms import Choices, bind, initial, parse
from workflows import InvalidData, VersionConflict, WorkflowError
from workflows.diagram import mermaid
from workflows.spec import Definition, FieldSpec, FieldType, TransitionSpec

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/web-static",
)


def _(text: str, **variables: Any) -> str:
    """The text in the page's language (Flask-Babel's gettext, typed)."""
    return str(gettext(text, **variables))


# A reason explains one change; it is never carried over from another transition's form.
NO_CARRY = frozenset({"reason"})


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


def error_page(status: int, message: str) -> tuple[str, int]:
    titles = {
        400: _("The request was refused"),
        403: _("You may not do this"),
        404: _("Not found"),
        409: _("Not possible now"),
        422: _("Invalid request"),
    }
    title = titles.get(status, _("Error"))
    return render_template("web/error.html", status=status, title=title, message=message), status


@bp.errorhandler(CSRFError)
def csrf_refused(err: CSRFError) -> tuple[str, int]:
    return error_page(400, _("The form has expired or did not come from this site. Reload it."))


@bp.errorhandler(ApiError)
def api_refused(err: ApiError) -> tuple[str, int]:
    if err.status == 404:
        return error_page(404, _("There is nothing here, or you may not see it."))
    return error_page(err.status, err.message)


@bp.errorhandler(WorkflowError)
def workflow_refused(err: WorkflowError) -> tuple[str, int]:
    status, _code, message, _errors = from_workflow_error(err)
    if status == 403:
        message = _("Your role or part in this visit does not allow it.")
    elif status == 409:
        message = _("This step is not possible from the current state.")
    return error_page(status, message)


@bp.errorhandler(HTTPException)
def http_refused(err: HTTPException) -> tuple[str, int]:
    status = err.code or 500
    if status == 404:
        return error_page(404, _("There is nothing here, or you may not see it."))
    return error_page(status, err.description or err.name)


# -- template helpers --------------------------------------------------------------------
def lang() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "zh"


def tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) > 10:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _past(value: Any, now: datetime) -> bool:
    moment = as_datetime(value)
    return moment is not None and moment <= now


def local_time(value: Any) -> str:
    """A time as `YYYY-MM-DD HH:MM` in the business time zone; a bare date as it is."""
    moment = as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(tz())
    return moment.strftime("%Y-%m-%d %H:%M")


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
    }


def definition_of(kind: Kind, version: int | None = None) -> Definition:
    return runtime.registry().get(kind.workflow, version).definition


def state_label(workflow: str, state: str | None) -> str:
    if state is None:
        return ""
    states = runtime.registry().get(workflow).definition.states
    return states[state].label.get(lang()) if state in states else state


def trigger_label(definition: Definition, trigger: str | None) -> str:
    if trigger is None:
        return _("Created")
    if trigger.startswith("expire:"):
        kind = trigger.split(":", 1)[1]
        for state in definition.states.values():
            if state.deadline is not None and state.deadline.kind == kind:
                return _("Deadline passed: %(label)s", label=state.deadline.label.get(lang()))
        return trigger
    named = definition.transitions_named(trigger)
    return named[0].label.get(lang()) if named else trigger


# -- reference data ----------------------------------------------------------------------
def user_options() -> list[tuple[str, str]]:
    users = User.__table__
    rows = repo.connection().execute(
        sa.select(users.c.username, users.c.display_name, users.c.role)
        .where(users.c.active, users.c.role != "integration")
        .order_by(users.c.username)
    )
    return [
        (r.username, f"{r.display_name} ({r.username})" if r.display_name else r.username)
        for r in rows
    ]


def department_options() -> list[tuple[str, str]]:
    d = Department.__table__
    rows = repo.connection().execute(sa.select(d.c.code, d.c.name).order_by(d.c.code))
    return [(r.code, r.name or r.code) for r in rows]


def customer_options() -> list[tuple[str, str]]:
    c = Customer.__table__
    rows = repo.connection().execute(sa.select(c.c.id, c.c.name, c.c.tier).order_by(c.c.name))
    return [(str(r.id), r.name) for r in rows]


def choices(**overrides: Sequence[tuple[str, str]]) -> Choices:
    return Choices(users=user_options(), departments=department_options(), overrides=overrides)


def show(spec: FieldSpec, value: Any, names: Mapping[str, Mapping[str, str]]) -> str:
    """A stored value as a reader sees it: labels for choices, names for people, local times."""
    if value is None or value == "" or value == []:
        return "—"
    t = spec.type
    if spec.name in names:
        lookup = names[spec.name]
        return ", ".join(lookup.get(str(v), str(v)) for v in _as_list(value))
    if t is FieldType.BOOLEAN:
        return _("Yes") if value else _("No")
    if t in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        labels = {c.value: c.label.get(lang()) for c in spec.choices}
        return ", ".join(labels.get(v, str(v)) for v in _as_list(value))
    if t in (FieldType.USER, FieldType.USERS):
        return ", ".join(str(v) for v in _as_list(value))
    if t is FieldType.DATETIME:
        return local_time(value)
    return str(value)


def translated(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    """The engine's field messages in the page's language (service/web/messages.py)."""
    return {name: [_(str(m)) for m in _as_list(messages)] for name, messages in errors.items()}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


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
    return None  # issue and notice pages: issue 5, phase 2


@bp.route("/")
@login_required
def inbox() -> str:
    actor = web_actor()
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = current_app.config["WEB_PER_PAGE"]
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
                "overdue": item["overdue"] or _past(due, now),
                "url": object_url(item["workflow"], item["id"]),
            }
        )
    return render_template(
        "web/inbox.html", rows=rows, total=total, page=page_no, per_page=per_page
    )


# -- visits: list ------------------------------------------------------------------------
def _date_arg(name: str) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def visible_rows(kind: Kind, where: list[Any]) -> sa.Select[Any]:
    vis = visibility.clause(kind, web_actor())
    if vis is not None:
        where = [*where, vis]
    return sa.select(kind.table).where(*where)


def represent_rows(kind: Kind, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    deadlines = repo.current_deadlines(kind.workflow, [r["id"] for r in rows])
    now = runtime.now()
    registry = runtime.registry()
    return [
        represent(
            kind,
            r,
            registry.get(kind.workflow, r["definition_version"]),
            web_actor(),
            deadlines[r["id"]],
            now,
        )
        for r in rows
    ]


@bp.route("/visits")
@login_required
def visits() -> str:
    args: dict[str, Any] = {}
    state = request.args.get("state", "")
    if state:
        args["state"] = state
    customer = request.args.get("customer_id", type=int)
    if customer:
        args["customer_id"] = customer
    visitor = request.args.get("visitor", "").strip()
    if visitor:
        args["visitor"] = visitor
    overdue = request.args.get("overdue", "")
    if overdue in ("true", "false"):
        args["overdue"] = overdue == "true"
    start, end = _date_arg("from"), _date_arg("to")
    if start:
        args["from_"] = datetime.combine(start, time.min, tz())
    if end:
        args["to"] = datetime.combine(end + timedelta(days=1), time.min, tz()) - timedelta(
            microseconds=1
        )
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = current_app.config["WEB_PER_PAGE"]
    query = visible_rows(VISIT, list_filters(VISIT, args))
    t = VISIT.table
    conn = repo.connection()
    counted = sa.select(sa.func.count()).select_from(query.subquery())
    total = int(conn.execute(counted).scalar() or 0)
    rows = [
        dict(r)
        for r in conn.execute(
            query.order_by(t.c.planned_at.desc(), t.c.id.desc())
            .limit(per_page)
            .offset((page_no - 1) * per_page)
        ).mappings()
    ]
    definition = definition_of(VISIT)
    return render_template(
        "web/visits.html",
        items=represent_rows(VISIT, rows),
        total=total,
        page=page_no,
        pages=max((total + per_page - 1) // per_page, 1),
        customers=customer_options(),
        customer_names=dict(customer_options()),
        users=user_options(),
        states=[(s.name, s.label.get(lang())) for s in definition.states.values()],
        may_create=runtime.registry().get("visit").may_create(web_actor()),
    )


# -- visits: month calendar --------------------------------------------------------------
@bp.route("/visits/calendar")
@login_required
def visits_calendar() -> str:
    today = runtime.now().astimezone(tz()).date()
    year, month = today.year, today.month
    asked = request.args.get("month", "")
    try:
        year, month = (int(p) for p in asked.split("-", 1))
        date(year, month, 1)
    except ValueError:
        year, month = today.year, today.month
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    t = VISIT.table
    where = [
        t.c.planned_at >= datetime.combine(first, time.min, tz()),
        t.c.planned_at < datetime.combine(following, time.min, tz()),
    ]
    visitor = request.args.get("visitor", "").strip()
    if visitor:
        where.extend(list_filters(VISIT, {"visitor": visitor}))
    rows = repo.connection().execute(visible_rows(VISIT, where).order_by(t.c.planned_at)).mappings()
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
    )


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
        user=clash["username"],
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


# -- one visit ---------------------------------------------------------------------------
def names_for(kind: Kind) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = {}
    if kind is VISIT:
        names["customer_id"] = dict(customer_options())
    return names


def data_sections(
    kind: Kind, rep: Mapping[str, Any], definition: Definition
) -> list[dict[str, Any]]:
    """The creation fields (as they stand now), then each transition's last submitted data."""
    names = names_for(kind)
    data = rep.get("data") or {}
    created = {**(data.get("create") or {}), **{k: rep.get(k) for k in kind.fields}}
    sections = [
        {
            "id": "create",
            "title": _("Plan"),
            "rows": [
                (s.label.get(lang()), show(s, created.get(s.name), names), s.name)
                for s in definition.create.fields
            ],
        }
    ]
    for trigger in definition.triggers:
        if trigger not in data:
            continue
        specs = _fields_of(definition.transitions_named(trigger))
        values = data[trigger]
        sections.append(
            {
                "id": trigger,
                "title": trigger_label(definition, trigger),
                "rows": [
                    (s.label.get(lang()), show(s, values.get(s.name), names), s.name)
                    for s in specs
                    if s.name in values
                ],
            }
        )
    return sections


def _fields_of(transitions: Sequence[TransitionSpec]) -> list[FieldSpec]:
    seen: dict[str, FieldSpec] = {}
    for t in transitions:
        for f in t.fields:
            seen.setdefault(f.name, f)
    return list(seen.values())


def deadline_rows(rep: Mapping[str, Any], definition: Definition) -> list[dict[str, Any]]:
    now = runtime.now()
    out = []
    for d in rep["deadlines"]:
        spec = definition.states[d["state"]].deadline if d["state"] in definition.states else None
        due = as_datetime(d["due_at"])
        out.append(
            {
                "label": spec.label.get(lang()) if spec else d["kind"],
                "kind": d["kind"],
                "due_at": d["due_at"],
                "overdue": due is not None and due <= now,
            }
        )
    return out


def history_rows(kind: Kind, instance_id: int, definition: Definition) -> list[dict[str, Any]]:
    events, _total = repo.history(kind.workflow, instance_id, 1, 1000)
    return [
        {
            "at": e["at"],
            "actor": e["actor"],
            "source": e["source"],
            "trigger": e["trigger"],
            "label": trigger_label(definition, e["trigger"]),
            "from": e["from_state"],
            "to": e["to_state"],
            "version": e["version"],
        }
        for e in events
    ]


@bp.route("/visits/<int:visit_id>")
@login_required
def visit(visit_id: int) -> str:
    rep = handlers.get(VISIT, visit_id, web_actor())
    definition = definition_of(VISIT, rep["definition_version"])
    buttons = [(t, trigger_label(definition, t)) for t in rep["allowed_triggers"]]
    return render_template(
        "web/visit.html",
        visit=rep,
        customer=dict(customer_options()).get(str(rep["customer_id"]), ""),
        sections=data_sections(VISIT, rep, definition),
        deadlines=deadline_rows(rep, definition),
        history=history_rows(VISIT, visit_id, definition),
        diagram=mermaid(definition, rep["state"], lang()),
        states=[(s.name, s.label.get(lang()), s.final) for s in definition.states.values()],
        buttons=buttons,
    )


# -- transition forms --------------------------------------------------------------------
def _prefill(
    kind: Kind, rep: Mapping[str, Any], trigger: str, definition: Definition
) -> list[dict[str, Any]]:
    """Where a form's first values come from: this trigger's last data, the instance, the rest."""
    data = rep.get("data") or {}
    others = [
        {k: v for k, v in data[t].items() if k not in NO_CARRY}
        for t in reversed(definition.triggers)
        if t != trigger and t in data
    ]
    attrs = {k: rep.get(k) for k in kind.fields}
    create = {k: v for k, v in (data.get("create") or {}).items() if k not in NO_CARRY}
    return [data.get(trigger) or {}, attrs, *others, create]


def fire_page(kind: Kind, instance_id: int, trigger: str, back: str) -> Any:
    """A transition's form (GET) and its submission through `handlers.fire` (POST)."""
    actor = web_actor()
    rep = handlers.get(kind, instance_id, actor)
    definition = definition_of(kind, rep["definition_version"])
    if trigger not in definition.triggers:
        abort(404)
    spec = definition.transition(trigger, rep["state"])
    errors: dict[str, Any] = {}
    conflict = False
    status = 200
    version = rep["version"]
    if request.method == "GET":
        if spec is None:
            return error_page(409, _("This step is not possible from the current state."))
        if trigger not in rep["allowed_triggers"]:
            return error_page(403, _("Your role or part in this visit does not allow it."))
        raw = initial(spec.fields, _prefill(kind, rep, trigger, definition), tz())
    else:
        spec = spec or definition.transitions_named(trigger)[0]
        raw = MultiDict(request.form)
        try:
            version = int(request.form.get("version", ""))
        except ValueError:
            return error_page(400, _("The form is missing the visit's version. Reload it."))
        body = {"trigger": trigger, "version": version, "data": parse(spec.fields, raw, tz())}
        try:
            handlers.fire(kind, instance_id, body, handlers.Context(actor, "web", g.request_id))
        except InvalidData as err:
            errors, status = translated(err.errors), 422
        except VersionConflict as err:
            # Show what changed; the input stays, and a second submission applies it to the
            # version now shown (the engine checks the state and the rights again then).
            conflict, status, version = True, 409, err.actual
            rep = handlers.get(kind, instance_id, actor)
        else:
            flash(_("Done: %(label)s.", label=trigger_label(definition, trigger)), "success")
            return redirect(back)
    fields = bind(spec.fields, raw, errors, lang(), choices())
    return render_template(
        "web/fire.html",
        kind=kind,
        instance=rep,
        trigger=trigger,
        title=spec.label.get(lang()),
        fields=fields,
        errors=errors,
        conflict=conflict,
        version=version,
        back=back,
    ), status


@bp.route("/visits/<int:visit_id>/fire/<trigger>", methods=["GET", "POST"])
@login_required
def visit_fire(visit_id: int, trigger: str) -> Any:
    return fire_page(VISIT, visit_id, trigger, url_for("web.visit", visit_id=visit_id))
