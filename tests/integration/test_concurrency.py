"""No lost update: requests racing on one instance, on SQLite and on PostgreSQL.

Each thread has its own test client; a barrier releases them together. On PostgreSQL a
second barrier can hold every request just before its optimistic UPDATE, so that all of them
have read the instance before any writes. (SQLite lets one writer in at a time, through
its writer queue and BEGIN IMMEDIATE, before the read: no such interleaving exists there.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from service.store import repository
from service.store.db import db
from tests.integration.conftest import TRANSITION_DATA, World, create_visit, visit_payload

N = 12
BARRIER_TIMEOUT = 60


@dataclass(frozen=True)
class Call:
    user: str
    path: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    user: str
    trigger: str
    status: int
    body: Any


def race(world: World, calls: list[Call]) -> list[Answer]:
    """Fire every call at once, one thread and one test client each."""
    start = threading.Barrier(len(calls), timeout=BARRIER_TIMEOUT)

    def run(call: Call) -> Answer:
        client = world.app.test_client()
        start.wait()
        r = client.post(call.path, headers=world.auth(call.user), json=call.body)
        return Answer(call.user, call.body.get("trigger", ""), r.status_code, r.get_json())

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, c) for c in calls]
        return [f.result() for f in futures]


@pytest.fixture
def all_read_before_any_write(
    any_world: World, monkeypatch: pytest.MonkeyPatch
) -> Callable[[int], None]:
    """Hold every request at its optimistic UPDATE until `n` have arrived (PostgreSQL only).

    All of them have then loaded the instance and passed the engine's checks, inside their
    own transactions, before any of them writes: only the UPDATE's `WHERE version = seen`
    stands between them.
    """
    with any_world.app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite lets one writer in (queue, BEGIN IMMEDIATE) before it reads")

    def arm(n: int) -> None:
        gate = threading.Barrier(n, timeout=BARRIER_TIMEOUT)
        real = repository.update_instance

        def gated(*args: Any, **kwargs: Any) -> bool:
            gate.wait()
            return real(*args, **kwargs)

        monkeypatch.setattr(repository, "update_instance", gated)

    return arm


def transition(visit: dict[str, Any], user: str, trigger: str, **extra: Any) -> Call:
    body = {"trigger": trigger, "data": TRANSITION_DATA[trigger], **extra}
    return Call(user, f"/api/v1/visits/{visit['id']}/transitions", body)


def deadlines_by_status(world: World, visit_id: int) -> dict[str, int]:
    with world.app.app_context():
        rows = db.session.execute(
            sa.text(
                "SELECT status, count(*) FROM deadlines"
                " WHERE workflow = 'visit' AND instance_id = :id GROUP BY status"
            ),
            {"id": visit_id},
        )
        return {status: int(n) for status, n in rows}


def history(world: World, visit_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = world.get(
        f"/api/v1/visits/{visit_id}/history", "mary"
    ).get_json()["items"]
    return items


def only_winner(answers: list[Answer]) -> Answer:
    winners = [a for a in answers if a.status == 200]
    assert len(winners) == 1, [(a.status, a.body) for a in answers]
    return winners[0]


def assert_one_transition_written(
    world: World, visit_id: int, before: dict[str, int], winner: Answer, dest: str
) -> None:
    """The instance moved once: version +1, one event, its deadline closed, one outbox row
    for the transition (and one for the next state's deadline, if it has one), one email."""
    current = world.get(f"/api/v1/visits/{visit_id}", "mary").get_json()
    assert (current["state"], current["version"]) == (dest, 2)
    events = history(world, visit_id)
    assert [(e["trigger"], e["from"], e["to"], e["version"], e["actor"]) for e in events] == [
        (None, None, "planned", 1, "mary"),
        (winner.trigger, "planned", dest, 2, winner.user),
    ]
    after = world.counts()
    assert after["transition_events"] - before["transition_events"] == 1
    opened = 1 if dest == "prepared" else 0  # `prepared` has a deadline, `cancelled` none
    assert deadlines_by_status(world, visit_id) == {"closed": 1, **({"open": 1} if opened else {})}
    assert after["deadlines"] - before["deadlines"] == opened
    # one "transition" message, one "deadline.schedule" per new deadline, and the one email
    # telling the visitors (definitions/visit.yaml: prepare and cancel notify visitors)
    assert after["outbox"] - before["outbox"] == 1 + opened + 1


def test_same_trigger_with_the_same_version_has_one_winner(any_world: World) -> None:
    visit = create_visit(any_world)
    before = any_world.counts()
    users = ["tom", "mary", "mike"]
    calls = [transition(visit, users[i % 3], "prepare", version=1) for i in range(N)]

    answers = race(any_world, calls)

    winner = only_winner(answers)
    assert (winner.body["state"], winner.body["version"]) == ("prepared", 2)
    losers = [(a.status, a.body["code"]) for a in answers if a is not winner]
    # the stale version is checked before the state: every loser reads as a version conflict
    assert losers == [(409, "version_conflict")] * (N - 1)
    assert_one_transition_written(any_world, visit["id"], before, winner, "prepared")


def test_same_trigger_without_version_has_one_winner(any_world: World) -> None:
    visit = create_visit(any_world)
    before = any_world.counts()
    calls = [transition(visit, ("tom", "mary")[i % 2], "prepare") for i in range(N)]

    answers = race(any_world, calls)

    winner = only_winner(answers)
    codes = {(a.status, a.body["code"]) for a in answers if a is not winner}
    assert codes <= {(409, "version_conflict"), (409, "invalid_transition")}
    assert_one_transition_written(any_world, visit["id"], before, winner, "prepared")


def test_requests_that_all_read_before_any_write_lose_to_the_first_update(
    any_world: World, all_read_before_any_write: Callable[[int], None]
) -> None:
    visit = create_visit(any_world)
    before = any_world.counts()
    all_read_before_any_write(N)
    calls = [transition(visit, ("tom", "mary")[i % 2], "prepare") for i in range(N)]

    answers = race(any_world, calls)

    winner = only_winner(answers)
    # none sent a version, all saw version 1 in `planned`: only the optimistic UPDATE stops them
    losers = [(a.status, a.body["code"]) for a in answers if a is not winner]
    assert losers == [(409, "version_conflict")] * (N - 1)
    assert_one_transition_written(any_world, visit["id"], before, winner, "prepared")


def test_cancel_racing_prepare_leaves_the_winners_state(any_world: World) -> None:
    visit = create_visit(any_world)
    before = any_world.counts()
    calls = [
        transition(visit, "mary", "cancel", version=1)
        if i % 2
        else transition(visit, "tom", "prepare", version=1)
        for i in range(N)
    ]

    answers = race(any_world, calls)

    winner = only_winner(answers)
    dest = {"cancel": "cancelled", "prepare": "prepared"}[winner.trigger]
    assert winner.body["state"] == dest
    losers = [(a.status, a.body["code"]) for a in answers if a is not winner]
    assert losers == [(409, "version_conflict")] * (N - 1)
    assert_one_transition_written(any_world, visit["id"], before, winner, dest)


def test_cancel_and_prepare_that_both_read_planned_have_one_winner(
    any_world: World, all_read_before_any_write: Callable[[int], None]
) -> None:
    visit = create_visit(any_world)
    before = any_world.counts()
    all_read_before_any_write(2)

    answers = race(
        any_world, [transition(visit, "mary", "cancel"), transition(visit, "tom", "prepare")]
    )

    winner = only_winner(answers)
    dest = {"cancel": "cancelled", "prepare": "prepared"}[winner.trigger]
    loser = next(a for a in answers if a is not winner)
    assert (loser.status, loser.body["code"]) == (409, "version_conflict")
    assert_one_transition_written(any_world, visit["id"], before, winner, dest)


def test_transitions_on_different_instances_all_succeed(any_world: World) -> None:
    visits = [create_visit(any_world) for _ in range(N)]
    before = any_world.counts()

    answers = race(any_world, [transition(v, "tom", "prepare", version=1) for v in visits])

    assert [(a.status, a.body["state"], a.body["version"]) for a in answers] == [
        (200, "prepared", 2)
    ] * N
    states = [any_world.get(f"/api/v1/visits/{v['id']}", "mary").get_json() for v in visits]
    assert [(s["state"], s["version"]) for s in states] == [("prepared", 2)] * N
    assert any_world.counts()["transition_events"] - before["transition_events"] == N


def test_concurrent_creations_all_succeed_with_distinct_ids(any_world: World) -> None:
    calls = [Call("mary", "/api/v1/visits", visit_payload(any_world)) for _ in range(N)]

    answers = race(any_world, calls)

    assert [a.status for a in answers] == [201] * N, [a.body for a in answers]
    assert len({a.body["id"] for a in answers}) == N
    assert any_world.count("visits") == N
