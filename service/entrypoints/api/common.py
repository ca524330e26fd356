"""What every API view shares: the blueprint and its argument parser, the JSON body and
its refusals, paging, list envelopes and the error reply."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

import flask_smorest
from flask import current_app, g, request
from marshmallow import Schema, ValidationError, fields, validate
from webargs.flaskparser import FlaskParser

from service.core.errors import BadRequest, InvalidRequest, NotFound
from service.core.texts import Text
from service.store.db import db
from workflows.forms import flatten

NOT_AN_OBJECT = "the body must be a JSON object"
TOKEN = {401: "missing or bad token"}
View = TypeVar("View", bound=Callable[..., Any])
S = TypeVar("S", bound=Schema)
T = TypeVar("T")


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
    absent or malformed (`json_body`), 422 on `_schema` when it is not an object, then the
    schema's field errors 422 per field, in the use case's words (the schema's
    `invalid_message`, see `worded`). What must come before the body (an unknown object's
    404) goes in a `before_body` decorator above `@blp.arguments`.
    """

    def load_json(self, req: Any, schema: Schema) -> Any:
        return json_body()

    def pre_load(self, location_data: Any, *, schema: Schema, req: Any, location: str) -> Any:
        if location == "json" and not schema.many and not isinstance(location_data, Mapping):
            raise InvalidRequest(NOT_AN_OBJECT, {"_schema": ["must be an object"]})
        return location_data

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
        if schema.many and isinstance(messages, dict):  # rows: each row's fields by its index
            raise InvalidRequest(message, {str(i): flatten(m) for i, m in messages.items()})
        raise InvalidRequest(message, flatten(messages))


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's blueprint, parsing with `Parser`."""

    ARGUMENTS_PARSER = Parser()

    def errors(self, replies: Mapping[int, str]) -> Callable[[View], View]:
        """Document error replies, `{status: description}`, in the one error shape."""

        def decorate(view: View) -> View:
            for status, description in replies.items():
                view = self.alt_response(status, schema=ErrorSchema, description=description)(view)
            return view

        return decorate


def worded(schema: type[S], message: Any, name: str) -> type[S]:
    """`schema` (a use case's) answering its field errors with the use case's `message`, as
    the OpenAPI schema `name`."""
    return type(name, (schema,), {"invalid_message": message})


def found(value: T | None, message: str) -> T:
    """`value`, or 404 with `message` when the lookup found nothing."""
    if value is None:
        raise NotFound(message)
    return value


def before_body(check: Callable[..., object]) -> Callable[[View], View]:
    """Call `check(**view_args)` before the view's body is parsed: an unknown object is 404
    whatever the body (place it above `@blp.arguments`)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            check(**kwargs)
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def rule(check: Callable[[Any], object]) -> Callable[[Any], None]:
    """A marshmallow validator of a use case's own check (which raises `InvalidRequest`), so
    that the API, the CLI and the pages refuse a value in the same words."""

    def validate(value: Any) -> None:
        try:
            check(value)
        except InvalidRequest as err:
            raise ValidationError([m for ms in err.errors.values() for m in ms]) from None

    return validate


PAGE_MAX = 2**31 - 1  # beyond it an offset would overflow the database's integers


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1))


def paging(args: dict[str, Any]) -> tuple[int, int]:
    per_page = min(int(args.pop("per_page", 50)), current_app.config["PER_PAGE_MAX"])
    return int(args.pop("page", 1)), per_page


def page(items: list[Any], total: int, page_no: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page_no, "per_page": per_page}


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


def entities(query: Any) -> Callable[[int, int], tuple[list[Any], int]]:
    """A `listed` fetch of the ORM entities `query` selects, in its order (`db.paginate`)."""

    def fetch(page_no: int, per_page: int) -> tuple[list[Any], int]:
        found = db.paginate(query, page=page_no, per_page=per_page, error_out=False)
        return list(found.items), int(found.total or 0)

    return fetch


def listed(
    fetch: Callable[[int, int], tuple[list[Any], int]], args: dict[str, Any]
) -> dict[str, Any]:
    """The page `args` ask for (`PageArgs`) of what `fetch(page_no, per_page)` finds, in the
    contract's envelope."""
    page_no, per_page = paging(args)
    items, total = fetch(page_no, per_page)
    return page(items, total, page_no, per_page)
