"""The issues pages: the tracking ledger (跟踪台账) with filters and exports, raising an issue,
one issue's page and its step forms (assign, resolve, confirm, reopen, answer on the spot).

Rows are read under `service.store.visibility.clause`, one issue through `handlers.get`, every
change through `handlers.create` / `handlers.fire` with `source="web"`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from service.core import runtime
from service.core.errors import InvalidRequest
from service.core.texts import msg
from service.entrypoints.web import search
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import (
    _,
    bp,
    choice_label,
    choices,
    creation_form,
    customer_options,
    definition_of,
    department_options,
    lang,
    local_time,
    person,
    represent_rows,
    state_label,
    translated,
    tz,
    user_options,
    visible_rows,
)
from service.entrypoints.web.downloads import download, export_language
from service.entrypoints.web.filtering import filtered_page, page_filters
from service.entrypoints.web.forms import bind, parse
from service.entrypoints.web.instances import fire_page, instance_context
from service.reports import exports
from service.reports.exports import Column
from service.store import filters
from service.store import repository as repo
from service.store.kinds import ISSUE, VISIT
from service.usecases import handlers

PAGING = ("page", "per_page")


def ledger_query(args: dict[str, Any]) -> sa.Select[Any]:
    """The visible issues the ledger's parsed filters select (`page` is not a filter)."""
    t = ISSUE.table
    where = filters.where(ISSUE, args)
    return visible_rows(ISSUE, where).order_by(t.c.id.desc())


def ledger_filters() -> dict[str, Any]:
    """The ledger's filters, for the exports: a bad value answers the error page (422)."""
    args, errors = page_filters(ISSUE)
    if errors:
        abort(422, description="; ".join(f"{label}: {text}" for label, text in errors))
    return args


