"""Request bodies on flask-smorest's own means, in the contract's order and words.

`Blueprint.arguments(Schema)` parses the JSON body with `BodyParser`: past the size limit 413
(werkzeug), an empty or malformed body 400, a body that is not an object 422 on `_schema`,
then the schema's field errors 422 per field, as the use cases word them (each schema's
`invalid_message`). What must come before the body (an unknown object's 404) goes in a
`before_body` decorator above `@blp.arguments`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

import flask
import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser

from service.core.errors import InvalidRequest, NotFound
from service.entrypoints.api.common import ErrorSchema, json_body, page, paging
from service.store.db import db

NOT_AN_OBJECT = "the body must be a JSON object"
TOKEN = {401: "missing or bad token"}
View = TypeVar("View", bound=Callable[..., Any])
S = TypeVar("S", bound=ma.Schema)
T = TypeVar("T")


class BodyParser(FlaskParser):
    """webargs' Flask parser, reading a JSON body as the API always has (`json_body`)."""

    def load_json(self, req: flask.Request, schema: ma.Schema) -> Any:
        return json_body()  # any content type; 413, then 400 for an empty or malformed body

    def pre_load(
        self, location_data: Any, *, schema: ma.Schema, req: flask.Request, location: str
    ) -> Any:
        if location == "json" and not schema.many and not isinstance(location_data, Mapping):
            raise InvalidRequest(NOT_AN_OBJECT, {"_schema": ["must be an object"]})
        return location_data

    def handle_error(
        self,
        error: ma.ValidationError,
        req: flask.Request,
        schema: ma.Schema,
        *,
        error_status_code: int | None,
        error_headers: Mapping[str, str] | None,
    ) -> NoReturn:
        messages = error.messages
        if isinstance(messages, dict) and set(messages) == {"json"}:
            message = getattr(schema, "invalid_message", "invalid fields")
            raise InvalidRequest(message, messages["json"])
        super().handle_error(
            error,
            req,
            schema,
            error_status_code=error_status_code,
            error_headers=error_headers,
        )


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """A flask-smorest blueprint whose JSON bodies answer in the contract's order and words."""

    ARGUMENTS_PARSER = BodyParser()


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


def refusals(blp: Any, described: Mapping[int, str]) -> Callable[[View], View]:
    """Document a view's refusals, `{status: what it means}`, in the one error shape."""

    def decorate(view: View) -> View:
        for status, description in described.items():
            view = blp.alt_response(status, schema=ErrorSchema, description=description)(view)
        return view

    return decorate


def rule(check: Callable[[Any], object]) -> Callable[[Any], None]:
    """A marshmallow validator of a use case's own check (which raises `InvalidRequest`), so
    that the API, the CLI and the pages refuse a value in the same words."""

    def validate(value: Any) -> None:
        try:
            check(value)
        except InvalidRequest as err:
            raise ma.ValidationError([m for ms in err.errors.values() for m in ms]) from None

    return validate


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
