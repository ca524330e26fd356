"""The dashboard (KPI charts) for a period of dates, and the period and reader checks that the
compliance report (`compliance_report.py`) shares.

`?from=YYYY-MM-DD&to=YYYY-MM-DD` in the business time zone, `to` excluded; by default the
current half-year. Charts are inline SVG drawn here, with no script. Marketing, management,
supervision and admin only (the KPI readers).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from html import escape
from typing import Any

from flask import Response, abort, make_response, render_template, request, url_for
from markupsafe import Markup

from service.core import runtime
from service.core.roles import KPI_READERS
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import _, bp, department_options, error_page, tz, user_names
from service.entrypoints.web.customers import tier_labels
from service.entrypoints.web.downloads import download, export_language
from service.reports import exports, kpi_export
from service.store import repository as repo
from service.usecases import surveys
from workflows.quotas import Quotas


def half_year(today: date) -> tuple[date, date]:
    if today.month <= 6:
        return date(today.year, 1, 1), date(today.year, 7, 1)
    return date(today.year, 7, 1), date(today.year + 1, 1, 1)


def period() -> tuple[date, date] | None:
    """The dates asked for as [from, to), or the current half-year; None when they make no
    period. The form gives the last day itself as `until` (it wins over `to`, the day after
    the last, which the pages' links carry)."""
    start, end = half_year(runtime.now().astimezone(tz()).date())
    try:
        if request.args.get("from"):
            start = date.fromisoformat(request.args["from"])
        if request.args.get("until"):
            end = date.fromisoformat(request.args["until"]) + timedelta(days=1)
        elif request.args.get("to"):
            end = date.fromisoformat(request.args["to"])
    except (ValueError, OverflowError):
        return None
    return (start, end) if start < end else None


def moments(start: date, end: date) -> tuple[datetime, datetime]:
    zone = tz()
    return datetime.combine(start, time(), zone), datetime.combine(end, time(), zone)


def bar_chart(
    items: list[tuple[str, float | None]], percent: bool = True, top: float | None = None
) -> Markup:
    """Horizontal bars, one per (label, value), each label above its bar; rates as percentages
    capped at the track. Positions are in % of the width and there is no viewBox, so the bars
    stretch with the page and the text keeps its size, readable on a phone too. `top` is the
    value of a full bar (default: 100 % for rates, else the largest value)."""
    label_h, bar_h, gap, track = 18, 16, 10, 80.0  # the track: % of the width for 100 %
    row = label_h + bar_h + gap
    values = [x or 0 for _, x in items]
    top = top or (1.0 if percent else max(values + [1]))
    parts = [
        f'<svg class="chart" role="img" width="100%" height="{len(items) * row}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for n, (label, value) in enumerate(items):
        y = n * row
        share = 0 if value is None else min(value / top, 1.0) * track if top else 0
        shown = "—" if value is None else (f"{value * 100:.1f}%" if percent else f"{value:g}")
        parts.append(
            f'<text x="0" y="{y + 13}">{escape(str(label))}</text>'
            f'<rect x="0" y="{y + label_h}" width="{track}%" height="{bar_h}" class="track"/>'
            f'<rect x="0" y="{y + label_h}" width="{share:.1f}%" height="{bar_h}" class="bar">'
            f"<title>{escape(str(label))}: {shown}</title></rect>"
            f'<text x="{share:.1f}%" dx="4" y="{y + label_h + bar_h - 4}">{shown}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def kpi_charts(figures: dict[str, Any]) -> dict[str, Any]:
    """What `kpi_figures.html` shows of `kpi.figures` (the dashboard's, or an evaluation's
    snapshot): the figures, tiers in their order, names, and one SVG chart per section."""
    plan = figures["plan_completion"]
    tiers, departments, people = tier_labels(), dict(department_options()), user_names()
    order = list(tiers)  # core, important, general
    by_tier = sorted(
        plan["by_tier"], key=lambda t: order.index(t["tier"]) if t["tier"] in order else 99
    )
    figures = {**figures, "plan_completion": {**plan, "by_tier": by_tier}}
    plan = figures["plan_completion"]
    return {
        "figures": figures,
        "tiers": tiers,
        "departments": departments,
        "people": people,
        "tier_chart": bar_chart(
            [(tiers.get(t["tier"], t["tier"]), t["rate"]) for t in plan["by_tier"]]
        ),
        "department_chart": bar_chart(
            [
                (departments.get(x["department"], x["department"]), x["rate"])
                for x in plan["by_department"]
            ]
        ),
        "person_chart": bar_chart(
            [(people.get(x["person"], x["person"]), x["rate"]) for x in plan["by_person"]]
        ),
        "issue_chart": bar_chart(
            [
                (_("Resolved"), figures["issues"]["resolution_rate"]),
                (_("Resolved on time"), figures["issues"]["on_time_rate"]),
            ]
        ),
        "satisfaction_chart": bar_chart(
            [
                (_("Confirmations"), figures["satisfaction"]["confirmation_average"]),
                (_("Surveys"), figures["satisfaction"]["survey_average"]),
                (_("All"), figures["satisfaction"]["average"]),
            ],
            percent=False,
            top=5,  # the 1-5 rating's scale: 4.5 is not a full bar
        ),
        "cooperation_chart": bar_chart(
            [
                (_("In the visit's volume period"), figures["cooperation"]["volume_before"]),
                (_("In the next volume period"), figures["cooperation"]["volume_after"]),
            ],
            percent=False,
        ),
    }


@bp.context_processor
def evaluation_globals() -> dict[str, Any]:
    return {"kpi_readers": KPI_READERS}


def _require_reader() -> None:
    """The dashboard and the compliance report are the KPI readers' (403 for the others)."""
    if web_actor().role not in KPI_READERS:
        message = _(
            "The dashboard and the compliance report are for marketing, management and supervision."
        )
        abort(make_response(error_page(403, message)))


def _require_period() -> tuple[tuple[date, date], datetime, datetime]:
    """The period asked for (422 when it makes none): its dates and their moments."""
    dates = period()
    if dates is None:
        abort(make_response(error_page(422, _("Give the period as dates, from before to."))))
    return (dates, *moments(*dates))


@bp.route("/dashboard")
@login_required
def dashboard() -> Any:
    _require_reader()
    dates, start, end = _require_period()
    figures = surveys.figures(web_actor(), start, end)
    args: dict[str, Any] = {"from": dates[0].isoformat(), "to": dates[1].isoformat()}
    return render_template(
        "web/dashboard.html",
        dates=dates,
        **kpi_charts(figures),
        csv_url=url_for("web.dashboard_csv", **args),
        xlsx_url=url_for("web.dashboard_xlsx", **args),
    )


def _dashboard_export(extension: str) -> Response:
    """The figures as `GET /api/v1/kpi/export.*` gives them, in the page's language."""
    _require_reader()
    lang = export_language()
    _, start, end = _require_period()
    result = surveys.figures(web_actor(), start, end)
    with repo.snapshot() as conn:
        sheet = kpi_export.sheet(result, kpi_export.Names(conn))
    content, mimetype = exports.content(sheet, lang, extension)
    return download(content, mimetype, *kpi_export.filenames(result, lang, extension))


@bp.route("/dashboard/export.csv")
@login_required
def dashboard_csv() -> Any:
    return _dashboard_export("csv")


@bp.route("/dashboard/export.xlsx")
@login_required
def dashboard_xlsx() -> Any:
    return _dashboard_export("xlsx")


def _quotas() -> Quotas:
    return runtime.quotas()
