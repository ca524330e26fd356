"""The list pages' filters: parsed as the API parses them (service/store/filters.py); a bad value is
shown near the filters, named by its label, with status 422 and no rows."""

from __future__ import annotations

from typing import Any

from flask import request

from service.entrypoints.web.common import _
from service.store import filters
from service.store.kinds import ISSUE, RECTIFICATION, Kind

IGNORED = ("lang",)  # the page's language, not a filter
LABELS = {
    "state": "State",
    "customer_id": "Customer",
    "visitor": "Visitor",
    "overdue": "Overdue",
    "from": "From",
    "to": "To",
    "department": "Department",
    "responsible_person": "Responsible person",
    "severity": "Severity",
    "category": "Category",
    "visit_id": "Visit",
    "page": "Page",
    "per_page": "Page",
}
KIND_LABELS = {ISSUE: {"department": "Responsible department"}, RECTIFICATION: {"from": "Due from"}}


def page_filters(kind: Kind) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The parsed filters of this request (with `page`), or ({}, the errors as (label, text)
    in the page's language)."""
    try:
        return filters.parse(kind, request.args, IGNORED), []
    except filters.Invalid as err:
        return {}, describe(kind, err.errors)


def describe(kind: Kind, errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    labels = {**LABELS, **KIND_LABELS.get(kind, {})}
    out = []
    for name, messages in errors.items():
        label = _(labels[name]) if name in labels else name  # an unknown parameter: its name
        out.append((label, " ".join(_(m) for m in messages)))
    return out
