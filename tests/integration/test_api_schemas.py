"""The API's schemas: the forms' components generated from the engine's own marshmallow
schemas (workflows/forms.py), bodies parsed by flask-smorest with the contract's rules, ids
and pages bounded by what the columns hold."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from service.store.repository import ID_MAX
from tests.integration.conftest import World, create_visit, visit_payload
from tests.integration.test_api_support import assert_error
from workflows.forms import STRING_MAX, TEXT_MAX


@pytest.fixture
def schemas(app: Flask) -> dict[str, Any]:
    doc: dict[str, Any] = app.test_client().get("/api/v1/openapi.json").get_json()
    found: dict[str, Any] = doc["components"]["schemas"]
    return found


# -- generated from the forms -------------------------------------------------------------
def test_the_creation_limits_are_the_forms(schemas: dict[str, Any]) -> None:
    props = schemas["VisitCreate"]["properties"]
    assert props["place"]["maxLength"] == STRING_MAX  # a `string` field, no limit declared
    assert props["purpose"]["maxLength"] == TEXT_MAX  # a `text` field
    assert props["customer_id"]["type"] == "integer"
    assert schemas["VisitCreate"]["additionalProperties"] is False  # the form raises


def test_a_rating_is_documented_from_1_to_5(schemas: dict[str, Any]) -> None:
    satisfaction = schemas["IssueConfirmData"]["properties"]["satisfaction"]
    assert (satisfaction["minimum"], satisfaction["maximum"]) == (1, 5)
    assert "satisfaction" in schemas["IssueConfirmData"]["required"]


def test_choices_are_documented_as_the_forms_enums(schemas: dict[str, Any]) -> None:
    topics = schemas["VisitCreate"]["properties"]["topics"]
    assert topics["type"] == "array"
    assert "needs_research" in topics["items"]["enum"]


def test_a_due_time_takes_a_date_or_a_time(schemas: dict[str, Any]) -> None:
    due = schemas["RectificationCreate"]["properties"]["due_at"]
    assert {s["format"] for s in due["anyOf"]} == {"date", "date-time"}


def test_fields_keep_their_labels(schemas: dict[str, Any]) -> None:
    place = schemas["VisitCreate"]["properties"]["place"]
    assert place["title"] and place["description"]


# -- parsing keeps the contract's rules ---------------------------------------------------
def test_a_json_body_is_read_whatever_its_content_type(world: World) -> None:
    r = world.client.post(
        "/api/v1/auth/tokens",
        data='{"username": "mary"}',
        headers={"Content-Type": "text/plain"},
    )
    body = assert_error(r, 422, "invalid_request")
    assert set(body["errors"]) == {"password"}


def test_creation_errors_keep_the_use_cases_message(world: World) -> None:
    r = world.post("/api/v1/visits", "mary", visit_payload(world, place="x" * 201))
    body = assert_error(r, 422, "invalid_request")
    assert body["message"] == "invalid visit fields"
    assert list(body["errors"]) == ["place"]


def test_a_reply_lists_only_documented_keys(world: World, schemas: dict[str, Any]) -> None:
    visit = world.get(f"/api/v1/visits/{create_visit(world)['id']}", "mary").get_json()
    assert set(visit) == set(schemas["Visit"]["properties"])


# -- bounded by what the columns hold -----------------------------------------------------
def test_an_id_beyond_the_columns_is_404(world: World) -> None:
    assert_error(world.get(f"/api/v1/visits/{ID_MAX + 1}", "mary"), 404, "not_found")
    assert world.get(f"/api/v1/visits/{ID_MAX}", "mary").status_code == 404


def test_a_customer_id_beyond_the_columns_is_unknown(world: World) -> None:
    r = world.post("/api/v1/visits", "mary", visit_payload(world, customer_id=10**20))
    body = assert_error(r, 422, "invalid_request")
    assert "customer_id" in body["errors"]


def test_a_filter_beyond_the_columns_is_422(world: World) -> None:
    r = world.get(f"/api/v1/issues?customer_id={10**20}", "mary")
    assert "customer_id" in assert_error(r, 422, "invalid_request")["errors"]


def test_a_page_beyond_any_offset_is_422(world: World) -> None:
    r = world.get(f"/api/v1/visits?page={10**20}", "mary")
    assert "page" in assert_error(r, 422, "invalid_request")["errors"]
