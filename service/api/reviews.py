"""`/tier-reviews`: the yearly key-customer review (marketing proposes, management decides),
and `/customers/{id}/tier-history`, the tier changes approved reviews made."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from service import runtime
from service.api.common import PageArgs, json_body, page, page_schema, paging
from service.api.customers import CRITERIA, TIERS
from service.auth import current_actor
from service.errors import Conflict, Forbidden, InvalidRequest, NotFound
from service.extensions import db
from service.models import Customer, CustomerTierHistory, TierReview

PROPOSERS = frozenset({"marketing_staff", "marketing_manager"})
DECIDERS = frozenset({"management"})
DECISIONS = ("approved", "rejected")


class ProposalSchema(Schema):
    customer_id = fields.Integer(required=True, strict=True)
    proposed_tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    criteria = fields.List(fields.String(validate=validate.OneOf(CRITERIA)), load_default=list)
    reason = fields.String(allow_none=True, validate=validate.Length(max=5000))


class ProposalsSchema(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    proposals = fields.List(
        fields.Nested(ProposalSchema), required=True, validate=validate.Length(min=1, max=1000)
    )


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


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    comment = fields.String(allow_none=True, validate=validate.Length(max=5000))


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
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", {"_schema": ["must be an object"]})
    try:
        loaded: dict[str, Any] = schema.load(body)
    except ValidationError as err:
        raise InvalidRequest(f"invalid {what} fields", err.normalized_messages()) from None
    return loaded


@blp.route("/tier-reviews")
class TierReviews(MethodView):
    @blp.arguments(ReviewListArgs, location="query", as_kwargs=False)
    @blp.response(200, TierReviewPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Tier review proposals, by year, decision (`pending` for undecided) or customer."""
        page_no, per_page = paging(args)
        where: list[Any] = []
        if "year" in args:
            where.append(TierReview.year == args["year"])
        if "customer_id" in args:
            where.append(TierReview.customer_id == args["customer_id"])
        if args.get("decision") == "pending":
            where.append(TierReview.decision.is_(None))
        elif "decision" in args:
            where.append(TierReview.decision == args["decision"])
        total = db.session.execute(
            sa.select(sa.func.count()).select_from(TierReview).where(*where)
        ).scalar()
        rows = db.session.execute(
            sa.select(TierReview)
            .where(*where)
            .order_by(TierReview.id)
            .limit(per_page)
            .offset((page_no - 1) * per_page)
        ).scalars()
        return page(list(rows), int(total or 0), page_no, per_page)

    @blp.doc(requestBody={"content": {"application/json": {"schema": ProposalsSchema}}})
    @blp.response(201, TierReviewList)
    def post(self) -> dict[str, Any]:
        """Propose tiers for a year's review, one customer or many (marketing)."""
        body = load(ProposalsSchema(), "tier review")
        wanted = {p["customer_id"] for p in body["proposals"]}
        customers = {
            c.id: c
            for c in db.session.execute(
                sa.select(Customer).where(Customer.id.in_(wanted))
            ).scalars()
        }
        errors: dict[str, Any] = {}
        seen: set[int] = set()
        for i, p in enumerate(body["proposals"]):
            if p["customer_id"] not in customers:
                errors[str(i)] = {"customer_id": [f"no customer {p['customer_id']}"]}
            elif p["customer_id"] in seen:
                errors[str(i)] = {"customer_id": ["proposed twice"]}
            seen.add(p["customer_id"])
        if errors:
            raise InvalidRequest("invalid tier review fields", {"proposals": errors})
        actor = current_actor()
        if actor.role not in PROPOSERS:
            raise Forbidden("only marketing staff and managers propose tiers")
        pending = db.session.execute(
            sa.select(TierReview.customer_id).where(
                TierReview.year == body["year"],
                TierReview.customer_id.in_(wanted),
                TierReview.decision.is_(None),
            )
        ).scalars()
        taken = sorted(set(pending))
        if taken:
            raise Conflict(
                f"customers {taken} already have an undecided proposal for {body['year']}"
            )
        now = runtime.now()
        reviews = [
            TierReview(
                year=body["year"],
                customer_id=p["customer_id"],
                current_tier=customers[p["customer_id"]].tier,
                proposed_tier=p["proposed_tier"],
                criteria=p["criteria"],
                reason=p.get("reason"),
                proposed_by=actor.username,
                proposed_at=now,
            )
            for p in body["proposals"]
        ]
        db.session.add_all(reviews)
        db.session.commit()
        return {"items": reviews}


@blp.route("/tier-reviews/<int:review_id>")
class TierReviewItem(MethodView):
    @blp.response(200, TierReviewSchema)
    def get(self, review_id: int) -> TierReview:
        """One tier review proposal."""
        review = db.session.get(TierReview, review_id)
        if review is None:
            raise NotFound(f"no tier review {review_id}")
        return review


@blp.route("/tier-reviews/<int:review_id>/decision")
class TierReviewDecision(MethodView):
    @blp.doc(requestBody={"content": {"application/json": {"schema": DecisionSchema}}})
    @blp.response(200, TierReviewSchema)
    def post(self, review_id: int) -> TierReview:
        """Approve or reject a proposal (management); approving changes the customer's tier
        and its criteria, and records the change in the tier history. 409 once decided."""
        review = db.session.get(TierReview, review_id)
        if review is None:
            raise NotFound(f"no tier review {review_id}")
        body = load(DecisionSchema(), "decision")
        actor = current_actor()
        if actor.role not in DECIDERS:
            raise Forbidden("only management decides tier reviews")
        now = runtime.now()
        result: sa.CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
            sa.update(TierReview)
            .where(TierReview.id == review_id, TierReview.decision.is_(None))
            .values(
                decision=body["decision"],
                decided_by=actor.username,
                decided_at=now,
                comment=body.get("comment"),
            )
        )
        if result.rowcount != 1:
            db.session.rollback()
            raise Conflict(f"tier review {review_id} is already decided")
        if body["decision"] == "approved":
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


@blp.route("/customers/<int:customer_id>/tier-history")
class TierHistory(MethodView):
    @blp.response(200, TierChangeList)
    def get(self, customer_id: int) -> dict[str, Any]:
        """A customer's tier changes, oldest first."""
        if db.session.get(Customer, customer_id) is None:
            raise NotFound(f"no customer {customer_id}")
        rows = db.session.execute(
            sa.select(CustomerTierHistory)
            .where(CustomerTierHistory.customer_id == customer_id)
            .order_by(CustomerTierHistory.changed_at, CustomerTierHistory.id)
        ).scalars()
        return {"items": list(rows)}
