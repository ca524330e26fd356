"""Domain and engine errors as HTTP: every error the API and the webhooks answer, in one JSON
shape (the pages show theirs on an error page, service/entrypoints/web/views.py)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from service.core import texts
from service.core.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthorized,
)
from workflows import (
    InvalidData,
    InvalidTransition,
    NotPermitted,
    UnknownTrigger,
    VersionConflict,
    WorkflowError,
)

STATUSES: dict[type[DomainError], tuple[int, str]] = {
    Unauthorized: (401, "unauthorized"),
    BadRequest: (400, "bad_request"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    InvalidRequest: (422, "invalid_request"),
    Conflict: (409, "conflict"),
}


def status_of(err: DomainError) -> tuple[int, str]:
    """The HTTP status and code of a refusal (its nearest class that has one)."""
    for cls in type(err).__mro__:
        if cls in STATUSES:
            return STATUSES[cls]
    return 400, "bad_request"


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def body(status: int, code: str, message: str, errors: dict[str, Any] | None = None) -> Response:
    response = jsonify({"code": code, "status": status, "message": message, "errors": errors or {}})
    response.status_code = status
    return response


def from_workflow_error(err: WorkflowError) -> tuple[int, str, str, dict[str, Any]]:
    """The HTTP status, code, message and errors of an engine refusal."""
    if isinstance(err, UnknownTrigger):
        return 422, "invalid_request", str(err), {"trigger": [f"unknown trigger '{err.trigger}'"]}
    if isinstance(err, VersionConflict):
        return (
            409,
            "version_conflict",
            f"the instance changed meanwhile: it is at version {err.actual}, not {err.expected}",
            {"version": [f"current version is {err.actual}"]},
        )
    if isinstance(err, InvalidTransition):
        return 409, "invalid_transition", str(err), {"allowed": err.allowed, "state": err.state}
    if isinstance(err, NotPermitted):
        return 403, "forbidden", err.message, {}
    if isinstance(err, InvalidData):
        return 422, "invalid_data", "the form has invalid fields", err.errors
    return 400, "bad_request", str(err), {}


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(err: DomainError) -> Response:
        status, code = status_of(err)
        return body(status, code, texts.message(err.message), texts.errors(err.errors))

    @app.errorhandler(WorkflowError)
    def workflow_error(err: WorkflowError) -> Response:
        return body(*from_workflow_error(err))

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        status = err.code or 500
        errors: dict[str, Any] = {}
        data = getattr(err, "data", None)  # webargs puts field messages here
        if isinstance(data, dict) and "messages" in data:
            errors = _per_field(data["messages"])
        message = err.description or err.name
        if status == 422 and errors:
            message = f"invalid {_where(data)}: {', '.join(sorted(errors))}"
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"the request body is larger than {limit} bytes"
        return body(status, HTTP_CODES.get(status, "error"), message, errors)


LOCATIONS = ("json", "query", "form", "headers", "cookies", "files", "path")


def _per_field(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs' messages keyed by location ({"query": {"from": [...]}}), per field."""
    if not set(messages) <= set(LOCATIONS):
        return messages
    merged: dict[str, Any] = {}
    for location in messages.values():
        merged.update(location)
    return merged


def _where(data: Any) -> str:
    return "query parameters" if "query" in (data or {}).get("messages", {}) else "fields"
