"""Integrations, managed by admins through the API and the CLI; secrets encrypted at rest."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from service.store.db import db
from tests.integration.conftest import Clock, World, create_visit
from tests.support.webhooks import signature

GRANTS = ["visit:prepare", "visit:visit"]


def create(world: World, user: str = "admin", **body: Any) -> Any:
    payload = {"name": "crm", "grants": GRANTS, **body}
    return world.post("/api/v1/integrations", user, payload)


def webhook(world: World, clock: Clock, name: str, secret: str, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    header = signature(secret, int(clock.now.timestamp()), raw)
    return world.client.post(
        f"/webhooks/{name}",
        data=raw,
        headers={"Content-Type": "application/json", "X-VisitFlow-Signature": header},
    )


def prepare_event(visit: dict[str, Any], event_id: str = "e1") -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "crm.visit.prepared",
        "object": {"workflow": "visit", "id": visit["id"]},
        "trigger": "prepare",
        "data": {"customer_background_reviewed": True, "time_place_confirmed": True},
    }


def test_an_admin_creates_an_integration_and_sees_its_secret_once(world: World) -> None:
    r = create(world, mappings={"crm.visit.prepared": "prepare"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["name"] == "crm" and body["grants"] == GRANTS and body["active"] is True
    assert body["mappings"] == {"crm.visit.prepared": "prepare"}
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    shown = world.get("/api/v1/integrations/crm", "admin").get_json()
    assert "secret" not in shown
    listed = world.get("/api/v1/integrations", "admin").get_json()
    assert listed["total"] == 1 and "secret" not in listed["items"][0]


def test_the_secret_is_encrypted_at_rest(world: World, clock: Clock) -> None:
    secret = create(world).get_json()["secret"]
    with world.app.app_context():
        stored = db.session.execute(sa.text("SELECT secret FROM integrations")).scalar()
    assert secret not in stored and secret.encode().hex() not in stored
    visit = create_visit(world)
    assert webhook(world, clock, "crm", secret, prepare_event(visit)).status_code == 200


@pytest.mark.parametrize("user", ["mary", "boss", "sara", "crm"])
def test_only_admins_manage_integrations(world: World, user: str) -> None:
    before = world.count("integrations")
    for r in (
        create(world, user),
        world.get("/api/v1/integrations", user),
    ):
        assert (r.status_code, r.get_json()["code"]) == (403, "forbidden")
    assert world.count("integrations") == before
    create(world)
    assert world.post("/api/v1/integrations/crm/rotate", user).status_code == 403
    assert world.get("/api/v1/integrations/crm", user).status_code == 403


def test_without_a_token_it_is_401(world: World) -> None:
    r = world.client.post("/api/v1/integrations", json={"name": "x", "grants": GRANTS})
    assert (r.status_code, r.get_json()["code"]) == (401, "unauthorized")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"grants": ["visit:explode"]}, "grants"),
        ({"grants": ["meeting:prepare"]}, "grants"),
        ({"grants": ["visit"]}, "grants"),
        ({"grants": []}, "grants"),
        ({"grants": "visit:prepare"}, "grants"),
        ({"name": "has space"}, "name"),
        ({"name": ""}, "name"),
        ({"mappings": {"crm.done": "report"}}, "mappings"),  # not granted
        ({"mappings": ["crm.done"]}, "mappings"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_invalid_fields_are_422_and_nothing_is_written(
    world: World, body: dict[str, Any], field: str
) -> None:
    r = create(world, **body)
    assert (r.status_code, r.get_json()["code"]) == (422, "invalid_request"), r.get_json()
    assert field in r.get_json()["errors"]
    assert world.count("integrations") == 0


def test_a_taken_name_is_409(world: World) -> None:
    create(world)
    r = create(world)
    assert (r.status_code, r.get_json()["code"]) == (409, "conflict")
    assert world.count("integrations") == 1


def test_unknown_integrations_are_404(world: World) -> None:
    assert world.get("/api/v1/integrations/nope", "admin").status_code == 404
    assert world.post("/api/v1/integrations/nope/rotate", "admin").status_code == 404
    r = world.client.delete("/api/v1/integrations/nope", headers=world.auth("admin"))
    assert r.status_code == 404


def test_rotation_returns_a_new_secret_and_the_end_of_the_overlap(
    world: World, clock: Clock
) -> None:
    old = create(world).get_json()["secret"]
    r = world.post("/api/v1/integrations/crm/rotate", "admin")
    assert r.status_code == 200
    body = r.get_json()
    assert body["secret"] != old
    assert body["rotated_at"] == clock.now.isoformat()
    assert body["previous_secret_valid_until"] == clock.advance(hours=24).isoformat()


def test_deleting_deactivates(world: World) -> None:
    create(world)
    r = world.client.delete("/api/v1/integrations/crm", headers=world.auth("admin"))
    assert r.status_code == 204
    assert world.get("/api/v1/integrations/crm", "admin").get_json()["active"] is False


# -- the CLI ---------------------------------------------------------------------------------
def test_the_cli_creates_an_integration_and_prints_its_secret_last(
    world: World, clock: Clock
) -> None:
    runner = world.app.test_cli_runner()
    result = runner.invoke(
        args=[
            "integrations",
            "create",
            "erp",
            "--grant",
            "visit:prepare",
            "--grant",
            "visit:visit",
            "--map",
            "erp.ready=prepare",
        ]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    shown = world.get("/api/v1/integrations/erp", "admin").get_json()
    assert shown["grants"] == ["visit:prepare", "visit:visit"]
    assert shown["mappings"] == {"erp.ready": "prepare"}
    visit = create_visit(world)
    event = {**prepare_event(visit), "type": "erp.ready"}
    del event["trigger"]
    assert webhook(world, clock, "erp", secret, event).status_code == 200


def test_the_cli_rotates_and_both_secrets_work_during_the_overlap(
    world: World, clock: Clock
) -> None:
    runner = world.app.test_cli_runner()
    created = runner.invoke(args=["integrations", "create", "erp", "--grant", "visit:prepare"])
    old = created.output.strip().splitlines()[-1]
    rotated = runner.invoke(args=["integrations", "rotate", "erp"])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.output.strip().splitlines()[-1]
    assert new != old
    first, second = create_visit(world), create_visit(world)
    assert webhook(world, clock, "erp", old, prepare_event(first, "a")).status_code == 200
    assert webhook(world, clock, "erp", new, prepare_event(second, "b")).status_code == 200


def test_the_cli_refuses_bad_grants_with_the_reason(world: World) -> None:
    result = world.app.test_cli_runner().invoke(
        args=["integrations", "create", "erp", "--grant", "visit:explode"]
    )
    assert result.exit_code != 0
    assert "visit has no trigger 'explode'" in result.output
    assert world.count("integrations") == 0


def test_the_cli_lists_integrations(world: World) -> None:
    create(world)
    result = world.app.test_cli_runner().invoke(args=["integrations", "list"])
    assert result.output.split() == ["crm", "active", *GRANTS]


def test_reencrypt_keeps_secrets_working_after_secret_key_rotation(
    world: World, clock: Clock
) -> None:
    secret = create(world).get_json()["secret"]
    app = world.app
    old_key = app.config["SECRET_KEY"]
    app.config.update(SECRET_KEY="a-brand-new-key", SECRET_KEY_FALLBACKS=[old_key])
    result = app.test_cli_runner().invoke(args=["integrations", "reencrypt"])
    assert result.exit_code == 0, result.output
    app.config["SECRET_KEY_FALLBACKS"] = []
    visit = create_visit(world)
    assert webhook(world, clock, "crm", secret, prepare_event(visit)).status_code == 200
