"""`POST /api/v1/plans`: the annual visit plan, as a dry run or applied (marketing manager)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest import Blueprint

from service.core import texts
from service.core.errors import InvalidRequest
from service.entrypoints.api.common import json_body, json_doc
from service.entrypoints.auth import current_actor
from service.usecases import planning
from service.usecases.handlers import Context

blp = Blueprint("plans", __name__, url_prefix="/api/v1", description="Annual visit plan")


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
    result = planning.plan(body, Context(current_actor(), "api", g.get("request_id")))
    for shortfall in result["shortfalls"]:  # in the API's language (texts.language)
        for reason in shortfall["reasons"]:
            reason["message"] = texts.render(reason["message"])
    return result
