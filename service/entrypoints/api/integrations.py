"""`/integrations`: the accounts of other systems that fire transitions by webhook; admins
only. A secret is returned once, by the request that creates (or rotates) it."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from service.core.errors import InvalidRequest
from service.entrypoints.api import admin
from service.entrypoints.api.common import Blueprint, rule
from service.usecases import integrations

blp = Blueprint(
    "integrations",
    __name__,
    url_prefix="/api/v1",
    description="Webhook integrations (inbound): accounts, grants, mappings, secrets; admins only",
)


class IntegrationCreate(Schema):
    invalid_message = "invalid integration fields"

    name = fields.String(
        required=True, validate=rule(integrations.check_name), metadata={"example": "crm"}
    )
    grants = fields.List(
        fields.String(),
        required=True,
        validate=rule(integrations.check_grants),
        metadata={"example": ["visit:record", "visit:report"]},
    )
    mappings = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        load_default=dict,
        allow_none=True,
        metadata={"example": {"crm.visit.done": "visit"}},
    )

    @validates_schema(skip_on_field_errors=True)
    def _granted(self, data: dict[str, Any], **_: Any) -> None:
        try:
            integrations.check_mappings(data["mappings"], data["grants"])  # None is {}
        except InvalidRequest as err:
            raise ValidationError(err.errors["mappings"], "mappings") from None


class IntegrationOut(admin.SecretOnce):
    name = fields.String(required=True)
    grants = fields.List(fields.String(), required=True)
    mappings = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    active = fields.Boolean(required=True)
    created_at = fields.String(required=True)
    rotated_at = fields.String(allow_none=True)
    previous_secret_valid_until = fields.String(allow_none=True)


@blp.route("/integrations", methods=["POST"])
@blp.arguments(IntegrationCreate, as_kwargs=False)
@blp.response(201, IntegrationOut, description="the integration, with its secret (shown once)")
@admin.alt_errors(blp, 409)
def create_integration(body: dict[str, Any]) -> dict[str, Any]:
    """Create an integration: its grants (WORKFLOW:TRIGGER) and event type mappings."""
    admin.admin_only()
    created = integrations.create(body["name"], body["grants"], body["mappings"] or {})
    return admin.with_secret(created)


admin.register(blp, "integration", "<name>", IntegrationOut, integrations)


@blp.route("/integrations/<name>/rotate", methods=["POST"])
@blp.response(200, IntegrationOut, description="a new secret; the old one stays valid a while")
@admin.alt_errors(blp, 404)
def rotate_integration(name: str) -> dict[str, Any]:
    """A new secret; the previous one stays valid for WEBHOOK_SECRET_OVERLAP_HOURS (24)."""
    admin.found_by_admin(integrations.get, name)
    return admin.with_secret(integrations.rotate(name))
