"""Feedback meetings assign a visit's issues through the issue workflow's `assign`
transition; half-yearly evaluations keep a snapshot of the period's KPIs."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.conftest import World, create_visit
from tests.integration.test_api_support import assert_error, create_issue

TABLES = ("feedback_meetings", "feedback_meeting_issues", "evaluations")


def counts(world: World) -> dict[str, int]:
    return {**world.counts(), **{t: world.count(t) for t in TABLES}}


@pytest.fixture
def visit(world: World) -> dict[str, Any]:
    return create_visit(world, customer_id=world.customers["Globex"])


def assignment(issue: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {
        "issue_id": issue["id"],
        "responsible_department": "technical",
        "responsible_person": "tom",
        "due_at": "2026-11-20",
        **over,
    }


def meeting(visit: dict[str, Any], *assignments: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {
        "held_at": "2026-11-12T15:00:00+08:00",
        "visit_id": visit["id"],
        "place": "Room 3",
        "attendees": ["mary", "mike", "tom"],
        "decisions": "Fix exports first; train the customer's staff",
        "assignments": list(assignments),
        **over,
    }


def test_a_meeting_assigns_its_issues(world: World, visit: dict[str, Any]) -> None:
    first = create_issue(world, visit_id=visit["id"])
    second = create_issue(world, visit_id=visit["id"], title="Manual out of date")
    body = meeting(
        visit,
        assignment(first, version=first["version"]),
        assignment(second, responsible_department="after_sales", responsible_person="amy"),
    )
    r = world.post("/api/v1/feedback-meetings", "mary", body)
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["issue_ids"] == sorted([first["id"], second["id"]])
    assert [a["status"] for a in created["assignments"]] == [200, 200]
    assert (created["created_by"], created["attendees"]) == ("mary", ["mary", "mike", "tom"])

    issue = world.get(f"/api/v1/issues/{second['id']}", "mary").get_json()
    assert issue["state"] == "assigned"
    assert issue["responsible_department"] == "after_sales"
    assert issue["responsible_person"] == "amy"
    history = world.get(f"/api/v1/issues/{second['id']}/history", "mary").get_json()
    events = history["items"] if isinstance(history, dict) else history
    last = events[-1]
    assert (last["trigger"], last["to"], last["actor"], last["source"]) == (
        "assign",
        "assigned",
        "mary",
        "api",
    )

    one = world.get(f"/api/v1/feedback-meetings/{created['id']}", "tom")
    assert one.status_code == 200
    assert one.get_json()["issue_ids"] == [first["id"]]  # tom may not see after-sales' issue
    listed = world.get(f"/api/v1/feedback-meetings?visit_id={visit['id']}", "boss").get_json()
    assert [m["id"] for m in listed["items"]] == [created["id"]]


def test_a_meeting_without_assignments(world: World) -> None:
    body = {
        "held_at": "2026-11-12T15:00:00+08:00",
        "attendees": ["mike"],
        "decisions": "nothing to assign",
    }
    r = world.post("/api/v1/feedback-meetings", "mike", body)
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["visit_id"], r.get_json()["issue_ids"]) == (None, [])


def test_a_refused_assignment_refuses_the_meeting(world: World, visit: dict[str, Any]) -> None:
    good = create_issue(world, visit_id=visit["id"])
    stale = create_issue(world, visit_id=visit["id"], title="Other")
    before = counts(world)
    body = meeting(visit, assignment(good), assignment(stale, version=7))
    assert_error(world.post("/api/v1/feedback-meetings", "mary", body), 409, "version_conflict")
    body = meeting(visit, assignment(good), assignment(stale, responsible_person="nobody"))
    err = assert_error(world.post("/api/v1/feedback-meetings", "mary", body), 422, "invalid_data")
    assert "responsible_person" in err["errors"]
    body = meeting(visit, assignment(good), assignment(stale, due_at="soon"))
    err = assert_error(world.post("/api/v1/feedback-meetings", "mary", body), 422, "invalid_data")
    assert "due_at" in err["errors"]
    body = meeting(visit, assignment(good), {**assignment(stale), "issue_id": 9999})
    assert_error(world.post("/api/v1/feedback-meetings", "mary", body), 404, "not_found")
    assert counts(world) == before
    assert world.get(f"/api/v1/issues/{good['id']}", "mary").get_json()["state"] == "raised"


def test_an_already_assigned_issue_is_refused(world: World, visit: dict[str, Any]) -> None:
    issue = create_issue(world, visit_id=visit["id"])
    assert (
        world.post(
            "/api/v1/feedback-meetings", "mary", meeting(visit, assignment(issue))
        ).status_code
        == 201
    )
    before = counts(world)
    r = world.post("/api/v1/feedback-meetings", "mary", meeting(visit, assignment(issue)))
    assert r.status_code == 409, r.get_json()
    assert counts(world) == before


def test_only_marketing_records_meetings(world: World, visit: dict[str, Any]) -> None:
    issue = create_issue(world, visit_id=visit["id"])
    before = counts(world)
    for user in ("tom", "boss", "sara"):
        r = world.post("/api/v1/feedback-meetings", user, meeting(visit, assignment(issue)))
        assert_error(r, 403, "forbidden")
    assert counts(world) == before


def test_bad_meetings_are_refused_per_field(world: World, visit: dict[str, Any]) -> None:
    issue = create_issue(world, visit_id=visit["id"])
    other_visit = create_visit(world, customer_id=world.customers["Globex"])
    elsewhere = create_issue(world, visit_id=other_visit["id"])
    before = counts(world)
    cases = [
        (meeting(visit, held_at="yesterday"), "held_at"),
        (meeting(visit, held_at="2026-11-12T15:00:00"), "held_at"),
        (meeting(visit, attendees=[]), "attendees"),
        (meeting(visit, attendees=["ghost"]), "attendees"),
        (meeting(visit, decisions=""), "decisions"),
        (meeting(visit, visit_id=9999), "visit_id"),
        (meeting(visit, assignment(issue), assignment(issue)), "assignments"),
        (meeting(visit, {"issue_id": issue["id"]}), "assignments"),
        (meeting(visit, assignment(issue), assignment(elsewhere)), "assignments"),
    ]
    for body, field in cases:
        r = world.post("/api/v1/feedback-meetings", "mary", body)
        err = assert_error(r, 422, "invalid_request")
        assert field in err["errors"], (field, err)
    assert counts(world) == before
    assert_error(world.get("/api/v1/feedback-meetings/77", "mary"), 404, "not_found")


# -- one transaction: the meeting and its assignments, all or nothing ---------------------
def assign_events(world: World) -> int:
    return world.count("transition_events WHERE trigger = 'assign'")


def issue_states(world: World, *issues: dict[str, Any]) -> list[tuple[str, int, Any]]:
    out = []
    for i in issues:
        body = world.get(f"/api/v1/issues/{i['id']}", "mary").get_json()
        out.append((body["state"], body["version"], body["responsible_person"]))
    return out


def test_a_meeting_and_its_assignments_commit_together(any_world: World) -> None:
    world = any_world
    visit = create_visit(world, customer_id=world.customers["Globex"])
    first = create_issue(world, visit_id=visit["id"])
    second = create_issue(world, visit_id=visit["id"], title="Manual out of date")
    before = counts(world)
    body = meeting(
        visit,
        assignment(first, version=1),
        assignment(second, responsible_department="after_sales", responsible_person="amy"),
    )
    r = world.post("/api/v1/feedback-meetings", "mary", body)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["assignments"] == [
        {"issue_id": first["id"], "status": 200, "state": "assigned"},
        {"issue_id": second["id"], "status": 200, "state": "assigned"},
    ]
    after = counts(world)
    assert (after["feedback_meetings"], after["feedback_meeting_issues"]) == (1, 2)
    assert after["transition_events"] - before["transition_events"] == 2
    assert assign_events(world) == 2
    assert issue_states(world, first, second) == [("assigned", 2, "tom"), ("assigned", 2, "amy")]


def test_a_stale_assignment_writes_nothing(any_world: World) -> None:
    world = any_world
    visit = create_visit(world, customer_id=world.customers["Globex"])
    good = create_issue(world, visit_id=visit["id"])
    stale = create_issue(world, visit_id=visit["id"], title="Other")
    before = counts(world)
    body = meeting(visit, assignment(good, version=1), assignment(stale, version=7))
    err = assert_error(
        world.post("/api/v1/feedback-meetings", "mary", body), 409, "version_conflict"
    )
    assert err["errors"] == {"version": ["current version is 1"]}
    assert counts(world) == before
    assert (before["feedback_meetings"], assign_events(world)) == (0, 0)
    assert issue_states(world, good, stale) == [("raised", 1, None), ("raised", 1, None)]


def test_an_issue_changed_after_its_check_rolls_the_meeting_back(
    any_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the single transaction closes: the last issue moves between its check and its
    write (on PostgreSQL from another, committed transaction; on SQLite, whose writers take
    turns, inside ours). The meeting, its links and the first assignment are undone."""
    from service.store.db import db
    from service.usecases import handlers, meetings

    world = any_world
    visit = create_visit(world, customer_id=world.customers["Globex"])
    first = create_issue(world, visit_id=visit["id"])
    raced = create_issue(world, visit_id=visit["id"], title="Raced")
    prepare = handlers.prepare_transition

    def prepare_then_race(conn: Any, kind: Any, instance_id: int, *args: Any) -> Any:
        prepared = prepare(conn, kind, instance_id, *args)
        if instance_id == raced["id"]:
            bump = sa.text("UPDATE issues SET version = version + 1 WHERE id = :id")
            if conn.dialect.name == "postgresql":
                with db.engine.begin() as other:
                    other.execute(bump, {"id": instance_id})
            else:
                conn.execute(bump, {"id": instance_id})
        return prepared

    monkeypatch.setattr(meetings.handlers, "prepare_transition", prepare_then_race)
    before = counts(world)
    body = meeting(visit, assignment(first), assignment(raced))
    assert_error(world.post("/api/v1/feedback-meetings", "mary", body), 409, "version_conflict")
    assert counts(world) == before
    assert world.get(f"/api/v1/issues/{first['id']}", "mary").get_json()["state"] == "raised"
    with world.app.app_context():
        committed_race = db.engine.dialect.name == "postgresql"
    raced_now = world.get(f"/api/v1/issues/{raced['id']}", "mary").get_json()
    assert (raced_now["state"], raced_now["version"]) == ("raised", 2 if committed_race else 1)


