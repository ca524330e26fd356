"""The list pages' filters: parsed as the API parses them (service/store/filters.py); a bad value is
shown near the filters, named by its label, with status 422 and no rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import request

from service.entrypoints.web.common import _, page_args, page_count, page_of, visible_rows
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


@dataclass(frozen=True)
class ListPage:
    """One page of a filtered list: its rows, the count of them all, where it is, and the
    filters' errors (no rows then)."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    errors: list[tuple[str, str]]

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)


def filtered_page(
    kind: Kind,
    *order: Any,
    query_of: Callable[[dict[str, Any]], sa.Select[Any]] | None = None,
) -> ListPage:
    """The page asked for of the visible rows the parsed filters select, in `order` (or of
    `query_of(the parsed filters)`); no rows if the filters are bad."""
    args, errors = page_filters(kind)
    page_no, per_page = page_args(args)
    if errors:
        return ListPage([], 0, page_no, per_page, errors)
    if query_of is None:
        query = visible_rows(kind, filters.where(kind, args)).order_by(*order)
    else:
        query = query_of(args)
    rows, total = page_of(query, page_no, per_page)
    return ListPage(rows, total, page_no, per_page, errors)


def describe(kind: Kind, errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    labels = {**LABELS, **KIND_LABELS.get(kind, {})}
    out = []
    for name, messages in errors.items():
        label = _(labels[name]) if name in labels else name  # an unknown parameter: its name
        out.append((label, " ".join(_(m) for m in messages)))
    return out
