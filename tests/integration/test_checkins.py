"""Check-ins: customer sites, the visit's check-in measured against them, the tier's policy,
the server's time for the visit, check-out, and the compliance clause 4(二)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from tests.integration.conftest import Clock, World, advance, create_visit, fire
from tests.integration.web import Browser

HQ = {"name": "东方电网总部", "latitude": 31.2304, "longitude": 121.4737, "radius_m": 300}


def add_site(world: World, customer: str = "Acme", site: dict[str, Any] | None = None) -> Any:
    return world.post(f"/api/v1/customers/{world.customers[customer]}/sites", "mary", site or HQ)


def check_in(clock: Clock, north_m: float = 0, accuracy: float = 15, skew_s: float = 0) -> dict:
    return {
        "latitude": HQ["latitude"] + north_m / 111_195,  # metres of latitude per degree
        "longitude": HQ["longitude"],
        "accuracy": accuracy,
        "device_time": (clock.now + timedelta(seconds=skew_s)).isoformat(),
    }


def prepared(world: World) -> dict[str, Any]:
    return advance(world, "visits", create_visit(world), ["prepare"], "mary")


def visit(world: World, visit_: dict[str, Any], geo: dict[str, Any] | None, **data: Any) -> Any:
    body = {**data, **({"check_in": geo} if geo is not None else {})}
    return fire(world, "visits", visit_, "visit", "mary", body)


# -- sites ---------------------------------------------------------------------------------
def test_sites_are_added_listed_and_removed(any_world: World) -> None:
    r = add_site(any_world)
    assert r.status_code == 201, r.get_json()
    site = r.get_json()
    assert site["radius_m"] == 300 and len(site["id"]) == 12
    path = f"/api/v1/customers/{any_world.customers['Acme']}/sites"
    assert [s["name"] for s in any_world.get(path, "boss").get_json()] == ["东方电网总部"]
    gone = any_world.client.delete(f"{path}/{site['id']}", headers=any_world.auth("mary"))
    assert gone.status_code == 204
    assert any_world.get(path, "mary").get_json() == []


@pytest.mark.parametrize(
    ("site", "field"),
    [
        ({**HQ, "latitude": 91}, "latitude"),
        ({**HQ, "longitude": "east"}, "longitude"),
        ({**HQ, "radius_m": 5}, "radius_m"),
        ({k: v for k, v in HQ.items() if k != "name"}, "name"),
    ],
)
def test_a_bad_site_is_a_422_naming_the_field_and_nothing_is_written(
    world: World, site: dict[str, Any], field: str
) -> None:
    r = add_site(world, site=site)
    assert r.status_code == 422 and field in r.get_json()["errors"]
    assert world.get(f"/api/v1/customers/{world.customers['Acme']}/sites", "mary").get_json() == []


def test_sites_are_edited_by_marketing_only_and_of_known_customers(world: World) -> None:
    r = world.post(f"/api/v1/customers/{world.customers['Acme']}/sites", "tom", HQ)
    assert r.status_code == 403
    assert world.post("/api/v1/customers/9999/sites", "mary", HQ).status_code == 404
    path = f"/api/v1/customers/{world.customers['Acme']}/sites/nosuchsite"
    assert world.client.delete(path, headers=world.auth("mary")).status_code == 404


def test_a_site_is_added_on_the_customer_page_with_errors_next_to_its_fields(world: World) -> None:
    mary = Browser(world, "mary")
    page = f"/customers/{world.customers['Acme']}"
    mary.get(page)
    bad = mary.post(f"{page}/sites", {"name": "总部", "latitude": "95", "longitude": "121.47"})
    assert bad.status_code == 422 and 'id="site-latitude-error"' in bad.text
    ok = mary.post(f"{page}/sites", {"name": "总部", "latitude": "31.23", "longitude": "121.47"})
    assert ok.status_code == 302
    shown = mary.get(page).text
    assert "总部" in shown and "31.23000, 121.47000" in shown and "300 米" in shown


# -- check-in ------------------------------------------------------------------------------
def test_a_check_in_at_the_site_is_valid_and_the_visit_time_is_the_servers(
    any_world: World, clock: Clock
) -> None:
    add_site(any_world)
    v = prepared(any_world)
    clock.advance(hours=1)
    typed = (clock.now - timedelta(hours=5)).isoformat()  # typed by hand: overridden
    r = visit(any_world, v, check_in(clock, north_m=50), visited_at=typed)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    stored = body["data"]["visit"]
    assert datetime.fromisoformat(stored["visited_at"]) == clock.now
    ci = stored["check_in"]
    assert ci["flags"] == [] and ci["within"] is True and ci["site"] == "东方电网总部"
    assert 45 <= ci["distance_m"] <= 55
    assert datetime.fromisoformat(ci["server_time"]) == clock.now
    assert body["checked_in"] is True and body["checkin_flags"] == []


def test_without_a_check_in_the_visit_time_is_typed_as_before(world: World, clock: Clock) -> None:
    v = prepared(world)
    r = visit(world, v, None, visited_at=(clock.now - timedelta(hours=1)).isoformat())
    assert r.status_code == 200
    assert r.get_json()["checked_in"] is False
    missing = visit(world, prepared(world), None)
    assert missing.status_code == 422 and "visited_at" in missing.get_json()["errors"]


def test_outside_the_radius_is_recorded_and_flagged_by_default(world: World, clock: Clock) -> None:
    add_site(world)
    r = visit(world, prepared(world), check_in(clock, north_m=2_000))
    assert r.status_code == 200
    ci = r.get_json()["data"]["visit"]["check_in"]
    assert ci["flags"] == ["outside_radius"] and ci["within"] is False
    assert 1_990 <= ci["distance_m"] <= 2_010
    assert r.get_json()["checkin_flags"] == ["outside_radius"]


def test_a_tier_that_refuses_says_how_far_and_writes_nothing(app: Flask, clock: Clock) -> None:
    from tests.integration.conftest import build_world

    app.config["POLICY"] = {
        **app.config["POLICY"],
        "check_in_outside_radius": {"core": "refuse", "important": "warn", "general": "warn"},
    }
    world = build_world(app)
    add_site(world)  # Acme is a core customer
    v = prepared(world)
    before = world.counts()
    r = visit(world, v, check_in(clock, north_m=1_500))
    assert r.status_code == 422
    message = " ".join(r.get_json()["errors"]["check_in"])
    assert "1500 m" in message or "1499 m" in message or "1501 m" in message
    assert world.counts() == before
    after = world.get(f"/api/v1/visits/{v['id']}", "mary").get_json()
    assert (after["state"], after["version"]) == ("prepared", v["version"])
    assert visit(world, v, check_in(clock, north_m=100)).status_code == 200  # at the site


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [({"accuracy": 500}, "poor_accuracy"), ({"skew_s": -900}, "clock_skew")],
)
def test_poor_accuracy_and_a_device_clock_off_are_flagged(
    world: World, clock: Clock, kwargs: dict[str, float], flag: str
) -> None:
    add_site(world)
    r = visit(world, prepared(world), check_in(clock, **kwargs))
    assert r.status_code == 200
    assert r.get_json()["checkin_flags"] == [flag]


def test_a_customer_without_sites_is_flagged_never_refused(world: World, clock: Clock) -> None:
    r = visit(world, prepared(world), check_in(clock))
    assert r.status_code == 200
    assert r.get_json()["data"]["visit"]["check_in"]["flags"] == ["no_site"]


@pytest.mark.parametrize(
    ("geo", "field"),
    [
        (
            {"longitude": 121.4, "accuracy": 10, "device_time": "2026-11-02T09:00:00+08:00"},
            "latitude",
        ),
        (
            {
                "latitude": 91,
                "longitude": 121.4,
                "accuracy": 10,
                "device_time": "2026-11-02T09:00:00+08:00",
            },
            "latitude",
        ),
        (
            {
                "latitude": 31.2,
                "longitude": "x",
                "accuracy": 10,
                "device_time": "2026-11-02T09:00:00+08:00",
            },
            "longitude",
        ),
        (
            {
                "latitude": 31.2,
                "longitude": 121.4,
                "accuracy": 0,
                "device_time": "2026-11-02T09:00:00+08:00",
            },
            "accuracy",
        ),
        (
            {
                "latitude": 31.2,
                "longitude": 121.4,
                "accuracy": 10,
                "device_time": "2026-11-02T09:00:00",
            },
            "device_time",
        ),
    ],
)
def test_missing_or_absurd_coordinates_are_refused_and_nothing_written(
    world: World, geo: dict[str, Any], field: str
) -> None:
    v = prepared(world)
    before = world.counts()
    r = visit(world, v, geo)
    assert r.status_code == 422
    assert field in " ".join(r.get_json()["errors"]["check_in"])
    assert world.counts() == before


def test_check_out_is_recorded_and_the_record_deadline_runs_on(world: World, clock: Clock) -> None:
    add_site(world)
    v = visit(world, prepared(world), check_in(clock)).get_json()
    due = [datetime.fromisoformat(d["due_at"]) for d in v["deadlines"]]
    clock.advance(hours=2)
    r = fire(world, "visits", v, "check_out", "mary", {"check_out": check_in(clock, north_m=3_000)})
    assert r.status_code == 200, r.get_json()
    replied = r.get_json()
    out = world.get(f"/api/v1/visits/{v['id']}", "mary").get_json()
    for shown in (replied, out):  # the reply and a later read agree
        assert shown["state"] == "visited"
        assert [datetime.fromisoformat(d["due_at"]) for d in shown["deadlines"]] == due
    assert out["checkin_flags"] == ["outside_radius"]  # the check-out's flag joins the visit's
    assert "record" in out["allowed_triggers"]


def test_a_late_visit_stays_late_through_its_check_out(world: World, clock: Clock) -> None:
    from service.store.db import db
    from service.store.models import Visit

    v = visit(world, prepared(world), check_in(clock)).get_json()
    with world.app.app_context():
        db.session.get(Visit, v["id"]).overdue = True  # its record deadline passed
        db.session.commit()
    r = fire(world, "visits", v, "check_out", "mary", {"check_out": check_in(clock)})
    assert r.status_code == 200 and r.get_json()["overdue"] is True


# -- where the flags show ------------------------------------------------------------------
def test_the_visit_page_and_the_ledger_show_the_check_in(world: World, clock: Clock) -> None:
    add_site(world)
    v = visit(world, prepared(world), check_in(clock, north_m=2_000)).get_json()
    mary = Browser(world, "mary")
    page = mary.get(f"/visits/{v['id']}").text
    assert "东方电网总部" in page and "超出地点范围" in page
    ledger = mary.get("/visits").text
    assert f'id="checkin-flags-{v["id"]}"' in ledger and "签到存疑" in ledger


def test_the_visit_form_offers_the_check_in_button(world: World) -> None:
    v = prepared(world)
    page = Browser(world, "mary").get(f"/visits/{v['id']}/fire/visit").text
    assert 'id="f-check_in"' in page and "获取当前位置签到" in page
    assert 'name="check_in"' in page and "data-geo" in page


def test_compliance_counts_visits_without_a_valid_check_in(world: World, clock: Clock) -> None:
    from service.core import runtime
    from service.reports import compliance
    from service.store.db import db

    add_site(world)
    visit(world, prepared(world), check_in(clock))  # valid
    visit(world, prepared(world), check_in(clock, accuracy=900))  # flagged
    visit(world, prepared(world), None, visited_at=clock.now.isoformat())  # none
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    with world.app.app_context(), db.engine.connect() as conn:
        of = compliance.cases("4(二)", start, end, runtime.quotas(), clock.now)
        assert compliance.count(conn, of) == (3, 2, 0)
        reasons = sorted(r["reason"] for r in conn.execute(of.exceptions()).mappings())
    assert reasons == ["check_in_flagged", "no_check_in"]
