"""`/integrations`: the accounts of other systems that fire transitions by webhook; admins
only. A secret is returned once, by the request that creates (or rotates) it."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from service.core.errors import Forbidden, InvalidRequest
from service.entrypoints.api.common import PageArgs, json_body, json_doc, page, paging
from service.entrypoints.auth import current_actor
from service.usecases import integrations

blp = Blueprint(
    "integrations",
    __name__,
    url_prefix="/api/v1",
    description="Webhook integrations (inbound): accounts, grants, mappings, secrets; admins only",
)


class IntegrationCreate(Schema):
    name = fields.String(required=True, metadata={"example": "crm"})
    grants = fields.List(
        fields.String(), required=True, metadata={"example": ["visit:record", "visit:report"]}
    )
    mappings = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"example": {"crm.visit.done": "visit"}},
    )


class IntegrationOut(Schema):
    name = fields.String(required=True)
    grants = fields.List(fields.String(), required=True)
    mappings = fields.Dict(required=True)
    active = fields.Boolean(required=True)
    created_at = fields.String(required=True)
    rotated_at = fields.String(allow_none=True)
    previous_secret_valid_until = fields.String(allow_none=True)
    secret = fields.String(metadata={"description": "only in the answer that creates it"})


ERRORS = {
    "401": {"description": "missing or bad token"},
    "403": {"description": "not an admin"},
}


def admin_only() -> None:
    if current_actor().role != "admin":
        raise Forbidden("only admins manage integrations and subscriptions")


def json_object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", {"_schema": ["must be an object"]})
    return body


def no_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise InvalidRequest("unknown fields", {k: ["Unknown field."] for k in extra})


@blp.route("/integrations", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": IntegrationCreate}}},
    responses={
        "201": json_doc("the integration, with its secret (shown once)", IntegrationOut),
        "409": {"description": "the name is taken"},
        "422": {"description": "invalid name, grants or mappings"},
        **ERRORS,
    },
)
def create_integration() -> tuple[dict[str, Any], int]:
    """Create an integration: its grants (WORKFLOW:TRIGGER) and event type mappings."""
    body = json_object()
    no_unknown(body, {"name", "grants", "mappings"})
    name = integrations.check_name(body.get("name"))
    grants = integrations.check_grants(body.get("grants"))
    mappings = integrations.check_mappings(body.get("mappings"), grants)
    admin_only()
    described, secret = integrations.create(name, grants, mappings)
    return {**described, "secret": secret}, 201


@blp.route("/integrations", methods=["GET"])
@blp.arguments(PageArgs, location="query", as_kwargs=False)
@blp.doc(responses={"200": json_doc("a page of integrations (no secrets)"), **ERRORS})
def list_integrations(args: dict[str, Any]) -> dict[str, Any]:
    """Integrations by name."""
    admin_only()
    page_no, per_page = paging(args)
    items, total = integrations.listing(page_no, per_page)
    return page(items, total, page_no, per_page)


@blp.route("/integrations/<name>", methods=["GET"])
@blp.doc(responses={"200": json_doc("the integration", IntegrationOut), **ERRORS})
def get_integration(name: str) -> dict[str, Any]:
    """One integration (no secret)."""
    found = integrations.get(name)
    admin_only()
    return found


@blp.route("/integrations/<name>", methods=["DELETE"])
@blp.doc(responses={"204": {"description": "deactivated: its webhooks answer 401"}, **ERRORS})
def delete_integration(name: str) -> Response:
    """Deactivate an integration; its history stays."""
    integrations.get(name)
    admin_only()
    integrations.deactivate(name)
    return Response(status=204)


@blp.route("/integrations/<name>/rotate", methods=["POST"])
@blp.doc(
    responses={
        "200": json_doc("a new secret; the old one stays valid for the overlap", IntegrationOut),
        **ERRORS,
    }
)
def rotate_integration(name: str) -> dict[str, Any]:
    """A new secret; the previous one stays valid for WEBHOOK_SECRET_OVERLAP_HOURS (24)."""
    integrations.get(name)
    admin_only()
    described, secret = integrations.rotate(name)
    return {**described, "secret": secret}
