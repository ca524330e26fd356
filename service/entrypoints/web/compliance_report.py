"""The compliance report: every clause's counts and first exceptions, a clause a page at a
time, and the workbook of them all, for a period of dates (`?from=&to=`, as the dashboard).

The KPI readers only, as the dashboard (`evaluation.py`, whose period and reader checks
these pages share).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from flask import Response, abort, current_app, render_template, url_for

from service.core import runtime
from service.core.texts import msg
from service.entrypoints.web.auth import login_required
from service.entrypoints.web.common import _, bp, department_options, page_args
from service.entrypoints.web.downloads import export_language
from service.entrypoints.web.evaluation import _quotas, _require_period, _require_reader
from service.reports import compliance, exports
from service.reports.exports import Column
from service.store.db import db


def clause_titles() -> dict[str, str]:
    return {
        "3(二)": _("3(二) Visit frequency by customer tier"),
        "3(三)": _("3(三) Visits planned at least a day ahead"),
        "4(二)": _("4(二) Visits with a valid check-in"),
        "4(三)": _("4(三) Visit records submitted by the record deadline"),
        "5(一)": _("5(一) Visit reports made by the report deadline"),
        "5(一)3": _("5(一)3 Ledger issues closed with the customer's confirmation, on time"),
        "7(一)3": _("7(一)3 Rectification notices verified by their due date"),
    }


def reason_labels() -> dict[str, str]:
    return {
        "below_quota": _("Fewer visits than the tier requires"),
        "planned_late": _("Planned less than a day ahead"),
        "no_check_in": _("No check-in"),
        "check_in_flagged": _("Check-in doubtful (place, accuracy or time)"),
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


def _as_of(end: datetime) -> datetime:
    """The report's moment: its period's end, or now if the period runs into the future."""
    return compliance.as_of(end, runtime.now())


def per_page() -> int:
    """Exceptions per clause on the report and per page of a clause (50 unless configured)."""
    return int(current_app.config["COMPLIANCE_PER_PAGE"])


def clause_of(number: int) -> str:
    """The clause numbered 1 to 7 in the regulation's order; 404 for any other number."""
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
    page_no, size = page_args(size_setting="COMPLIANCE_PER_PAGE")
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
