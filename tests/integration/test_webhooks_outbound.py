"""Outbound webhooks: committed transitions reach subscribers, signed, retried, logged.

A real HTTP server on loopback receives; real RQ jobs (a SimpleWorker in burst mode, in the
test app's context) deliver from the outbox. Retries are scheduled in RQ; the tests move a
scheduled job to its queue when the test clock says it is due.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask

from service.store.redis_conn import get_redis
from tests.integration.conftest import Clock, World, advance, create_visit, fire
from tests.support.webhooks import (
    Receiver,
    receiver,
    run_jobs,
    run_scheduled,
    scheduled,
    signature,
    verifies,
)


@pytest.fixture(autouse=True)
def empty_redis(app: Flask) -> None:
    """The session's Redis is shared: each test starts with no queued or scheduled job."""
    with app.app_context():
        get_redis(app).flushall()


@pytest.fixture
def rx() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def subscribe(world: World, url: str, events: list[str] | None = None) -> tuple[int, str]:
    body: dict[str, Any] = {"url": url}
    if events is not None:
        body["events"] = events
    r = world.post("/api/v1/subscriptions", "admin", body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"], r.get_json()["secret"]


def deliveries(world: World, subscription_id: int) -> list[dict[str, Any]]:
    """Oldest first."""
    r = world.get(f"/api/v1/subscriptions/{subscription_id}/deliveries", "admin")
    assert r.status_code == 200, r.get_json()
    items: list[dict[str, Any]] = r.get_json()["items"]
    return list(reversed(items))


def subscription(world: World, subscription_id: int) -> dict[str, Any]:
    found: dict[str, Any] = world.get(
        f"/api/v1/subscriptions/{subscription_id}", "admin"
    ).get_json()
    return found


def codes(delivery: dict[str, Any]) -> list[int | None]:
    return [a["status_code"] for a in delivery["attempts"]]


# -- delivered ---------------------------------------------------------------------------------
def test_every_committed_transition_reaches_the_subscriber_signed(
    world: World, rx: Receiver
) -> None:
    sub_id, secret = subscribe(world, rx.url)
    visit = create_visit(world)
    advance(world, "visits", visit, ["prepare", "visit"], "tom")
    assert rx.received == []  # nothing is sent by the requests themselves
    run_jobs(world.app)
    events = rx.events()
    assert [e["type"] for e in events] == ["visit.created", "visit.prepare", "visit.visit"]
    prepare = events[1]
    assert prepare["object"] == {"workflow": "visit", "id": visit["id"]}
    assert (prepare["trigger"], prepare["from"], prepare["to"], prepare["version"]) == (
        "prepare",
        "planned",
        "prepared",
        2,
    )
    assert (prepare["actor"], prepare["source"]) == ("tom", "api")
    assert datetime.fromisoformat(prepare["occurred_at"]).tzinfo is not None
    assert len({e["id"] for e in events}) == 3
    for request in rx.received:
        header = request.headers["X-VisitFlow-Signature"]
        assert verifies(secret, header, request.body)
        sent_at = int(header.split(",")[0].removeprefix("t="))
        assert abs(sent_at - time.time()) < 60
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["X-VisitFlow-Event"] == json.loads(request.body)["type"]
    logged = deliveries(world, sub_id)
    assert [d["status"] for d in logged] == ["delivered"] * 3
    assert [codes(d) for d in logged] == [[200]] * 3
    assert all(d["attempts"][0]["error"] is None for d in logged)
    assert all(d["attempts"][0]["duration_ms"] >= 0 for d in logged)


def test_a_forged_copy_does_not_verify_for_the_receiver(world: World, rx: Receiver) -> None:
    _, secret = subscribe(world, rx.url)
    create_visit(world)
    run_jobs(world.app)
    request = rx.received[0]
    header = request.headers["X-VisitFlow-Signature"]
    assert not verifies("whsec_someone-else", header, request.body)
    assert not verifies(secret, header, request.body.replace(b"visit", b"issue"))


def test_webhook_transitions_are_events_too(world: World, rx: Receiver, clock: Clock) -> None:
    subscribe(world, rx.url, ["visit.prepare"])
    secret = world.post(
        "/api/v1/integrations", "admin", {"name": "crm", "grants": ["visit:prepare"]}
    ).get_json()["secret"]
    visit = create_visit(world)
    body = json.dumps(
        {
            "id": "crm-1",
            "object": {"workflow": "visit", "id": visit["id"]},
            "trigger": "prepare",
            "data": {"customer_background_reviewed": True, "time_place_confirmed": True},
        }
    ).encode()
    header = signature(secret, int(clock.now.timestamp()), body)
    r = world.client.post(
        "/webhooks/crm",
        data=body,
        headers={"Content-Type": "application/json", "X-VisitFlow-Signature": header},
    )
    assert r.status_code == 200
    run_jobs(world.app)
    (event,) = rx.events()
    assert (event["actor"], event["source"]) == ("integration:crm", "webhook")


def test_the_filter_chooses_the_events(world: World, rx: Receiver) -> None:
    records, _ = subscribe(world, rx.url, ["visit.record", "*.cancel"])
    issues, _ = subscribe(world, rx.url, ["issue"])
    visit = advance(world, "visits", create_visit(world), ["prepare", "visit", "record"], "tom")
    other = create_visit(world)
    advance(world, "visits", other, ["cancel"], "mary")
    run_jobs(world.app)
    assert [e["type"] for e in rx.events()] == ["visit.record", "visit.cancel"]
    assert rx.events()[0]["object"]["id"] == visit["id"]
    assert len(deliveries(world, records)) == 2
    assert deliveries(world, issues) == []


def test_a_subscription_hears_only_what_is_committed_after_it(world: World, rx: Receiver) -> None:
    visit = create_visit(world)
    subscribe(world, rx.url)
    advance(world, "visits", visit, ["prepare"], "tom")
    run_jobs(world.app)
    assert [e["type"] for e in rx.events()] == ["visit.prepare"]


def test_nobody_subscribed_means_no_job(world: World) -> None:
    create_visit(world, visitors=["mary"])  # its creator: nobody else is told, no email job
    assert run_jobs(world.app) == 0


def test_a_deleted_subscription_hears_nothing_more(world: World, rx: Receiver) -> None:
    sub_id, _ = subscribe(world, rx.url)
    r = world.client.delete(f"/api/v1/subscriptions/{sub_id}", headers=world.auth("admin"))
    assert r.status_code == 204
    create_visit(world)
    run_jobs(world.app)
    assert rx.received == []
    assert world.get(f"/api/v1/subscriptions/{sub_id}", "admin").status_code == 404


# -- failures, retries, backoff ----------------------------------------------------------------
def test_a_receiver_that_fails_then_recovers_gets_the_event_after_backoff(
    world: World, rx: Receiver, clock: Clock
) -> None:
    sub_id, _ = subscribe(world, rx.url)
    rx.respond(500, 503)
    create_visit(world)
    run_jobs(world.app)
    (delivery,) = deliveries(world, sub_id)
    assert (delivery["status"], codes(delivery)) == ("pending", [500])
    assert delivery["attempts"][0]["error"] == "HTTP 500"
    first_retry = datetime.fromisoformat(delivery["next_attempt_at"])
    assert (first_retry - clock.now).total_seconds() == 10
    assert [round(delay) for _, delay in scheduled(world.app)] in ([10], [11])  # whole seconds

    run_scheduled(world.app)  # RQ woke it too early for the clock: it waits
    assert len(rx.received) == 1

    clock.advance(seconds=10)
    run_scheduled(world.app)
    (delivery,) = deliveries(world, sub_id)
    assert (delivery["status"], codes(delivery)) == ("pending", [500, 503])
    second_retry = datetime.fromisoformat(delivery["next_attempt_at"])
    assert (second_retry - clock.now).total_seconds() == 20  # doubled

    clock.advance(seconds=20)
    run_scheduled(world.app)
    (delivery,) = deliveries(world, sub_id)
    assert (delivery["status"], codes(delivery)) == ("delivered", [500, 503, 200])
    assert len({r.event["id"] for r in rx.received}) == 1  # the same event, three times
    assert subscription(world, sub_id)["failures"] == 0
    assert subscription(world, sub_id)["retry_at"] is None


def test_while_backing_off_new_events_wait_and_keep_their_order(
    world: World, rx: Receiver, clock: Clock
) -> None:
    sub_id, _ = subscribe(world, rx.url)
    rx.respond(500)
    visit = create_visit(world)
    run_jobs(world.app)
    advance(world, "visits", visit, ["prepare"], "tom")
    run_jobs(world.app)
    assert len(rx.received) == 1  # the receiver is not hammered while it is down
    clock.advance(seconds=10)
    run_scheduled(world.app)
    assert [r.event["type"] for r in rx.received] == [
        "visit.created",
        "visit.created",
        "visit.prepare",
    ]
    assert [d["status"] for d in deliveries(world, sub_id)] == ["delivered", "delivered"]


def test_a_receiver_that_is_down_does_not_slow_the_transition(world: World) -> None:
    from tests.support.servers import free_port

    sub_id, _ = subscribe(world, f"http://127.0.0.1:{free_port()}/nobody")
    visit = create_visit(world)
    started = time.perf_counter()
    r = fire(world, "visits", visit, "prepare", "tom")
    assert r.status_code == 200
    assert time.perf_counter() - started < 2  # well under the delivery timeout (5 s)
    assert world.count("delivery_attempts") == 0  # a job sends, later
    run_jobs(world.app)
    (delivery, _) = deliveries(world, sub_id)
    attempt = delivery["attempts"][0]
    assert attempt["status_code"] is None
    assert "ConnectionError" in attempt["error"]


class TestSlowReceiver:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WEBHOOK_TIMEOUT": 0.3}

    def test_a_slow_receiver_times_out_and_the_attempt_says_so(
        self, world: World, rx: Receiver
    ) -> None:
        sub_id, _ = subscribe(world, rx.url)
        rx.delay = 1.0
        create_visit(world)
        run_jobs(world.app)
        (delivery,) = deliveries(world, sub_id)
        (attempt,) = delivery["attempts"]
        assert attempt["status_code"] is None and "Timeout" in attempt["error"]
        assert 250 <= attempt["duration_ms"] < 1000
        assert delivery["status"] == "pending"


class TestGivingUp:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WEBHOOK_DISABLE_AFTER": 3, "WEBHOOK_MAX_ATTEMPTS": 5}

    def test_a_subscription_that_keeps_failing_is_disabled_and_admins_told(
        self, world: World, rx: Receiver, clock: Clock
    ) -> None:
        sub_id, _ = subscribe(world, rx.url)
        rx.default = 500
        visit = create_visit(world)
        run_jobs(world.app)
        for seconds in (10, 20):
            clock.advance(seconds=seconds)
            run_scheduled(world.app)
        sub = subscription(world, sub_id)
        assert (sub["active"], sub["failures"]) == (False, 3)
        assert sub["disabled_at"] == clock.now.isoformat()
        notes = world.get("/api/v1/notifications", "admin").get_json()["items"]
        assert [n["kind"] for n in notes] == ["webhook_disabled"]
        assert f"#{sub_id}" in notes[0]["message"] and "HTTP 500" in notes[0]["message"]
        assert world.get("/api/v1/notifications", "mary").get_json()["total"] == 0

        # nothing more is tried, and new events are not queued for it
        clock.advance(hours=2)
        run_scheduled(world.app)
        advance(world, "visits", visit, ["prepare"], "tom")
        run_jobs(world.app)
        assert len(rx.received) == 3
        assert len(deliveries(world, sub_id)) == 1

        # enabled again, its pending delivery goes out at once
        rx.default = 200
        r = world.post(f"/api/v1/subscriptions/{sub_id}/enable", "admin")
        assert (r.status_code, r.get_json()["active"], r.get_json()["failures"]) == (200, True, 0)
        run_jobs(world.app)
        (delivery,) = deliveries(world, sub_id)
        assert (delivery["status"], codes(delivery)) == ("delivered", [500, 500, 500, 200])

    def test_a_delivery_gives_up_after_its_attempts(
        self, world: World, rx: Receiver, clock: Clock
    ) -> None:
        world.app.config.update(WEBHOOK_DISABLE_AFTER=100, WEBHOOK_MAX_ATTEMPTS=2)
        sub_id, _ = subscribe(world, rx.url)
        rx.default = 500
        create_visit(world)
        run_jobs(world.app)
        clock.advance(seconds=10)
        run_scheduled(world.app)
        (delivery,) = deliveries(world, sub_id)
        assert (delivery["status"], codes(delivery)) == ("failed", [500, 500])
        assert delivery["next_attempt_at"] is None
        clock.advance(hours=1)
        run_scheduled(world.app)
        assert len(rx.received) == 2
        assert subscription(world, sub_id)["active"] is True


# -- on request ---------------------------------------------------------------------------------
def test_a_delivery_is_sent_again_on_request(world: World, rx: Receiver) -> None:
    sub_id, _ = subscribe(world, rx.url)
    create_visit(world)
    run_jobs(world.app)
    (delivery,) = deliveries(world, sub_id)
    r = world.post(f"/api/v1/deliveries/{delivery['id']}/redeliver", "admin")
    assert r.status_code == 202
    assert r.get_json()["status"] == "pending"
    run_jobs(world.app)
    first, again = rx.received
    assert first.event == again.event  # the same event id: receivers can tell a repeat
    (delivery,) = deliveries(world, sub_id)
    assert (delivery["status"], codes(delivery)) == ("delivered", [200, 200])
    one = world.get(f"/api/v1/deliveries/{delivery['id']}", "admin").get_json()
    assert one == delivery


def test_redelivery_refusals(world: World, rx: Receiver) -> None:
    sub_id, _ = subscribe(world, rx.url)
    create_visit(world)
    run_jobs(world.app)
    (delivery,) = deliveries(world, sub_id)
    path = f"/api/v1/deliveries/{delivery['id']}/redeliver"
    assert world.post(path, "mary").status_code == 403
    assert world.post("/api/v1/deliveries/999/redeliver", "admin").status_code == 404
    world.client.delete(f"/api/v1/subscriptions/{sub_id}", headers=world.auth("admin"))
    r = world.post(path, "admin")
    assert (r.status_code, r.get_json()["code"]) == (409, "conflict")


def test_a_claim_left_by_a_dead_worker_is_released_by_the_reconciler(
    world: World, rx: Receiver, clock: Clock
) -> None:
    from service.jobs import outbound
    from service.store.db import db
    from service.store.models import Delivery

    sub_id, _ = subscribe(world, rx.url)
    create_visit(world)
    run_jobs(world.app)
    rx.received.clear()
    with world.app.app_context():  # as if a worker leased it again and died mid-send
        db.session.execute(
            Delivery.__table__.update().values(
                status="sending", next_attempt_at=clock.advance(seconds=40)
            )
        )
        db.session.commit()
        assert outbound.repair() == 0  # the lease still runs: no second sender
        clock.advance(minutes=5)
        assert outbound.repair() == 1
    assert len(rx.received) == 1
    (delivery,) = deliveries(world, sub_id)
    assert (delivery["status"], codes(delivery)) == ("delivered", [200, 200])


def test_events_whose_job_redis_lost_are_fanned_out_by_the_reconciler(
    world: World, rx: Receiver, clock: Clock
) -> None:
    from service.jobs import outbound

    sub_id, _ = subscribe(world, rx.url)
    visit = create_visit(world)
    advance(world, "visits", visit, ["prepare"], "tom")
    with world.app.app_context():
        get_redis(world.app).flushall()  # the queued job is gone
        assert outbound.repair() == 0  # too recent: its job may just be waiting
    assert rx.received == []
    clock.advance(minutes=1)
    with world.app.app_context():
        outbound.repair()
    assert [e["type"] for e in rx.events()] == ["visit.created", "visit.prepare"]
    with world.app.app_context():
        outbound.repair()  # each event once
    assert len(rx.received) == 2
    assert [d["status"] for d in deliveries(world, sub_id)] == ["delivered", "delivered"]


def test_events_nobody_hears_are_not_taken_for_lost_ones(
    world: World, rx: Receiver, clock: Clock
) -> None:
    from service.jobs import outbound

    create_visit(world)  # no subscription yet: done with at once
    subscribe(world, rx.url)
    clock.advance(minutes=1)
    with world.app.app_context():
        outbound.repair()
    assert rx.received == []
    assert world.count("deliveries") == 0


# -- the subscriptions API ----------------------------------------------------------------------
def test_an_admin_creates_a_subscription_and_sees_its_secret_once(world: World) -> None:
    r = world.post(
        "/api/v1/subscriptions", "admin", {"url": "https://erp.example/h", "events": ["visit.*"]}
    )
    assert r.status_code == 201
    body = r.get_json()
    assert body["secret"].startswith("whsec_")
    assert (body["url"], body["events"], body["active"]) == (
        "https://erp.example/h",
        ["visit.*"],
        True,
    )
    listed = world.get("/api/v1/subscriptions", "admin").get_json()
    assert listed["total"] == 1 and "secret" not in listed["items"][0]
    assert "secret" not in world.get(f"/api/v1/subscriptions/{body['id']}", "admin").get_json()


def test_the_default_filter_is_every_event(world: World) -> None:
    r = world.post("/api/v1/subscriptions", "admin", {"url": "http://127.0.0.1:9/h"})
    assert r.get_json()["events"] == ["*"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "ftp://x/h"}, "url"),
        ({"url": "not a url"}, "url"),
        ({}, "url"),
        ({"url": "http://x/h", "events": []}, "events"),
        ({"url": "http://x/h", "events": "visit.*"}, "events"),
        ({"url": "http://x/h", "events": ["issue.assigned"]}, "events"),  # the trigger is assign
        ({"url": "http://x/h", "events": ["meeting"]}, "events"),
        ({"url": "http://x/h", "events": ["visit record"]}, "events"),
        ({"url": "http://x/h", "secret": "mine"}, "secret"),
    ],
)
def test_invalid_subscriptions_are_422(world: World, body: dict[str, Any], field: str) -> None:
    r = world.post("/api/v1/subscriptions", "admin", body)
    assert (r.status_code, r.get_json()["code"]) == (422, "invalid_request"), r.get_json()
    assert field in r.get_json()["errors"]
    assert world.count("subscriptions") == 0


@pytest.mark.parametrize("user", ["mary", "boss", "sara", "crm"])
def test_only_admins_manage_subscriptions(world: World, user: str) -> None:
    r = world.post("/api/v1/subscriptions", user, {"url": "http://127.0.0.1:9/h"})
    assert (r.status_code, r.get_json()["code"]) == (403, "forbidden")
    assert world.get("/api/v1/subscriptions", user).status_code == 403
    sub_id, _ = subscribe(world, "http://127.0.0.1:9/h")
    assert world.get(f"/api/v1/subscriptions/{sub_id}/deliveries", user).status_code == 403
    r = world.client.delete(f"/api/v1/subscriptions/{sub_id}", headers=world.auth(user))
    assert r.status_code == 403
    assert world.count("subscriptions") == 1


def test_the_secret_of_a_subscription_is_encrypted_at_rest(world: World) -> None:
    _, secret = subscribe(world, "http://127.0.0.1:9/h")
    with world.app.app_context():
        from service.store.db import db

        stored = db.session.execute(db.text("SELECT secret FROM subscriptions")).scalar()
    assert secret not in stored
