"""`/visits`, `/issues`, `/rectification-notices`: one blueprint per workflow, same shape."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, url_for
from marshmallow import EXCLUDE, RAISE, Schema, fields

from service.entrypoints.api.common import Blueprint, PageArgs, json_body, page, page_schema, paging
from service.entrypoints.api.schemas import (
    HistoryPage,
    creation_schema,
    instance_schema,
    transition_schema,
)
from service.entrypoints.auth import current_actor
from service.store import filters
from service.store.kinds import Kind
from service.usecases import client_requests, handlers, listing
from workflows import Registry

READ_ERRORS = {404: "unknown, or not visible to the caller"}
REPLAYED = "Idempotent-Replayed"


class KeyHeaders(Schema):
    """`Idempotency-Key`: the client's key for this step; a repeat gets the first answer."""

    class Meta:
        unknown = EXCLUDE

    key = fields.String(
        data_key="Idempotency-Key",
        metadata={
            "description": "A key the client generated for this step (a UUID): a repeat with "
            "the same key changes nothing and answers as the first did, with "
            "`Idempotent-Replayed: true`."
        },
    )


def blueprint(kind: Kind, registry: Registry) -> Blueprint:
    blp = Blueprint(
        kind.path.replace("-", "_"),
        __name__,
        url_prefix=f"/api/v1/{kind.path}",
        description=f"{kind.title.capitalize()}s: create, list, read, history and transitions.",
    )
    _read_routes(blp, kind)
    _write_routes(blp, kind, registry)
    return blp


def _context() -> handlers.Context:
    return handlers.Context(current_actor(), "api", g.request_id)


def _read_routes(blp: Blueprint, kind: Kind) -> None:
    item_schema = instance_schema(kind)
    page_of = page_schema(item_schema, f"{kind.workflow.title()}Page")

    @blp.route("", methods=["GET"])
    @blp.arguments(filters.list_args(kind), location="query", as_kwargs=False, unknown=RAISE)
    @blp.response(200, page_of)
    def list_instances(args: dict[str, Any]) -> dict[str, Any]:
        """List the instances the caller may see, with filters and paging."""
        page_no, per_page = paging(args)
        items, total = listing.list_visible(kind, args, current_actor(), page_no, per_page)
        return page(items, total, page_no, per_page)

    @blp.route("/<int:instance_id>", methods=["GET"])
    @blp.response(200, item_schema)
    @blp.errors(READ_ERRORS)
    def get_instance(instance_id: int) -> dict[str, Any]:
        """One instance: state, version, data, allowed triggers, deadlines, overdue."""
        return handlers.get(kind, instance_id, current_actor())

    @blp.route("/<int:instance_id>/history", methods=["GET"])
    @blp.arguments(PageArgs, location="query", as_kwargs=False)
    @blp.response(200, HistoryPage, description="the audit trail, oldest first")
    @blp.errors(READ_ERRORS)
    def get_history(args: dict[str, Any], instance_id: int) -> dict[str, Any]:
        """The audit trail, oldest first: the creation, every transition and expiry."""
        handlers.load_visible(kind, instance_id, current_actor())
        page_no, per_page = paging(args)
        items, total = listing.history(kind, instance_id, page_no, per_page)
        return page(items, total, page_no, per_page)


def _visible_first(kind: Kind) -> Callable[[Any], Any]:
    """A transition's order of checks (api-contract.md): the body is JSON (400), the
    instance is visible (404), and only then is the request's shape checked (422)."""

    def decorate(view: Any) -> Any:
        @wraps(view)
        def checked(*args: Any, instance_id: int, **kwargs: Any) -> Any:
            json_body()
            handlers.load_visible(kind, instance_id, current_actor())
            return view(*args, instance_id=instance_id, **kwargs)

        return checked

    return decorate


def _write_routes(blp: Blueprint, kind: Kind, registry: Registry) -> None:
    item_schema = instance_schema(kind)
    workflow = registry.get(kind.workflow)

    @blp.route("", methods=["POST"])
    @blp.arguments(creation_schema(kind, workflow))
    @blp.response(201, item_schema, description="created")
    @blp.errors({403: "the caller's role may not create one"})
    def create_instance(_checked: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create an instance in the workflow's initial state."""
        # the use case checks the body as sent: the fields again, their time bounds, references
        rep = handlers.create(kind, json_body(), _context())
        location = url_for(f"{blp.name}.get_instance", instance_id=rep["id"])
        return rep, 201, {"Location": location}

    @blp.route("/<int:instance_id>/transitions", methods=["POST"])
    @_visible_first(kind)
    @blp.arguments(KeyHeaders, location="headers", as_kwargs=True)
    @blp.arguments(transition_schema(kind, workflow))
    @blp.response(200, item_schema, description="the new representation")
    @blp.errors(
        {
            **READ_ERRORS,
            403: "role or participation does not allow it",
            409: "invalid_transition (errors.allowed) or version_conflict",
        }
    )
    def fire_transition(
        _checked: dict[str, Any], instance_id: int, key: str | None = None
    ) -> dict[str, Any] | Response:
        """Fire a trigger. Give the `version` you saw to fail with 409 if it changed."""
        key = client_requests.checked_key(key, "Idempotency-Key")
        if key is None:
            return handlers.fire(kind, instance_id, json_body(), _context())
        dumps = current_app.json.dumps
        answer = client_requests.fire_once(kind, instance_id, json_body(), _context(), key, dumps)
        response = Response(answer.text, 200, mimetype="application/json")
        if answer.replayed:
            response.headers[REPLAYED] = "true"
        return response
