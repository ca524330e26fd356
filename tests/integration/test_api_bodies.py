"""The bodies parsed by flask-smorest (`service.entrypoints.api.common.Parser`): the
contract's order of checks and error bodies, and the request and reply schemas in the
generated document."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.integration.conftest import World
from tests.integration.test_api_support import assert_error, raw_post

GRANTS = ["visit:prepare", "visit:visit"]
BODIES = [
    ("/api/v1/integrations", "integrations"),
    ("/api/v1/subscriptions", "subscriptions"),
]


@pytest.fixture
def doc(app: Flask) -> dict[str, Any]:
    body: dict[str, Any] = app.test_client().get("/api/v1/openapi.json").get_json()
    return body


@pytest.mark.parametrize(("path", "table"), BODIES)
def test_malformed_json_is_400_and_writes_nothing(world: World, path: str, table: str) -> None:
    assert_error(raw_post(world, path, '{"name": ', "admin"), 400, "bad_request")
    assert world.count(table) == 0


@pytest.mark.parametrize(("path", "table"), BODIES)
def test_an_empty_body_is_400(world: World, path: str, table: str) -> None:
    assert_error(raw_post(world, path, "", "admin"), 400, "bad_request")
    assert world.count(table) == 0


@pytest.mark.parametrize(("path", "table"), BODIES)
def test_a_body_that_is_not_an_object_is_422_on_schema(world: World, path: str, table: str) -> None:
    body = assert_error(world.post(path, "admin", ["crm"]), 422, "invalid_request")
    assert list(body["errors"]) == ["_schema"]
    assert world.count(table) == 0


@pytest.mark.parametrize(("path", "table"), BODIES)
def test_no_token_comes_before_malformed_json(world: World, path: str, table: str) -> None:
    assert_error(raw_post(world, path, "{oops"), 401, "unauthorized")


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 256}])
def test_too_large_comes_before_malformed_json(world: World) -> None:
    r = raw_post(world, "/api/v1/integrations", "{" * 1000, "admin")
    assert_error(r, 413, "too_large")


def test_malformed_json_comes_before_forbidden(world: World) -> None:
    assert_error(raw_post(world, "/api/v1/integrations", "{oops", "mary"), 400, "bad_request")


def test_invalid_fields_come_before_forbidden(world: World) -> None:
    r = world.post("/api/v1/integrations", "mary", {"name": "crm", "grants": []})
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == ["grants"]
    assert world.count("integrations") == 0


def test_every_invalid_field_is_reported_at_once(world: World) -> None:
    r = world.post("/api/v1/integrations", "admin", {"name": "a b", "grants": [], "x": 1})
    body = assert_error(r, 422, "invalid_request")
    assert set(body["errors"]) == {"name", "grants", "x"}
    assert body["errors"]["x"] == ["Unknown field."]


def test_the_use_cases_words_are_the_apis(world: World) -> None:
    r = world.post("/api/v1/integrations", "admin", {"name": "crm", "grants": ["visit:explode"]})
    body = assert_error(r, 422, "invalid_request")
    assert body["errors"]["grants"] == ["item 0: 'visit:explode': visit has no trigger 'explode'"]


def test_mappings_null_are_none_and_grants_given_twice_once(world: World) -> None:
    payload = {"name": "crm", "grants": [*GRANTS, GRANTS[0]], "mappings": None}
    r = world.post("/api/v1/integrations", "admin", payload)
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["grants"], r.get_json()["mappings"]) == (GRANTS, {})


def test_events_null_are_every_event(world: World) -> None:
    r = world.post(
        "/api/v1/subscriptions", "admin", {"url": "http://127.0.0.1:9/h", "events": None}
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["events"] == ["*"]


def ref(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    name = schema["$ref"].rsplit("/", 1)[-1]
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found


@pytest.mark.parametrize(
    ("path", "required"),
    [("/api/v1/integrations", {"name", "grants"}), ("/api/v1/subscriptions", {"url"})],
)
def test_request_bodies_are_generated_from_the_schemas(
    doc: dict[str, Any], path: str, required: set[str]
) -> None:
    op = doc["paths"][path]["post"]
    schema = ref(doc, op["requestBody"]["content"]["application/json"]["schema"])
    assert set(schema["required"]) == required
    assert {"201", "401", "403", "422"} <= set(op["responses"])


@pytest.mark.parametrize(
    ("path", "item"),
    [
        ("/api/v1/integrations", "IntegrationOut"),
        ("/api/v1/subscriptions", "SubscriptionOut"),
        ("/api/v1/subscriptions/{subscription_id}/deliveries", "DeliveryOut"),
    ],
)
def test_lists_document_their_page_envelope(doc: dict[str, Any], path: str, item: str) -> None:
    op = doc["paths"][path]["get"]
    page = ref(doc, op["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(page["properties"]) == {"items", "total", "page", "per_page"}
    assert page["properties"]["items"]["items"]["$ref"].endswith(f"/{item}")


def test_the_admins_refusals_are_documented_in_the_error_shape(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/v1/integrations/{name}"]["delete"]
    assert {"204", "401", "403", "404"} <= set(op["responses"])
    error = op["responses"]["403"]["content"]["application/json"]["schema"]
    assert set(ref(doc, error)["properties"]) == {"code", "status", "message", "errors"}


# -- surveys and cooperation volumes ---------------------------------------------------------
def survey(world: World, **over: Any) -> dict[str, Any]:
    row = {"customer_id": world.customers["Acme"], "surveyed_at": "2026-05-01T10:00:00+08:00"}
    return {**row, "score": 4, **over}


def test_one_survey_object_is_a_list_of_one(world: World) -> None:
    r = world.post("/api/v1/customer-surveys", "mary", survey(world))
    assert (r.status_code, r.get_json()) == (201, {"recorded": 1})
    assert world.count("customer_surveys") == 1


def test_a_bad_row_is_422_under_its_index_and_writes_nothing(world: World) -> None:
    r = world.post("/api/v1/customer-surveys", "mary", [survey(world), survey(world, score=6)])
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == ["1"] and list(body["errors"]["1"]) == ["score"]
    assert world.count("customer_surveys") == 0


@pytest.mark.parametrize("rows", [[], "x", 3])
def test_rows_that_are_no_list_of_objects_are_422_on_schema(world: World, rows: Any) -> None:
    body = assert_error(
        world.post("/api/v1/customer-surveys", "mary", rows), 422, "invalid_request"
    )
    assert list(body["errors"]) == ["_schema"]
    assert world.count("customer_surveys") == 0


def test_an_unknown_customer_comes_before_forbidden(world: World) -> None:
    r = world.post("/api/v1/customer-surveys", "tom", survey(world, customer_id=9999))
    body = assert_error(r, 422, "invalid_request")
    assert body["errors"] == {"customer_id": ["no customer 9999"]}


def test_malformed_rows_are_400_before_forbidden(world: World) -> None:
    r = raw_post(world, "/api/v1/cooperation-volumes", "[{", "tom")
    assert_error(r, 400, "bad_request")


def test_row_bodies_are_documented_as_lists_of_the_row_schema(doc: dict[str, Any]) -> None:
    for path, item, status in (
        ("/api/v1/customer-surveys", "SurveyRows", "201"),
        ("/api/v1/cooperation-volumes", "VolumeRows", "200"),
    ):
        op = doc["paths"][path]["post"]
        body = op["requestBody"]["content"]["application/json"]["schema"]
        assert body["type"] == "array" and body["items"]["$ref"].endswith(f"/{item}")
        assert "$ref" in op["responses"][status]["content"]["application/json"]["schema"]


def test_the_figures_reply_is_documented(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/v1/kpi"]["get"]
    figures = ref(doc, op["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"from", "to", "plan_completion", "issues"} <= set(figures["properties"])
    csv = doc["paths"]["/api/v1/kpi/export.csv"]["get"]["responses"]["200"]
    assert "text/csv" in csv["content"]


# -- customers, tier reviews, meetings, evaluations ------------------------------------------
POSTS = [
    ("/api/v1/customers", "customers"),
    ("/api/v1/tier-reviews", "tier_reviews"),
    ("/api/v1/feedback-meetings", "feedback_meetings"),
    ("/api/v1/evaluations", "evaluations"),
]


@pytest.mark.parametrize(("path", "table"), POSTS)
def test_their_malformed_json_is_400_and_not_an_object_422(
    world: World, path: str, table: str
) -> None:
    before = world.count(table)
    assert_error(raw_post(world, path, "{", "mike"), 400, "bad_request")
    body = assert_error(world.post(path, "mike", [1]), 422, "invalid_request")
    assert list(body["errors"]) == ["_schema"]
    assert world.count(table) == before


def test_patching_an_unknown_customer_is_404_whatever_the_body(world: World) -> None:
    r = world.client.patch(
        "/api/v1/customers/9999", json={"tier": "nonsense"}, headers=world.auth("mary")
    )
    assert_error(r, 404, "not_found")


def test_deciding_an_unknown_review_is_404_whatever_the_body(world: World) -> None:
    r = raw_post(world, "/api/v1/tier-reviews/9999/decision", "{oops", "boss")
    assert_error(r, 404, "not_found")


def test_customer_fields_are_422_per_field_before_forbidden(world: World) -> None:
    before = world.count("customers")
    r = world.post("/api/v1/customers", "tom", {"name": "", "tier": "gold"})
    body = assert_error(r, 422, "invalid_request")
    assert set(body["errors"]) == {"name", "tier"}
    assert world.count("customers") == before


def test_customers_page_in_the_envelope(world: World) -> None:
    total = world.count("customers")
    r = world.get("/api/v1/customers?per_page=1&page=2", "mary")
    body = r.get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (total, 2, 1, 1)


def test_a_patch_documents_no_required_field(doc: dict[str, Any]) -> None:
    patch = doc["paths"]["/api/v1/customers/{customer_id}"]["patch"]
    schema = ref(doc, patch["requestBody"]["content"]["application/json"]["schema"])
    assert "required" not in schema and "name" in schema["properties"]
    post = doc["paths"]["/api/v1/customers"]["post"]
    created = ref(doc, post["requestBody"]["content"]["application/json"]["schema"])
    assert {"name", "tier"} <= set(created["required"])


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/v1/customers/{customer_id}", "patch", {"200", "401", "403", "404", "422"}),
        ("/api/v1/tier-reviews/{review_id}/decision", "post", {"200", "403", "404", "409"}),
        ("/api/v1/feedback-meetings", "post", {"201", "401", "403", "404", "409", "422"}),
        ("/api/v1/kpi", "get", {"200", "401", "403", "422"}),
    ],
)
def test_refusals_are_documented(
    doc: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    assert statuses <= set(doc["paths"][path][method]["responses"])
