"""What every API view shares: the blueprint and its argument parser, the JSON body,
paging, list envelopes and the error reply."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import flask_smorest
from flask import current_app, g, request
from marshmallow import Schema, ValidationError, fields, validate
from webargs.flaskparser import FlaskParser

from service.core.errors import BadRequest, InvalidRequest
from service.core.texts import Text
from workflows.forms import flatten


def json_body() -> Any:
    """The request's JSON; 413 above the size limit (raised by Flask), 400 if malformed."""
    if "json_body" in g:
        return g.json_body
    g.json_body = _parse_body()
    return g.json_body


def _parse_body() -> Any:
    raw = request.get_data(cache=True)
    if not raw:
        raise BadRequest("a JSON body is required")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadRequest(f"malformed JSON: {err}") from None


class Parser(FlaskParser):
    """webargs' parser with the contract's rules for bodies (api-contract.md, Errors).

    The body is JSON whatever its content type: 413 above the size limit (Flask), 400 when
    absent or malformed (`json_body`), before any field is checked. A schema with an
    `invalid_message` answers 422 as the use cases do: that message, errors per field.
    """

    def _raw_load_json(self, req: Any) -> Any:
        return json_body()

    def handle_error(
        self,
        error: ValidationError,
        req: Any,
        schema: Schema,
        *,
        error_status_code: int | None,
        error_headers: Mapping[str, str] | None,
    ) -> NoReturn:
        message: Text | None = getattr(schema, "invalid_message", None)
        if message is None:
            super().handle_error(
                error,
                req,
                schema,
                error_status_code=error_status_code,
                error_headers=error_headers,
            )
        messages = error.messages
        if isinstance(messages, dict) and set(messages) == {"json"}:
            messages = messages["json"]  # webargs keys them by location
        raise InvalidRequest(message, flatten(messages))


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's blueprint, parsing with `Parser`."""

    ARGUMENTS_PARSER = Parser()

    def errors(self, replies: Mapping[int, str]) -> Callable[[Any], Any]:
        """Document error replies, `{status: description}`, in the one error shape."""

        def decorate(view: Any) -> Any:
            for status, description in replies.items():
                view = self.alt_response(status, schema=ErrorSchema, description=description)(view)
            return view

        return decorate


PAGE_MAX = 2**31 - 1  # beyond it an offset would overflow the database's integers


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
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
