"""Each user's visits as an iCalendar feed, at a URL that carries its own token."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar

from tests.integration.conftest import World, create_visit, fire


def feed_path(world: World, user: str) -> str:
    r = world.get("/api/v1/calendar-feed", user)
    assert r.status_code == 200
    url: str = r.get_json()["url"]
    assert url.startswith("http://localhost/calendar/") and url.endswith(".ics")
    return url.removeprefix("http://localhost")


def events(world: World, path: str) -> dict[str, object]:
    r = world.client.get(path)  # no bearer token: the URL is the credential
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    calendar = Calendar.from_ical(r.data)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_a_visitors_feed_lists_their_visits_with_time_place_and_customer(world: World) -> None:
    mine = create_visit(world, visitors=["mary", "tom"], place="Acme HQ")
    create_visit(world, visitors=["mary"])  # tom is not a visitor of this one
    found = events(world, feed_path(world, "tom"))
    assert list(found) == [f"visit-{mine['id']}@visitflow"]
    event = found[f"visit-{mine['id']}@visitflow"]
    assert event["dtstart"].dt == datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    assert str(event["location"]) == "Acme HQ"
    assert "Acme" in str(event["summary"])


def test_a_cancelled_visit_stays_in_the_feed_marked_cancelled(world: World) -> None:
    visit = create_visit(world, visitors=["tom"])
    assert fire(world, "visits", visit, "cancel", "mary").status_code == 200
    event = events(world, feed_path(world, "tom"))[f"visit-{visit['id']}@visitflow"]
    assert str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == 2


def test_a_forged_feed_token_is_404(world: World) -> None:
    path = feed_path(world, "tom")
    r = world.client.get(path.replace("/calendar/", "/calendar/x"))
    assert r.status_code == 404
    assert r.get_json()["code"] == "not_found"


def test_the_feed_url_needs_a_bearer_token(world: World) -> None:
    r = world.client.get("/api/v1/calendar-feed")
    assert r.status_code == 401