def test_a_forbidden_assignment_writes_nothing(
    any_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Management may (here) record a meeting, but the issue workflow lets only marketing
    assign: the assignment's 403 refuses the whole meeting."""
    from service.core import roles

    world = any_world
    monkeypatch.setattr(roles, "MEETING_RECORDERS", frozenset({"marketing_staff", "management"}))
    visit = create_visit(world, customer_id=world.customers["Globex"])
    issue = create_issue(world, visit_id=visit["id"])
    before = counts(world)
    body = meeting(visit, assignment(issue), attendees=["boss", "mary"])
    assert_error(world.post("/api/v1/feedback-meetings", "boss", body), 403, "forbidden")
    assert counts(world) == before
    assert issue_states(world, issue) == [("raised", 1, None)]
    # without assignments the same meeting is recorded: it was the assignment that was refused
    r = world.post("/api/v1/feedback-meetings", "boss", meeting(visit, attendees=["boss"]))
    assert r.status_code == 201, r.get_json()


def test_fields_are_checked_before_the_role(world: World, visit: dict[str, Any]) -> None:
    r = world.post("/api/v1/feedback-meetings", "tom", meeting(visit, attendees=["ghost"]))
    assert "attendees" in assert_error(r, 422, "invalid_request")["errors"]
    r = world.post("/api/v1/feedback-meetings", "tom", meeting(visit))
    assert_error(r, 403, "forbidden")
    bad = world.client.post(
        "/api/v1/feedback-meetings",
        headers={**world.auth("mary"), "Content-Type": "application/json"},
        data="{not json",
    )
    assert_error(bad, 400, "bad_request")
    assert counts(world)["feedback_meetings"] == 0


def test_technical_and_after_sales_read_the_meetings_of_their_own_visits(
    world: World, visit: dict[str, Any]
) -> None:
    """As on the pages: a meeting is seen by whoever may see its visit; the others are 404
    and absent from lists and their totals."""
    theirs = world.post("/api/v1/feedback-meetings", "mary", meeting(visit)).get_json()
    teds_visit = create_visit(world, visitors=["mary", "ted"])
    hidden = world.post("/api/v1/feedback-meetings", "mary", meeting(teds_visit)).get_json()
    no_visit = meeting(visit, visit_id=None)
    unattached = world.post("/api/v1/feedback-meetings", "mary", no_visit).get_json()

    listed = world.get("/api/v1/feedback-meetings", "tom").get_json()
    assert ([m["id"] for m in listed["items"]], listed["total"]) == ([theirs["id"]], 1)
    assert world.get(f"/api/v1/feedback-meetings/{theirs['id']}", "tom").status_code == 200
    for other in (hidden, unattached):
        path = f"/api/v1/feedback-meetings/{other['id']}"
        assert_error(world.get(path, "tom"), 404, "not_found")
    of_teds = world.get(f"/api/v1/feedback-meetings?visit_id={teds_visit['id']}", "tom")
    assert (of_teds.get_json()["items"], of_teds.get_json()["total"]) == ([], 0)
    ted = world.get("/api/v1/feedback-meetings", "ted").get_json()
    assert ([m["id"] for m in ted["items"]], ted["total"]) == ([hidden["id"]], 1)
    amy = world.get("/api/v1/feedback-meetings", "amy").get_json()
    assert (amy["items"], amy["total"]) == ([], 0)
    assert_error(world.get(f"/api/v1/feedback-meetings/{theirs['id']}", "amy"), 404, "not_found")
    for user in ("mary", "boss", "sara", "admin"):
        every = world.get("/api/v1/feedback-meetings", user).get_json()
        assert every["total"] == 3, user


def test_a_paged_list_counts_only_the_visible_meetings(world: World, visit: dict[str, Any]) -> None:
    hidden_visit = create_visit(world, visitors=["mary", "ted"])
    for held in ("2026-11-03", "2026-11-04", "2026-11-05"):
        at = f"{held}T10:00:00+08:00"
        world.post("/api/v1/feedback-meetings", "mary", meeting(visit, held_at=at))
        world.post("/api/v1/feedback-meetings", "mary", meeting(hidden_visit, held_at=at))
    second = world.get("/api/v1/feedback-meetings?per_page=2&page=2", "tom").get_json()
    assert (second["total"], len(second["items"])) == (3, 1)
    assert {m["visit_id"] for m in second["items"]} == {visit["id"]}


# -- evaluations -------------------------------------------------------------------------
EVALUATION = {
    "period_start": "2026-07-01",
    "period_end": "2026-12-31",
    "summary": "Visits on plan for core customers",
    "findings": "General-tier visits behind",
    "measures": "Add general-tier visits to the Q1 plan",
}


def test_an_evaluation_keeps_the_kpis_of_its_period(world: World, visit: dict[str, Any]) -> None:
    create_issue(world, visit_id=visit["id"])
    r = world.post("/api/v1/evaluations", "mike", EVALUATION)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["created_by"], body["period_start"], body["period_end"]) == (
        "mike",
        "2026-07-01",
        "2026-12-31",
    )
    assert set(body["kpi"]) >= {"plan_completion", "issues", "satisfaction", "cooperation"}
    assert body["kpi"]["from"].startswith("2026-07-01T00:00:00")
    assert world.get(f"/api/v1/evaluations/{body['id']}", "boss").get_json() == body
    assert world.get("/api/v1/evaluations", "boss").get_json()["total"] == 1
    assert world.post("/api/v1/evaluations", "boss", EVALUATION).status_code == 201


