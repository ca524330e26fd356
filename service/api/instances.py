"""`/visits`, `/issues`, `/rectification-notices`: one blueprint per workflow, same shape."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service import handlers, runtime, visibility
from service import repository as repo
from service.api.common import PageArgs, json_body, json_doc, page, page_schema, paging
from service.api.schemas import HistoryPage, instance_schema
from service.auth import current_actor
from service.kinds import ISSUE, RECTIFICATION, VISIT, Kind
from service.models import Deadline, VisitVisitor
from service.representation import represent


def list_args(kind: Kind) -> type[Schema]:
    spec: dict[str, fields.Field[Any]] = {
        "state": fields.String(),
        "overdue": fields.Boolean(),
        "from": fields.AwareDateTime(data_key="from", attribute="from_"),
        "to": fields.AwareDateTime(),
    }
    if kind in (VISIT, ISSUE):
        spec["customer_id"] = fields.Integer()
    if kind is VISIT:
        spec["visitor"] = fields.String()
    if kind in (ISSUE, RECTIFICATION):
        spec["department"] = fields.String()
        spec["responsible_person"] = fields.String()
    if kind is ISSUE:
        spec["visit_id"] = fields.Integer()
        spec["severity"] = fields.String(
            validate=validate.OneOf(["low", "medium", "high", "critical"])
        )
        spec["category"] = fields.String()
    name = f"{kind.workflow.title()}ListArgs"
    return type(name, (PageArgs,), spec)


def _filters(kind: Kind, args: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    t = kind.table
    where: list[sa.ColumnElement[bool]] = []
    for name in ("state", "customer_id", "visit_id", "severity", "category", "responsible_person"):
        if name in args and name in t.c:
            where.append(t.c[name] == args[name])
    if "department" in args:
        column = "responsible_department" if kind is ISSUE else "department"
        where.append(t.c[column] == args["department"])
    if "visitor" in args:
        vv = VisitVisitor.__table__
        where.append(sa.exists().where(vv.c.visit_id == t.c.id, vv.c.username == args["visitor"]))
    if "from_" in args:
        where.append(t.c[kind.main_time] >= args["from_"])
    if "to" in args:
        where.append(t.c[kind.main_time] <= args["to"])
    if "overdue" in args:
        dl = Deadline.__table__
        past_due = sa.exists().where(
            dl.c.workflow == kind.workflow,
            dl.c.instance_id == t.c.id,
            dl.c.state == t.c.state,
            dl.c.status.in_(("open", "fired")),
            dl.c.due_at <= runtime.now(),
        )
        is_overdue = sa.or_(t.c.overdue, past_due)
        where.append(is_overdue if args["overdue"] else sa.not_(is_overdue))
    return where


def blueprint(kind: Kind) -> Blueprint:
    blp = Blueprint(
        kind.path.replace("-", "_"),
        __name__,
        url_prefix=f"/api/v1/{kind.path}",
        description=f"{kind.title.capitalize()}s: create, list, read, history and transitions.",
    )
    item_schema = instance_schema(kind)
    page_of = page_schema(item_schema, f"{kind.workflow.title()}Page")
    args_schema = list_args(kind)
    create_ref = f"{kind.workflow.title()}Create"
    transition_ref = f"{kind.workflow.title()}TransitionRequest"
    errors = {
        "401": {"description": "missing or bad token"},
        "404": {"description": "unknown, or not visible to the caller"},
        "422": {"description": "invalid fields, per field"},
    }

    @blp.route("", methods=["GET"])
    @blp.arguments(args_schema, location="query", as_kwargs=False)
    @blp.doc(responses={"200": json_doc("OK", page_of), **errors})
    def list_instances(args: dict[str, Any]) -> dict[str, Any]:
        """List the instances the caller may see, with filters and paging."""
        actor = current_actor()
        page_no, per_page = paging(args)
        t = kind.table
        where = _filters(kind, args)
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
            from service.errors import InvalidRequest

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
