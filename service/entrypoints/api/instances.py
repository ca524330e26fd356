"""`/visits`, `/issues`, `/rectification-notices`: one blueprint per workflow, same shape."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g, url_for
from flask_smorest import Blueprint
from marshmallow import RAISE

from service.core import runtime
from service.entrypoints.api.common import PageArgs, json_body, json_doc, page, page_schema, paging
from service.entrypoints.api.schemas import HistoryPage, instance_schema
from service.entrypoints.auth import current_actor
from service.store import filters, visibility
from service.store import repository as repo
from service.store.kinds import Kind
from service.usecases import handlers
from service.usecases.representation import represent


def blueprint(kind: Kind) -> Blueprint:
    blp = Blueprint(
        kind.path.replace("-", "_"),
        __name__,
        url_prefix=f"/api/v1/{kind.path}",
        description=f"{kind.title.capitalize()}s: create, list, read, history and transitions.",
    )
    item_schema = instance_schema(kind)
    page_of = page_schema(item_schema, f"{kind.workflow.title()}Page")
    args_schema = filters.list_args(kind)
    create_ref = f"{kind.workflow.title()}Create"
    transition_ref = f"{kind.workflow.title()}TransitionRequest"
    errors = {
        "401": {"description": "missing or bad token"},
        "404": {"description": "unknown, or not visible to the caller"},
        "422": {"description": "invalid fields, per field"},
    }

    @blp.route("", methods=["GET"])
    @blp.arguments(args_schema, location="query", as_kwargs=False, unknown=RAISE)
    @blp.doc(responses={"200": json_doc("OK", page_of), **errors})
    def list_instances(args: dict[str, Any]) -> dict[str, Any]:
        """List the instances the caller may see, with filters and paging."""
        actor = current_actor()
        page_no, per_page = paging(args)
        t = kind.table
        where = filters.where(kind, args)
        vis = visibility.clause(kind, actor)
        if vis is not None:
            where.append(vis)
        conn = repo.connection()
        total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar()
        rows = [
            dict(r)
            for r in conn.execute(
                sa.select(t)
                .where(*where)
                .order_by(t.c.id.desc())
                .limit(per_page)
                .offset((page_no - 1) * per_page)
            ).mappings()
        ]
        deadlines = repo.current_deadlines(kind.workflow, [r["id"] for r in rows])
        now = runtime.now()
        registry = runtime.registry()
        items = [
            represent(
                kind,
                r,
                registry.get(kind.workflow, r["definition_version"]),
                actor,
                deadlines[r["id"]],
                now,
            )
            for r in rows
        ]
        return page(items, int(total or 0), page_no, per_page)

    @blp.route("", methods=["POST"])
    @blp.doc(
        requestBody={"required": True, "content": {"application/json": {"schema": create_ref}}},
        responses={
            "201": json_doc("created", item_schema),
            **errors,
            "403": {"description": "the caller's role may not create one"},
        },
    )
    def create_instance() -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create an instance in the workflow's initial state."""
        body = json_body()
        if not isinstance(body, dict):
            from service.core.errors import InvalidRequest

            raise InvalidRequest(
                "the body must be a JSON object", {"_schema": ["must be an object"]}
            )
        rep = handlers.create(kind, body, handlers.Context(current_actor(), "api", g.request_id))
        location = url_for(f"{blp.name}.get_instance", instance_id=rep["id"])
        return rep, 201, {"Location": location}

    @blp.route("/<int:instance_id>", methods=["GET"])
    @blp.doc(responses={"200": json_doc("OK", item_schema), **errors})
    def get_instance(instance_id: int) -> dict[str, Any]:
        """One instance: state, version, data, allowed triggers, deadlines, overdue."""
        return handlers.get(kind, instance_id, current_actor())

    @blp.route("/<int:instance_id>/history", methods=["GET"])
    @blp.arguments(PageArgs, location="query", as_kwargs=False)
    @blp.doc(responses={"200": json_doc("the audit trail, oldest first", HistoryPage), **errors})
    def get_history(args: dict[str, Any], instance_id: int) -> dict[str, Any]:
        """The audit trail, oldest first: the creation, every transition and expiry."""
        handlers.load_visible(kind, instance_id, current_actor())
        page_no, per_page = paging(args)
        events, total = repo.history(kind.workflow, instance_id, page_no, per_page)
        items = [
            {
                "at": e["at"].isoformat(),
                "actor": e["actor"],
                "source": e["source"],
                "trigger": e["trigger"],
                "from": e["from_state"],
                "to": e["to_state"],
                "version": e["version"],
                "data": e["data"] or {},
            }
            for e in events
        ]
        return page(items, total, page_no, per_page)

    @blp.route("/<int:instance_id>/transitions", methods=["POST"])
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": transition_ref}},
        },
        responses={
            "200": json_doc("the new representation", item_schema),
            **errors,
            "403": {"description": "role or participation does not allow it"},
            "409": {"description": "invalid_transition (errors.allowed) or version_conflict"},
        },
    )
    def fire_transition(instance_id: int) -> dict[str, Any]:
        """Fire a trigger. Give the `version` you saw to fail with 409 if it changed."""
        body = json_body()
        return handlers.fire(
            kind, instance_id, body, handlers.Context(current_actor(), "api", g.request_id)
        )

    return blp