def test_evaluations_refused_writing_nothing(world: World) -> None:
    before = counts(world)
    for user in ("mary", "tom", "sara"):
        assert_error(world.post("/api/v1/evaluations", user, EVALUATION), 403, "forbidden")
    for body, field in [
        ({**EVALUATION, "period_end": "2026-06-30"}, "period_end"),
        ({**EVALUATION, "period_start": "July"}, "period_start"),
        ({k: v for k, v in EVALUATION.items() if k != "summary"}, "summary"),
    ]:
        err = assert_error(world.post("/api/v1/evaluations", "mike", body), 422, "invalid_request")
        assert field in err["errors"], err
    assert counts(world) == before
    assert_error(world.get("/api/v1/evaluations/5", "mike"), 404, "not_found")


def test_only_the_kpi_readers_read_evaluations(world: World) -> None:
    """An evaluation is a KPI snapshot: read by whoever may read `GET /api/v1/kpi`."""
    created = world.post("/api/v1/evaluations", "mike", EVALUATION).get_json()
    one = f"/api/v1/evaluations/{created['id']}"
    for user in ("mary", "mike", "boss", "sara", "admin"):
        assert world.get("/api/v1/evaluations", user).get_json()["total"] == 1, user
        assert world.get(one, user).get_json()["kpi"] == created["kpi"], user
        kpi = world.get("/api/v1/kpi?from=2026-07-01T00:00:00Z&to=2027-01-01T00:00:00Z", user)
        assert kpi.status_code == 200, user
    for user in ("tom", "amy", "crm"):
        assert_error(world.get("/api/v1/evaluations", user), 403, "forbidden")
        assert_error(world.get(one, user), 403, "forbidden")
        kpi = world.get("/api/v1/kpi?from=2026-07-01T00:00:00Z&to=2027-01-01T00:00:00Z", user)
        assert_error(kpi, 403, "forbidden")


