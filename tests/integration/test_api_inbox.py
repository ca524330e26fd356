"""`GET /api/v1/inbox`: what the caller can act on now, soonest deadline first."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import World, advance, create_visit
from tests.integration.test_api_support import assert_error, create_issue, create_notice, instant


def inbox(world: World, user: str, query: str = "") -> dict[str, Any]:
    r = world.get(f"/api/v1/inbox{query}", user)
    assert r.status_code == 200, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


def keys(body: dict[str, Any]) -> list[tuple[str, int]]:
    return [(item["workflow"], item["id"]) for item in body["items"]]


def test_inbox_is_a_paged_list_of_representations(world: World) -> None:
    visit = create_visit(world)
    body = inbox(world, "tom")
    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 50)
    (item,) = body["items"]
    assert (item["workflow"], item["id"], item["state"]) == ("visit", visit["id"], "planned")
    assert item["allowed_triggers"] == ["prepare"]


def test_inbox_orders_by_the_soonest_deadline_across_workflows(world: World) -> None:
    late = create_visit(world, planned_at="2026-11-20T10:00:00+08:00")
    soon = create_visit(world, planned_at="2026-11-04T10:00:00+08:00")
    middle = create_visit(world, planned_at="2026-11-12T10:00:00+08:00")
    issue = create_issue(world, customer_id=world.customers["Acme"])  # due Nov 3, 18:00
    body = inbox(world, "mary")
    assert keys(body) == [
        ("issue", issue["id"]),
        ("visit", soon["id"]),
        ("visit", middle["id"]),
        ("visit", late["id"]),
    ]
    due = [instant(item["deadlines"][0]["due_at"]) for item in body["items"]]
    assert due == sorted(due)


def test_technical_inbox_holds_only_visits_they_are_visitors_of(world: World) -> None:
    mine = create_visit(world, visitors=["mary", "tom"])
    create_visit(world, visitors=["mary", "ted"])
    create_visit(world, visitors=["mary", "amy"])
    assert keys(inbox(world, "tom")) == [("visit", mine["id"])]
    assert inbox(world, "tom")["total"] == 1


def test_inbox_leaves_out_what_the_caller_cannot_fire(world: World) -> None:
    # mary is no visitor here: she may still cancel or reschedule, so it is hers to act on;
    # amy (after-sales, no visitor) cannot even see it.
    visit = create_visit(world, visitors=["tom"])
    assert keys(inbox(world, "mary")) == [("visit", visit["id"])]
    assert inbox(world, "amy")["items"] == []


def test_inbox_follows_the_state(world: World) -> None:
    visit = create_visit(world)
    visit = advance(world, "visits", visit, ["prepare", "visit", "record"], "tom")
    # recorded: only marketing reports or sends it back; the technical visitor is done
    assert inbox(world, "tom")["items"] == []
    assert keys(inbox(world, "mary")) == [("visit", visit["id"])]


def test_finished_instances_leave_the_inbox(world: World) -> None:
    visit = create_visit(world)
    advance(world, "visits", visit, ["cancel"], "mary")
    assert inbox(world, "mary")["total"] == 0
    assert inbox(world, "tom")["total"] == 0


def test_notice_is_in_the_addressed_departments_inbox(world: World) -> None:
    notice = create_notice(world, department="technical")
    assert keys(inbox(world, "ted")) == [("rectification", notice["id"])]
    assert inbox(world, "amy")["items"] == []
    assert inbox(world, "sara")["items"] == []  # supervision waits for the rectification


def test_rectified_notice_is_in_the_supervisions_inbox(world: World) -> None:
    notice = create_notice(world, department="technical")
    advance(world, "rectification-notices", notice, ["acknowledge", "rectify"], "tom")
    assert keys(inbox(world, "sara")) == [("rectification", notice["id"])]
    assert inbox(world, "tom")["items"] == []


def test_assigned_issue_is_in_the_responsible_departments_inbox(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    advance(world, "issues", issue, ["assign"], "mary")
    assert keys(inbox(world, "ted")) == [("issue", issue["id"])]
    assert inbox(world, "mary")["items"] == []


def test_admin_inbox_is_empty(world: World) -> None:
    create_visit(world)
    create_issue(world, customer_id=world.customers["Acme"])
    assert inbox(world, "admin") == {"items": [], "total": 0, "page": 1, "per_page": 50}


def test_inbox_pages(world: World) -> None:
    visits = [
        create_visit(world, planned_at=f"2026-11-{day}T10:00:00+08:00")
        for day in ("18", "04", "11")
    ]
    first, second = visits[1], visits[2]
    page_1 = inbox(world, "mary", "?per_page=1&page=1")
    page_2 = inbox(world, "mary", "?per_page=1&page=2")
    assert keys(page_1) == [("visit", first["id"])]
    assert keys(page_2) == [("visit", second["id"])]
    assert (page_2["total"], page_2["page"], page_2["per_page"]) == (3, 2, 1)


def test_inbox_per_page_is_clamped_to_200(world: World) -> None:
    assert inbox(world, "mary", "?per_page=999")["per_page"] == 200


def test_inbox_needs_a_token(world: World) -> None:
    assert_error(world.client.get("/api/v1/inbox"), 401, "unauthorized")
