"""The yearly key-customer review pages: the proposals of a year, proposing a tier
(marketing) and deciding on one (management), over the same use cases as the API
(`service.usecases.reviews`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from service.core import roles, runtime
from service.core.errors import Conflict, InvalidRequest
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import (
    _,
    bp,
    customer_options,
    error_page,
    page_args,
    translated,
    tz,
)
from service.entrypoints.web.customers import criteria_labels, tier_labels
from service.entrypoints.web.messages import N_
from service.store.db import db
from service.store.models import Customer, TierReview
from service.usecases import reviews
from service.usecases.customers import CRITERIA, TIERS

REVIEW_MESSAGES = (  # the review's field messages, for the catalog
    N_("Must be one of: core, important, general."),
    N_("Must be one of: approved, rejected."),
    N_("Must be greater than or equal to 2000 and less than or equal to 2100."),
    N_("Longer than maximum length 5000."),
)
PROPOSAL_FIELDS = ("customer_id", "proposed_tier", "criteria", "reason")
_INT = re.compile(r"[0-9]{1,9}")


@bp.context_processor
def review_globals() -> dict[str, Any]:
    return {"tier_reviewers": roles.PROPOSERS | roles.DECIDERS}


def this_year() -> int:
    return runtime.now().astimezone(tz()).year


def decision_labels() -> dict[str | None, str]:
    return {None: _("Pending"), "approved": _("Approved"), "rejected": _("Rejected")}


def labels() -> dict[str, Any]:
    return {
        "tiers": tier_labels(),
        "criteria": criteria_labels(),
        "decisions": decision_labels(),
        "customer_names": dict(customer_options()),
    }


def as_number(value: str) -> int | str:
    value = value.strip()
    return int(value) if _INT.fullmatch(value) else value


# -- the list --------------------------------------------------------------------------------
@bp.route("/tier-reviews")
@login_required
def tier_reviews() -> Any:
    year_arg = request.args.get("year")
    year = this_year() if year_arg is None else request.args.get("year", type=int)
    decision = request.args.get("decision") or None
    if decision not in (None, *reviews.FILTERS):
        decision = None
    page_no, per_page = page_args()
    rows, total = reviews.search(year, decision, None, page_no, per_page)
    return render_template(
        "web/tier_reviews.html",
        items=rows,
        total=total,
        page=page_no,
        per_page=per_page,
        year=year,
        decision=decision,
        filters=[
            ("pending", _("Pending")),
            ("decided", _("Decided")),
            ("approved", _("Approved")),
            ("rejected", _("Rejected")),
        ],
        may_propose=web_actor().role in roles.PROPOSERS,
        **labels(),
    )


# -- proposing -------------------------------------------------------------------------------
def proposal_body(raw: MultiDict[str, str]) -> dict[str, Any]:
    """The form as the API's body: one proposal; numbers as numbers, a blank reason as none."""
    proposal: dict[str, Any] = {
        "customer_id": as_number(raw.get("customer_id", "")),
        "proposed_tier": raw.get("proposed_tier", ""),
        "criteria": [c for c in raw.getlist("criteria") if c],
        "reason": raw.get("reason", "").strip() or None,
    }
    if proposal["customer_id"] == "":
        del proposal["customer_id"]
    year = raw.get("year", "").strip()
    body: dict[str, Any] = {"proposals": [proposal]}
    if year:
        body["year"] = as_number(year)
    return body


