"""Half-yearly evaluation records (效果评估, regulation section 6) through the pages: the
list, recording one, and a record with its KPI snapshot drawn as the dashboard draws the
live figures (`evaluation.kpi_charts`, `kpi_figures.html`).

Recording calls `service.usecases.evaluations.record_evaluation`, the API's use case. The KPI
readers (marketing, management, supervision, admin) read them; the marketing manager and
management record them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from service.core import roles, runtime
from service.core.errors import InvalidRequest, NotFound
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import _, bp, error_page, page_args, translated, tz
from service.entrypoints.web.evaluation import half_year, kpi_charts
from service.entrypoints.web.forms import BoundField
from service.entrypoints.web.messages import N_
from service.store import repository as repo
from service.usecases import handlers
from service.usecases.evaluations import (
    get_evaluation,
    list_evaluations,
    may_read,
    record_evaluation,
)

# marshmallow's messages for the record's fields, marked for translation
FIELD_MESSAGES = (
    N_("must not be before period_start"),
    N_("Length must be between 1 and 20000."),
    N_("Longer than maximum length 20000."),
)
TEXTS = ("summary", "findings", "measures")


@bp.context_processor
def evaluation_record_globals() -> dict[str, Any]:
    return {"evaluators": roles.EVALUATORS}


def _refused() -> tuple[str, int] | None:
    if not may_read(web_actor()):
        return error_page(403, _("Evaluations are for marketing, management and supervision."))
    return None


@bp.route("/evaluations")
@login_required
def evaluations() -> Any:
    refused = _refused()
    if refused:
        return refused
    page_no, per_page = page_args()
    items, total = list_evaluations(repo.connection(), page_no, per_page)
    return render_template(
        "web/evaluations.html", items=items, total=total, page=page_no, per_page=per_page
    )


def form_fields(raw: MultiDict[str, str], errors: dict[str, list[str]]) -> list[BoundField]:
    labels = {
        "period_start": (_("Period start"), "date", True),
        "period_end": (_("Period end (included)"), "date", True),
        "summary": (_("Summary"), "textarea", True),
        "findings": (_("Findings"), "textarea", False),
        "measures": (_("Improvement measures"), "textarea", False),
    }
    helps = {
        "summary": _(
            "Customer satisfaction, business cooperation and loyalty: what the period shows."
        ),
        "measures": _("What changes in the visits, the regulation, appraisal or risk measures."),
    }
    return [
        BoundField(
            name,
            widget,
            label,
            helps.get(name),
            required,
            value=raw.get(name, ""),
            errors=errors.get(name, []),
            max_length=20000 if widget == "textarea" else None,
        )
        for name, (label, widget, required) in labels.items()
    ]


def start_values() -> MultiDict[str, str]:
    """The current half-year, its last day included."""
    start, next_start = half_year(runtime.now().astimezone(tz()).date())
    end = next_start - timedelta(days=1)
    return MultiDict({"period_start": start.isoformat(), "period_end": end.isoformat()})


@bp.route("/evaluations/new", methods=["GET", "POST"])
@login_required
def evaluation_new() -> Any:
    actor = web_actor()
    if actor.role not in roles.EVALUATORS:
        return error_page(403, _("Only the marketing manager and management record evaluations."))
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        raw: MultiDict[str, str] = MultiDict(request.form)
        payload: dict[str, Any] = {
            name: raw.get(name, "").strip() for name in ("period_start", "period_end")
        }
        payload = {k: v for k, v in payload.items() if v}
        for name in TEXTS:
            text = raw.get(name, "").strip()
            payload[name] = text if text or name == "summary" else None
        try:
            record = record_evaluation(payload, handlers.Context(actor, "web", g.request_id))
        except InvalidRequest as err:
            errors, status = translated(err.errors), 422
        else:
            flash(_("Evaluation #%(id)s recorded.", id=record["id"]), "success")
            return redirect(url_for("web.evaluation_record", evaluation_id=record["id"]))
    else:
        raw = start_values()
    return render_template(
        "web/evaluation_new.html", fields=form_fields(raw, errors), errors=errors
    ), status


@bp.route("/evaluations/<int:evaluation_id>")
@login_required
def evaluation_record(evaluation_id: int) -> Any:
    refused = _refused()
    if refused:
        return refused
    record = get_evaluation(repo.connection(), evaluation_id)
    if record is None:
        raise NotFound(f"no evaluation {evaluation_id}")
    charts = kpi_charts(record["kpi"]) if record["kpi"] else {}
    period = {
        "from": record["period_start"].isoformat(),
        "to": (record["period_end"] + timedelta(days=1)).isoformat(),  # the dashboard's end
    }
    return render_template(
        "web/evaluation_record.html",
        record=record,
        dashboard_url=url_for("web.dashboard", **period),
        **charts,
    )
