"""`POST /api/v1/plans`: the annual visit plan, dry run and applied."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from tests.integration.conftest import World, create_visit

PLAN = "/api/v1/plans"


def test_a_dry_run_proposes_the_missing_visits_and_writes_nothing(world: World) -> None:
    create_visit(world)  # Acme (core) already has one visit this year
    before = world.counts()
    r = world.post(PLAN, "mike", {"year": 2026, "dry_run": True})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert world.counts() == before
    per_customer = Counter(v["customer_id"] for v in body["visits"])
    assert per_customer == {
        world.customers["Acme"]: 3,  # 10 working days apart, around the one on 10 November
        world.customers["Globex"]: 5,
        world.customers["Initech"]: 2,
    }
    assert body["summary"]["core"]["existing"] == 1
    assert body["summary"]["core"]["proposed"] == 3
    [acme] = [s for s in body["shortfalls"] if s["customer_id"] == world.customers["Acme"]]
    assert (acme["wanted"], acme["planned"], acme["not_placed"]) == (11, 3, 8)
    assert [r["reason"] for r in acme["reasons"]] == ["gap"]
    assert body["calendar"]["source"] == "official" and body["min_gap_working_days"] == 10
    assert body["clashes"] == []
    assert body["from"] == "2026-11-03"  # the clock says 2 November: from tomorrow on
    for v in body["visits"]:
        planned = datetime.fromisoformat(v["planned_at"])
        assert planned.date().isoformat() >= "2026-11-03" and planned.year == 2026
        assert v["visitors"][0] == "mary" and v["visitors"][1] in {"tom", "ted", "amy"}


def test_applying_creates_exactly_the_proposed_visits_in_one_go(any_world: World) -> None:
    world = any_world
    dry = world.post(PLAN, "mike", {"year": 2026, "from": "2026-12-01"}).get_json()
    before = world.counts()
    r = world.post(PLAN, "mike", {"year": 2026, "from": "2026-12-01", "dry_run": False})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["visits"] == dry["visits"]
    assert len(body["created"]) == len(dry["visits"]) == 8
    assert world.count("visits") == before["visits"] + 8
    listed = world.get("/api/v1/visits?per_page=100", "mike").get_json()["items"]
    created = {v["id"]: v for v in listed if v["id"] in set(body["created"])}
    assert len(created) == 8
    assert all(v["state"] == "planned" and v["created_by"] == "mike" for v in created.values())
    history = world.get(f"/api/v1/visits/{body['created'][0]}/history", "mike").get_json()
    assert history["items"][0]["source"] == "api"
    again = world.post(PLAN, "mike", {"year": 2026, "from": "2026-12-01"}).get_json()
    assert again["visits"] == []  # the quotas are met now


def test_clashes_in_existing_bookings_are_reported(world: World) -> None:
    create_visit(world, planned_at="2026-11-10T09:00:00+08:00", visitors=["mary", "tom"])
    create_visit(world, planned_at="2026-11-10T11:00:00+08:00", visitors=["tom"])
    body = world.post(PLAN, "mike", {"year": 2026}).get_json()
    assert [(c["username"], c["date"], c["half_day"]) for c in body["clashes"]] == [
        ("tom", "2026-11-10", "am")
    ]


@pytest.mark.parametrize("user", ["mary", "tom", "boss", "sara", "admin", "crm"])
def test_only_a_marketing_manager_may_plan(world: World, user: str) -> None:
    before = world.counts()
    r = world.post(PLAN, user, {"year": 2026, "dry_run": False})
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    assert world.counts() == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"year": "2026"},
        {"year": 2025},
        {"year": 2026, "from": "2027-01-05"},
        {"year": 2026, "from": "2026-10-01"},
        {"year": 2026, "from": "not a date"},
        {"year": 2026, "visitors_per_visit": 0},
        {"year": 2026, "dry_run": "maybe"},
        {"year": 2026, "extra": 1},
        [2026],
    ],
)
def test_bad_input_is_422_and_writes_nothing(world: World, body: object) -> None:
    before = world.counts()
    r = world.post(PLAN, "mike", body)
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["code"] == "invalid_request"
    assert world.counts() == before