def ledger_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Represented issues as the ledger shows them: labels and names, not codes."""
    definition = definition_of(ISSUE)
    customers = dict(customer_options())
    departments = dict(department_options())
    return [
        {
            "id": i["id"],
            "title": i["title"] or "",
            "customer": customers.get(str(i["customer_id"]), "") if i["customer_id"] else "",
            "customer_id": i["customer_id"],
            "category": choice_label(definition, "category", i["category"]),
            "severity": choice_label(definition, "severity", i["severity"]),
            "severity_code": i["severity"],
            "state": i["state"],
            "state_label": state_label("issue", i["state"]),
            "department": departments.get(i["responsible_department"] or "", "")
            if i["responsible_department"]
            else "",
            "person": person(i["responsible_person"]),
            "due_at": local_time(i["due_at"]) if i["due_at"] else "",
            "overdue": i["overdue"],
        }
        for i in items
    ]


def filter_options() -> dict[str, Any]:
    definition = definition_of(ISSUE)

    def choices_of(name: str) -> list[tuple[str, str]]:
        spec = next(s for s in definition.create.fields if s.name == name)
        return [(c.value, c.label.get(lang())) for c in spec.choices]

    return {
        "states": [(s.name, s.label.get(lang())) for s in definition.states.values()],
        "departments": department_options(),
        "users": user_options(),
        "severities": choices_of("severity"),
        "categories": choices_of("category"),
        "customers": customer_options(),
    }


# -- the ledger --------------------------------------------------------------------------
@bp.route("/issues")
@login_required
def issues() -> Any:
    found = filtered_page(ISSUE, query_of=ledger_query)
    filter_errors = found.errors
    export_args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "lang")]
    return render_template(
        "web/issues.html",
        rows=ledger_rows(represent_rows(ISSUE, found.rows)),
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        export_args=export_args,
        may_create=runtime.registry().get("issue").may_create(web_actor()),
        filter_errors=filter_errors,
        **filter_options(),
    ), (422 if filter_errors else 200)


LEDGER_COLUMNS = (
    Column("#", "integer"),
    Column(msg("Title"), "text"),
    Column(msg("Customer"), "text"),
    Column(msg("Category"), "text"),
    Column(msg("Severity"), "text"),
    Column(msg("State"), "text"),
    Column(msg("Responsible department"), "text"),
    Column(msg("Responsible person"), "text"),
    Column(msg("Deadline"), "datetime"),
    Column(msg("Overdue"), "text"),
)


def export_sheet() -> exports.Sheet:
    """Every visible issue the filters select (no paging), as the ledger shows them."""
    query = ledger_query({k: v for k, v in ledger_filters().items() if k not in PAGING})
    items = represent_rows(ISSUE, [dict(r) for r in repo.connection().execute(query).mappings()])
    body = [
        [
            r["id"],
            r["title"],
            r["customer"],
            r["category"],
            r["severity"],
            r["state_label"],
            r["department"],
            r["person"],
            i["due_at"],
            _("Yes") if r["overdue"] else _("No"),
        ]
        for i, r in zip(items, ledger_rows(items), strict=True)
    ]
    return exports.Sheet(_("Tracking ledger"), LEDGER_COLUMNS, body)


def _ledger_export(extension: str) -> Response:
    lang = export_language()
    sheet = export_sheet()
    content, mimetype = exports.content(sheet, lang, extension)
    stamp = runtime.now().astimezone(tz()).strftime("%Y%m%d-%H%M")
    name = f"{stamp}.{extension}"
    return download(content, mimetype, f"issues-{name}", f"{_('Tracking ledger')}-{name}")


@bp.route("/issues/export.csv")
@login_required
def issues_export_csv() -> Response:
    return _ledger_export("csv")


@bp.route("/issues/export.xlsx")
@login_required
def issues_export_xlsx() -> Response:
    return _ledger_export("xlsx")


# -- raising an issue --------------------------------------------------------------------
def visit_options() -> list[tuple[str, str]]:
    """The visits the user may see, latest first, named by customer and time."""
    t = VISIT.table
    customers = dict(customer_options())
    rows = repo.connection().execute(
        visible_rows(VISIT, []).order_by(t.c.planned_at.desc(), t.c.id.desc()).limit(200)
    )
    return [
        (
            str(r.id),
            f"#{r.id} · {customers.get(str(r.customer_id), '')} · {local_time(r.planned_at)}",
        )
        for r in rows
    ]


def _start_values() -> MultiDict[str, str]:
    """A raise form starts from the visit asked for (`?visit_id=`) and its customer."""
    raw: MultiDict[str, str] = MultiDict()
    visit_id = request.args.get("visit_id", "")
    if visit_id in search.labels(VISIT, [visit_id]):  # only a visit the user may see
        raw["visit_id"] = visit_id
        row = repo.load(VISIT, int(visit_id))
        if row is not None:
            raw["customer_id"] = str(row["customer_id"])
    customer_id = request.args.get("customer_id", "")
    if customer_id.isdigit() and "customer_id" not in raw:
        raw["customer_id"] = customer_id
    return raw


@bp.route("/issues/new", methods=["GET", "POST"])
@login_required
def issue_new() -> Any:
    actor, specs = creation_form(ISSUE.workflow, _("Your role may not raise issues."))
    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        raw: MultiDict[str, str] = MultiDict(request.form)
        data = parse(specs, raw, tz())
        try:
            rep = handlers.create(ISSUE, data, handlers.Context(actor, "web", g.request_id))
        except InvalidRequest as err:
            errors, status = translated(err.errors), 422
        else:
            flash(_("Issue #%(id)s raised.", id=rep["id"]), "success")
            return redirect(url_for("web.issue", issue_id=rep["id"]))
    else:
        raw = _start_values()
    refs = {"visit_id": search.ref("visit", [raw.get("visit_id", "")])}
    fields = bind(specs, raw, errors, lang(), choices(refs, customer_id=customer_options()))
    return render_template("web/issue_new.html", fields=fields, errors=errors), status


# -- one issue ---------------------------------------------------------------------------
@bp.route("/issues/<int:issue_id>")
@login_required
def issue(issue_id: int) -> str:
    context = instance_context(ISSUE, issue_id, _("Issue"))
    rep = context["instance"]
    departments = dict(department_options())
    return render_template(
        "web/issue.html",
        issue=rep,
        row=ledger_rows([rep])[0],
        department=departments.get(rep["responsible_department"] or "", ""),
        visit_label=search.labels(VISIT, [rep["visit_id"]]).get(str(rep["visit_id"]))
        if rep["visit_id"]
        else None,
        **context,
    )


@bp.route("/issues/<int:issue_id>/fire/<trigger>", methods=["GET", "POST"])
@login_required
def issue_fire(issue_id: int, trigger: str) -> Any:
    return fire_page(ISSUE, issue_id, trigger, url_for("web.issue", issue_id=issue_id))
