"""The OpenAPI document at /api/v1/openapi.json agrees with the contract and the definitions.

The definitions are read from their YAML files, not through the service, so that the
document is compared with its source rather than with itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator

from tests.integration.conftest import TRANSITION_DATA, World, advance, visit_payload

DEFINITIONS_DIR = Path(__file__).resolve().parents[2] / "definitions"
PATHS = {"visit": "visits", "issue": "issues", "rectification": "rectification-notices"}
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}

# what api-contract.md names, path parameters written `{}`
CONTRACT_OPERATIONS = {
    ("post", "/api/v1/auth/tokens"),
    ("get", "/api/v1/customers"),
    ("post", "/api/v1/customers"),
    ("get", "/api/v1/customers/{}"),
    ("patch", "/api/v1/customers/{}"),
    ("get", "/api/v1/departments"),
    ("get", "/api/v1/definitions"),
    ("get", "/api/v1/definitions/{}"),
    ("get", "/api/v1/definitions/{}/diagram"),
    ("get", "/api/v1/inbox"),
    *(
        (method, f"/api/v1/{path}{suffix}")
        for path in PATHS.values()
        for method, suffix in (
            ("get", ""),
            ("post", ""),
            ("get", "/{}"),
            ("get", "/{}/history"),
            ("post", "/{}/transitions"),
        )
    ),
}
# the calendar feed: calendar apps send no header, its URL carries a signed token
PUBLIC_OPERATIONS = {
    ("post", "/api/v1/auth/tokens"),
    ("get", "/healthz"),
    ("get", "/calendar/{token}.ics"),
}


def definition(name: str) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(
        (DEFINITIONS_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    )
    return raw


def triggers_of(name: str) -> list[str]:
    return list(dict.fromkeys(t["trigger"] for t in definition(name)["transitions"]))


def field_names(fields: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """All the fields' names, and the required ones' (a variant's properties and required)."""
    return {f["name"] for f in fields}, {f["name"] for f in fields if f.get("required")}


@pytest.fixture
def doc(app: Flask) -> dict[str, Any]:
    r = app.test_client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    body: dict[str, Any] = r.get_json()
    return body


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def resolve(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        assert node["$ref"].startswith("#/"), node
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def request_schema(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op = doc["paths"][path][method]
    schema: dict[str, Any] = resolve(
        doc, op["requestBody"]["content"]["application/json"]["schema"]
    )
    return schema


def data_variants(transition_request: dict[str, Any]) -> list[Any]:
    """The per-trigger forms a transition request's `data` may take."""
    data = transition_request["properties"]["data"]
    variants: list[Any] = data.get("anyOf") or data.get("oneOf")
    assert variants, data
    return variants


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    """A validator for `schema` whose `#/components/...` references resolve in `doc`."""
    return OAS30Validator(
        {**schema, "components": doc["components"]}, format_checker=OAS30Validator.FORMAT_CHECKER
    )


# -- the document -------------------------------------------------------------------------
def test_the_document_is_valid_openapi_3(doc: dict[str, Any]) -> None:
    errors = [
        f"{'/'.join(map(str, e.path))}: {e.message}"
        for e in OpenAPIV30SpecValidator(doc).iter_errors()
    ]
    assert errors == []


def test_the_document_is_public(app: Flask) -> None:
    r = app.test_client().get("/api/v1/openapi.json")
    assert (r.status_code, r.get_json()["openapi"][:2]) == (200, "3.")


def test_every_operation_of_the_contract_is_documented(doc: dict[str, Any]) -> None:
    documented = {(method, re.sub(r"\{[^}]+\}", "{}", path)) for method, path in operations(doc)}
    assert CONTRACT_OPERATIONS - documented == set()


def test_every_documented_path_is_served(app: Flask, doc: dict[str, Any]) -> None:
    served = {
        (method.lower(), re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
    }
    assert set(operations(doc)) - served == set()


def test_every_operation_documents_its_success_response(doc: dict[str, Any]) -> None:
    undocumented = sorted(
        key for key, op in operations(doc).items() if not any(s[0] == "2" for s in op["responses"])
    )
    assert undocumented == []


# -- security -----------------------------------------------------------------------------
def test_bearer_is_the_default_security(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    bearer = [
        name for name, s in schemes.items() if (s["type"], s.get("scheme")) == ("http", "bearer")
    ]
    assert len(bearer) == 1
    assert doc["security"] == [{bearer[0]: []}]


def test_only_the_public_endpoints_opt_out_of_bearer(doc: dict[str, Any]) -> None:
    opted_out = {key for key, op in operations(doc).items() if op.get("security") == []}
    assert opted_out == PUBLIC_OPERATIONS
    overridden = {
        key
        for key, op in operations(doc).items()
        if key not in PUBLIC_OPERATIONS and op.get("security", doc["security"]) != doc["security"]
    }
    assert overridden == set()


def test_every_secured_operation_answers_401_without_a_token(
    app: Flask, doc: dict[str, Any]
) -> None:
    client = app.test_client()
    answers = {}
    for method, path in operations(doc):
        if (method, path) in PUBLIC_OPERATIONS:
            continue
        url = re.sub(r"\{name\}", "visit", re.sub(r"\{[^}]*_id\}", "1", path))
        answers[(method, path)] = client.open(url, method=method.upper(), json={}).status_code
    assert answers and {k: s for k, s in answers.items() if s != 401} == {}


def test_the_token_endpoint_answers_without_a_token(app: Flask) -> None:
    r = app.test_client().post("/api/v1/auth/tokens", json={"username": "nobody", "password": "x"})
    assert (r.status_code, r.get_json()["code"]) == (401, "unauthorized")
    r = app.test_client().post("/api/v1/auth/tokens", json={})
    assert (r.status_code, r.get_json()["code"]) == (422, "invalid_request")


# -- request schemas from the definitions -------------------------------------------------
@pytest.mark.parametrize("workflow", list(PATHS))
def test_the_trigger_enum_lists_the_definitions_triggers(
    doc: dict[str, Any], workflow: str
) -> None:
    schema = request_schema(doc, "post", f"/api/v1/{PATHS[workflow]}/{{instance_id}}/transitions")
    assert schema["required"] == ["trigger"]
    assert sorted(schema["properties"]["trigger"]["enum"]) == sorted(triggers_of(workflow))


@pytest.mark.parametrize("workflow", list(PATHS))
def test_each_trigger_has_a_data_variant_with_its_fields(
    doc: dict[str, Any], workflow: str
) -> None:
    schema = request_schema(doc, "post", f"/api/v1/{PATHS[workflow]}/{{instance_id}}/transitions")
    variants = [resolve(doc, v) for v in data_variants(schema)]
    shapes = [(set(v["properties"]), set(v.get("required", []))) for v in variants]
    transitions = definition(workflow)["transitions"]
    without_variant = [
        t["trigger"] for t in transitions if field_names(t.get("fields", [])) not in shapes
    ]
    assert without_variant == []
    assert len(variants) == len(transitions)


@pytest.mark.parametrize("workflow", list(PATHS))
def test_the_creation_schema_has_the_definitions_creation_fields(
    doc: dict[str, Any], workflow: str
) -> None:
    schema = request_schema(doc, "post", f"/api/v1/{PATHS[workflow]}")
    names, required = field_names(definition(workflow)["create"]["fields"])
    if workflow == "rectification":
        names.add("related")  # the service's own, optional at creation (api-contract.md)
    assert set(schema["properties"]) == names
    assert set(schema.get("required", [])) == required


@pytest.mark.parametrize(
    ("workflow", "trigger"),
    [(w, t) for w in PATHS for t in triggers_of(w)],
)
def test_a_valid_transition_request_validates_against_the_schema(
    doc: dict[str, Any], workflow: str, trigger: str
) -> None:
    schema = request_schema(doc, "post", f"/api/v1/{PATHS[workflow]}/{{instance_id}}/transitions")
    body = {"trigger": trigger, "version": 1, "data": TRANSITION_DATA[trigger]}
    assert [e.message for e in validator(doc, schema).iter_errors(body)] == []


def test_a_bogus_trigger_fails_the_schema(doc: dict[str, Any]) -> None:
    schema = request_schema(doc, "post", "/api/v1/visits/{instance_id}/transitions")
    body = {"trigger": "teleport", "data": {}}
    assert not validator(doc, schema).is_valid(body)


# -- responses ----------------------------------------------------------------------------
def response_validator(doc: dict[str, Any], method: str, path: str, status: str) -> OAS30Validator:
    response = resolve(doc, doc["paths"][path][method]["responses"][status])
    return validator(doc, resolve(doc, response["content"]["application/json"]["schema"]))


@pytest.mark.parametrize("workflow", list(PATHS))
def test_the_history_documents_its_page_envelope(doc: dict[str, Any], workflow: str) -> None:
    responses = doc["paths"][f"/api/v1/{PATHS[workflow]}/{{instance_id}}/history"]["get"][
        "responses"
    ]
    assert "200" in responses
    schema = resolve(doc, resolve(doc, responses["200"])["content"]["application/json"]["schema"])
    assert {"items", "total", "page", "per_page"} <= set(schema["properties"])


def test_visit_responses_match_the_documented_schemas(world: World) -> None:
    doc = world.client.get("/api/v1/openapi.json").get_json()
    created = world.post("/api/v1/visits", "mary", visit_payload(world)).get_json()
    fired = advance(world, "visits", created, ["prepare"], "tom")
    listed = world.get("/api/v1/visits", "mary").get_json()
    got = world.get(f"/api/v1/visits/{created['id']}", "mary").get_json()
    history = world.get(f"/api/v1/visits/{created['id']}/history", "mary").get_json()

    checks = [
        (created, ("post", "/api/v1/visits", "201")),
        (fired, ("post", "/api/v1/visits/{instance_id}/transitions", "200")),
        (listed, ("get", "/api/v1/visits", "200")),
        (got, ("get", "/api/v1/visits/{instance_id}", "200")),
        (history, ("get", "/api/v1/visits/{instance_id}/history", "200")),
    ]
    errors = {
        where: [e.message for e in response_validator(doc, *where).iter_errors(body)]
        for body, where in checks
    }
    assert errors == {where: [] for _, where in checks}
