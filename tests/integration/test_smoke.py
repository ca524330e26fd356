"""The service answers with a real database and a real Redis."""

from __future__ import annotations

from tests.integration.conftest import World, advance, create_visit


def test_healthz_reports_database_and_redis(world: World) -> None:
    r = world.client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_visit_lifecycle_on_every_backend(any_world: World) -> None:
    visit = create_visit(any_world)
    assert (visit["state"], visit["version"]) == ("planned", 1)
    visit = advance(any_world, "visits", visit, ["prepare", "visit", "record"], "tom")
    visit = advance(any_world, "visits", visit, ["report"], "mary")
    assert (visit["state"], visit["version"]) == ("reported", 5)
    history = any_world.get(f"/api/v1/visits/{visit['id']}/history", "mary").get_json()
    chain = [(e["from"], e["to"]) for e in history["items"]]
    assert chain == [
        (None, "planned"),
        ("planned", "prepared"),
        ("prepared", "visited"),
        ("visited", "recorded"),
        ("recorded", "reported"),
    ]
