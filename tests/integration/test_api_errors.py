"""Every error class of the contract, its JSON shape, its order of checks, and that a refused
request writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from service.store.db import db
from service.store.models import ApiToken, User
from service.usecases.accounts import hash_token
from tests.integration.conftest import World, advance, create_visit, fire, visit_payload
from tests.integration.test_api_support import assert_error, raw_post


def transitions(instance: dict[str, Any], path: str = "visits") -> str:
    return f"/api/v1/{path}/{instance['id']}/transitions"


@pytest.fixture
def visit(world: World) -> dict[str, Any]:
    """A planned visit with visitors mary and tom."""
    return create_visit(world)


# -- 401 unauthorized --------------------------------------------------------------------
def test_missing_token_is_401(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = world.client.post(transitions(visit), json={"trigger": "prepare", "data": {}})
    assert_error(r, 401, "unauthorized")
    assert world.counts() == before


def test_bad_token_is_401(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = world.client.post(
        transitions(visit),
        json={"trigger": "prepare", "data": {}},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert_error(r, 401, "unauthorized")
    assert world.counts() == before


def test_revoked_token_is_401(world: World) -> None:
    with world.app.app_context():
        db.session.execute(
            sa.update(ApiToken)
            .where(ApiToken.token_hash == hash_token(world.tokens["mary"]))
            .values(revoked=True)
        )
        db.session.commit()
    before = world.counts()
    assert_error(world.post("/api/v1/visits", "mary", visit_payload(world)), 401, "unauthorized")
    assert world.counts() == before


def test_token_of_a_deactivated_user_is_401(world: World) -> None:
    with world.app.app_context():
        db.session.execute(sa.update(User).where(User.username == "mary").values(active=False))
        db.session.commit()
    before = world.counts()
    assert_error(world.post("/api/v1/visits", "mary", visit_payload(world)), 401, "unauthorized")
    assert world.counts() == before


def test_other_scheme_than_bearer_is_401(world: World) -> None:
    r = world.client.get("/api/v1/visits", headers={"Authorization": "Basic bWFyeTpwdw=="})
    assert_error(r, 401, "unauthorized")


def test_missing_token_on_create_is_401_and_creates_nothing(world: World) -> None:
    before = world.counts()
    r = world.client.post("/api/v1/visits", json=visit_payload(world))
    assert_error(r, 401, "unauthorized")
    assert world.counts() == before


def test_reading_needs_a_token(world: World, visit: dict[str, Any]) -> None:
    paths = [
        "/api/v1/visits",
        f"/api/v1/visits/{visit['id']}",
        f"/api/v1/visits/{visit['id']}/history",
        "/api/v1/issues",
        "/api/v1/rectification-notices",
        "/api/v1/customers",
        "/api/v1/customers/1",
        "/api/v1/departments",
        "/api/v1/definitions",
        "/api/v1/definitions/visit/diagram",
        "/api/v1/inbox",
    ]
    before = world.counts()
    for path in paths:
        assert_error(world.client.get(path), 401, "unauthorized")
    assert world.counts() == before


# -- 413 too_large -----------------------------------------------------------------------
@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 2048}])
def test_body_over_the_limit_is_413(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    body = {"trigger": "prepare", "data": {"notes": "x" * 4000}}
    r = world.post(transitions(visit), "tom", body)
    assert_error(r, 413, "too_large")
    assert world.counts() == before


def test_default_body_limit_is_1_mib(world: World) -> None:
    before = world.counts()
    r = world.post("/api/v1/visits", "mary", visit_payload(world, purpose="x" * 1024 * 1024))
    assert_error(r, 413, "too_large")
    assert world.counts() == before


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 2048}])
def test_creation_over_the_limit_is_413(world: World) -> None:
    before = world.counts()
    r = world.post("/api/v1/visits", "mary", visit_payload(world, purpose="x" * 4000))
    assert_error(r, 413, "too_large")
    assert world.counts() == before


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 2048}])
def test_body_under_the_limit_passes(world: World, visit: dict[str, Any]) -> None:
    r = fire(
        world,
        "visits",
        visit,
        "prepare",
        "tom",
        {"customer_background_reviewed": True, "time_place_confirmed": True, "notes": "x" * 1000},
    )
    assert r.status_code == 200, r.get_json()


# -- 400 bad_request ---------------------------------------------------------------------
def test_malformed_json_on_a_transition_is_400(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = raw_post(world, transitions(visit), '{"trigger": "prepare",', "tom")
    assert_error(r, 400, "bad_request")
    assert world.counts() == before


def test_malformed_json_on_create_is_400(world: World) -> None:
    before = world.counts()
    r = raw_post(world, "/api/v1/visits", "{customer_id: 1}", "mary")
    assert_error(r, 400, "bad_request")
    assert world.counts() == before


def test_body_that_is_not_utf8_is_400(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = raw_post(world, transitions(visit), b'{"trigger": "\xff\xfe"}', "tom")
    assert_error(r, 400, "bad_request")
    assert world.counts() == before


def test_empty_body_on_a_transition_is_400(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = world.client.post(transitions(visit), headers=world.auth("tom"))
    assert_error(r, 400, "bad_request")
    assert world.counts() == before


# -- 404 not_found -----------------------------------------------------------------------
def test_unknown_instance_is_404(world: World) -> None:
    before = world.counts()
    for path in ("visits", "issues", "rectification-notices"):
        for suffix in ("", "/history"):
            assert_error(world.get(f"/api/v1/{path}/9999{suffix}", "mary"), 404, "not_found")
    assert world.counts() == before


def test_transition_on_an_unknown_instance_is_404(world: World) -> None:
    before = world.counts()
    r = world.post("/api/v1/visits/9999/transitions", "mary", {"trigger": "prepare", "data": {}})
    assert_error(r, 404, "not_found")
    assert world.counts() == before


def test_technical_non_visitor_recording_a_visit_is_404(
    world: World, visit: dict[str, Any]
) -> None:
    # ted is technical (a role that may record) but no visitor: the visit does not exist for him.
    visited = advance(world, "visits", visit, ["prepare", "visit"], "tom")
    before = world.counts()
    r = fire(world, "visits", visited, "record", "ted")
    assert_error(r, 404, "not_found")
    assert world.counts() == before


def test_invisible_visit_reads_as_404(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    assert_error(world.get(f"/api/v1/visits/{visit['id']}", "ted"), 404, "not_found")
    assert world.counts() == before


# -- 422 invalid_request -----------------------------------------------------------------
def test_missing_trigger_is_422_invalid_request(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = world.post(transitions(visit), "tom", {"data": {}})
    body = assert_error(r, 422, "invalid_request")
    assert "trigger" in body["errors"]
    assert world.counts() == before


def test_unknown_trigger_is_422_invalid_request(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = fire(world, "visits", visit, "teleport", "tom", {})
    body = assert_error(r, 422, "invalid_request")
    assert "trigger" in body["errors"]
    assert world.counts() == before


def test_trigger_of_another_workflow_is_unknown_here(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = fire(world, "visits", visit, "assign", "mary")
    body = assert_error(r, 422, "invalid_request")
    assert "trigger" in body["errors"]
    assert world.counts() == before


def test_transition_body_that_is_not_an_object_is_422(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = world.post(transitions(visit), "tom", ["prepare"])
    assert_error(r, 422, "invalid_request")
    assert world.counts() == before


def test_non_integer_version_is_422(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = fire(world, "visits", visit, "prepare", "tom", version="1")
    body = assert_error(r, 422, "invalid_request")
    assert "version" in body["errors"]
    assert world.counts() == before


CREATION_ERRORS = [
    pytest.param({"customer_id": 9999}, "customer_id", id="unknown-customer"),
    pytest.param({"visitors": ["mary", "ghost"]}, "visitors", id="unknown-visitor"),
    pytest.param({"planned_at": "2026-11-10T10:00:00"}, "planned_at", id="naive-datetime"),
    pytest.param({"planned_at": "next tuesday"}, "planned_at", id="not-a-datetime"),
    pytest.param({"topics": ["weather"]}, "topics", id="bad-topic"),
    pytest.param({"place": "x" * 201}, "place", id="string-over-200"),
    pytest.param({"purpose": "x" * 20_001}, "purpose", id="text-over-20000"),
    pytest.param({"place": None}, "place", id="missing-required"),
    pytest.param({"visitors": []}, "visitors", id="no-visitors"),
    pytest.param({"colour": "red"}, "colour", id="unknown-field"),
    pytest.param({"visitors": ["mary", "mary"]}, "visitors", id="duplicate-visitor"),
    pytest.param({"customer_id": "1"}, "customer_id", id="customer-id-as-string"),
]


@pytest.mark.parametrize(("override", "field"), CREATION_ERRORS)
def test_bad_creation_field_is_422_invalid_request(
    world: World, override: dict[str, Any], field: str
) -> None:
    before = world.counts()
    payload = visit_payload(world, **override)
    payload = {k: v for k, v in payload.items() if v is not None}
    r = world.post("/api/v1/visits", "mary", payload)
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == [field], body["errors"]
    assert all(isinstance(m, str) for m in body["errors"][field])
    assert world.counts() == before


def test_limits_count_characters_not_bytes(world: World) -> None:
    r = world.post("/api/v1/visits", "mary", visit_payload(world, place="客" * 200))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["place"] == "客" * 200


def test_limits_are_inclusive(world: World) -> None:
    r = world.post(
        "/api/v1/visits", "mary", visit_payload(world, place="x" * 200, purpose="y" * 20_000)
    )
    assert r.status_code == 201, r.get_json()


# -- 409 version_conflict and invalid_transition -----------------------------------------
def test_stale_version_is_409_version_conflict(world: World, visit: dict[str, Any]) -> None:
    advance(world, "visits", visit, ["prepare"], "tom")
    before = world.counts()
    r = fire(world, "visits", visit, "visit", "tom", version=1)
    assert_error(r, 409, "version_conflict")
    assert world.counts() == before
    read = world.get(f"/api/v1/visits/{visit['id']}", "tom").get_json()
    assert (read["state"], read["version"]) == ("prepared", 2)


def test_future_version_is_409_version_conflict(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = fire(world, "visits", visit, "prepare", "tom", version=2)
    assert_error(r, 409, "version_conflict")
    assert world.counts() == before


def test_wrong_state_is_409_invalid_transition_with_callers_allowed(
    world: World, visit: dict[str, Any]
) -> None:
    before = world.counts()
    r = fire(world, "visits", visit, "record", "tom")
    body = assert_error(r, 409, "invalid_transition")
    assert body["errors"]["allowed"] == ["prepare"]
    assert world.counts() == before


def test_invalid_transition_lists_what_marketing_may_fire(
    world: World, visit: dict[str, Any]
) -> None:
    before = world.counts()
    r = fire(world, "visits", visit, "report", "mary")
    body = assert_error(r, 409, "invalid_transition")
    assert body["errors"]["allowed"] == ["prepare", "cancel", "reschedule"]
    assert world.counts() == before


def test_invalid_transition_from_a_final_state_allows_nothing(
    world: World, visit: dict[str, Any]
) -> None:
    advance(world, "visits", visit, ["cancel"], "mary")
    before = world.counts()
    r = fire(world, "visits", visit, "prepare", "mary")
    body = assert_error(r, 409, "invalid_transition")
    assert body["errors"]["allowed"] == []
    assert world.counts() == before


# -- 403 forbidden -----------------------------------------------------------------------
def test_visitor_whose_role_may_not_report_is_403(world: World, visit: dict[str, Any]) -> None:
    recorded = advance(world, "visits", visit, ["prepare", "visit", "record"], "tom")
    before = world.counts()
    r = fire(world, "visits", recorded, "report", "tom")
    assert_error(r, 403, "forbidden")
    assert world.counts() == before


def test_marketing_non_visitor_may_not_record_403(world: World) -> None:
    visited = advance(
        world, "visits", create_visit(world, visitors=["tom"]), ["prepare", "visit"], "tom"
    )
    before = world.counts()
    r = fire(world, "visits", visited, "record", "mike")  # even the manager: no exemption
    assert_error(r, 403, "forbidden")
    assert world.counts() == before


def test_supervision_creating_a_visit_is_403(world: World) -> None:
    before = world.counts()
    r = world.post("/api/v1/visits", "sara", visit_payload(world))
    assert_error(r, 403, "forbidden")
    assert world.counts() == before


def test_technical_creating_a_visit_is_403(world: World) -> None:
    before = world.counts()
    r = world.post("/api/v1/visits", "tom", visit_payload(world))
    assert_error(r, 403, "forbidden")
    assert world.counts() == before


def test_marketing_creating_a_rectification_notice_is_403(world: World) -> None:
    before = world.counts()
    r = world.post(
        "/api/v1/rectification-notices",
        "mary",
        {"department": "technical", "findings": "late", "due_at": "2026-11-20T18:00:00+08:00"},
    )
    assert_error(r, 403, "forbidden")
    assert world.counts() == before


def test_admin_firing_a_business_transition_is_403(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = fire(world, "visits", visit, "cancel", "admin")
    assert_error(r, 403, "forbidden")
    assert world.counts() == before


def test_management_firing_a_visit_transition_is_403(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = fire(world, "visits", visit, "prepare", "boss")
    assert_error(r, 403, "forbidden")
    assert world.counts() == before


# -- 422 invalid_data --------------------------------------------------------------------
def test_record_missing_a_required_field_is_422_invalid_data(
    world: World, visit: dict[str, Any]
) -> None:
    visited = advance(world, "visits", visit, ["prepare", "visit"], "tom")
    data = {
        "visited_at": "2026-11-02T09:00:00+08:00",
        "place": "Acme HQ",
        "visitors": ["mary", "tom"],
        "customer_basics": "growing",
    }
    before = world.counts()
    body = assert_error(fire(world, "visits", visited, "record", "tom", data), 422, "invalid_data")
    assert list(body["errors"]) == ["visit_content"]
    assert world.counts() == before


def test_record_naming_an_unknown_visitor_is_422_invalid_data(
    world: World, visit: dict[str, Any]
) -> None:
    visited = advance(world, "visits", visit, ["prepare", "visit"], "tom")
    data = {
        "visited_at": "2026-11-02T09:00:00+08:00",
        "place": "Acme HQ",
        "visitors": ["tom", "ghost"],
        "customer_basics": "growing",
        "visit_content": "talked",
    }
    before = world.counts()
    body = assert_error(fire(world, "visits", visited, "record", "tom", data), 422, "invalid_data")
    assert list(body["errors"]) == ["visitors"]
    assert world.counts() == before


def test_rating_above_5_is_422_invalid_data(world: World) -> None:
    issue = world.post(
        "/api/v1/issues",
        "mary",
        {
            "customer_id": world.customers["Acme"],
            "title": "slow",
            "description": "d",
            "category": "product",
            "severity": "low",
        },
    ).get_json()
    issue = advance(world, "issues", issue, ["assign"], "mary")
    issue = advance(world, "issues", issue, ["resolve"], "tom")
    before = world.counts()
    r = fire(world, "issues", issue, "confirm", "mary", {"satisfaction": 6})
    body = assert_error(r, 422, "invalid_data")
    assert list(body["errors"]) == ["satisfaction"]
    assert world.counts() == before


def test_reschedule_into_the_past_is_422_invalid_data(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = fire(
        world,
        "visits",
        visit,
        "reschedule",
        "mary",
        {"planned_at": "2026-11-01T10:00:00+08:00", "reason": "oops"},
    )
    body = assert_error(r, 422, "invalid_data")
    assert list(body["errors"]) == ["planned_at"]
    assert world.counts() == before


def test_unticked_checklist_box_is_422_invalid_data(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = fire(
        world,
        "visits",
        visit,
        "prepare",
        "tom",
        {"customer_background_reviewed": True, "time_place_confirmed": False},
    )
    body = assert_error(r, 422, "invalid_data")
    assert list(body["errors"]) == ["time_place_confirmed"]
    assert world.counts() == before


def test_unknown_field_in_transition_data_is_422_invalid_data(
    world: World, visit: dict[str, Any]
) -> None:
    before = world.counts()
    data = {"customer_background_reviewed": True, "time_place_confirmed": True, "mood": "good"}
    body = assert_error(fire(world, "visits", visit, "prepare", "tom", data), 422, "invalid_data")
    assert list(body["errors"]) == ["mood"]
    assert world.counts() == before


def test_refused_transition_leaves_state_version_and_history_alone(
    any_world: World,
) -> None:
    visit = create_visit(any_world)
    before = any_world.counts()
    r = fire(
        any_world,
        "visits",
        visit,
        "prepare",
        "tom",
        {"customer_background_reviewed": False, "time_place_confirmed": True},
    )
    assert_error(r, 422, "invalid_data")
    assert any_world.counts() == before
    read = any_world.get(f"/api/v1/visits/{visit['id']}", "tom").get_json()
    assert (read["state"], read["version"], set(read["data"])) == ("planned", 1, {"create"})
    history = any_world.get(f"/api/v1/visits/{visit['id']}/history", "tom").get_json()
    assert history["total"] == 1


# -- the order of checks -----------------------------------------------------------------
def test_no_token_comes_before_malformed_json(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    assert_error(raw_post(world, transitions(visit), "{not json"), 401, "unauthorized")
    assert world.counts() == before


def test_no_token_comes_before_unknown_instance(world: World) -> None:
    r = world.client.post("/api/v1/visits/9999/transitions", json={"trigger": "prepare"})
    assert_error(r, 401, "unauthorized")


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 2048}])
def test_no_token_comes_before_too_large(world: World, visit: dict[str, Any]) -> None:
    r = world.client.post(transitions(visit), json={"trigger": "prepare", "x": "y" * 4000})
    assert_error(r, 401, "unauthorized")


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 2048}])
def test_too_large_comes_before_malformed_json(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    assert_error(raw_post(world, transitions(visit), "{" * 4000, "tom"), 413, "too_large")
    assert world.counts() == before


def test_malformed_json_comes_before_unknown_instance(world: World) -> None:
    r = raw_post(world, "/api/v1/visits/9999/transitions", "{oops", "mary")
    assert_error(r, 400, "bad_request")


def test_invisible_instance_comes_before_missing_trigger(
    world: World, visit: dict[str, Any]
) -> None:
    before = world.counts()
    assert_error(world.post(transitions(visit), "ted", {"data": {}}), 404, "not_found")
    assert world.counts() == before


def test_unknown_instance_comes_before_unknown_trigger(world: World) -> None:
    r = world.post("/api/v1/visits/9999/transitions", "mary", {"trigger": "teleport"})
    assert_error(r, 404, "not_found")


def test_unknown_trigger_comes_before_stale_version(world: World, visit: dict[str, Any]) -> None:
    advance(world, "visits", visit, ["prepare"], "tom")
    before = world.counts()
    body = assert_error(
        fire(world, "visits", visit, "teleport", "tom", {}, version=1), 422, "invalid_request"
    )
    assert "trigger" in body["errors"]
    assert world.counts() == before


def test_stale_version_comes_before_wrong_state(world: World, visit: dict[str, Any]) -> None:
    advance(world, "visits", visit, ["prepare"], "tom")
    before = world.counts()
    # `report` cannot fire from `prepared` either: the stale version is reported first.
    r = fire(world, "visits", visit, "report", "mary", version=1)
    assert_error(r, 409, "version_conflict")
    assert world.counts() == before


def test_stale_version_comes_before_forbidden(world: World, visit: dict[str, Any]) -> None:
    advance(world, "visits", visit, ["prepare"], "tom")
    before = world.counts()
    assert_error(fire(world, "visits", visit, "visit", "admin", version=1), 409, "version_conflict")
    assert world.counts() == before


def test_wrong_state_comes_before_forbidden(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    body = assert_error(fire(world, "visits", visit, "record", "admin"), 409, "invalid_transition")
    assert body["errors"]["allowed"] == []
    assert world.counts() == before


def test_forbidden_comes_before_invalid_data(world: World, visit: dict[str, Any]) -> None:
    before = world.counts()
    r = fire(world, "visits", visit, "prepare", "boss", {"customer_background_reviewed": "nope"})
    assert_error(r, 403, "forbidden")
    assert world.counts() == before


def test_bad_creation_fields_come_before_forbidden(world: World) -> None:
    before = world.counts()
    r = world.post("/api/v1/visits", "sara", visit_payload(world, topics=["weather"]))
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == ["topics"]
    assert world.counts() == before


def test_unknown_customer_comes_before_forbidden(world: World) -> None:
    before = world.counts()
    r = world.post("/api/v1/visits", "sara", visit_payload(world, customer_id=9999))
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == ["customer_id"]
    assert world.counts() == before
