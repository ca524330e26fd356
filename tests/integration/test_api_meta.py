"""Around the workflows: tokens, health, OpenAPI and docs, departments, definitions, diagrams."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, request
from flask.sessions import NullSession

from tests.integration.conftest import World
from tests.integration.test_api_support import assert_error
from tests.integration.web import Browser

DEFINITIONS = ("visit", "issue", "rectification")


# -- POST /auth/tokens ---------------------------------------------------------------------
def test_token_is_issued_for_the_right_password(world: World) -> None:
    r = world.client.post("/api/v1/auth/tokens", json={"username": "mary", "password": "pw-mary"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert set(body) == {"token"}
    assert isinstance(body["token"], str) and len(body["token"]) >= 20


def test_issued_token_authenticates_as_its_user(world: World) -> None:
    token = world.client.post(
        "/api/v1/auth/tokens", json={"username": "tom", "password": "pw-tom"}
    ).get_json()["token"]
    created = world.post(
        "/api/v1/visits",
        "mary",
        {
            "customer_id": world.customers["Acme"],
            "planned_at": "2026-11-10T10:00:00+08:00",
            "visitors": ["mary", "tom"],
            "place": "Acme HQ",
        },
    ).get_json()
    r = world.client.get(
        f"/api/v1/visits/{created['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200
    assert r.get_json()["allowed_triggers"] == ["prepare"]  # what tom, a technical visitor, may do


def test_token_refused_for_a_wrong_password(world: World) -> None:
    tokens = world.count("api_tokens")
    r = world.client.post("/api/v1/auth/tokens", json={"username": "mary", "password": "pw-tom"})
    assert_error(r, 401, "unauthorized")
    assert world.count("api_tokens") == tokens


def test_token_refused_for_an_unknown_user(world: World) -> None:
    tokens = world.count("api_tokens")
    r = world.client.post("/api/v1/auth/tokens", json={"username": "nobody", "password": "x"})
    assert_error(r, 401, "unauthorized")
    assert world.count("api_tokens") == tokens


def test_token_request_without_fields_is_422(world: World) -> None:
    tokens = world.count("api_tokens")
    body = assert_error(world.client.post("/api/v1/auth/tokens", json={}), 422, "invalid_request")
    assert set(body["errors"]) == {"username", "password"}
    assert world.count("api_tokens") == tokens


def test_token_request_without_password_is_422(world: World) -> None:
    r = world.client.post("/api/v1/auth/tokens", json={"username": "mary"})
    body = assert_error(r, 422, "invalid_request")
    assert set(body["errors"]) == {"password"}


def test_token_request_with_malformed_json_is_400(world: World) -> None:
    r = world.client.post(
        "/api/v1/auth/tokens", data="{username", headers={"Content-Type": "application/json"}
    )
    assert_error(r, 400, "bad_request")


# -- health, OpenAPI, docs ---------------------------------------------------------------
def test_healthz_needs_no_token(world: World) -> None:
    r = world.client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.parametrize("app_config", [{"REDIS_URL": "redis://127.0.0.1:1/0"}])
def test_healthz_is_503_and_names_the_failing_part(app: Flask) -> None:
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    body = r.get_json()
    assert (body["database"], body["status"]) == ("ok", "error")
    assert body["redis"] != "ok"


@pytest.fixture
def openapi(world: World) -> dict[str, Any]:
    r = world.client.get("/api/v1/openapi.json")  # no token: public
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    spec: dict[str, Any] = r.get_json()
    return spec


EXPECTED_OPERATIONS = [
    ("post", "/api/v1/auth/tokens"),
    ("get", "/healthz"),
    ("get", "/api/v1/customers"),
    ("post", "/api/v1/customers"),
    ("get", "/api/v1/customers/{customer_id}"),
    ("patch", "/api/v1/customers/{customer_id}"),
    ("get", "/api/v1/departments"),
    ("get", "/api/v1/definitions"),
    ("get", "/api/v1/definitions/{name}"),
    ("get", "/api/v1/definitions/{name}/diagram"),
    ("get", "/api/v1/inbox"),
] + [
    (method, f"/api/v1/{path}{suffix}")
    for path in ("visits", "issues", "rectification-notices")
    for method, suffix in (
        ("get", ""),
        ("post", ""),
        ("get", "/{instance_id}"),
        ("get", "/{instance_id}/history"),
        ("post", "/{instance_id}/transitions"),
    )
]


def test_openapi_documents_every_endpoint(openapi: dict[str, Any]) -> None:
    missing = [(m, p) for m, p in EXPECTED_OPERATIONS if m not in openapi["paths"].get(p, {})]
    assert missing == [], sorted(openapi["paths"])


def test_openapi_has_the_request_components(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    for workflow in ("Visit", "Issue", "Rectification"):
        assert f"{workflow}Create" in schemas
        request = schemas[f"{workflow}TransitionRequest"]
        assert request["required"] == ["trigger"]
        assert set(request["properties"]) == {"trigger", "version", "data"}


def test_openapi_transition_request_enumerates_the_definitions_triggers(
    world: World, openapi: dict[str, Any]
) -> None:
    definition = world.get("/api/v1/definitions/visit", "mary").get_json()
    triggers = [t["trigger"] for t in definition["transitions"]]
    request = openapi["components"]["schemas"]["VisitTransitionRequest"]
    assert request["properties"]["trigger"]["enum"] == triggers


def test_openapi_visit_create_requires_the_definitions_required_fields(
    world: World, openapi: dict[str, Any]
) -> None:
    definition = world.get("/api/v1/definitions/visit", "mary").get_json()
    required = [f["name"] for f in definition["create"]["fields"] if f["required"]]
    assert openapi["components"]["schemas"]["VisitCreate"]["required"] == required


def test_openapi_marks_public_endpoints_as_needing_no_token(openapi: dict[str, Any]) -> None:
    assert openapi["security"] == [{"bearer": []}]
    assert openapi["paths"]["/api/v1/auth/tokens"]["post"]["security"] == []
    assert openapi["paths"]["/healthz"]["get"]["security"] == []
    assert "security" not in openapi["paths"]["/api/v1/visits"]["get"]


def test_docs_are_public_html(world: World) -> None:
    r = world.client.get("/api/v1/docs")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert b"swagger-ui" in r.data


def test_docs_assets_are_served_without_a_token(world: World) -> None:
    with world.client.get("/api/v1/docs/static/swagger-ui.css") as r:  # closes the file
        assert r.status_code == 200
        assert r.mimetype == "text/css"


# -- departments -------------------------------------------------------------------------
def test_departments_list_codes_names_and_managers(world: World) -> None:
    r = world.get("/api/v1/departments", "tom")
    assert r.status_code == 200
    body = r.get_json()
    assert (body["total"], body["page"], body["per_page"]) == (6, 1, 50)
    by_code = {d["code"]: d for d in body["items"]}
    assert set(by_code) >= {"marketing", "technical", "after_sales", "management"}
    assert all(set(d) == {"code", "name", "manager"} for d in body["items"])
    assert by_code["marketing"]["manager"] == "mike"
    assert by_code["technical"]["manager"] == "tom"
    assert by_code["after_sales"]["manager"] is None
    assert by_code["marketing"]["name"] == "Marketing"


def test_departments_page(world: World) -> None:
    body = world.get("/api/v1/departments?per_page=4&page=2", "tom").get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (6, 2, 4, 2)


def test_departments_per_page_is_clamped_to_200(world: World) -> None:
    body = world.get("/api/v1/departments?per_page=1000", "tom").get_json()
    assert body["per_page"] == 200
    assert len(body["items"]) == 6


def test_page_zero_is_422(world: World) -> None:
    assert_error(world.get("/api/v1/departments?page=0", "tom"), 422, "invalid_request")


# -- definitions -------------------------------------------------------------------------
def test_definitions_list_every_workflow(world: World) -> None:
    r = world.get("/api/v1/definitions", "tom")
    assert r.status_code == 200
    body = r.get_json()
    assert sorted(d["name"] for d in body["items"]) == sorted(DEFINITIONS)
    assert body["total"] == 3


def test_definitions_list_pages_like_every_list(world: World) -> None:
    body = world.get("/api/v1/definitions?per_page=1&page=2", "tom").get_json()
    assert (body["total"], body["page"], body["per_page"]) == (3, 2, 1)
    assert len(body["items"]) == 1


def test_unknown_definition_version_is_404(world: World) -> None:
    assert_error(world.get("/api/v1/definitions/visit?version=99", "mary"), 404, "not_found")


def test_every_field_has_zh_and_en_labels(world: World) -> None:
    for name in DEFINITIONS:
        d = world.get(f"/api/v1/definitions/{name}", "mary").get_json()
        forms = [d["create"]["fields"]] + [t["fields"] for t in d["transitions"]]
        fields = [f for form in forms for f in form]
        assert len(fields) > 3, name
        for f in fields:
            assert set(f["label"]) == {"zh", "en"}, (name, f["name"])
            assert f["label"]["zh"] and f["label"]["en"], (name, f["name"])


def test_definition_states_and_transitions_are_labelled(world: World) -> None:
    d = world.get("/api/v1/definitions/visit", "mary").get_json()
    assert d["initial"] == "planned"
    assert [s["name"] for s in d["states"]] == [
        "planned",
        "prepared",
        "visited",
        "recorded",
        "reported",
        "cancelled",
    ]
    assert all(s["label"]["zh"] and s["label"]["en"] for s in d["states"])
    assert all(t["label"]["zh"] and t["label"]["en"] for t in d["transitions"])


def test_definition_lists_roles_for_creation_and_each_transition(world: World) -> None:
    d = world.get("/api/v1/definitions/visit", "mary").get_json()
    assert d["create"]["roles"] == ["marketing_manager", "marketing_staff"]
    by_trigger = {t["trigger"]: t for t in d["transitions"]}
    assert by_trigger["report"]["roles"] == ["marketing_manager", "marketing_staff"]
    assert by_trigger["record"]["participation"] == ["visitor"]
    assert "technical" in by_trigger["record"]["roles"]


def test_definition_lists_choices_with_labels(world: World) -> None:
    d = world.get("/api/v1/definitions/visit", "mary").get_json()
    topics = next(f for f in d["create"]["fields"] if f["name"] == "topics")
    assert topics["type"] == "multi_choice"
    assert [c["value"] for c in topics["choices"]] == [
        "customer_basics",
        "business_cooperation",
        "market_dynamics",
        "competitor_analysis",
        "needs_research",
    ]
    assert all(c["label"]["zh"] and c["label"]["en"] for c in topics["choices"])


def test_definition_rectification_is_created_by_supervision_only(world: World) -> None:
    d = world.get("/api/v1/definitions/rectification", "sara").get_json()
    assert d["create"]["roles"] == ["supervision"]


def test_unknown_definition_is_404(world: World) -> None:
    assert_error(world.get("/api/v1/definitions/holiday", "mary"), 404, "not_found")


# -- diagrams ----------------------------------------------------------------------------
def test_diagram_is_mermaid_text(world: World) -> None:
    r = world.get("/api/v1/definitions/visit/diagram", "mary")
    assert r.status_code == 200
    assert r.mimetype == "text/plain"
    text = r.get_data(as_text=True)
    assert text.startswith("stateDiagram-v2")
    assert "planned --> prepared" in text
    assert "class " not in text  # nothing highlighted without ?state=


def test_diagram_highlights_the_given_state(world: World) -> None:
    r = world.get("/api/v1/definitions/visit/diagram?state=recorded", "mary")
    assert r.status_code == 200
    lines = r.get_data(as_text=True).splitlines()
    assert "    class recorded current" in lines
    assert sum(line.strip().startswith("class ") for line in lines) == 1


def test_diagram_in_chinese(world: World) -> None:
    r = world.get("/api/v1/definitions/issue/diagram?lang=zh", "mary")
    assert r.status_code == 200
    assert "已提出" in r.get_data(as_text=True)


def test_diagram_of_an_unknown_state_is_422(world: World) -> None:
    body = assert_error(
        world.get("/api/v1/definitions/visit/diagram?state=lost", "mary"), 422, "invalid_request"
    )
    assert "state" in body["errors"]


def test_diagram_of_an_unknown_definition_is_404(world: World) -> None:
    assert_error(world.get("/api/v1/definitions/holiday/diagram", "mary"), 404, "not_found")


def test_the_api_neither_reads_nor_sets_the_pages_cookie(world: World) -> None:
    """The pages' signed session cookie means nothing to the API (a token does): no cookie
    is set, and a signed-in browser's cookie does not authenticate an API call."""
    browser = Browser(world, "mary")  # signed in through the login form: has the cookie
    r = browser.client.get("/api/v1/visits")
    assert r.status_code == 401
    assert "Set-Cookie" not in r.headers
    token = world.client.post(
        "/api/v1/auth/tokens", json={"username": "mary", "password": "pw-mary"}
    )
    assert token.status_code in (200, 201) and "Set-Cookie" not in token.headers
    for path, null in (("/api/v1/visits", True), ("/webhooks/crm", True), ("/visits", False)):
        with world.app.test_request_context(path):
            opened = world.app.session_interface.open_session(world.app, request)
            assert isinstance(opened, NullSession) is null, path
