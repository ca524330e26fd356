"""`POST /api/v1/plans`: the annual visit plan, as a dry run or applied (marketing manager)."""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields

from service.core import texts
from service.entrypoints.api.common import Blueprint, json_body
from service.entrypoints.auth import current_actor
from service.usecases import planning
from service.usecases.handlers import Context

blp = Blueprint("plans", __name__, url_prefix="/api/v1", description="Annual visit plan")


class PlanBody(planning.PlanRequest):
    """The use case's own request schema, answering 422 as the use case does."""

    invalid_message = "invalid plan request"


class PlanResult(Schema):
    dry_run = fields.Boolean(required=True)
    year = fields.Integer(required=True)
    from_ = fields.String(attribute="from", data_key="from", metadata={"format": "date"})
    visits = fields.List(fields.Dict(), required=True, metadata={"description": "proposed"})
    clashes = fields.List(
        fields.Dict(), required=True, metadata={"description": "existing double bookings"}
    )
    summary = fields.Raw(required=True, metadata={"description": "per tier"})
    calendar = fields.Dict(required=True, metadata={"description": "where the days off come from"})
    min_gap_working_days = fields.Integer()
    working_days = fields.Integer()
    shortfalls = fields.List(fields.Dict(), metadata={"description": "visits not placed, why"})
    visitors = fields.List(fields.Dict(), metadata={"description": "each visitor's load"})
    created = fields.List(fields.Integer(), metadata={"description": "ids, when applied"})


@blp.route("/plans", methods=["POST"])
@blp.arguments(PlanBody)
@blp.response(200, PlanResult)
@blp.errors(
    {
        403: "only a marketing manager may plan the year's visits",
        409: "the plan changed since it was previewed",
    }
)
def create_plan(_checked: dict[str, Any]) -> dict[str, Any]:
    """Plan the visits each customer still needs this year to meet its tier's quota.

    Spread evenly over the remaining workdays (holidays avoided), no visitor twice in a
    half day, the least-loaded visitors first. `dry_run` (the default) writes nothing;
    `false` creates the proposed visits in one transaction.
    """
    result = planning.plan(json_body(), Context(current_actor(), "api", g.get("request_id")))
    for shortfall in result["shortfalls"]:  # in the API's language (texts.language)
        for reason in shortfall["reasons"]:
            reason["message"] = texts.render(reason["message"])
    return result
