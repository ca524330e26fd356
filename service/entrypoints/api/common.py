"""What every API view shares: the JSON body, paging, and list envelopes."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from marshmallow import Schema, fields, validate

from service.core.errors import BadRequest


def json_body() -> Any:
    """The request's JSON; 413 above the size limit (raised by Flask), 400 if malformed."""
    raw = request.get_data(cache=True)
    if not raw:
        raise BadRequest("a JSON body is required")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadRequest(f"malformed JSON: {err}") from None


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1))


def paging(args: dict[str, Any]) -> tuple[int, int]:
    per_page = min(int(args.pop("per_page", 50)), current_app.config["PER_PAGE_MAX"])
    return int(args.pop("page", 1)), per_page


def page(items: list[Any], total: int, page_no: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page_no, "per_page": per_page}


def json_doc(description: str, schema: Any = None) -> dict[str, Any]:
    """An OpenAPI response: `description`, JSON content of `schema` (an object by default)."""
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"example": "invalid_transition"})
    status = fields.Integer(required=True, metadata={"example": 409})
    message = fields.String(required=True)
    errors = fields.Dict(required=True)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "total": fields.Integer(required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
        },
        name=name,
    )