def flat(messages: Any) -> list[str]:
    """Every message of a (possibly nested) marshmallow error, e.g. a list item's."""
    if isinstance(messages, Mapping):
        return [m for value in messages.values() for m in flat(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in flat(value)]
    return [str(messages)]


def form_errors(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    """The use case's messages next to the form's fields: a proposal's under its own name,
    an unknown customer in the page's language."""
    out: dict[str, list[str]] = {}
    for name, messages in errors.items():
        if name == "proposals" and isinstance(messages, Mapping):
            for per_field in messages.values():
                if isinstance(per_field, Mapping):
                    for field, texts in per_field.items():
                        out.setdefault(field, []).extend(flat(texts))
                else:
                    out.setdefault("customer_id", []).extend(flat(per_field))
        else:
            out[name] = flat(messages)
    if any(m.startswith("no customer") for m in out.get("customer_id", [])):
        out["customer_id"] = [_("No such customer.")]
    return translated(out)


@bp.route("/tier-reviews/new", methods=["GET", "POST"])
@login_required
def tier_review_new() -> Any:
    actor = web_actor()
    if actor.role not in roles.PROPOSERS:
        return error_page(403, _("Only marketing proposes key-customer tiers."))
    errors: dict[str, list[str]] = {}
    conflict = None
    status = 200
    if request.method == "POST":
        raw: MultiDict[str, str] = MultiDict(request.form)
        try:
            (review,) = reviews.propose(proposal_body(raw), actor)
        except InvalidRequest as err:
            errors, status = form_errors(err.errors), 422
        except Conflict:
            conflict, status = pending_of(raw), 409
        else:
            flash(_("Tier proposal #%(id)s submitted.", id=review.id), "success")
            return redirect(url_for("web.tier_review", review_id=review.id))
    else:
        raw = MultiDict({"year": str(this_year())})
        chosen = db.session.get(Customer, request.args.get("customer_id", type=int) or 0)
        if chosen is not None:
            raw["customer_id"] = str(chosen.id)
            raw["proposed_tier"] = chosen.tier
            raw.setlist("criteria", list(chosen.criteria or []))
    return render_template(
        "web/tier_review_new.html",
        raw=raw,
        errors=errors,
        conflict=conflict,
        customers=customer_options(),
        all_tiers=TIERS,
        all_criteria=CRITERIA,
        **labels(),
    ), status


def pending_of(raw: Mapping[str, str]) -> TierReview | None:
    """The undecided proposal that made a new one a conflict, to link to it."""
    year, customer_id = as_number(raw.get("year", "")), as_number(raw.get("customer_id", ""))
    if not isinstance(year, int) or not isinstance(customer_id, int):
        return None
    rows, _total = reviews.search(year, "pending", customer_id, 1, 1)
    return rows[0] if rows else None


# -- one review and its decision ------------------------------------------------------------
def review_page(
    review: TierReview, errors: dict[str, list[str]], raw: Mapping[str, str], status: int
) -> tuple[str, int]:
    customer = db.session.get(Customer, review.customer_id)
    return render_template(
        "web/tier_review.html",
        review=review,
        customer=customer,
        errors=errors,
        raw=raw,
        may_decide=review.decision is None and web_actor().role in roles.DECIDERS,
        **labels(),
    ), status


@bp.route("/tier-reviews/<int:review_id>")
@login_required
def tier_review(review_id: int) -> Any:
    return review_page(reviews.get(review_id), {}, {}, 200)


@bp.route("/tier-reviews/<int:review_id>/decision", methods=["POST"])
@login_required
def tier_review_decide(review_id: int) -> Any:
    review = reviews.get(review_id)
    actor = web_actor()
    if actor.role not in roles.DECIDERS:
        return error_page(403, _("Only management decides on key-customer tiers."))
    raw: MultiDict[str, str] = MultiDict(request.form)
    body = {"decision": raw.get("decision", ""), "comment": raw.get("comment", "").strip() or None}
    try:
        review = reviews.decide(review_id, body, actor)
    except InvalidRequest as err:
        return review_page(review, translated(err.errors), raw, 422)
    except Conflict:
        flash(_("Someone decided on this proposal meanwhile."), "warning")
        return review_page(reviews.get(review_id), {}, raw, 409)
    if review.decision == "approved":
        flash(
            _("Proposal #%(id)s approved: the customer's tier is updated.", id=review.id), "success"
        )
    else:
        flash(_("Proposal #%(id)s rejected.", id=review.id), "success")
    return redirect(url_for("web.tier_review", review_id=review.id))
