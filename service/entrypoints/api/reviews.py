"""`/tier-reviews`: the yearly key-customer review (marketing proposes, management decides),
and `/customers/{id}/tier-history`, the tier changes approved reviews (and admins) made."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.core.errors import InvalidRequest
from service.entrypoints.api.common import PageArgs, json_body, page, page_schema, paging
from service.entrypoints.auth import current_actor
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
    year = fields.Integer()
    decision = fields.String(validate=validate.OneOf((*DECISIONS, "pending")))
    customer_id = fields.Integer()


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


def load(schema: Schema, what: str) -> dict[str, Any]:
    """The JSON body loaded by `schema`: 400 if malformed, 422 per field."""
    return reviews.load(schema, body_object(), what)


def body_object() -> dict[str, Any]:
    """The JSON body, which must be an object (400 if malformed, 422 if not an object)."""
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", {"_schema": ["must be an object"]})
    return body


@blp.route("/tier-reviews")
class TierReviews(MethodView):
    @blp.arguments(ReviewListArgs, location="query", as_kwargs=False)
    @blp.response(200, TierReviewPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Tier review proposals, by year, decision (`pending` for undecided) or customer."""
        page_no, per_page = paging(args)
        rows, total = reviews.search(
            args.get("year"), args.get("decision"), args.get("customer_id"), page_no, per_page
        )
        return page(rows, total, page_no, per_page)

    @blp.doc(requestBody={"content": {"application/json": {"schema": ProposalsSchema}}})
    @blp.response(201, TierReviewList)
    def post(self) -> dict[str, Any]:
        """Propose tiers for a year's review, one customer or many (marketing)."""
        return {"items": reviews.propose(body_object(), current_actor())}


@blp.route("/tier-reviews/<int:review_id>")
class TierReviewItem(MethodView):
    @blp.response(200, TierReviewSchema)
    def get(self, review_id: int) -> TierReview:
        """One tier review proposal."""
        return reviews.get(review_id)


@blp.route("/tier-reviews/<int:review_id>/decision")
class TierReviewDecision(MethodView):
    @blp.doc(requestBody={"content": {"application/json": {"schema": DecisionSchema}}})
    @blp.response(200, TierReviewSchema)
    def post(self, review_id: int) -> TierReview:
        """Approve or reject a proposal (management); approving changes the customer's tier
        and its criteria, and records the change in the tier history. 409 once decided."""
        reviews.get(review_id)  # an unknown review is 404 whatever the body
        return reviews.decide(review_id, body_object(), current_actor())


@blp.route("/customers/<int:customer_id>/tier-history")
class TierHistory(MethodView):
    @blp.response(200, TierChangeList)
    def get(self, customer_id: int) -> dict[str, Any]:
        """A customer's tier changes, oldest first.

        Each was made by the review that approved it (`review_id`) or, outside a review, by
        an admin (`reason` "set by admin")."""
        return {"items": reviews.history(customer_id)}
