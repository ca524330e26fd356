"""Key customers: marketing creates and updates them, everyone reads them; an existing
customer's tier changes through the tier review, or (kept in its history) by an admin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Clock, World
from tests.integration.test_api_support import assert_error, instant, raw_post

UMBRELLA: dict[str, Any] = {
    "name": "Umbrella",
    "tier": "important",
    "criteria": ["industry_reputation", "long_term_partner"],
    "industry": "pharma",
    "region": "east",
    "contacts": [{"name": "Ada Wong", "title": "CIO", "email": "ada@umbrella.example"}],
}


def patch(world: World, customer_id: int, user: str, body: Any) -> Any:
    path = f"/api/v1/customers/{customer_id}"
    return world.client.patch(path, headers=world.auth(user), json=body)


# -- create ------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["mary", "mike"])
def test_marketing_creates_a_customer(world: World, user: str) -> None:
    r = world.post("/api/v1/customers", user, UMBRELLA)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert isinstance(body["id"], int)
    for key, value in UMBRELLA.items():
        assert body[key] == value, key
    assert world.count("customers") == 4


def test_created_customer_can_be_read(world: World) -> None:
    created = world.post("/api/v1/customers", "mary", UMBRELLA).get_json()
    r = world.get(f"/api/v1/customers/{created['id']}", "tom")
    assert r.status_code == 200
    assert r.get_json() == created


def test_criteria_and_contacts_default_to_empty(world: World) -> None:
    r = world.post("/api/v1/customers", "mary", {"name": "Hooli", "tier": "general"})
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["criteria"], r.get_json()["contacts"]) == ([], [])


def test_others_may_not_create_a_customer(world: World) -> None:
    before = world.counts()
    for user in ("tom", "amy", "boss", "sara", "admin"):
        assert_error(world.post("/api/v1/customers", user, UMBRELLA), 403, "forbidden")
    assert world.counts() == before


@pytest.mark.parametrize(
    ("override", "field"),
    [
        pytest.param({"tier": "gold"}, "tier", id="bad-tier"),
        pytest.param({"criteria": ["cheap"]}, "criteria", id="bad-criterion"),
        pytest.param({"name": "x" * 201}, "name", id="name-over-200"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"contacts": [{"title": "CEO"}]}, "contacts", id="contact-without-name"),
    ],
)
def test_bad_customer_field_is_422(world: World, override: dict[str, Any], field: str) -> None:
    before = world.counts()
    r = world.post("/api/v1/customers", "mary", {**UMBRELLA, **override})
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == [field]
    assert world.counts() == before


def test_customer_without_tier_is_422(world: World) -> None:
    before = world.counts()
    r = world.post("/api/v1/customers", "mary", {"name": "Hooli"})
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == ["tier"]
    assert world.counts() == before


def test_customer_body_with_malformed_json_is_400(world: World) -> None:
    before = world.counts()
    assert_error(raw_post(world, "/api/v1/customers", "{name", "mary"), 400, "bad_request")
    assert world.counts() == before


# -- read --------------------------------------------------------------------------------
def test_read_a_customer(world: World) -> None:
    r = world.get(f"/api/v1/customers/{world.customers['Globex']}", "amy")
    assert r.status_code == 200
    body = r.get_json()
    assert (body["id"], body["name"], body["tier"]) == (
        world.customers["Globex"],
        "Globex",
        "important",
    )
    assert body["criteria"] == ["major_revenue"]


def test_unknown_customer_is_404(world: World) -> None:
    assert_error(world.get("/api/v1/customers/9999", "mary"), 404, "not_found")


# -- update ------------------------------------------------------------------------------
def test_patch_updates_only_the_given_fields(world: World) -> None:
    acme = world.customers["Acme"]
    r = patch(world, acme, "mike", {"region": "north", "industry": "chemicals"})
    assert r.status_code == 200, r.get_json()
    read = world.get(f"/api/v1/customers/{acme}", "mary").get_json()
    assert (read["name"], read["tier"], read["region"]) == ("Acme", "core", "north")
    assert (read["industry"], read["criteria"]) == ("chemicals", ["major_revenue"])


def test_patch_of_an_unknown_customer_is_404(world: World) -> None:
    before = world.counts()
    assert_error(patch(world, 9999, "mary", {"region": "north"}), 404, "not_found")
    assert world.counts() == before


def test_patch_with_a_bad_tier_is_422_and_changes_nothing(world: World) -> None:
    acme = world.customers["Acme"]
    body = assert_error(patch(world, acme, "mary", {"tier": "gold"}), 422, "invalid_request")
    assert list(body["errors"]) == ["tier"]
    assert world.get(f"/api/v1/customers/{acme}", "mary").get_json()["tier"] == "core"


def test_patch_by_technical_is_403_and_changes_nothing(world: World) -> None:
    acme = world.customers["Acme"]
    assert_error(patch(world, acme, "tom", {"region": "north"}), 403, "forbidden")
    assert world.get(f"/api/v1/customers/{acme}", "mary").get_json()["region"] is None


# -- the tier: through the review, or by an admin, kept in the history -------------------
def tier_history(world: World, customer_id: int) -> list[dict[str, Any]]:
    r = world.get(f"/api/v1/customers/{customer_id}/tier-history", "mary")
    assert r.status_code == 200
    items: list[dict[str, Any]] = r.get_json()["items"]
    return items


@pytest.mark.parametrize("user", ["mary", "mike"])
def test_marketing_may_not_change_a_tier_outside_the_review(world: World, user: str) -> None:
    acme = world.customers["Acme"]
    before = world.counts()
    r = patch(world, acme, user, {"tier": "general", "region": "north"})
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == ["tier"]
    assert "tier review" in body["errors"]["tier"][0]
    assert "/api/v1/tier-reviews" in body["errors"]["tier"][0]
    read = world.get(f"/api/v1/customers/{acme}", "mary").get_json()
    assert (read["tier"], read["region"]) == ("core", None)
    assert tier_history(world, acme) == []
    assert world.counts() == before


@pytest.mark.parametrize("user", ["tom", "amy", "boss", "sara", "crm"])
def test_a_tier_change_by_any_other_role_is_the_same_422(world: World, user: str) -> None:
    """The contract checks fields (422) before the role (403)."""
    acme = world.customers["Acme"]
    body = assert_error(patch(world, acme, user, {"tier": "general"}), 422, "invalid_request")
    assert list(body["errors"]) == ["tier"]
    assert world.get(f"/api/v1/customers/{acme}", "mary").get_json()["tier"] == "core"
    assert tier_history(world, acme) == []


def test_sending_the_current_tier_is_no_change(world: World) -> None:
    acme = world.customers["Acme"]
    r = patch(world, acme, "mary", {"tier": "core", "region": "north"})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["tier"], r.get_json()["region"]) == ("core", "north")
    assert tier_history(world, acme) == []


def test_an_admin_changes_a_tier_and_the_history_says_who_and_why(
    world: World, clock: Clock
) -> None:
    acme = world.customers["Acme"]
    r = patch(world, acme, "admin", {"tier": "important"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["tier"] == "important"
    (change,) = tier_history(world, acme)
    assert (change["from_tier"], change["to_tier"]) == ("core", "important")
    assert (change["changed_by"], change["reason"], change["review_id"]) == (
        "admin",
        "set by admin",
        None,
    )
    assert instant(change["changed_at"]) == clock.now


def test_an_admin_sending_the_current_tier_adds_no_history(world: World) -> None:
    acme = world.customers["Acme"]
    r = patch(world, acme, "admin", {"tier": "core", "region": "north"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["region"] == "north"
    assert tier_history(world, acme) == []


def test_unknown_customer_comes_before_forbidden(world: World) -> None:
    assert_error(patch(world, 9999, "tom", {"tier": "general"}), 404, "not_found")


def test_malformed_json_comes_before_forbidden(world: World) -> None:
    before = world.counts()
    assert_error(raw_post(world, "/api/v1/customers", "{name", "tom"), 400, "bad_request")
    assert world.counts() == before


# -- list --------------------------------------------------------------------------------
def test_list_customers_in_the_paging_envelope(world: World) -> None:
    r = world.get("/api/v1/customers", "tom")
    assert r.status_code == 200
    body = r.get_json()
    assert (body["total"], body["page"], body["per_page"]) == (3, 1, 50)
    assert [c["name"] for c in body["items"]] == ["Acme", "Globex", "Initech"]


def test_list_customers_by_tier(world: World) -> None:
    world.post("/api/v1/customers", "mary", {**UMBRELLA, "tier": "core"})
    body = world.get("/api/v1/customers?tier=core", "mary").get_json()
    assert body["total"] == 2
    assert sorted(c["name"] for c in body["items"]) == ["Acme", "Umbrella"]


def test_list_customers_pages(world: World) -> None:
    body = world.get("/api/v1/customers?per_page=2&page=2", "mary").get_json()
    assert (body["total"], body["page"], body["per_page"]) == (3, 2, 2)
    assert [c["name"] for c in body["items"]] == ["Initech"]


def test_list_customers_clamps_per_page_to_200(world: World) -> None:
    body = world.get("/api/v1/customers?per_page=201", "mary").get_json()
    assert body["per_page"] == 200


def test_list_customers_by_an_unknown_tier_is_422(world: World) -> None:
    body = assert_error(world.get("/api/v1/customers?tier=gold", "mary"), 422, "invalid_request")
    assert "tier" in str(body["errors"])
