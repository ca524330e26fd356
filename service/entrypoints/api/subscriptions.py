"""`/subscriptions` and `/deliveries`: who hears which events, and how each delivery went;
admins only. A secret is returned once, by the request that creates it."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from service.core.errors import Conflict
from service.entrypoints.api.common import PageArgs, json_doc, page, paging
from service.entrypoints.api.integrations import ERRORS, admin_only, json_object, no_unknown
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
    url = fields.String(required=True, metadata={"example": "https://erp.example.com/hooks"})
    events = fields.List(
        fields.String(),
        metadata={
            "example": ["visit.*", "issue.assign"],
            "description": "patterns over WORKFLOW.TRIGGER (WORKFLOW.created); default ['*']",
        },
    )


class SubscriptionOut(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    failures = fields.Integer(required=True)
    retry_at = fields.String(allow_none=True)
    disabled_at = fields.String(allow_none=True)
    created_by = fields.String(required=True)
    created_at = fields.String(required=True)
    secret = fields.String(metadata={"description": "only in the answer that creates it"})


@blp.route("/subscriptions", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": SubscriptionCreate}}},
    responses={
        "201": json_doc("the subscription, with its secret (shown once)", SubscriptionOut),
        "422": {"description": "invalid url or events"},
        **ERRORS,
    },
)
def create_subscription() -> tuple[dict[str, Any], int]:
    """Subscribe a URL to the events matching a filter."""
    body = json_object()
    no_unknown(body, {"url", "events"})
    url = subscriptions.check_url(body.get("url"))
    events = subscriptions.check_events(body.get("events"))
    admin_only()
    described, secret = subscriptions.create(url, events, current_actor().username)
    return {**described, "secret": secret}, 201


@blp.route("/subscriptions", methods=["GET"])
@blp.arguments(PageArgs, location="query", as_kwargs=False)
@blp.doc(responses={"200": json_doc("a page of subscriptions (no secrets)"), **ERRORS})
def list_subscriptions(args: dict[str, Any]) -> dict[str, Any]:
    """Subscriptions, oldest first."""
    admin_only()
    page_no, per_page = paging(args)
    items, total = subscriptions.listing(page_no, per_page)
    return page(items, total, page_no, per_page)


@blp.route("/subscriptions/<int:subscription_id>", methods=["GET"])
@blp.doc(responses={"200": json_doc("the subscription", SubscriptionOut), **ERRORS})
def get_subscription(subscription_id: int) -> dict[str, Any]:
    """One subscription: its filter, whether it is active, its consecutive failures."""
    found = subscriptions.get(subscription_id)
    admin_only()
    return found


@blp.route("/subscriptions/<int:subscription_id>", methods=["DELETE"])
@blp.doc(responses={"204": {"description": "deleted"}, **ERRORS})
def delete_subscription(subscription_id: int) -> Response:
    """Stop delivering to a subscription; pending deliveries are dropped."""
    subscriptions.get(subscription_id)
    admin_only()
    subscriptions.delete(subscription_id)
    return Response(status=204)


@blp.route("/subscriptions/<int:subscription_id>/enable", methods=["POST"])
@blp.doc(responses={"200": json_doc("active again", SubscriptionOut), **ERRORS})
def enable_subscription(subscription_id: int) -> dict[str, Any]:
    """Enable a disabled subscription; its pending deliveries are sent again at once."""
    subscriptions.get(subscription_id)
    admin_only()
    described = subscriptions.enable(subscription_id)
    delivery.schedule_now(subscription_id)
    return described


@blp.route("/subscriptions/<int:subscription_id>/deliveries", methods=["GET"])
@blp.arguments(PageArgs, location="query", as_kwargs=False)
@blp.doc(
    responses={
        "200": json_doc("deliveries, newest first, each with its attempts (status code, error)"),
        **ERRORS,
    }
)
def list_deliveries(args: dict[str, Any], subscription_id: int) -> dict[str, Any]:
    """A subscription's deliveries: the event, the status, every attempt."""
    subscriptions.get(subscription_id)
    admin_only()
    page_no, per_page = paging(args)
    items, total = subscriptions.deliveries(subscription_id, page_no, per_page)
    return page(items, total, page_no, per_page)


@blp.route("/deliveries/<int:delivery_id>", methods=["GET"])
@blp.doc(responses={"200": json_doc("the delivery and its attempts"), **ERRORS})
def get_delivery(delivery_id: int) -> dict[str, Any]:
    """One delivery with its attempts."""
    found = subscriptions.delivery(delivery_id)
    admin_only()
    return found


@blp.route("/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@blp.doc(
    responses={
        "202": json_doc("queued: sent again at once, with the same event id"),
        "409": {"description": "the subscription is disabled or deleted"},
        **ERRORS,
    }
)
def redeliver(delivery_id: int) -> tuple[dict[str, Any], int]:
    """Send a delivery again (its event id unchanged, so receivers can tell a repeat)."""
    subscriptions.delivery(delivery_id)
    admin_only()
    if not outbound.redeliver(delivery_id):
        raise Conflict("the subscription is not active: enable it first")
    return subscriptions.delivery(delivery_id), 202
