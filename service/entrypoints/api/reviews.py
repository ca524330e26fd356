"""`/tier-reviews`: the yearly key-customer review (marketing proposes, management decides),
and `/customers/{id}/tier-history`, the tier changes approved reviews (and admins) made."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from service.entrypoints.api.common import (
    TOKEN,
    Blueprint,
    PageArgs,
    before_body,
    listed,
    page_schema,
    worded,
)
from service.entrypoints.auth import current_actor
from service.store import references
from service.store.models import TierReview
from service.usecases import reviews
from service.usecases.reviews import DECISIONS, DecisionSchema, ProposalsSchema


class TierReviewSchema(Schema):
    id = fields.Integer()
    year = fields.Integer()
    customer_id = fields.Integer()
    current_tier = fields.String()
    proposed_tier = fields.String()
    criteria = fields.List(fields.String())
    reason = fields.String(allow_none=True)
    proposed_by = fields.String()
    proposed_at = fields.DateTime()
    decision = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    comment = fields.String(allow_none=True)


class ReviewListArgs(PageArgs):
    year = fields.Integer(validate=validate.Range(2000, 2100))  # as proposals take it
    decision = fields.String(validate=validate.OneOf((*DECISIONS, "pending")))
    customer_id = references.row_id(strict=False)  # a query string's digits


ProposalsIn = worded(ProposalsSchema, "invalid tier review fields", "ProposalsIn")
DecisionIn = worded(DecisionSchema, "invalid decision fields", "DecisionIn")


class TierChangeSchema(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    from_tier = fields.String()
    to_tier = fields.String()
    changed_at = fields.DateTime()
    changed_by = fields.String()
    review_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)  # why, when not by a review: "set by admin"


blp = Blueprint(
    "tier_reviews", __name__, url_prefix="/api/v1", description="Yearly key-customer review"
)
TierReviewPage = page_schema(TierReviewSchema, "TierReviewPage")
TierReviewList = Schema.from_dict(
    {"items": fields.List(fields.Nested(TierReviewSchema), required=True)}, name="TierReviewList"
)
TierChangeList = Schema.from_dict(
    {"items": fields.List(fields.Nested(TierChangeSchema), required=True)}, name="TierChangeList"
)


@blp.route("/tier-reviews")
class TierReviews(MethodView):
    @blp.arguments(ReviewListArgs, location="query", as_kwargs=False)
    @blp.response(200, TierReviewPage)
    @blp.errors(TOKEN)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Tier review proposals, by year, decision (`pending` for undecided) or customer."""
        found = (args.get("year"), args.get("decision"), args.get("customer_id"))
        return listed(lambda p, n: reviews.search(*found, p, n), args)

    @blp.arguments(ProposalsIn, as_kwargs=False)
    @blp.response(201, TierReviewList)
    @blp.errors({**TOKEN, 403: "only marketing proposes", 409: "an undecided proposal"})
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Propose tiers for a year's review, one customer or many (marketing)."""
        return {"items": reviews.propose(body, current_actor())}


@blp.route("/tier-reviews/<int:review_id>")
class TierReviewItem(MethodView):
    @blp.response(200, TierReviewSchema)
    @blp.errors({**TOKEN, 404: "no such review"})
    def get(self, review_id: int) -> TierReview:
        """One tier review proposal."""
        return reviews.get(review_id)


@blp.route("/tier-reviews/<int:review_id>/decision")
class TierReviewDecision(MethodView):
    @before_body(reviews.get)  # an unknown review is 404 whatever the body
    @blp.arguments(DecisionIn, as_kwargs=False)
    @blp.response(200, TierReviewSchema)
    @blp.errors({**TOKEN, 403: "only management decides", 404: "no such review", 409: "decided"})
    def post(self, body: dict[str, Any], review_id: int) -> TierReview:
        """Approve or reject a proposal (management); approving changes the customer's tier
        and its criteria, and records the change in the tier history. 409 once decided."""
        return reviews.decide(review_id, body, current_actor())


@blp.route("/customers/<int:customer_id>/tier-history")
class TierHistory(MethodView):
    @blp.response(200, TierChangeList)
    @blp.errors({**TOKEN, 404: "no such customer"})
    def get(self, customer_id: int) -> dict[str, Any]:
        """A customer's tier changes, oldest first.

        Each was made by the review that approved it (`review_id`) or, outside a review, by
        an admin (`reason` "set by admin")."""
        return {"items": reviews.history(customer_id)}
