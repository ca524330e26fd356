"""`POST /api/v1/plans`: the annual visit plan, as a dry run or applied (marketing manager)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service import planning
from service.api.common import json_body, json_doc
from service.auth import current_actor
from service.errors import Forbidden, InvalidRequest
from service.handlers import Context

PLANNERS = frozenset({"marketing_manager"})

blp = Blueprint("plans", __name__, url_prefix="/api/v1", description="Annual visit plan")


class PlanRequest(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    from_ = fields.Date(data_key="from", load_default=None)
    dry_run = fields.Boolean(load_default=True)
    visitors_per_visit = fields.Integer(
        load_default=2, strict=True, validate=validate.Range(min=1, max=5)
    )

    @validates_schema
    def _in_year(self, data: dict[str, Any], **_: Any) -> None:
        start = data.get("from_")
        if start is not None and start.year != data.get("year"):
            raise ValidationError("must be a day of `year`", "from")


@blp.route("/plans", methods=["POST"])
@blp.doc(
    requestBody={
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["year"],
                    "properties": {
                        "year": {"type": "integer"},
                        "from": {"type": "string", "format": "date"},
                        "dry_run": {"type": "boolean", "default": True},
                        "visitors_per_visit": {"type": "integer", "default": 2},
                    },
                }
            }
        }
    },
    responses={
        "200": json_doc(
            '{"visits": proposed, "clashes": existing double bookings, "summary": per tier,'
            ' "created": ids when applied}'
        )
    },
)
def create_plan() -> dict[str, Any]:
    """Plan the visits each customer still needs this year to meet its tier's quota.

    Spread evenly over the remaining workdays (holidays avoided), no visitor twice in a
    half day, the least-loaded visitors first. `dry_run` (the default) writes nothing;
    `false` creates the proposed visits in one transaction.
    """
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    try:
        args = PlanRequest().load(body)
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_": err.messages}
        raise InvalidRequest("invalid plan request", messages) from None
    year: int = args["year"]
    earliest = planning.default_start(year)
    if earliest.year != year:
        raise InvalidRequest("invalid plan request", {"year": ["the year is over"]})
    start: date = args["from_"] or earliest
    if start < earliest:
        raise InvalidRequest("invalid plan request", {"from": ["must be after today"]})
    actor = current_actor()
    if actor.role not in PLANNERS:
        raise Forbidden("only a marketing manager may plan the year's visits")
    ctx = Context(actor, "api", g.get("request_id"))
    return planning.run(year, start, args["visitors_per_visit"], args["dry_run"], ctx)
