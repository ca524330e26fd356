"""`/subscriptions` and `/deliveries`: who hears which events, and how each delivery went;
admins only. A secret is returned once, by the request that creates it."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from service.core.errors import Conflict
from service.entrypoints.api import admin
from service.entrypoints.api.common import Blueprint, PageArgs, listed, page_schema, rule
from service.entrypoints.auth import current_actor
from service.jobs import delivery, outbound
from service.usecases import subscriptions

blp = Blueprint(
    "subscriptions",
    __name__,
    url_prefix="/api/v1",
    description="Webhook subscriptions (outbound), their deliveries and attempts; admins only",
)


class SubscriptionCreate(Schema):
    invalid_message = "invalid subscription fields"

    url = fields.String(
        required=True,
        validate=rule(subscriptions.check_url),
        metadata={"example": "https://erp.example.com/hooks"},
    )
    events = fields.List(
        fields.String(),
        load_default=lambda: ["*"],
        allow_none=True,
        validate=rule(subscriptions.check_events),
        metadata={
            "example": ["visit.*", "issue.assign"],
            "description": "patterns over WORKFLOW.TRIGGER (WORKFLOW.created); default ['*']",
        },
    )


class SubscriptionOut(admin.SecretOnce):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    failures = fields.Integer(required=True)
    retry_at = fields.String(allow_none=True)
    disabled_at = fields.String(allow_none=True)
    created_by = fields.String(required=True)
    created_at = fields.String(required=True)


class AttemptOut(Schema):
    at = fields.String(required=True)
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Float(required=True)


REQUIRED: dict[str, Any] = {"required": True}
DeliveryOut = Schema.from_dict(
    {
        "id": fields.Integer(**REQUIRED),
        "subscription_id": fields.Integer(**REQUIRED),
        **{name: fields.String(**REQUIRED) for name in ("event_id", "type", "status")},
        "created_at": fields.String(**REQUIRED),
        **{name: fields.String(allow_none=True) for name in ("delivered_at", "next_attempt_at")},
        "attempts": fields.List(fields.Nested(AttemptOut), **REQUIRED),
        "event": fields.Dict(**REQUIRED, metadata={"description": "the payload sent"}),
    },
    name="DeliveryOut",
)


DeliveryPage = page_schema(DeliveryOut, "DeliveryPage")


@blp.route("/subscriptions", methods=["POST"])
@blp.arguments(SubscriptionCreate, as_kwargs=False)
@blp.response(201, SubscriptionOut, description="the subscription, with its secret (shown once)")
@admin.alt_errors(blp)
def create_subscription(body: dict[str, Any]) -> dict[str, Any]:
    """Subscribe a URL to the events matching a filter."""
    admin.admin_only()
    events = body["events"] or ["*"]
    return admin.with_secret(subscriptions.create(body["url"], events, current_actor().username))


admin.register(blp, "subscription", "<int:subscription_id>", SubscriptionOut, subscriptions)


@blp.route("/subscriptions/<int:subscription_id>/enable", methods=["POST"])
@blp.response(200, SubscriptionOut, description="active again")
@admin.alt_errors(blp, 404)
def enable_subscription(subscription_id: int) -> dict[str, Any]:
    """Enable a disabled subscription; its pending deliveries are sent again at once."""
    admin.found_by_admin(subscriptions.get, subscription_id)
    described = subscriptions.enable(subscription_id)
    delivery.schedule_now(subscription_id)
    return described


@blp.route("/subscriptions/<int:subscription_id>/deliveries", methods=["GET"])
@blp.arguments(PageArgs, location="query", as_kwargs=False)
@blp.response(200, DeliveryPage, description="deliveries, newest first, with their attempts")
@admin.alt_errors(blp, 404)
def list_deliveries(args: dict[str, Any], subscription_id: int) -> dict[str, Any]:
    """A subscription's deliveries: the event, the status, every attempt."""
    admin.found_by_admin(subscriptions.get, subscription_id)
    return listed(lambda p, n: subscriptions.deliveries(subscription_id, p, n), args)


@blp.route("/deliveries/<int:delivery_id>", methods=["GET"])
@blp.response(200, DeliveryOut, description="the delivery and its attempts")
@admin.alt_errors(blp, 404)
def get_delivery(delivery_id: int) -> dict[str, Any]:
    """One delivery with its attempts."""
    found: dict[str, Any] = admin.found_by_admin(subscriptions.delivery, delivery_id)
    return found


@blp.route("/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@blp.response(202, DeliveryOut, description="queued: sent again at once, same event id")
@admin.alt_errors(blp, 404, 409)
def redeliver(delivery_id: int) -> dict[str, Any]:
    """Send a delivery again (its event id unchanged, so receivers can tell a repeat)."""
    admin.found_by_admin(subscriptions.delivery, delivery_id)
    if not outbound.redeliver(delivery_id):
        raise Conflict("the subscription is not active: enable it first")
    return subscriptions.delivery(delivery_id)
