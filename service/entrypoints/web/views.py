"""The pages' frame: request set-up, refusals as pages, sign in and out, the inbox.

Refusals render as pages with the API's status codes; the visit pages are in `visits.py`,
the other areas each in their own module, all on the one blueprint (`common.bp`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import (
    current_app,
    flash,
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
from service.core.errors import DomainError
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
from service.entrypoints.web.common import (
    _,
    bp,
    customer_options,
    definition_of,
    error_page,
    lang,
    local_time,
    page_args,
    past,
    people,
    person,
    state_label,
)
from service.store.kinds import KINDS, VISIT, Kind
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
