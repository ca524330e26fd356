"""The yearly key-customer review: marketing proposes tiers, management decides, and each
approved change of tier is kept in the customer's tier history.

The use cases of `/api/v1/tier-reviews` and of the review pages (`/tier-reviews`): both
entry points hand their input here and render what comes back. Refusals write nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate

from service.core import context, roles
from service.core.errors import Conflict, Forbidden, InvalidRequest, NotFound
from service.core.texts import msg
from service.store import references
from service.store.db import db
from service.store.models import Customer, CustomerTierHistory, TierReview
from service.usecases.customers import CRITERIA, TIERS
from workflows import Actor

DECISIONS = ("approved", "rejected")
# `decided` (approved or rejected) is a filter of the pages; the API offers the other three.
FILTERS = (*DECISIONS, "pending", "decided")


class ProposalSchema(Schema):
    customer_id = references.row_id(required=True)
    proposed_tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    criteria = fields.List(fields.String(validate=validate.OneOf(CRITERIA)), load_default=list)
    reason = fields.String(allow_none=True, validate=validate.Length(max=5000))


class ProposalsSchema(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    proposals = fields.List(
        fields.Nested(ProposalSchema), required=True, validate=validate.Length(min=1, max=1000)
    )


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    comment = fields.String(allow_none=True, validate=validate.Length(max=5000))


def load(schema: Schema, body: Mapping[str, Any], what: str) -> dict[str, Any]:
    """`body` loaded by `schema`, or a 422 with the messages per field."""
    try:
        loaded: dict[str, Any] = schema.load(body)
    except ValidationError as err:
        raise InvalidRequest(f"invalid {what} fields", err.normalized_messages()) from None
    return loaded


# -- reading ---------------------------------------------------------------------------------
def get(review_id: int) -> TierReview:
    review = db.session.get(TierReview, review_id)
    if review is None:
        raise NotFound(msg("no tier review %(id)s", id=review_id))
    return review


def search(
    year: int | None = None,
    decision: str | None = None,
    customer_id: int | None = None,
    page_no: int = 1,
    per_page: int = 50,
) -> tuple[list[TierReview], int]:
    """One page of proposals (oldest first) and how many match in all."""
    where: list[Any] = []
    if year is not None:
        where.append(TierReview.year == year)
    if customer_id is not None:
        where.append(TierReview.customer_id == customer_id)
    if decision == "pending":
        where.append(TierReview.decision.is_(None))
    elif decision == "decided":
        where.append(TierReview.decision.is_not(None))
    elif decision is not None:
        where.append(TierReview.decision == decision)
    found = db.paginate(
        sa.select(TierReview).where(*where).order_by(TierReview.id),
        page=page_no,
        per_page=per_page,
        max_per_page=None,
        error_out=False,
    )
    return list(found.items), int(found.total or 0)


def history(customer_id: int) -> list[CustomerTierHistory]:
    """A customer's tier changes, oldest first."""
    if db.session.get(Customer, customer_id) is None:
        raise NotFound(msg("no customer %(id)s", id=customer_id))
    rows = db.session.execute(
        sa.select(CustomerTierHistory)
        .where(CustomerTierHistory.customer_id == customer_id)
        .order_by(CustomerTierHistory.changed_at, CustomerTierHistory.id)
    ).scalars()
    return list(rows)


# -- proposing and deciding -------------------------------------------------------------------
def propose(body: Mapping[str, Any], actor: Actor) -> list[TierReview]:
    """Propose tiers for a year's review (`{"year", "proposals": [...]}`), all or nothing.

    Checked in this order: the fields, unknown customers and a customer proposed twice
    (422), the actor's role (403), an undecided proposal of that year (409).
    """
    loaded = load(ProposalsSchema(), body, "tier review")
    wanted = {p["customer_id"] for p in loaded["proposals"]}
    customers = {
        c.id: c
        for c in db.session.execute(sa.select(Customer).where(Customer.id.in_(wanted))).scalars()
    }
    errors: dict[str, Any] = {}
    seen: set[int] = set()
    for i, p in enumerate(loaded["proposals"]):
        if p["customer_id"] not in customers:
            errors[str(i)] = {"customer_id": [msg("no customer %(id)s", id=p["customer_id"])]}
        elif p["customer_id"] in seen:
            errors[str(i)] = {"customer_id": [msg("proposed twice")]}
        seen.add(p["customer_id"])
    if errors:
        raise InvalidRequest("invalid tier review fields", {"proposals": errors})
    if actor.role not in roles.PROPOSERS:
        raise Forbidden(msg("only marketing staff and managers propose tiers"))
    pending = db.session.execute(
        sa.select(TierReview.customer_id).where(
            TierReview.year == loaded["year"],
            TierReview.customer_id.in_(wanted),
            TierReview.decision.is_(None),
        )
    ).scalars()
    taken = sorted(set(pending))
    if taken:
        names = ", ".join(sorted(customers[c].name for c in taken))
        raise Conflict(
            msg(
                "%(customers)s already have an undecided proposal for %(year)s",
                customers=names,
                year=loaded["year"],
            )
        )
    now = context.now()
    reviews = [
        TierReview(
            year=loaded["year"],
            customer_id=p["customer_id"],
            current_tier=customers[p["customer_id"]].tier,
            proposed_tier=p["proposed_tier"],
            criteria=p["criteria"],
            reason=p.get("reason"),
            proposed_by=actor.username,
            proposed_at=now,
        )
        for p in loaded["proposals"]
    ]
    db.session.add_all(reviews)
    db.session.commit()
    return reviews


def decide(review_id: int, body: Mapping[str, Any], actor: Actor) -> TierReview:
    """Approve or reject a proposal (`{"decision", "comment"}`); approving sets the customer's
    tier and criteria and records a change of tier in its history.

    Checked in this order: an unknown review (404), the fields (422), the actor's role
    (403), a review already decided (409).
    """
    review = get(review_id)
    loaded = load(DecisionSchema(), body, "decision")
    if actor.role not in roles.DECIDERS:
        raise Forbidden(msg("only management decides tier reviews"))
    now = context.now()
    result: sa.CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        sa.update(TierReview)
        .where(TierReview.id == review_id, TierReview.decision.is_(None))
        .values(
            decision=loaded["decision"],
            decided_by=actor.username,
            decided_at=now,
            comment=loaded.get("comment"),
        )
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict(msg("tier review %(id)s is already decided", id=review_id))
    if loaded["decision"] == "approved":
        customer = db.session.get(Customer, review.customer_id)
        assert customer is not None  # a foreign key
        if customer.tier != review.proposed_tier:
            db.session.add(
                CustomerTierHistory(
                    customer_id=customer.id,
                    from_tier=customer.tier,
                    to_tier=review.proposed_tier,
                    changed_at=now,
                    changed_by=actor.username,
                    review_id=review.id,
                )
            )
        customer.tier = review.proposed_tier
        customer.criteria = list(review.criteria or [])
    db.session.commit()
    db.session.refresh(review)
    return review
