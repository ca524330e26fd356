"""`POST /webhooks/{integration}`: signed events fire transitions, exactly once per event id.

Every refusal is checked to write nothing (`world.counts()`, and no used-up event id), and
to leave the id free: the same event, sent again correctly, is accepted.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.integration.conftest import TRANSITION_DATA, Clock, World, advance, create_visit
from tests.support.webhooks import signature

GRANTS = ["visit:prepare", "visit:visit", "visit:record", "visit:report"]
MAPPINGS = {"crm.visit.done": "visit"}


class Hook:
    """An integration as the other system sees it: its name, its secret, the clock."""

    def __init__(self, world: World, clock: Clock, name: str, secret: str) -> None:
        self.world, self.clock, self.name, self.secret = world, clock, name, secret

    def send(
        self,
        event: dict[str, Any] | bytes,
        secret: str | None = None,
        at: int | None = None,
        header: str | None = None,
    ) -> Any:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        at = int(self.clock.now.timestamp()) if at is None else at
        value = signature(secret or self.secret, at, body) if header is None else header
        headers = {"Content-Type": "application/json"}
        if value:
            headers["X-VisitFlow-Signature"] = value
        return self.world.client.post(f"/webhooks/{self.name}", data=body, headers=headers)


def make_integration(
    world: World, name: str = "crm", grants: list[str] | None = None, **extra: Any
) -> str:
    body = {"name": name, "grants": grants or GRANTS, "mappings": MAPPINGS, **extra}
    r = world.post("/api/v1/integrations", "admin", body)
    assert r.status_code == 201, r.get_json()
    secret: str = r.get_json()["secret"]
    return secret


@pytest.fixture
def hook(world: World, clock: Clock) -> Hook:
    return Hook(world, clock, "crm", make_integration(world))


def event(instance: dict[str, Any], trigger: str | None = "prepare", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"evt-{uuid.uuid4().hex}",
        "type": "crm.visit.updated",
        "occurred_at": "2026-11-02T09:00:00+08:00",
        "object": {"workflow": "visit", "id": instance["id"]},
        "trigger": trigger,
        "data": TRANSITION_DATA.get(trigger or "", {}),
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def history(world: World, visit: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = world.get(
        f"/api/v1/visits/{visit['id']}/history", "mary"
    ).get_json()["items"]
    return items


def used_ids(world: World) -> int:
    return world.count("webhook_events")


def refused(r: Any, status: int, code: str) -> None:
    body = r.get_json()
    assert (r.status_code, body["code"]) == (status, code), body
    assert set(body) == {"code", "status", "message", "errors"}
    assert body["status"] == status


# -- accepted ---------------------------------------------------------------------------------
def test_a_signed_event_fires_the_transition_as_the_integration(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    r = hook.send(event(visit, "prepare", version=1))
    assert r.status_code == 200, r.get_json()
    rep = r.get_json()
    assert (rep["id"], rep["state"], rep["version"]) == (visit["id"], "prepared", 2)
    assert rep["allowed_triggers"] == ["visit"]  # what the integration may fire now
    last = history(world, visit)[-1]
    assert (last["actor"], last["source"], last["trigger"]) == (
        "integration:crm",
        "webhook",
        "prepare",
    )
    assert (last["from"], last["to"], last["version"]) == ("planned", "prepared", 2)


def test_the_answer_is_the_representation_the_api_gives(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    rep = hook.send(event(visit, "prepare")).get_json()
    mine = world.get(f"/api/v1/visits/{visit['id']}", "mary").get_json()
    assert comparable(rep) == comparable(mine)


def comparable(rep: dict[str, Any]) -> dict[str, Any]:
    """What every caller sees alike; due times as instants (offsets may differ)."""
    out = {k: v for k, v in rep.items() if k != "allowed_triggers"}
    out["deadlines"] = [
        {**d, "due_at": datetime.fromisoformat(d["due_at"])} for d in rep["deadlines"]
    ]
    return out


def test_participation_rules_do_not_apply_to_an_integration(world: World, hook: Hook) -> None:
    """Only a visitor may record a visit; an integration granted `record` may."""
    visit = advance(world, "visits", create_visit(world), ["prepare", "visit"], "tom")
    r = hook.send(event(visit, "record"))
    assert (r.status_code, r.get_json()["state"]) == (200, "recorded")


def test_a_mapping_turns_an_event_type_into_a_trigger(world: World, hook: Hook) -> None:
    visit = advance(world, "visits", create_visit(world), ["prepare"], "tom")
    r = hook.send(event(visit, None, type="crm.visit.done", data=TRANSITION_DATA["visit"]))
    assert (r.status_code, r.get_json()["state"]) == (200, "visited")
    assert history(world, visit)[-1]["trigger"] == "visit"


def test_an_explicit_trigger_wins_over_the_mapping(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    r = hook.send(event(visit, "prepare", type="crm.visit.done"))
    assert (r.status_code, r.get_json()["state"]) == (200, "prepared")


# -- idempotency ------------------------------------------------------------------------------
def test_a_replayed_event_answers_the_first_response_and_changes_nothing(
    world: World, hook: Hook
) -> None:
    visit = create_visit(world)
    sent = event(visit, "prepare")
    first = hook.send(sent)
    assert first.status_code == 200
    before = world.counts()
    again = hook.send(sent)  # signed anew, as a sender retrying would
    assert (again.status_code, again.data) == (first.status_code, first.data)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert world.counts() == before
    assert len(history(world, visit)) == 2


def test_a_replay_of_a_trigger_valid_again_still_fires_nothing(world: World, hook: Hook) -> None:
    """`reschedule` leads from planned back to planned: the replay could fire again."""
    secret = make_integration(world, "cal", ["visit:reschedule"], mappings={})
    cal = Hook(world, hook.clock, "cal", secret)
    visit = create_visit(world)
    sent = event(visit, "reschedule")
    first = cal.send(sent)
    assert (first.status_code, first.get_json()["state"]) == (200, "planned")
    before = world.counts()
    again = cal.send(sent)
    assert (again.status_code, again.data) == (200, first.data)
    assert world.counts() == before


def test_event_ids_are_per_integration(world: World, hook: Hook) -> None:
    other = Hook(world, hook.clock, "erp", make_integration(world, "erp"))
    visit = create_visit(world)
    assert hook.send(event(visit, "prepare", id="same")).status_code == 200
    r = other.send(event(visit, "visit", id="same"))
    assert (r.status_code, r.get_json()["state"]) == (200, "visited")


@pytest.mark.parametrize("with_version", [False, True])
def test_concurrent_duplicates_make_exactly_one_transition(
    any_world: World, clock: Clock, with_version: bool
) -> None:
    world = any_world
    hook = Hook(world, clock, "crm", make_integration(world))
    visit = create_visit(world)
    sent = event(visit, "prepare", **({"version": 1} if with_version else {}))
    body = json.dumps(sent).encode()
    header = signature(hook.secret, int(clock.now.timestamp()), body)
    gate = threading.Barrier(8)
    answers: list[tuple[int, bytes]] = []

    def deliver() -> None:
        client = world.app.test_client()
        gate.wait()
        r = client.post(
            "/webhooks/crm",
            data=body,
            headers={"Content-Type": "application/json", "X-VisitFlow-Signature": header},
        )
        answers.append((r.status_code, r.data))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {status for status, _ in answers} == {200}
    assert len({data for _, data in answers}) == 1  # every one answers the first response
    assert [e["trigger"] for e in history(world, visit)] == [None, "prepare"]
    assert used_ids(world) == 1


# -- the signature ----------------------------------------------------------------------------
def assert_refused_and_free(
    world: World, hook: Hook, sent: dict[str, Any], r: Any, status: int, code: str
) -> None:
    """Refused with the error shape, nothing written, and the id still free."""
    refused(r, status, code)
    assert used_ids(world) == 0
    again = hook.send(sent)
    assert again.status_code == 200, again.get_json()


def test_a_missing_signature_is_401(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    sent, before = event(visit), world.counts()
    r = hook.send(sent, header="")
    assert world.counts() == before
    assert "missing" in r.get_json()["message"]
    assert_refused_and_free(world, hook, sent, r, 401, "unauthorized")


@pytest.mark.parametrize("header", ["v1=abc", "t=now,v1=abc", "t=1700000000", "garbage"])
def test_a_malformed_signature_header_is_401(world: World, hook: Hook, header: str) -> None:
    visit = create_visit(world)
    sent, before = event(visit), world.counts()
    r = hook.send(sent, header=header)
    assert world.counts() == before
    assert_refused_and_free(world, hook, sent, r, 401, "unauthorized")


def test_a_forged_signature_is_401(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    sent, before = event(visit), world.counts()
    r = hook.send(sent, secret="whsec_not-the-secret")
    assert world.counts() == before
    assert_refused_and_free(world, hook, sent, r, 401, "unauthorized")


def test_a_body_changed_after_signing_is_401(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    sent, before = event(visit), world.counts()
    at = int(hook.clock.now.timestamp())
    header = signature(hook.secret, at, json.dumps(sent).encode())
    tampered = json.dumps({**sent, "trigger": "cancel"}).encode()
    r = hook.send(tampered, header=header)
    assert world.counts() == before
    assert_refused_and_free(world, hook, sent, r, 401, "unauthorized")


def test_an_uppercase_hex_signature_is_accepted(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    body = json.dumps(event(visit)).encode()
    at = int(hook.clock.now.timestamp())
    t, v1 = signature(hook.secret, at, body).split(",")
    assert hook.send(body, header=f"{t},v1={v1[3:].upper()}").status_code == 200


@pytest.mark.parametrize("offset", [-301, 301, -3600, 86400])
def test_a_timestamp_more_than_five_minutes_away_is_401(
    world: World, hook: Hook, offset: int
) -> None:
    visit = create_visit(world)
    sent, before = event(visit), world.counts()
    r = hook.send(sent, at=int(hook.clock.now.timestamp()) + offset)
    assert world.counts() == before
    assert "from now" in r.get_json()["message"]
    assert_refused_and_free(world, hook, sent, r, 401, "unauthorized")


@pytest.mark.parametrize("offset", [-299, 299])
def test_a_timestamp_within_five_minutes_is_accepted(world: World, hook: Hook, offset: int) -> None:
    visit = create_visit(world)
    r = hook.send(event(visit), at=int(hook.clock.now.timestamp()) + offset)
    assert r.status_code == 200


def test_an_unknown_integration_reads_like_a_wrong_signature(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    before = world.counts()
    unknown = Hook(world, hook.clock, "nobody", hook.secret).send(event(visit))
    wrong = hook.send(event(visit), secret="whsec_wrong")
    refused(unknown, 401, "unauthorized")
    assert unknown.get_json() == wrong.get_json()
    assert world.counts() == before


def test_a_deactivated_integration_is_refused(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    assert (
        world.client.delete("/api/v1/integrations/crm", headers=world.auth("admin")).status_code
        == 204
    )
    refused(hook.send(event(visit)), 401, "unauthorized")


def test_during_a_rotation_both_secrets_are_valid_until_the_overlap_ends(
    world: World, hook: Hook, clock: Clock
) -> None:
    visit = create_visit(world)
    old = hook.secret
    r = world.post("/api/v1/integrations/crm/rotate", "admin")
    assert r.status_code == 200
    new = r.get_json()["secret"]
    assert new != old
    assert hook.send(event(visit, "prepare"), secret=old).status_code == 200
    assert hook.send(event(visit, "visit"), secret=new).status_code == 200
    clock.advance(hours=23, minutes=59)
    assert hook.send(event(visit, "record"), secret=old).status_code == 200
    clock.advance(minutes=2)  # 24 hours and a minute after the rotation
    sent, before = event(visit, "report"), world.counts()
    refused(hook.send(sent, secret=old), 401, "unauthorized")
    assert world.counts() == before
    assert hook.send(sent, secret=new).status_code == 200


def test_rotating_twice_drops_the_oldest_secret(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    first = hook.secret
    world.post("/api/v1/integrations/crm/rotate", "admin")
    third = world.post("/api/v1/integrations/crm/rotate", "admin").get_json()["secret"]
    refused(hook.send(event(visit), secret=first), 401, "unauthorized")
    assert hook.send(event(visit), secret=third).status_code == 200


# -- size and shape ---------------------------------------------------------------------------
class TestOversized:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"MAX_CONTENT_LENGTH": 2048}

    def test_a_body_over_the_limit_is_413_and_the_id_stays_free(
        self, world: World, hook: Hook
    ) -> None:
        visit = create_visit(world)
        big = event(visit, "prepare", padding="x" * 4096)
        before = world.counts()
        r = hook.send(big)
        refused(r, 413, "too_large")
        assert world.counts() == before
        assert used_ids(world) == 0
        small = {k: v for k, v in big.items() if k != "padding"}
        assert hook.send(small).status_code == 200

    def test_a_missing_signature_is_checked_before_the_size(self, world: World, hook: Hook) -> None:
        visit = create_visit(world)
        refused(hook.send(event(visit, padding="x" * 4096), header=""), 401, "unauthorized")


def test_malformed_json_is_400(world: World, hook: Hook) -> None:
    before = world.counts()
    refused(hook.send(b'{"id": "e1", "object": '), 400, "bad_request")
    refused(hook.send(b"\xff\xfe not utf-8"), 400, "bad_request")
    assert world.counts() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ([1, 2], "_schema"),
        ({"object": {"workflow": "visit", "id": 1}, "trigger": "prepare"}, "id"),
        ({"id": "", "object": {"workflow": "visit", "id": 1}}, "id"),
        ({"id": "e1", "trigger": "prepare"}, "object"),
        ({"id": "e1", "object": {"workflow": "visit", "id": "1"}}, "object.id"),
        ({"id": "e1", "object": {"id": 1}}, "object.workflow"),
        ({"id": "e1", "object": {"workflow": "visit", "id": 1}, "type": 5}, "type"),
    ],
)
def test_a_malformed_envelope_is_422(world: World, hook: Hook, body: Any, field: str) -> None:
    before = world.counts()
    r = hook.send(json.dumps(body).encode())
    refused(r, 422, "invalid_request")
    assert field in r.get_json()["errors"]
    assert world.counts() == before


# -- the API's errors, in the API's order -----------------------------------------------------
def test_an_unknown_instance_is_404(world: World, hook: Hook) -> None:
    sent = event({"id": 9999}, "prepare")
    refused(hook.send(sent), 404, "not_found")
    refused(hook.send({**sent, "object": {"workflow": "bogus", "id": 1}}), 404, "not_found")


def test_an_instance_of_an_ungranted_workflow_is_invisible(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    issue = world.post(
        "/api/v1/issues",
        "mary",
        {
            "visit_id": visit["id"],
            "title": "slow",
            "description": "slow delivery",
            "category": "product",
            "severity": "low",
        },
    ).get_json()
    sent = {**event(visit, "assign"), "object": {"workflow": "issue", "id": issue["id"]}}
    refused(hook.send(sent), 404, "not_found")


def test_a_missing_trigger_with_an_unmapped_type_is_422(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    sent, before = event(visit, None, type="crm.something.else"), world.counts()
    r = hook.send(sent)
    refused(r, 422, "invalid_request")
    assert "trigger" in r.get_json()["errors"]
    assert "crm.something.else" in r.get_json()["errors"]["trigger"][0]
    assert world.counts() == before


def test_an_unknown_trigger_is_422(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    before = world.counts()
    refused(hook.send(event(visit, "explode")), 422, "invalid_request")
    assert world.counts() == before


def test_out_of_order_events_conflict_and_can_be_sent_again(world: World, hook: Hook) -> None:
    """The second event arrives first: 409, its id unused; after the first, it is accepted."""
    visit = create_visit(world)
    first = event(visit, "prepare", version=1)
    second = event(visit, "visit", version=2)
    before = world.counts()
    r = hook.send(second)
    refused(r, 409, "version_conflict")
    assert world.counts() == before and used_ids(world) == 0
    assert hook.send(first).status_code == 200
    r = hook.send(second)
    assert (r.status_code, r.get_json()["state"], r.get_json()["version"]) == (200, "visited", 3)


def test_a_stale_version_is_409_and_writes_nothing(world: World, hook: Hook) -> None:
    visit = advance(world, "visits", create_visit(world), ["prepare"], "tom")
    before = world.counts()
    refused(hook.send(event(visit, "visit", version=1)), 409, "version_conflict")
    assert world.counts() == before


def test_a_trigger_not_allowed_in_this_state_is_409(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    before = world.counts()
    r = hook.send(event(visit, "record"))
    refused(r, 409, "invalid_transition")
    assert r.get_json()["errors"]["allowed"] == ["prepare"]
    assert world.counts() == before


def test_an_ungranted_trigger_is_403_and_the_id_stays_free(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    sent, before = event(visit, "cancel"), world.counts()
    refused(hook.send(sent), 403, "forbidden")
    assert world.counts() == before and used_ids(world) == 0
    world.client.delete("/api/v1/integrations/crm", headers=world.auth("admin"))
    granted = make_integration(world, "crm2", [*GRANTS, "visit:cancel"])
    r = Hook(world, hook.clock, "crm2", granted).send(sent)
    assert (r.status_code, r.get_json()["state"]) == (200, "cancelled")


def test_invalid_transition_data_is_422(world: World, hook: Hook) -> None:
    visit = create_visit(world)
    before = world.counts()
    r = hook.send(event(visit, "prepare", data={"customer_background_reviewed": "yes?"}))
    refused(r, 422, "invalid_data")
    assert world.counts() == before


def test_the_tolerance_is_configurable(world: World, hook: Hook) -> None:
    world.app.config["WEBHOOK_TOLERANCE_SECONDS"] = 10
    visit = create_visit(world)
    refused(hook.send(event(visit), at=int(hook.clock.now.timestamp()) - 11), 401, "unauthorized")
    assert hook.send(event(visit), at=int(hook.clock.now.timestamp()) - 9).status_code == 200


def test_the_overlap_is_configurable(world: World, hook: Hook, clock: Clock) -> None:
    world.app.config["WEBHOOK_SECRET_OVERLAP_HOURS"] = 1
    visit = create_visit(world)
    old = hook.secret
    world.post("/api/v1/integrations/crm/rotate", "admin")
    clock.advance(minutes=61)
    refused(hook.send(event(visit), secret=old), 401, "unauthorized")