def test_an_unknown_evaluation_is_404_before_the_role_is_checked(world: World) -> None:
    assert_error(world.get("/api/v1/evaluations/99", "tom"), 404, "not_found")


def test_a_meeting_lists_only_the_issues_its_reader_may_see(
    world: World, visit: dict[str, Any]
) -> None:
    ours = create_issue(world, visit_id=visit["id"])
    theirs = create_issue(world, visit_id=visit["id"], title="Invoice format")
    body = meeting(
        visit,
        assignment(ours),
        assignment(theirs, responsible_department="after_sales", responsible_person="amy"),
    )
    created = world.post("/api/v1/feedback-meetings", "mary", body).get_json()
    assert created["issue_ids"] == sorted([ours["id"], theirs["id"]])
    path = f"/api/v1/feedback-meetings/{created['id']}"
    assert world.get(path, "tom").get_json()["issue_ids"] == [ours["id"]]  # technical
    listed = world.get("/api/v1/feedback-meetings", "tom").get_json()["items"]
    assert [m["issue_ids"] for m in listed] == [[ours["id"]]]
    assert world.get(path, "boss").get_json()["issue_ids"] == created["issue_ids"]


def test_a_meeting_filter_beyond_its_column_is_a_422_naming_it(world: World) -> None:
    r = world.get("/api/v1/feedback-meetings?visit_id=99999999999999999999", "mike")
    assert r.status_code == 422 and "visit_id" in r.get_json()["errors"]
