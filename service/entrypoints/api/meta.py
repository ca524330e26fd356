"""Tokens, definitions and health: the parts of the API around the workflows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, current_app
from marshmallow import Schema, fields

from service.core import runtime
from service.core.errors import InvalidRequest, NotFound
from service.entrypoints.api.common import Blueprint, PageArgs, page, page_schema, paging
from service.entrypoints.api.schemas import DefinitionSchema
from service.store.db import db
from service.store.redis_conn import get_redis
from service.usecases.accounts import issue_token
from workflows import UnknownWorkflow
from workflows.diagram import mermaid
from workflows.spec import Definition, FieldSpec, Label

blp = Blueprint("meta", __name__, url_prefix="/api/v1", description="Tokens and definitions")
health = Blueprint("health", __name__, description="Health")


class TokenRequest(Schema):
    invalid_message = "username and password are required"

    username = fields.String(required=True)
    password = fields.String(required=True)


class TokenResponse(Schema):
    token = fields.String(required=True)


class DefinitionArgs(Schema):
    version = fields.Integer(metadata={"description": "a version; the latest by default"})


class DiagramArgs(DefinitionArgs):
    state = fields.String(metadata={"description": "the state to highlight"})
    lang = fields.String(load_default="en", metadata={"enum": ["en", "zh"]})


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok", "error"]})
    database = fields.String(required=True, metadata={"description": "ok, or error: KIND"})
    redis = fields.String(required=True, metadata={"description": "ok, or error: KIND"})


@blp.route("/auth/tokens", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(TokenRequest)
@blp.response(201, TokenResponse)
@blp.errors({401: "unknown user or wrong password"})
def create_token(creds: dict[str, str]) -> dict[str, str]:
    """Exchange a username and password for a bearer token."""
    return {"token": issue_token(creds["username"], creds["password"])}


def _label(label: Label | None) -> dict[str, str] | None:
    return {"zh": label.zh, "en": label.en} if label else None


def _field(f: FieldSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f.name,
        "type": f.type.value,
        "required": f.required,
        "label": _label(f.label),
        "help": _label(f.help),
    }
    if f.choices:
        out["choices"] = [{"value": c.value, "label": _label(c.label)} for c in f.choices]
    for key in ("max_length", "min", "max"):
        if getattr(f, key) is not None:
            out[key] = getattr(f, key)
    return out


def describe(d: Definition) -> dict[str, Any]:
    return {
        "name": d.name,
        "version": d.version,
        "label": _label(d.label),
        "initial": d.initial,
        "states": [
            {
                "name": s.name,
                "label": _label(s.label),
                "final": s.final,
                "deadline": None
                if s.deadline is None
                else {"kind": s.deadline.kind, "label": _label(s.deadline.label)},
            }
            for s in d.states.values()
        ],
        "create": {
            "roles": sorted(d.create.roles),
            "fields": [_field(f) for f in d.create.fields],
        },
        "transitions": [
            {
                "trigger": t.trigger,
                "sources": list(t.sources),
                "dest": t.dest,
                "label": _label(t.label),
                "roles": sorted(t.roles),
                "participation": list(t.participation),
                "exempt_roles": sorted(t.exempt_roles),
                "guards": list(t.guards),
                "fields": [_field(f) for f in t.fields],
            }
            for t in d.transitions
        ],
    }


def _definition(name: str, version: int | None) -> Definition:
    try:
        return runtime.registry().get(name, version).definition
    except UnknownWorkflow as err:
        raise NotFound(str(err)) from None


@blp.route("/definitions", methods=["GET"])
@blp.arguments(PageArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(DefinitionSchema, "DefinitionPage"))
def list_definitions(args: dict[str, Any]) -> dict[str, Any]:
    """Every loaded workflow definition, all versions."""
    page_no, per_page = paging(args)
    every = [w.definition for w in runtime.registry()]
    chosen = every[(page_no - 1) * per_page : page_no * per_page]
    return page([describe(d) for d in chosen], len(every), page_no, per_page)


@blp.route("/definitions/<name>", methods=["GET"])
@blp.arguments(DefinitionArgs, location="query", as_kwargs=False)
@blp.response(200, DefinitionSchema)
@blp.errors({404: "no such definition, or no such version of it"})
def get_definition(args: dict[str, Any], name: str) -> dict[str, Any]:
    """One definition (latest version, or `?version=N`): states, transitions, fields, roles."""
    return describe(_definition(name, args.get("version")))


@blp.route("/definitions/<name>/diagram", methods=["GET"])
@blp.arguments(DiagramArgs, location="query", as_kwargs=False)
@blp.response(
    200, {"type": "string"}, content_type="text/plain", description="Mermaid stateDiagram-v2 text"
)
@blp.errors({404: "no such definition, or no such version of it"})
def get_diagram(args: dict[str, Any], name: str) -> Response:
    """The Mermaid state diagram, `?state=STATE` highlighted, `?lang=zh|en`."""
    definition = _definition(name, args.get("version"))
    state = args.get("state")
    if state is not None and state not in definition.states:
        raise InvalidRequest(f"{name} has no state {state!r}", {"state": ["unknown state"]})
    text = mermaid(definition, state, args["lang"])
    return Response(text, mimetype="text/plain")


@health.route("/healthz", methods=["GET"])
@health.doc(security=[])
@health.response(200, HealthSchema)
@health.alt_response(503, schema=HealthSchema, description="the failing part is marked")
def healthz() -> tuple[dict[str, str], int]:
    """Database and Redis reachability."""
    result = {"status": "ok", "database": "ok", "redis": "ok"}
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as err:  # any failure means unhealthy; the message says which
        result["database"] = f"error: {type(err).__name__}"
        result["status"] = "error"
    try:
        get_redis(current_app).ping()
    except Exception as err:  # noqa: BLE001 - as above
        result["redis"] = f"error: {type(err).__name__}"
        result["status"] = "error"
    return result, 200 if result["status"] == "ok" else 503
