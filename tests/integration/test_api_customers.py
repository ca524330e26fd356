"""Key customers: marketing creates and updates them, everyone reads them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import World
from tests.integration.test_api_support import assert_error, raw_post

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
    r = patch(world, acme, "mike", {"region": "north", "tier": "important"})
    assert r.status_code == 200, r.get_json()
    read = world.get(f"/api/v1/customers/{acme}", "mary").get_json()
    assert (read["name"], read["tier"], read["region"]) == ("Acme", "important", "north")
    assert read["criteria"] == ["major_revenue"]


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
    assert_error(patch(world, acme, "tom", {"tier": "general"}), 403, "forbidden")
    assert world.get(f"/api/v1/customers/{acme}", "mary").get_json()["tier"] == "core"


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
