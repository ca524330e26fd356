"""The half-yearly effectiveness evaluation (regulation section 6): a record of what
marketing concluded, with a snapshot of the period's KPIs so that later data does not
change what was evaluated. The API and the web form both call `record_evaluation`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.engine import Connection

from service.core import context, roles
from service.core.errors import Forbidden, InvalidRequest
from service.core.roles import KPI_READERS
from service.core.texts import msg
from service.reports import kpi
from service.store import repository as repo
from service.store.models import Evaluation
from service.store.paging import page_rows
from service.usecases import handlers
from workflows import Actor

evaluations_t = Evaluation.__table__


class EvaluationInSchema(Schema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    findings = fields.String(allow_none=True, validate=validate.Length(max=20000))
    measures = fields.String(allow_none=True, validate=validate.Length(max=20000))

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data["period_end"] < data["period_start"]:
            raise ValidationError("must not be before period_start", "period_end")


def load_evaluation(payload: Any) -> dict[str, Any]:
    """The evaluation as `EvaluationInSchema` loads it; 422 per field."""
    if not isinstance(payload, Mapping):
        raise InvalidRequest("the body must be a JSON object", {"_schema": ["must be an object"]})
    try:
        loaded: dict[str, Any] = EvaluationInSchema().load(payload)
    except ValidationError as err:
        raise InvalidRequest("invalid evaluation fields", err.normalized_messages()) from None
    return loaded


def kpi_snapshot(start: date, end: date) -> dict[str, Any]:
    """The KPIs of the period, its days in the service's time zone, last day included."""
    zone = ZoneInfo(context.config()["TIMEZONE"])
    since = datetime.combine(start, time(), zone)
    until = datetime.combine(end + timedelta(days=1), time(), zone)
    quotas = context.current().quotas()
    with repo.snapshot() as conn:
        figures: dict[str, Any] = kpi.figures(conn, since, until, quotas)
    return figures


def record_evaluation(payload: Any, ctx: handlers.Context) -> dict[str, Any]:
    """Record an evaluation (marketing manager, management): fields 422, then role 403.

    The KPIs are read before the write transaction, so that SQLite's one writer does not
    wait for the period's queries."""
    body = load_evaluation(payload)
    if ctx.actor.role not in roles.EVALUATORS:
        raise Forbidden(msg("only the marketing manager and management record evaluations"))
    figures = kpi_snapshot(body["period_start"], body["period_end"])
    with repo.writing() as conn:
        evaluation_id: int = conn.execute(
            evaluations_t.insert()
            .values(**body, kpi=figures, created_by=ctx.actor.username, created_at=context.now())
            .returning(evaluations_t.c.id)
        ).scalar_one()
        evaluation = get_evaluation(conn, evaluation_id)
    assert evaluation is not None
    return evaluation


def may_read(actor: Actor) -> bool:
    """An evaluation holds the period's KPIs: whoever may read the KPIs may read it."""
    return actor.role in KPI_READERS


def check_reader(actor: Actor) -> None:
    """403 unless `actor` may read evaluations."""
    if not may_read(actor):
        raise Forbidden(
            msg("evaluations are for the KPI readers: marketing, management, supervision")
        )


def list_evaluations(
    conn: Connection, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """Evaluations, latest period first."""
    query = sa.select(evaluations_t).order_by(
        evaluations_t.c.period_start.desc(), evaluations_t.c.id.desc()
    )
    return page_rows(conn, query, page, per_page)


def get_evaluation(conn: Connection, evaluation_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(sa.select(evaluations_t).where(evaluations_t.c.id == evaluation_id))
        .mappings()
        .first()
    )
    return None if row is None else dict(row)
