"""A step sent twice is done once: the offline queue's `client_id`, the API's `Idempotency-Key`."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.integration.conftest import TRANSITION_DATA, Clock, World, create_visit
from tests.integration.web import Browser

KEY = "7f0c2a8e-1b8d-4a51-9c61-2d7d0f1e4b3a"


def keyed(world: World, visit: dict[str, Any], trigger: str, key: str, user: str = "mary") -> Any:
    body = {"trigger": trigger, "data": TRANSITION_DATA[trigger]}
    headers = {**world.auth(user), "Idempotency-Key": key}
    path = f"/api/v1/visits/{visit['id']}/transitions"
    return world.client.post(path, headers=headers, json=body)


def test_a_repeat_answers_the_first_reply_and_changes_nothing(any_world: World) -> None:
    visit = create_visit(any_world)
    first = keyed(any_world, visit, "prepare", KEY)
    assert first.status_code == 200, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    before = any_world.counts()
    again = keyed(any_world, visit, "prepare", KEY)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert any_world.counts() == before
    assert any_world.get(f"/api/v1/visits/{visit['id']}", "mary").get_json()["version"] == 2


def test_twins_sent_at_once_are_done_once(any_world: World) -> None:
    visit = create_visit(any_world)
    start = threading.Barrier(4, timeout=60)

    def send(_: int) -> tuple[int, str | None]:
        client = any_world.app.test_client()
        headers = {**any_world.auth("mary"), "Idempotency-Key": KEY}
        body = {"trigger": "prepare", "data": TRANSITION_DATA["prepare"]}
        start.wait()
        r = client.post(f"/api/v1/visits/{visit['id']}/transitions", headers=headers, json=body)
        return r.status_code, r.headers.get("Idempotent-Replayed")

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(send, range(4)))
    assert [status for status, _ in answers] == [200] * 4
    assert sorted(str(replayed) for _, replayed in answers) == ["None", "true", "true", "true"]
    assert any_world.count("transition_events") == 2  # the creation and one prepare
    assert any_world.count("client_requests") == 1


def test_a_key_used_for_another_step_is_refused_and_nothing_written(world: World) -> None:
    visit = create_visit(world)
    assert keyed(world, visit, "prepare", KEY).status_code == 200
    before = world.counts()
    r = keyed(world, visit, "cancel", KEY)
    assert r.status_code == 422
    assert "Idempotency-Key" not in r.get_json()["errors"]  # the key is fine, its use is not
    assert "client_id" in r.get_json()["errors"]
    assert world.counts() == before
    assert world.get(f"/api/v1/visits/{visit['id']}", "mary").get_json()["state"] == "prepared"


def test_a_malformed_key_is_a_422_naming_the_header(world: World) -> None:
    visit = create_visit(world)
    before = world.counts()
    r = keyed(world, visit, "prepare", "short")
    assert r.status_code == 422
    assert list(r.get_json()["errors"]) == ["Idempotency-Key"]
    assert world.counts() == before


def test_a_refused_step_does_not_use_up_its_key(world: World) -> None:
    visit = create_visit(world, visitors=["tom"])
    assert keyed(world, visit, "prepare", KEY, user="mary").status_code == 403  # not a visitor
    r = keyed(world, visit, "prepare", KEY, user="tom")
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    assert world.count("client_requests") == 1


def test_keys_are_their_senders_own(world: World) -> None:
    mine = create_visit(world, visitors=["mary"])
    theirs = create_visit(world, visitors=["tom"])
    assert keyed(world, mine, "prepare", KEY, user="mary").status_code == 200
    r = keyed(world, theirs, "prepare", KEY, user="tom")  # the same key, another sender
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    assert r.get_json()["state"] == "prepared"


def test_the_step_form_carries_an_id_and_a_resubmission_is_done_once(world: World) -> None:
    visit = create_visit(world)
    mary = Browser(world, "mary")
    page = mary.get(f"/visits/{visit['id']}/fire/prepare").text
    client_id = re.search(r'name="client_id" value="([0-9a-f]{32})"', page)
    assert client_id, "the form has no client_id"
    form = {
        "version": "1",
        "client_id": client_id.group(1),
        "customer_background_reviewed": "y",
        "time_place_confirmed": "y",
    }
    first = mary.post(f"/visits/{visit['id']}/fire/prepare", form)
    assert first.status_code == 302
    before = world.counts()
    again = mary.post(f"/visits/{visit['id']}/fire/prepare", form, follow_redirects=True)
    assert again.status_code == 200
    assert "此前已提交" in again.text  # told it was done already, in Chinese
    assert world.counts() == before


def test_a_tampered_form_id_is_refused(world: World) -> None:
    visit = create_visit(world)
    mary = Browser(world, "mary")
    mary.get(f"/visits/{visit['id']}/fire/prepare")
    before = world.counts()
    form = {"version": "1", "client_id": "<x>", "customer_background_reviewed": "y"}
    r = mary.post(f"/visits/{visit['id']}/fire/prepare", {**form, "time_place_confirmed": "y"})
    assert r.status_code == 422
    assert world.counts() == before


def test_keys_are_forgotten_after_thirty_days(world: World, clock: Clock) -> None:
    from service.usecases import client_requests

    visit = create_visit(world)
    assert keyed(world, visit, "prepare", KEY).status_code == 200
    clock.advance(days=29)
    with world.app.app_context():
        assert client_requests.forget_old() == 0
    clock.advance(days=2)
    with world.app.app_context():
        assert client_requests.forget_old() == 1
    assert world.count("client_requests") == 0
