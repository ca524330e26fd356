"""The yearly key-customer review: marketing proposes tiers, management decides, and
approved changes are kept in each customer's tier history."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import World
from tests.integration.test_api_support import assert_error

TABLES = ("tier_reviews", "customer_tier_history", "customers")


def counts(world: World) -> dict[str, int]:
    return {**world.counts(), **{t: world.count(t) for t in TABLES}}


def propose(world: World, user: str = "mary", **over: Any) -> list[dict[str, Any]]:
    body = {
        "year": 2026,
        "proposals": [
            {
                "customer_id": world.customers["Globex"],
                "proposed_tier": "core",
                "criteria": ["major_revenue", "long_term_partner"],
                "reason": "three large projects this year",
            },
            {"customer_id": world.customers["Initech"], "proposed_tier": "important"},
        ],
        **over,
    }
    r = world.post("/api/v1/tier-reviews", user, body)
    assert r.status_code == 201, r.get_json()
    items: list[dict[str, Any]] = r.get_json()["items"]
    return items


def decide(world: World, review_id: int, user: str, decision: str, **over: Any) -> Any:
    body = {"decision": decision, "comment": "agreed", **over}
    return world.post(f"/api/v1/tier-reviews/{review_id}/decision", user, body)


def test_marketing_proposes_and_management_approves(world: World) -> None:
    globex, initech = propose(world)
    assert (globex["current_tier"], globex["proposed_tier"]) == ("important", "core")
    assert (globex["proposed_by"], globex["decision"]) == ("mary", None)
    assert initech["criteria"] == []

    r = decide(world, globex["id"], "boss", "approved")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["decision"], body["decided_by"], body["comment"]) == (
        "approved",
        "boss",
        "agreed",
    )
    customer = world.get(f"/api/v1/customers/{world.customers['Globex']}", "mary").get_json()
    assert customer["tier"] == "core"
    assert customer["criteria"] == ["major_revenue", "long_term_partner"]

    history = world.get(f"/api/v1/customers/{world.customers['Globex']}/tier-history", "mary")
    assert history.status_code == 200
    (change,) = history.get_json()["items"]
    assert (change["from_tier"], change["to_tier"], change["changed_by"]) == (
        "important",
        "core",
        "boss",
    )
    assert (change["review_id"], change["reason"]) == (globex["id"], None)


def test_rejection_leaves_the_tier_and_history_alone(world: World) -> None:
    _, initech = propose(world)
    r = decide(world, initech["id"], "boss", "rejected", comment="not yet")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["decision"] == "rejected"
    customer = world.get(f"/api/v1/customers/{world.customers['Initech']}", "mary").get_json()
    assert customer["tier"] == "general"
    assert world.count("customer_tier_history") == 0


def test_the_history_keeps_every_change_in_order(world: World) -> None:
    acme = world.customers["Acme"]
    (first,) = propose(world, proposals=[{"customer_id": acme, "proposed_tier": "important"}])
    assert decide(world, first["id"], "boss", "approved").status_code == 200
    (second,) = propose(
        world, "mike", year=2027, proposals=[{"customer_id": acme, "proposed_tier": "core"}]
    )
    assert second["current_tier"] == "important"
    assert decide(world, second["id"], "boss", "approved").status_code == 200
    items = world.get(f"/api/v1/customers/{acme}/tier-history", "boss").get_json()["items"]
    assert [(i["from_tier"], i["to_tier"]) for i in items] == [
        ("core", "important"),
        ("important", "core"),
    ]


def test_listing_by_year_and_decision(world: World) -> None:
    globex, initech = propose(world)
    decide(world, globex["id"], "boss", "approved")
    r = world.get("/api/v1/tier-reviews?year=2026&decision=approved", "mary")
    assert [i["id"] for i in r.get_json()["items"]] == [globex["id"]]
    r = world.get("/api/v1/tier-reviews?year=2026&decision=pending", "mary")
    assert [i["id"] for i in r.get_json()["items"]] == [initech["id"]]
    assert world.get("/api/v1/tier-reviews?year=2025", "mary").get_json()["total"] == 0


def test_only_management_decides(world: World) -> None:
    globex, _ = propose(world)
    before = counts(world)
    for user in ("mary", "mike", "tom", "sara"):
        assert_error(decide(world, globex["id"], user, "approved"), 403, "forbidden")
    assert counts(world) == before
    review = world.get(f"/api/v1/tier-reviews/{globex['id']}", "mary").get_json()
    assert review["decision"] is None


def test_a_second_decision_is_a_conflict(world: World) -> None:
    globex, _ = propose(world)
    assert decide(world, globex["id"], "boss", "approved").status_code == 200
    before = counts(world)
    assert_error(decide(world, globex["id"], "boss", "rejected"), 409, "conflict")
    assert counts(world) == before
    customer = world.get(f"/api/v1/customers/{world.customers['Globex']}", "mary").get_json()
    assert customer["tier"] == "core"


def test_only_marketing_proposes(world: World) -> None:
    before = counts(world)
    body = {"year": 2026, "proposals": [{"customer_id": 1, "proposed_tier": "core"}]}
    for user in ("tom", "boss", "sara"):
        assert_error(world.post("/api/v1/tier-reviews", user, body), 403, "forbidden")
    assert counts(world) == before


def test_bad_proposals_are_refused_per_field_writing_nothing(world: World) -> None:
    acme = world.customers["Acme"]
    before = counts(world)
    cases = [
        ({"proposals": [{"customer_id": acme, "proposed_tier": "core"}]}, "year"),
        ({"year": 2026, "proposals": []}, "proposals"),
        (
            {"year": 2026, "proposals": [{"customer_id": acme, "proposed_tier": "gold"}]},
            "proposals",
        ),
        ({"year": 2026, "proposals": [{"customer_id": 999, "proposed_tier": "core"}]}, "proposals"),
        (
            {
                "year": 2026,
                "proposals": [
                    {"customer_id": acme, "proposed_tier": "core"},
                    {"customer_id": acme, "proposed_tier": "general"},
                ],
            },
            "proposals",
        ),
    ]
    for body, field in cases:
        err = assert_error(world.post("/api/v1/tier-reviews", "mary", body), 422, "invalid_request")
        assert field in err["errors"], err
    r = decide(world, 1, "boss", "maybe")
    assert_error(r, 404, "not_found")
    (review,) = propose(world, proposals=[{"customer_id": acme, "proposed_tier": "general"}])
    before = counts(world)
    err = assert_error(decide(world, review["id"], "boss", "maybe"), 422, "invalid_request")
    assert "decision" in err["errors"]
    assert counts(world) == before


def test_one_undecided_proposal_per_customer_and_year(world: World) -> None:
    propose(world)
    before = counts(world)
    body = {
        "year": 2026,
        "proposals": [{"customer_id": world.customers["Globex"], "proposed_tier": "general"}],
    }
    assert_error(world.post("/api/v1/tier-reviews", "mike", body), 409, "conflict")
    assert counts(world) == before


def test_unknown_ones_are_404(world: World) -> None:
    assert_error(world.get("/api/v1/tier-reviews/42", "mary"), 404, "not_found")
    assert_error(world.get("/api/v1/customers/999/tier-history", "mary"), 404, "not_found")


def test_a_tier_review_filter_beyond_its_column_is_a_422_naming_it(world: World) -> None:
    huge = world.get("/api/v1/tier-reviews?customer_id=99999999999999999999", "mike")
    assert huge.status_code == 422 and "customer_id" in huge.get_json()["errors"]
    year = world.get("/api/v1/tier-reviews?year=99999999999", "mike")
    assert year.status_code == 422 and "year" in year.get_json()["errors"]
    assert world.get("/api/v1/tier-reviews?year=2026&customer_id=1", "mike").status_code == 200
