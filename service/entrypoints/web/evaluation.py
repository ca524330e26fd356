"""The dashboard (KPI charts) and the compliance report, for a period of dates.

`?from=YYYY-MM-DD&to=YYYY-MM-DD` in the business time zone, `to` excluded; by default the
current half-year. Charts are inline SVG drawn here, with no script. Marketing, management,
supervision and admin only (the KPI readers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from html import escape
from typing import Any

from flask import Response, abort, current_app, make_response, render_template, request, url_for
from markupsafe import Markup

from service.core import runtime
from service.core.roles import KPI_READERS
from service.core.texts import msg
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import _, bp, department_options, error_page, tz, user_names
from service.entrypoints.web.customers import tier_labels
from service.entrypoints.web.downloads import download, export_language
from service.reports import compliance, exports, kpi_export
from service.reports.exports import Column
from service.store import repository as repo
from service.store.db import db
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


# -- the compliance report -----------------------------------------------------------------
def clause_titles() -> dict[str, str]:
    return {
        "3(二)": _("3(二) Visit frequency by customer tier"),
        "3(三)": _("3(三) Visits planned at least a day ahead"),
        "4(三)": _("4(三) Visit records submitted by the record deadline"),
        "5(一)": _("5(一) Visit reports made by the report deadline"),
        "5(一)3": _("5(一)3 Ledger issues closed with the customer's confirmation, on time"),
        "7(一)3": _("7(一)3 Rectification notices verified by their due date"),
    }


def reason_labels() -> dict[str, str]:
    return {
        "below_quota": _("Fewer visits than the tier requires"),
        "planned_late": _("Planned less than a day ahead"),
        "record_late": _("Record deadline passed"),
        "no_report": _("No report yet"),
        "report_late": _("Report deadline passed"),
        "not_confirmed": _("Not confirmed by the customer"),
        "resolved_late": _("Resolved after its deadline"),
        "not_verified": _("Not verified"),
        "verified_late": _("Verified after its due date"),
    }


def object_url(workflow: str, id_: int) -> str:
    endpoints = {
        "customer": ("web.customer", "customer_id"),
        "visit": ("web.visit", "visit_id"),
        "issue": ("web.issue", "issue_id"),
        "rectification": ("web.notice", "notice_id"),
    }
    endpoint, arg = endpoints[workflow]
    values: dict[str, Any] = {arg: id_}
    return url_for(endpoint, **values)


def object_label(workflow: str) -> str:
    return {
        "customer": _("Customer"),
        "visit": _("Visit"),
        "issue": _("Issue"),
        "rectification": _("Rectification notice"),
    }[workflow]


def _quotas() -> Quotas:
    return runtime.quotas()


def _as_of(end: datetime) -> datetime:
    """The report's moment: its period's end, or now if the period runs into the future."""
    return compliance.as_of(end, runtime.now())


def per_page() -> int:
    """Exceptions per clause on the report and per page of a clause (50 unless configured)."""
    return int(current_app.config["COMPLIANCE_PER_PAGE"])


def clause_of(number: int) -> str:
    """The clause numbered 1 to 6 in the regulation's order; 404 for any other number."""
    if not 1 <= number <= len(compliance.CLAUSES):
        abort(404)
    return compliance.CLAUSES[number - 1]


def _labels() -> dict[str, Any]:
    return {
        "titles": clause_titles(),
        "departments": dict(department_options()),
        "reasons": reason_labels(),
        "object_url": object_url,
        "object_label": object_label,
    }


@bp.route("/compliance")
@login_required
def compliance_report() -> Any:
    """Every clause's counts and the first page of its exceptions, each linked to the rest."""
    _require_reader()
    dates, start, end = _require_period()
    with db.engine.connect() as conn:
        sections = compliance.report(conn, start, end, _quotas(), _as_of(end), limit=per_page())
    return render_template("web/compliance.html", dates=dates, sections=sections, **_labels())


@bp.route("/compliance/<int:number>")
@login_required
def compliance_clause(number: int) -> Any:
    """One clause's exceptions, a page at a time, in the order of the report."""
    _require_reader()
    clause = clause_of(number)
    dates, start, end = _require_period()
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    size = per_page()
    with db.engine.connect() as conn:
        section = compliance.section(
            conn,
            clause,
            start,
            end,
            _quotas(),
            _as_of(end),
            limit=size,
            offset=(page_no - 1) * size,
        )
    if page_no > 1 and not section["exceptions"]:
        abort(404)  # past the last page
    return render_template(
        "web/compliance_clause.html",
        dates=dates,
        number=number,
        section=section,
        page=page_no,
        per_page=size,
        total=section["exception_count"],
        **_labels(),
    )


def _sheet_row() -> Callable[[dict[str, Any]], list[Any]]:
    """What makes an exception a row of the workbook, with its labels translated once: a
    translation per row would cost more than writing the row."""
    reasons, departments = reason_labels(), dict(department_options())
    objects = {w: object_label(w) for w in ("customer", "visit", "issue", "rectification")}

    def row(x: dict[str, Any]) -> list[Any]:
        name = x["name"]
        if x["workflow"] == "rectification":
            name = departments.get(name, name)
        return [objects[x["workflow"]], x["id"], name, reasons[x["reason"]], x["at"]]

    return row


SHEET_COLUMNS = (
    Column(msg("Object"), "text", 14),
    Column("#", "integer"),
    Column(msg("Name"), "text", 30),
    Column(msg("Exception"), "text", 30),
    Column(msg("Time"), "datetime"),
    Column(msg("Status"), "text", 10),
)


def _clause_sheets(
    conn: Any, dates: tuple[date, date], start: datetime, end: datetime
) -> Iterator[exports.Sheet]:
    """A sheet per clause: its title, the period, its counts, then its exceptions and its
    cases in progress (neither compliant nor late), streamed from `conn`."""
    titles, row = clause_titles(), _sheet_row()
    for clause in compliance.CLAUSES:
        cases = compliance.cases(clause, start, end, _quotas(), _as_of(end))
        total, broken, running = compliance.count(conn, cases)
        counts = [_("Cases"), total, _("Compliant"), total - broken - running]
        counts += [_("Exceptions"), broken, _("In progress"), running]
        found = (
            [*row(x), status]
            for status, stream in (
                (_("Exception"), compliance.stream(conn, cases)),
                (_("In progress"), compliance.stream(conn, cases, running=True)),
            )
            for x in stream
        )
        preamble: list[list[Any]] = [
            [titles[clause]],
            [_("From"), dates[0], _("To (excluded)"), dates[1]],
            counts,
        ]
        yield exports.Sheet(clause, SHEET_COLUMNS, found, preamble)


@bp.route("/compliance.xlsx")
@login_required
def compliance_xlsx() -> Any:
    """Every exception of every clause, one sheet per clause. The rows stream from the
    database in chunks into a write-only workbook, whose sheets and file are temporary
    files: memory stays flat however many exceptions the period has."""
    _require_reader()
    lang = export_language()
    dates, start, end = _require_period()
    with db.engine.connect() as conn:
        out, size = exports.xlsx_file(_clause_sheets(conn, dates, start, end), lang)
    stem = f"{dates[0]}-{dates[1]}.xlsx"
    return Response(
        exports.chunks(out),
        mimetype=exports.XLSX,
        headers=exports.headers(
            f"compliance-{stem}",
            f"{_('Compliance report')}-{stem}",
            {"Content-Length": str(size)},
        ),
    )
