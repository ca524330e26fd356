"""Items chosen by search in the forms (a notice's related visits and issues, an issue's
visit, a meeting's visit): only what the user may see, labelled as people read them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import jsonify, request, url_for
from werkzeug.wrappers import Response

from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import _, bp, local_time
from service.entrypoints.web.forms import Ref
from service.store import repository as repo
from service.store import visibility
from service.store.kinds import KINDS, VISIT, Kind
from service.store.models import Customer

LIMIT = 20
QUERY_MAX = 100
SEARCHABLE = ("visit", "issue")
_customers = Customer.__table__


def _select(kind: Kind) -> sa.Select[Any]:
    t = kind.table
    columns = [t.c.id, _customers.c.name.label("customer")]
    columns += [t.c.planned_at] if kind is VISIT else [t.c.title]
    query = sa.select(*columns).select_from(
        t.outerjoin(_customers, _customers.c.id == t.c.customer_id)
    )
    vis = visibility.clause(kind, web_actor())
    return query if vis is None else query.where(vis)


def label(kind: Kind, row: Any) -> str:
    if kind is VISIT:
        day = local_time(row.planned_at)[:10]
        return _("%(customer)s · %(date)s visit", customer=row.customer or "", date=day) + (
            f" · #{row.id}"
        )
    customer = f" · {row.customer}" if row.customer else ""
    return f"#{row.id} {row.title}{customer}"


def find(kind: Kind, text: str) -> list[tuple[int, str]]:
    """Up to LIMIT visible items matching `text` (customer, place or title, or #id), newest
    first; all the latest when `text` is empty."""
    t = kind.table
    query = _select(kind)
    text = text.strip()[:QUERY_MAX]
    if text:
        matches = [_customers.c.name.icontains(text, autoescape=True)]
        matches.append((t.c.place if kind is VISIT else t.c.title).icontains(text, autoescape=True))
        digits = text.lstrip("#")
        if digits.isdigit() and len(digits) < 19:
            matches.append(t.c.id == int(digits))
        query = query.where(sa.or_(*matches))
    order = [t.c.planned_at.desc()] if kind is VISIT else []
    rows = repo.connection().execute(query.order_by(*order, t.c.id.desc()).limit(LIMIT))
    return [(r.id, label(kind, r)) for r in rows]


def labels(kind: Kind, ids: Iterable[Any]) -> dict[str, str]:
    """The labels of the visible items among `ids` (strings, as a form holds them)."""
    wanted = sorted({int(i) for i in ids if str(i).isdigit() and len(str(i)) < 19})
    if not wanted:
        return {}
    rows = repo.connection().execute(_select(kind).where(kind.table.c.id.in_(wanted)))
    return {str(r.id): label(kind, r) for r in rows}


def ref(workflow: str, chosen: Iterable[Any], multiple: bool = False) -> Ref:
    """A ref picker searching `workflow`, showing the labels of what is `chosen`."""
    url = url_for("web.search_items", workflow=workflow)
    return Ref(url, labels(KINDS[workflow], chosen), multiple)


@bp.route("/search/items")
@login_required
def search_items() -> tuple[Response, int]:
    workflow = request.args.get("workflow", "")
    if workflow not in SEARCHABLE:
        message = _("Search visits or issues.")
        body = {"code": "invalid_request", "status": 422, "message": message}
        return jsonify({**body, "errors": {"workflow": [message]}}), 422
    items = find(KINDS[workflow], request.args.get("q", ""))
    response = jsonify({"items": [{"id": i, "label": text} for i, text in items]})
    response.headers["Cache-Control"] = "no-store"
    return response, 200
