"""Who each creation and transition tells, as the definitions declare: in-app rows and their
email copy in the outbox, in the action's own transaction, never the actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.conftest import World, create_visit, fire
from tests.support.worker import table_rows

Told = tuple[list[tuple[str, str]], list[str]]


def told(world: World, act: Callable[[], Any]) -> Told:
    """(username, kind) of the notifications `act` wrote, and who its emails go to."""
    seen = {n["id"] for n in table_rows(world.app, "notifications")}
    mailed = {o["id"] for o in table_rows(world.app, "outbox", topic="email")}
    act()
    rows = [n for n in table_rows(world.app, "notifications") if n["id"] not in seen]
    emails = [o for o in table_rows(world.app, "outbox", topic="email") if o["id"] not in mailed]
    return (
        sorted((n["username"], n["kind"]) for n in rows),
        sorted(to for o in emails for to in o["payload"]["to"]),
    )


def step(world: World, path: str, item: dict[str, Any], trigger: str, user: str) -> Any:
    def act() -> None:
        r = fire(world, path, item, trigger, user)
        assert r.status_code == 200, (trigger, r.get_json())
        item.update(r.get_json())

    return act


def people(*names: str, kind: str = "transition") -> Told:
    return sorted((n, kind) for n in names), sorted(names)


def test_each_visit_step_tells_the_declared_people(world: World) -> None:
    visit: dict[str, Any] = {}
    created = told(world, lambda: visit.update(create_visit(world)))
    assert created == people("tom", kind="visit_planned")  # the other visitor, not mary
    assert told(world, step(world, "visits", visit, "prepare", "tom")) == people("mary")
    assert told(world, step(world, "visits", visit, "visit", "tom")) == people("mary")
    # the record goes to Marketing, who write the report
    assert told(world, step(world, "visits", visit, "record", "tom")) == people("mary", "mike")
    # the report: the visitors and management
    assert told(world, step(world, "visits", visit, "report", "mike")) == people(
        "boss", "mary", "tom"
    )


def new_issue(world: World) -> dict[str, Any]:
    body = {
        "customer_id": world.customers["Acme"],
        "title": "Spindle noise",
        "description": "The new spindle is loud",
        "category": "product",
        "severity": "high",
    }
    r = world.post("/api/v1/issues", "mary", body)
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def test_each_issue_step_tells_the_declared_people(world: World) -> None:
    issue: dict[str, Any] = {}
    raised = told(world, lambda: issue.update(new_issue(world)))
    assert raised == people("mike", kind="issue_raised")  # Marketing's manager assigns it
    # the assignee (tom, also the technical department's manager: told once)
    assert told(world, step(world, "issues", issue, "assign", "mary")) == people("tom")
    # resolving tells Marketing (mary raised it, mike manages it)
    assert told(world, step(world, "issues", issue, "resolve", "tom")) == people("mary", "mike")
    assert told(world, step(world, "issues", issue, "confirm", "mary")) == people("tom")


def test_each_notice_step_tells_the_declared_people(world: World) -> None:
    notice: dict[str, Any] = {}

    def issue_notice() -> None:
        body = {"department": "technical", "findings": "Records late", "due_at": "2026-11-20"}
        r = world.post("/api/v1/rectification-notices", "sara", body)
        assert r.status_code == 201, r.get_json()
        notice.update(r.get_json())

    assert told(world, issue_notice) == people("ted", "tom", kind="rectification_issued")
    path = "rectification-notices"
    assert told(world, step(world, path, notice, "acknowledge", "tom")) == people("sara")
    # rectifying tells supervision
    assert told(world, step(world, path, notice, "rectify", "tom")) == people("sara")
    assert told(world, step(world, path, notice, "verify", "sara")) == people("boss", "ted", "tom")


def test_a_refused_transition_tells_nobody(world: World) -> None:
    issue = new_issue(world)
    bad = {"responsible_department": "technical", "responsible_person": "tom"}  # no due_at

    def refused() -> None:
        r = fire(world, "issues", issue, "assign", "mary", bad)
        assert r.status_code == 422

    assert told(world, refused) == ([], [])


def test_the_message_is_rendered_in_the_readers_language(world: World) -> None:
    issue = new_issue(world)
    step(world, "issues", issue, "assign", "mary")()

    def message(**headers: str) -> str:
        r = world.client.get("/api/v1/notifications", headers={**world.auth("tom"), **headers})
        assert r.status_code == 200
        [item] = r.get_json()["items"]
        assert set(item) == {"id", "kind", "message", "object", "created_at", "read"}
        assert item["object"] == {"workflow": "issue", "id": issue["id"]}
        return str(item["message"])

    zh = f"客户反馈问题 #{issue['id']}：mary 已列入跟踪台账"
    en = f"Customer issue #{issue['id']}: Assign (enter in tracking ledger) by mary"
    assert message(**{"Accept-Language": "zh-CN,zh;q=0.9"}) == zh
    assert message(**{"Accept-Language": "en-US,en;q=0.8"}) == en
    # naming neither, the API answers in English, as its errors and findings do
    assert message() == en
    assert message(**{"Accept-Language": "fr"}) == en
    [row] = table_rows(world.app, "notifications", username="tom")
    assert row["message"] == "" and row["params"]["trigger"] == "assign"


def test_an_old_row_with_a_plain_message_keeps_showing_it(world: World) -> None:
    from service.store.db import db
    from service.store.models import Notification

    with world.app.app_context():
        db.session.add(Notification(username="tom", kind="reminder", message="old text"))
        db.session.commit()
    [item] = world.get("/api/v1/notifications", "tom").get_json()["items"]
    assert item["message"] == "old text"
