"""The evaluation's own inputs: customer satisfaction surveys and cooperation volumes, one
row or many, or volumes from a CSV; all or nothing. And the KPI figures, for their readers.

Checked in this order: the rows (422, per row), unknown customers and a customer's period
twice (422), the role (403). The API and any other entry point call the same functions."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate

from service.core import context, roles
from service.core.errors import Forbidden, InvalidRequest
from service.reports import kpi
from service.store import references
from service.store import repository as repo
from service.store.db import db
from service.store.models import CooperationVolume, Customer, CustomerSurvey
from workflows import Actor

VOLUME_WRITERS = roles.SURVEY_WRITERS | {"integration"}
CSV_COLUMNS = ("customer_id", "period_start", "amount", "projects", "new_areas")
MAX_ROWS = 10_000


class SurveySchema(Schema):
    customer_id = references.row_id(required=True)
    surveyed_at = fields.AwareDateTime(required=True)
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000))


class VolumeSchema(Schema):
    customer_id = references.row_id(required=True, strict=False)
    period_start = fields.Date(required=True)
    amount = references.money(required=True)
    projects = references.count(load_default=0)
    new_areas = references.count(load_default=0)


def allow(actor: Actor, allowed: frozenset[str], what: str) -> None:
    if actor.role not in allowed:
        raise Forbidden(f"your role may not {what}")


# -- the rows ------------------------------------------------------------------------------
def as_rows(items: Any) -> list[Any]:
    """One object or a non-empty list of at most MAX_ROWS, as a list (422 otherwise)."""
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise InvalidRequest("the body must be a non-empty list", {"_schema": ["a list"]})
    if len(items) > MAX_ROWS:
        raise InvalidRequest(f"at most {MAX_ROWS} rows at once", {"_schema": ["too many rows"]})
    return items


def load_rows(schema: Schema, items: Any) -> list[dict[str, Any]]:
    """`items` as `schema` loads them, each row's errors under its index (422)."""
    try:
        loaded: list[dict[str, Any]] = schema.load(as_rows(items), many=True)
    except ValidationError as err:
        raise InvalidRequest("invalid rows", err.normalized_messages()) from None
    return loaded


def check_customers(rows: list[dict[str, Any]]) -> None:
    """422 on `customer_id` for each customer the rows name that does not exist."""
    ids = {row["customer_id"] for row in rows}
    known = set(
        db.session.execute(sa.select(Customer.id).where(Customer.id.in_(ids))).scalars().all()
    )
    if ids - known:
        errors = {"customer_id": [f"no customer {missing}" for missing in sorted(ids - known)]}
        raise InvalidRequest("unknown customers", errors)


# -- recording -----------------------------------------------------------------------------
def record_surveys(rows: list[dict[str, Any]], actor: Actor) -> int:
    """Record loaded survey rows (marketing); how many."""
    check_customers(rows)
    allow(actor, roles.SURVEY_WRITERS, "record surveys")
    db.session.add_all(CustomerSurvey(**row, created_by=actor.username) for row in rows)
    db.session.commit()
    return len(rows)


def store_volumes(rows: list[dict[str, Any]], actor: Actor) -> int:
    """Store loaded volume rows (marketing, integrations); a period's row replaces the
    earlier one. How many."""
    check_customers(rows)
    keys = {(row["customer_id"], row["period_start"]) for row in rows}
    if len(keys) != len(rows):
        raise InvalidRequest("a customer and period twice", {"_schema": ["duplicate rows"]})
    allow(actor, VOLUME_WRITERS, "record cooperation volumes")
    for row in rows:  # the latest figures of a customer's period replace the earlier ones
        db.session.merge(CooperationVolume(**row, updated_by=actor.username))
    db.session.commit()
    return len(rows)


def import_volumes(raw: bytes, actor: Actor) -> int:
    """Volumes from a CSV (UTF-8, a header naming CSV_COLUMNS); errors under `rows`, each
    row numbered as a spreadsheet shows it (the header is row 1). Nothing is stored on an
    error."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidRequest("the CSV must be UTF-8", {"file": ["not UTF-8"]}) from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not set(CSV_COLUMNS[:3]) <= set(reader.fieldnames):
        raise InvalidRequest(
            "the CSV needs a header with customer_id, period_start and amount",
            {"file": [f"columns: {', '.join(CSV_COLUMNS)}"]},
        )
    items = [
        {k: v for k, v in row.items() if k in CSV_COLUMNS and v not in (None, "")} for row in reader
    ]
    if not items:
        raise InvalidRequest("the CSV has no rows", {"file": ["no rows"]})
    try:
        return store_volumes(load_rows(VolumeSchema(), items), actor)
    except InvalidRequest as err:
        errors = {
            (str(int(k) + 2) if isinstance(k, int) or str(k).isdigit() else k): v
            for k, v in err.errors.items()
        }
        raise InvalidRequest(err.message, {"rows": errors}) from None


# -- the figures ---------------------------------------------------------------------------
def figures(actor: Actor, since: datetime, until: datetime) -> dict[str, Any]:
    """The evaluation figures of [since, until) (the KPI readers; 403 for the others)."""
    allow(actor, roles.KPI_READERS, "read the evaluation figures")
    quotas = context.current().quotas()
    with repo.snapshot() as conn:
        found: dict[str, Any] = kpi.figures(conn, since, until, quotas)
    return found
