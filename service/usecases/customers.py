"""Key customers (regulation 3(一)): their tiers, the criteria that qualify them, and adding
and editing them, the use cases of `/api/v1/customers` and of the customer form.

A customer's tier is set when it is added; afterwards it changes through the yearly tier
review (`service.usecases.reviews`: marketing proposes, management decides), which keeps the tier
history. The one exception is an admin's direct correction, also kept in the history.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from service.core import context, roles
from service.core.errors import Forbidden, InvalidRequest, NotFound
from service.core.texts import msg
from service.store.db import db
from service.store.models import Customer, CustomerTierHistory
from workflows import Actor

TIERS = ("core", "important", "general")  # as the regulation lists them, core first
CRITERIA = ("major_revenue", "industry_reputation", "long_term_partner")
ADMIN_REASON = "set by admin"
TIER_BY_REVIEW = (
    "an existing customer's tier changes through the yearly tier review: "
    "propose it (POST /api/v1/tier-reviews) for management to decide"
)


class ContactSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title = fields.String(validate=validate.Length(max=200))
    phone = fields.String(validate=validate.Length(max=50))
    email = fields.Email()


class SiteSchema(Schema):
    """Where a customer is visited: check-ins are measured against its sites."""

    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    latitude = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    longitude = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    radius_m = fields.Integer(strict=True, load_default=300, validate=validate.Range(10, 5000))


class CustomerSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    criteria = fields.List(fields.String(validate=validate.OneOf(CRITERIA)), load_default=list)
    industry = fields.String(allow_none=True, validate=validate.Length(max=200))
    region = fields.String(allow_none=True, validate=validate.Length(max=200))
    contacts = fields.List(fields.Nested(ContactSchema), load_default=list)
    sites = fields.List(fields.Nested(SiteSchema), dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


def may_add(actor: Actor) -> bool:
    return actor.role in roles.CUSTOMER_EDITORS


def may_edit(actor: Actor) -> bool:
    return actor.role in roles.CUSTOMER_EDITORS | roles.TIER_SETTERS


def may_set_tier(actor: Actor) -> bool:
    """Whether `actor` may change an existing customer's tier outside the tier review."""
    return actor.role in roles.TIER_SETTERS


def load(payload: Any, partial: bool = False) -> dict[str, Any]:
    """The customer's fields as `CustomerSchema` loads them; 422 per field."""
    if not isinstance(payload, Mapping):
        raise InvalidRequest("the body must be a JSON object", {"_schema": ["must be an object"]})
    try:
        loaded: dict[str, Any] = CustomerSchema().load(payload, partial=partial)
    except ValidationError as err:
        raise InvalidRequest("invalid customer fields", err.normalized_messages()) from None
    return loaded


def add(payload: Any, actor: Actor) -> Customer:
    """Add a key customer (marketing): the fields (422), then the role (403)."""
    fields_ = load(payload)
    if not may_add(actor):
        raise Forbidden(msg("only marketing staff and managers add key customers"))
    customer = Customer(**fields_)
    db.session.add(customer)
    db.session.commit()
    return customer


def edit(customer_id: int, payload: Any, actor: Actor) -> Customer:
    """Change some fields of a key customer (marketing; admin).

    Checked in the contract's order: an unknown customer (404), the fields (422), a change
    of tier by anyone but an admin (422 on `tier`: it goes through the tier review), the
    role (403). An admin's change of tier is written to the tier history with the reason
    `set by admin`. Sending the current tier is no change and is accepted.
    """
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(msg("no customer %(id)s", id=customer_id))
    changes = load(payload, partial=True)
    new_tier = changes.get("tier", customer.tier)
    if new_tier != customer.tier and not may_set_tier(actor):
        raise InvalidRequest(
            "the tier changes only through the yearly tier review", {"tier": [TIER_BY_REVIEW]}
        )
    if not may_edit(actor):
        raise Forbidden(msg("only marketing staff and managers (and admins) edit key customers"))
    if new_tier != customer.tier:
        db.session.add(
            CustomerTierHistory(
                customer_id=customer.id,
                from_tier=customer.tier,
                to_tier=new_tier,
                changed_at=context.now(),
                changed_by=actor.username,
                review_id=None,
                reason=ADMIN_REASON,
            )
        )
    for key, value in changes.items():
        setattr(customer, key, value)
    db.session.commit()
    return customer


# -- sites -------------------------------------------------------------------------------
def _editable(customer_id: int, actor: Actor) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(msg("no customer %(id)s", id=customer_id))
    return customer


def add_site(customer_id: int, payload: Any, actor: Actor) -> dict[str, Any]:
    """Add a site to a customer: unknown customer (404), the fields (422), the role (403)."""
    customer = _editable(customer_id, actor)
    if not isinstance(payload, Mapping):
        raise InvalidRequest("the body must be a JSON object", {"_schema": ["must be an object"]})
    try:
        site: dict[str, Any] = SiteSchema().load(payload)
    except ValidationError as err:
        raise InvalidRequest(msg("invalid site fields"), err.normalized_messages()) from None
    if not may_edit(actor):
        raise Forbidden(msg("only marketing staff and managers (and admins) edit key customers"))
    site["id"] = uuid.uuid4().hex[:12]
    customer.sites = [*(customer.sites or []), site]
    db.session.commit()
    return site


def remove_site(customer_id: int, site_id: str, actor: Actor) -> None:
    """Remove a site: unknown customer or site (404), the role (403). Check-ins measured
    against it keep their distance and the site's name."""
    customer = _editable(customer_id, actor)
    kept = [s for s in customer.sites or [] if s.get("id") != site_id]
    if len(kept) == len(customer.sites or []):
        raise NotFound(msg("no site %(id)s", id=site_id))
    if not may_edit(actor):
        raise Forbidden(msg("only marketing staff and managers (and admins) edit key customers"))
    customer.sites = kept
    db.session.commit()
