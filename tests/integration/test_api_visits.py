"""Visits over HTTP: create, read, list with filters and paging, history, transitions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.integration.conftest import Clock, World, advance, create_visit, fire
from tests.integration.test_api_support import ids as ordered_ids
from tests.integration.test_api_support import instant


def ids(response: Any) -> set[int]:
    return set(ordered_ids(response))


def three_visits(world: World) -> dict[str, dict[str, Any]]:
    """A on Nov 5 (mary, tom) with Acme; B on Nov 10 (mary, amy) with Globex; C on Nov 20
    (mike) with Initech."""
    return {
        "A": create_visit(world, planned_at="2026-11-05T10:00:00+08:00"),
        "B": create_visit(
            world,
            planned_at="2026-11-10T10:00:00+08:00",
            visitors=["mary", "amy"],
            customer_id=world.customers["Globex"],
        ),
        "C": create_visit(
            world,
            planned_at="2026-11-20T10:00:00+08:00",
            visitors=["mike"],
            customer_id=world.customers["Initech"],
        ),
    }


# -- create ------------------------------------------------------------------------------
def test_create_answers_201_with_id_initial_state_and_version_1(world: World) -> None:
    r = world.post(
        "/api/v1/visits",
        "mary",
        {
            "customer_id": world.customers["Acme"],
            "planned_at": "2026-11-10T10:00:00+08:00",
            "visitors": ["mary", "tom"],
            "topics": ["needs_research"],
            "place": "Acme HQ",
        },
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert isinstance(body["id"], int)
    assert (body["workflow"], body["state"], body["version"]) == ("visit", "planned", 1)
    assert body["customer_id"] == world.customers["Acme"]
    assert body["visitors"] == ["mary", "tom"]
    assert body["topics"] == ["needs_research"]
    assert instant(body["planned_at"]) == datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    assert body["created_by"] == "mary"


def test_create_sets_location_to_the_new_visit(world: World) -> None:
    r = world.post("/api/v1/visits", "mary", _payload(world))
    assert r.status_code == 201
    location = r.headers["Location"]
    assert location.endswith(f"/api/v1/visits/{r.get_json()['id']}")
    read = world.get(location, "mary")
    assert read.status_code == 200
    assert read.get_json()["id"] == r.get_json()["id"]


def test_create_lists_the_triggers_the_creator_may_fire(world: World) -> None:
    visit = create_visit(world, visitors=["mary", "tom"])
    assert visit["allowed_triggers"] == ["prepare", "cancel", "reschedule"]


def test_allowed_triggers_leave_out_participation_the_creator_lacks(world: World) -> None:
    # mary is not a visitor here: she may cancel or reschedule but not prepare.
    visit = create_visit(world, visitors=["tom"])
    assert visit["allowed_triggers"] == ["cancel", "reschedule"]


def test_allowed_triggers_are_the_readers_own(world: World) -> None:
    visit = create_visit(world, visitors=["mary", "tom"])
    r = world.get(f"/api/v1/visits/{visit['id']}", "tom")
    assert r.get_json()["allowed_triggers"] == ["prepare"]


def test_create_keeps_the_creation_fields_in_data_create(world: World) -> None:
    visit = create_visit(world, purpose="renewal")
    assert visit["data"]["create"]["purpose"] == "renewal"
    assert visit["data"]["create"]["customer_id"] == world.customers["Acme"]
    assert visit["data"]["create"]["visitors"] == ["mary", "tom"]
    assert set(visit["data"]) == {"create"}


def test_create_opens_the_preparation_deadline_at_the_planned_time(world: World) -> None:
    visit = create_visit(world, planned_at="2026-11-10T10:00:00+08:00")
    assert [(d["kind"], d["state"]) for d in visit["deadlines"]] == [("preparation", "planned")]
    assert instant(visit["deadlines"][0]["due_at"]) == datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    assert visit["overdue"] is False


def test_chinese_text_comes_back_as_sent(world: World) -> None:
    visit = create_visit(world, place="上海总部", purpose="了解客户需求")
    read = world.get(f"/api/v1/visits/{visit['id']}", "mary")
    assert read.mimetype == "application/json"
    assert (read.get_json()["place"], read.get_json()["purpose"]) == ("上海总部", "了解客户需求")


def test_marketing_manager_may_create_a_visit(world: World) -> None:
    r = world.post("/api/v1/visits", "mike", _payload(world))
    assert r.status_code == 201
    assert r.get_json()["created_by"] == "mike"


# -- read --------------------------------------------------------------------------------
def test_read_returns_the_representation(world: World) -> None:
    visit = create_visit(world)
    r = world.get(f"/api/v1/visits/{visit['id']}", "boss")
    assert r.status_code == 200
    body = r.get_json()
    for key in ("id", "state", "version", "customer_id", "visitors", "topics", "place", "data"):
        assert body[key] == visit[key], key
    assert {
        "definition_version",
        "allowed_triggers",
        "deadlines",
        "overdue",
        "created_at",
        "updated_at",
        "planned_at",
        "purpose",
    } <= set(body)


# -- list --------------------------------------------------------------------------------
def test_list_answers_the_paging_envelope(world: World) -> None:
    three_visits(world)
    r = world.get("/api/v1/visits", "mary")
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"], body["per_page"]) == (3, 1, 50)
    assert len(body["items"]) == 3


def test_list_pages_through_the_items(world: World) -> None:
    three_visits(world)
    pages = [world.get(f"/api/v1/visits?per_page=2&page={n}", "mary").get_json() for n in (1, 2)]
    assert [len(p["items"]) for p in pages] == [2, 1]
    assert all(p["total"] == 3 and p["per_page"] == 2 for p in pages)
    assert [p["page"] for p in pages] == [1, 2]
    seen = [i["id"] for p in pages for i in p["items"]]
    assert len(set(seen)) == 3


def test_list_clamps_per_page_to_200(world: World) -> None:
    create_visit(world)
    r = world.get("/api/v1/visits?per_page=500", "mary")
    assert r.status_code == 200
    assert r.get_json()["per_page"] == 200


def test_list_filters_by_state(world: World) -> None:
    v = three_visits(world)
    advance(world, "visits", v["A"], ["prepare"], "tom")
    assert ids(world.get("/api/v1/visits?state=prepared", "mary")) == {v["A"]["id"]}
    assert ids(world.get("/api/v1/visits?state=planned", "mary")) == {v["B"]["id"], v["C"]["id"]}


def test_list_filters_by_customer(world: World) -> None:
    v = three_visits(world)
    r = world.get(f"/api/v1/visits?customer_id={world.customers['Globex']}", "mary")
    assert ids(r) == {v["B"]["id"]}


def test_list_filters_by_visitor(world: World) -> None:
    v = three_visits(world)
    assert ids(world.get("/api/v1/visits?visitor=amy", "mary")) == {v["B"]["id"]}
    assert ids(world.get("/api/v1/visits?visitor=mary", "mary")) == {v["A"]["id"], v["B"]["id"]}


def test_list_filters_from_and_to_on_the_planned_time(any_world: World) -> None:
    v = three_visits(any_world)
    r = any_world.get(
        "/api/v1/visits",
        "mary",
        query_string={"from": "2026-11-06T00:00:00+08:00", "to": "2026-11-19T00:00:00+08:00"},
    )
    assert ids(r) == {v["B"]["id"]}


def test_list_from_and_to_include_their_bounds_whatever_the_offset(any_world: World) -> None:
    v = three_visits(any_world)
    # B is planned at 2026-11-10T02:00Z, given here in UTC rather than +08:00.
    at_b = "2026-11-10T02:00:00Z"
    after = ids(any_world.get("/api/v1/visits", "mary", query_string={"from": at_b}))
    before = ids(any_world.get("/api/v1/visits", "mary", query_string={"to": at_b}))
    assert after == {v["B"]["id"], v["C"]["id"]}
    assert before == {v["A"]["id"], v["B"]["id"]}


def test_list_filters_overdue_once_a_deadline_passed(any_world: World, clock: Clock) -> None:
    v = three_visits(any_world)
    clock.advance(days=4)  # Nov 6: A's planned time (its preparation deadline) has passed
    overdue = ids(any_world.get("/api/v1/visits?overdue=true", "mary"))
    on_time = ids(any_world.get("/api/v1/visits?overdue=false", "mary"))
    assert overdue == {v["A"]["id"]}
    assert on_time == {v["B"]["id"], v["C"]["id"]}


def test_nothing_is_overdue_before_any_deadline(world: World) -> None:
    three_visits(world)
    assert ids(world.get("/api/v1/visits?overdue=true", "mary")) == set()
    assert len(ids(world.get("/api/v1/visits?overdue=false", "mary"))) == 3


def test_read_marks_a_visit_overdue_once_its_deadline_passed(world: World, clock: Clock) -> None:
    visit = create_visit(world, planned_at="2026-11-05T10:00:00+08:00")
    clock.advance(days=4)
    r = world.get(f"/api/v1/visits/{visit['id']}", "mary")
    assert r.get_json()["overdue"] is True


def test_a_transition_out_of_the_late_state_clears_overdue(world: World, clock: Clock) -> None:
    visit = create_visit(world, planned_at="2026-11-05T10:00:00+08:00")
    clock.advance(days=4)
    r = fire(world, "visits", visit, "reschedule", "mary")
    assert r.status_code == 200
    assert r.get_json()["overdue"] is False
    assert ids(world.get("/api/v1/visits?overdue=true", "mary")) == set()


# -- history -----------------------------------------------------------------------------
def test_history_starts_with_the_creation_event(world: World) -> None:
    visit = create_visit(world)
    r = world.get(f"/api/v1/visits/{visit['id']}/history", "mary")
    assert r.status_code == 200
    body = r.get_json()
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 50)
    (event,) = body["items"]
    assert set(event) == {"at", "actor", "source", "trigger", "from", "to", "version", "data"}
    assert (event["trigger"], event["from"], event["to"], event["version"]) == (
        None,
        None,
        "planned",
        1,
    )
    assert (event["actor"], event["source"]) == ("mary", "api")
    assert instant(event["at"]) == datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    assert event["data"]["place"] == "Acme HQ"


def test_history_is_oldest_first(world: World, clock: Clock) -> None:
    visit = create_visit(world)
    clock.advance(hours=1)
    advance(world, "visits", visit, ["prepare"], "tom")
    clock.advance(hours=1)
    advance(world, "visits", visit, ["visit"], "mary")
    items = world.get(f"/api/v1/visits/{visit['id']}/history", "mary").get_json()["items"]
    assert [(e["trigger"], e["version"], e["actor"]) for e in items] == [
        (None, 1, "mary"),
        ("prepare", 2, "tom"),
        ("visit", 3, "mary"),
    ]
    times = [instant(e["at"]) for e in items]
    assert times == sorted(times) and len(set(times)) == 3


def test_history_event_holds_the_transition_data(world: World) -> None:
    visit = create_visit(world)
    advance(world, "visits", visit, ["prepare"], "tom")
    items = world.get(f"/api/v1/visits/{visit['id']}/history", "mary").get_json()["items"]
    assert items[1]["data"] == {"customer_background_reviewed": True, "time_place_confirmed": True}
    assert (items[1]["from"], items[1]["to"]) == ("planned", "prepared")


def test_history_pages(world: World) -> None:
    visit = create_visit(world)
    advance(world, "visits", visit, ["prepare", "visit"], "tom")
    body = world.get(f"/api/v1/visits/{visit['id']}/history?per_page=1&page=2", "mary").get_json()
    assert (body["total"], body["page"], body["per_page"]) == (3, 2, 1)
    assert [e["trigger"] for e in body["items"]] == ["prepare"]


# -- transitions -------------------------------------------------------------------------
def test_transition_without_version_answers_the_new_representation(world: World) -> None:
    visit = create_visit(world)
    r = fire(world, "visits", visit, "prepare", "tom")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["id"], body["state"], body["version"]) == (visit["id"], "prepared", 2)
    assert body["data"]["prepare"] == {
        "customer_background_reviewed": True,
        "time_place_confirmed": True,
    }
    assert body["allowed_triggers"] == ["visit"]


def test_transition_with_the_current_version_succeeds(world: World) -> None:
    visit = create_visit(world)
    r = fire(world, "visits", visit, "prepare", "tom", version=1)
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["state"], r.get_json()["version"]) == ("prepared", 2)


def test_transition_moves_updated_at_and_keeps_created_at(world: World, clock: Clock) -> None:
    visit = create_visit(world)
    later = clock.advance(hours=3)
    fire(world, "visits", visit, "prepare", "tom")
    read = world.get(f"/api/v1/visits/{visit['id']}", "tom").get_json()
    assert instant(read["created_at"]) == datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    assert instant(read["updated_at"]) == later


def test_transition_is_persisted(world: World) -> None:
    visit = create_visit(world)
    fired = fire(world, "visits", visit, "prepare", "tom").get_json()
    read = world.get(f"/api/v1/visits/{visit['id']}", "tom").get_json()
    for key in ("state", "version", "data", "allowed_triggers", "overdue"):
        assert read[key] == fired[key], key
    assert [(d["kind"], instant(d["due_at"])) for d in read["deadlines"]] == [
        (d["kind"], instant(d["due_at"])) for d in fired["deadlines"]
    ]


def test_every_transition_adds_one_to_the_version(world: World) -> None:
    visit = create_visit(world)
    visit = advance(world, "visits", visit, ["prepare", "visit", "record"], "tom")
    visit = advance(world, "visits", visit, ["report"], "mary")
    assert (visit["state"], visit["version"]) == ("reported", 5)
    assert visit["allowed_triggers"] == []
    assert visit["deadlines"] == []


def test_rework_sends_the_record_back_and_keeps_the_last_record(world: World) -> None:
    visit = create_visit(world)
    visit = advance(world, "visits", visit, ["prepare", "visit", "record"], "tom")
    visit = advance(world, "visits", visit, ["rework"], "mary")
    assert visit["state"] == "visited"
    second = {**_record_data(), "visit_content": "talked, with details"}
    r = fire(world, "visits", visit, "record", "tom", second)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["state"], body["version"]) == ("recorded", 6)
    assert body["data"]["record"]["visit_content"] == "talked, with details"
    assert body["data"]["rework"] == {"reason": "incomplete"}


def test_reschedule_moves_the_planned_time_and_its_deadline(world: World) -> None:
    visit = create_visit(world)
    r = fire(
        world,
        "visits",
        visit,
        "reschedule",
        "mary",
        {"planned_at": "2026-11-25T15:00:00+08:00", "reason": "customer asked"},
    )
    assert r.status_code == 200, r.get_json()
    read = world.get(f"/api/v1/visits/{visit['id']}", "mary").get_json()
    new_time = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    assert instant(read["planned_at"]) == new_time
    assert [instant(d["due_at"]) for d in read["deadlines"]] == [new_time]
    assert read["data"]["create"]["planned_at"] == "2026-11-10T10:00:00+08:00"


def test_reschedule_from_prepared_goes_back_to_planned(world: World) -> None:
    visit = advance(world, "visits", create_visit(world), ["prepare"], "tom")
    r = fire(world, "visits", visit, "reschedule", "mary")
    assert r.status_code == 200
    assert (r.get_json()["state"], r.get_json()["version"]) == ("planned", 3)


def test_cancel_ends_the_visit(world: World) -> None:
    visit = create_visit(world)
    r = fire(world, "visits", visit, "cancel", "mary")
    assert r.status_code == 200
    body = r.get_json()
    assert (body["state"], body["allowed_triggers"], body["deadlines"]) == ("cancelled", [], [])
    assert body["data"]["cancel"] == {"reason": "customer busy"}


def test_marketing_manager_is_exempt_from_being_a_visitor_to_prepare(world: World) -> None:
    visit = create_visit(world, visitors=["mary", "tom"])
    r = fire(world, "visits", visit, "prepare", "mike")
    assert r.status_code == 200, r.get_json()
    history = world.get(f"/api/v1/visits/{visit['id']}/history", "mary").get_json()["items"]
    assert history[-1]["actor"] == "mike"


# -- helpers -----------------------------------------------------------------------------
def _payload(world: World) -> dict[str, Any]:
    return {
        "customer_id": world.customers["Acme"],
        "planned_at": "2026-11-10T10:00:00+08:00",
        "visitors": ["mary", "tom"],
        "place": "Acme HQ",
    }


def _record_data() -> dict[str, Any]:
    return {
        "visited_at": "2026-11-02T09:00:00+08:00",
        "place": "Acme HQ",
        "visitors": ["mary", "tom"],
        "customer_basics": "growing",
        "visit_content": "talked",
    }
