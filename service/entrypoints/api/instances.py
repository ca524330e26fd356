"""`/visits`, `/issues`, `/rectification-notices`: one blueprint per workflow, same shape."""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask_smorest import Blueprint
from marshmallow import RAISE

from service.core.errors import InvalidRequest
from service.entrypoints.api.common import PageArgs, json_body, json_doc, page, page_schema, paging
from service.entrypoints.api.schemas import HistoryPage, instance_schema
from service.entrypoints.auth import current_actor
from service.store import filters
from service.store.kinds import Kind
from service.usecases import handlers, listing

ERRORS = {
    "401": {"description": "missing or bad token"},
    "404": {"description": "unknown, or not visible to the caller"},
    "422": {"description": "invalid fields, per field"},
}


def blueprint(kind: Kind) -> Blueprint:
    blp = Blueprint(
        kind.path.replace("-", "_"),
        __name__,
        url_prefix=f"/api/v1/{kind.path}",
        description=f"{kind.title.capitalize()}s: create, list, read, history and transitions.",
    )
    item_schema = instance_schema(kind)
    _read_routes(blp, kind, item_schema)
    _write_routes(blp, kind, item_schema)
    return blp


def _context() -> handlers.Context:
    return handlers.Context(current_actor(), "api", g.request_id)


def _read_routes(blp: Blueprint, kind: Kind, item_schema: Any) -> None:
    page_of = page_schema(item_schema, f"{kind.workflow.title()}Page")

    @blp.route("", methods=["GET"])
    @blp.arguments(filters.list_args(kind), location="query", as_kwargs=False, unknown=RAISE)
    @blp.doc(responses={"200": json_doc("OK", page_of), **ERRORS})
    def list_instances(args: dict[str, Any]) -> dict[str, Any]:
        """List the instances the caller may see, with filters and paging."""
        page_no, per_page = paging(args)
        items, total = listing.list_visible(kind, args, current_actor(), page_no, per_page)
        return page(items, total, page_no, per_page)

    @blp.route("/<int:instance_id>", methods=["GET"])
    @blp.doc(responses={"200": json_doc("OK", item_schema), **ERRORS})
    def get_instance(instance_id: int) -> dict[str, Any]:
        """One instance: state, version, data, allowed triggers, deadlines, overdue."""
        return handlers.get(kind, instance_id, current_actor())

    @blp.route("/<int:instance_id>/history", methods=["GET"])
    @blp.arguments(PageArgs, location="query", as_kwargs=False)
    @blp.doc(responses={"200": json_doc("the audit trail, oldest first", HistoryPage), **ERRORS})
    def get_history(args: dict[str, Any], instance_id: int) -> dict[str, Any]:
        """The audit trail, oldest first: the creation, every transition and expiry."""
        handlers.load_visible(kind, instance_id, current_actor())
        page_no, per_page = paging(args)
        items, total = listing.history(kind, instance_id, page_no, per_page)
        return page(items, total, page_no, per_page)


def _write_routes(blp: Blueprint, kind: Kind, item_schema: Any) -> None:
    def request_body(ref: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": ref}}}

    @blp.route("", methods=["POST"])
    @blp.doc(
        requestBody=request_body(f"{kind.workflow.title()}Create"),
        responses={
            "201": json_doc("created", item_schema),
            **ERRORS,
            "403": {"description": "the caller's role may not create one"},
        },
    )
    def create_instance() -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create an instance in the workflow's initial state."""
        body = json_body()
        if not isinstance(body, dict):
            raise InvalidRequest(
                "the body must be a JSON object", {"_schema": ["must be an object"]}
            )
        rep = handlers.create(kind, body, _context())
        location = url_for(f"{blp.name}.get_instance", instance_id=rep["id"])
        return rep, 201, {"Location": location}

    @blp.route("/<int:instance_id>/transitions", methods=["POST"])
    @blp.doc(
        requestBody=request_body(f"{kind.workflow.title()}TransitionRequest"),
        responses={
            "200": json_doc("the new representation", item_schema),
            **ERRORS,
            "403": {"description": "role or participation does not allow it"},
            "409": {"description": "invalid_transition (errors.allowed) or version_conflict"},
        },
    )
    def fire_transition(instance_id: int) -> dict[str, Any]:
        """Fire a trigger. Give the `version` you saw to fail with 409 if it changed."""
        return handlers.fire(kind, instance_id, json_body(), _context())
