"""Customer issues in the tracking ledger: raised, assigned, resolved, confirmed or reopened."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.conftest import Clock, World, advance, create_visit, fire
from tests.integration.test_api_support import (
    assert_error,
    create_issue,
    ids,
    instant,
    issue_payload,
)

ASSIGN_TO_TECHNICAL = {
    "responsible_department": "technical",
    "responsible_person": "tom",
    "due_at": "2026-11-20",
}


@pytest.fixture
def visit(world: World) -> dict[str, Any]:
    """A visit to Globex with visitors mary and tom."""
    return create_visit(world, customer_id=world.customers["Globex"])


def assigned(world: World, **over: Any) -> dict[str, Any]:
    issue = create_issue(world, customer_id=world.customers["Acme"], **over)
    return advance(world, "issues", issue, ["assign"], "mary")


# -- raising -----------------------------------------------------------------------------
def test_visitor_raises_an_issue_from_the_visit(world: World, visit: dict[str, Any]) -> None:
    r = world.post("/api/v1/issues", "tom", issue_payload(visit_id=visit["id"]))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["workflow"], body["state"], body["version"]) == ("issue", "raised", 1)
    assert (body["visit_id"], body["created_by"]) == (visit["id"], "tom")
    assert r.headers["Location"].endswith(f"/api/v1/issues/{body['id']}")


def test_issue_takes_its_customer_from_the_visit(world: World, visit: dict[str, Any]) -> None:
    issue = create_issue(world, "tom", visit_id=visit["id"])
    assert issue["customer_id"] == world.customers["Globex"]


def test_raiser_may_answer_on_the_spot(world: World, visit: dict[str, Any]) -> None:
    issue = create_issue(world, "tom", visit_id=visit["id"])
    assert issue["allowed_triggers"] == ["answer_on_the_spot"]


def test_marketing_raises_an_issue_for_a_customer_without_a_visit(world: World) -> None:
    issue = create_issue(world, "mary", customer_id=world.customers["Initech"])
    assert (issue["visit_id"], issue["customer_id"]) == (None, world.customers["Initech"])
    assert issue["allowed_triggers"] == ["assign", "answer_on_the_spot"]


def test_raising_opens_the_assignment_deadline(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    # one working day after Monday 09:00: Tuesday's close of business, 18:00 in Shanghai
    assert [(d["kind"], instant(d["due_at"])) for d in issue["deadlines"]] == [
        ("assignment", datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    ]


def test_technical_non_visitor_cannot_raise_from_the_visit(
    world: World, visit: dict[str, Any]
) -> None:
    # ted cannot see the visit: to him it does not exist, a bad creation field.
    before = world.counts()
    r = world.post("/api/v1/issues", "ted", issue_payload(visit_id=visit["id"]))
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == ["visit_id"]
    assert world.counts() == before


def test_technical_may_not_raise_an_issue_without_a_visit(world: World) -> None:
    before = world.counts()
    r = world.post("/api/v1/issues", "tom", issue_payload(customer_id=world.customers["Acme"]))
    assert_error(r, 403, "forbidden")
    assert world.counts() == before


def test_unknown_customer_comes_before_forbidden(world: World) -> None:
    before = world.counts()
    r = world.post("/api/v1/issues", "tom", issue_payload(customer_id=9999))
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == ["customer_id"]
    assert world.counts() == before


def test_roles_outside_the_definition_may_not_raise(world: World) -> None:
    before = world.counts()
    payload = issue_payload(customer_id=world.customers["Acme"])
    for user in ("sara", "boss", "admin"):
        assert_error(world.post("/api/v1/issues", user, payload), 403, "forbidden")
    assert world.counts() == before


def test_issue_without_visit_or_customer_is_422(world: World) -> None:
    before = world.counts()
    body = assert_error(
        world.post("/api/v1/issues", "mary", issue_payload()), 422, "invalid_request"
    )
    assert "visit_id" in body["errors"]
    assert world.counts() == before


def test_issue_naming_another_customer_than_its_visit_is_422(
    world: World, visit: dict[str, Any]
) -> None:
    before = world.counts()
    payload = issue_payload(visit_id=visit["id"], customer_id=world.customers["Acme"])
    body = assert_error(world.post("/api/v1/issues", "mary", payload), 422, "invalid_request")
    assert list(body["errors"]) == ["customer_id"]
    assert world.counts() == before


@pytest.mark.parametrize(
    ("override", "field"),
    [
        pytest.param({"visit_id": 9999}, "visit_id", id="unknown-visit"),
        pytest.param({"customer_id": 9999}, "customer_id", id="unknown-customer"),
        pytest.param({"category": "weather"}, "category", id="bad-category"),
        pytest.param({"severity": "urgent"}, "severity", id="bad-severity"),
        pytest.param({"title": "x" * 201}, "title", id="title-over-200"),
        pytest.param({"description": "x" * 20_001}, "description", id="text-over-20000"),
        pytest.param({"title": "   "}, "title", id="blank-title"),
    ],
)
def test_bad_issue_field_is_422(world: World, override: dict[str, Any], field: str) -> None:
    before = world.counts()
    payload = issue_payload(**{"customer_id": world.customers["Acme"], **override})
    body = assert_error(world.post("/api/v1/issues", "mary", payload), 422, "invalid_request")
    assert list(body["errors"]) == [field]
    assert world.counts() == before


# -- assigning ---------------------------------------------------------------------------
def test_assign_sets_the_responsible_fields(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    r = fire(world, "issues", issue, "assign", "mary", ASSIGN_TO_TECHNICAL)
    assert r.status_code == 200, r.get_json()
    read = world.get(f"/api/v1/issues/{issue['id']}", "mary").get_json()
    assert (read["state"], read["version"]) == ("assigned", 2)
    assert (read["responsible_department"], read["responsible_person"]) == ("technical", "tom")
    assert read["data"]["assign"] == ASSIGN_TO_TECHNICAL


def test_bare_due_date_is_the_end_of_that_working_day(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    fire(world, "issues", issue, "assign", "mary", ASSIGN_TO_TECHNICAL)
    read = world.get(f"/api/v1/issues/{issue['id']}", "mary").get_json()
    six_pm_shanghai = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert instant(read["due_at"]) == six_pm_shanghai
    assert [(d["kind"], instant(d["due_at"])) for d in read["deadlines"]] == [
        ("resolution", six_pm_shanghai)
    ]


def test_assign_response_shows_the_due_time(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    r = fire(world, "issues", issue, "assign", "mary", ASSIGN_TO_TECHNICAL)
    assert instant(r.get_json()["due_at"]) == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_due_date_of_today_is_accepted_before_close_of_business(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    r = fire(
        world, "issues", issue, "assign", "mary", {**ASSIGN_TO_TECHNICAL, "due_at": "2026-11-02"}
    )
    assert r.status_code == 200, r.get_json()
    assert instant(r.get_json()["due_at"]) == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_due_date_in_the_past_is_422_invalid_data(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    before = world.counts()
    r = fire(
        world, "issues", issue, "assign", "mary", {**ASSIGN_TO_TECHNICAL, "due_at": "2026-10-30"}
    )
    body = assert_error(r, 422, "invalid_data")
    assert list(body["errors"]) == ["due_at"]
    assert world.counts() == before


@pytest.mark.parametrize(
    ("override", "field"),
    [
        pytest.param({"responsible_department": "legal"}, "responsible_department", id="dept"),
        pytest.param({"responsible_person": "ghost"}, "responsible_person", id="person"),
        pytest.param({"due_at": "soon"}, "due_at", id="not-a-date"),
    ],
)
def test_assign_with_a_bad_field_is_422_invalid_data(
    world: World, override: dict[str, Any], field: str
) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    before = world.counts()
    r = fire(world, "issues", issue, "assign", "mary", {**ASSIGN_TO_TECHNICAL, **override})
    body = assert_error(r, 422, "invalid_data")
    assert list(body["errors"]) == [field]
    assert world.counts() == before


def test_technical_may_not_assign(world: World, visit: dict[str, Any]) -> None:
    issue = create_issue(world, "tom", visit_id=visit["id"])
    before = world.counts()
    assert_error(fire(world, "issues", issue, "assign", "tom"), 403, "forbidden")
    assert world.counts() == before


# -- resolving, confirming, reopening ----------------------------------------------------
def test_responsible_person_resolves(world: World) -> None:
    issue = assigned(world)
    r = fire(world, "issues", issue, "resolve", "tom")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["state"], body["version"]) == ("resolved", 3)
    assert body["data"]["resolve"] == {
        "root_cause": "x",
        "solution": "y",
        "customer_informed": True,
    }


def test_any_member_of_the_responsible_department_resolves(world: World) -> None:
    issue = assigned(world)
    r = fire(world, "issues", issue, "resolve", "ted")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "resolved"


def test_marketing_outside_the_responsible_department_may_not_resolve(world: World) -> None:
    issue = assigned(world)
    before = world.counts()
    assert_error(fire(world, "issues", issue, "resolve", "mary"), 403, "forbidden")
    assert world.counts() == before


def test_resolve_without_the_report_is_422_invalid_data(world: World) -> None:
    issue = assigned(world)
    before = world.counts()
    r = fire(world, "issues", issue, "resolve", "tom", {"root_cause": "x"})
    body = assert_error(r, 422, "invalid_data")
    assert set(body["errors"]) == {"solution", "customer_informed"}
    assert world.counts() == before


def test_marketing_confirms_with_the_customers_satisfaction(world: World) -> None:
    issue = advance(world, "issues", assigned(world), ["resolve"], "tom")
    r = fire(world, "issues", issue, "confirm", "mary", {"satisfaction": 5})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["state"], body["version"]) == ("customer_confirmed", 4)
    assert body["data"]["confirm"] == {"satisfaction": 5}
    assert (body["allowed_triggers"], body["deadlines"]) == ([], [])


def test_low_satisfaction_needs_a_comment(world: World) -> None:
    issue = advance(world, "issues", assigned(world), ["resolve"], "tom")
    before = world.counts()
    r = fire(world, "issues", issue, "confirm", "mary", {"satisfaction": 2})
    body = assert_error(r, 422, "invalid_data")
    assert list(body["errors"]) == ["comment"]
    assert world.counts() == before


def test_reopen_sends_the_issue_back_to_its_department(world: World) -> None:
    issue = advance(world, "issues", assigned(world), ["resolve"], "tom")
    r = fire(world, "issues", issue, "reopen", "mary")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["state"], body["version"]) == ("assigned", 4)
    assert (body["responsible_department"], body["responsible_person"]) == ("technical", "tom")
    assert [d["kind"] for d in body["deadlines"]] == ["resolution"]
    again = fire(world, "issues", body, "resolve", "tom")
    assert again.status_code == 200 and again.get_json()["version"] == 5


def test_answer_on_the_spot_closes_the_issue_at_once(world: World, visit: dict[str, Any]) -> None:
    issue = create_issue(world, "tom", visit_id=visit["id"])
    r = fire(world, "issues", issue, "answer_on_the_spot", "tom", {"answer": "use the bulk API"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["state"], body["version"]) == ("customer_confirmed", 2)
    assert body["data"]["answer_on_the_spot"] == {"answer": "use the bulk API"}


def test_marketing_answers_on_the_spot_for_someone_elses_issue(
    world: World, visit: dict[str, Any]
) -> None:
    issue = create_issue(world, "tom", visit_id=visit["id"])
    r = fire(world, "issues", issue, "answer_on_the_spot", "mike")
    assert r.status_code == 200, r.get_json()


def test_answer_on_the_spot_after_assignment_is_409(world: World) -> None:
    issue = assigned(world)
    before = world.counts()
    r = fire(world, "issues", issue, "answer_on_the_spot", "mary")
    body = assert_error(r, 409, "invalid_transition")
    assert body["errors"]["allowed"] == []
    assert world.counts() == before


def test_issue_history_names_each_actor(world: World) -> None:
    issue = advance(world, "issues", assigned(world), ["resolve"], "ted")
    advance(world, "issues", issue, ["confirm"], "mike")
    items = world.get(f"/api/v1/issues/{issue['id']}/history", "boss").get_json()["items"]
    assert [(e["actor"], e["trigger"], e["to"]) for e in items] == [
        ("mary", None, "raised"),
        ("mary", "assign", "assigned"),
        ("ted", "resolve", "resolved"),
        ("mike", "confirm", "customer_confirmed"),
    ]


# -- list --------------------------------------------------------------------------------
def test_list_issues_by_responsible_department(world: World) -> None:
    to_technical = assigned(world)
    to_after_sales = create_issue(world, customer_id=world.customers["Acme"])
    advance_data = {**ASSIGN_TO_TECHNICAL, "responsible_department": "after_sales"}
    fire(
        world,
        "issues",
        to_after_sales,
        "assign",
        "mary",
        {**advance_data, "responsible_person": "amy"},
    )
    create_issue(world, customer_id=world.customers["Acme"])  # not assigned
    assert ids(world.get("/api/v1/issues?department=technical", "mary")) == [to_technical["id"]]
    assert ids(world.get("/api/v1/issues?department=after_sales", "mary")) == [to_after_sales["id"]]


def test_list_issues_by_customer_and_by_visit(world: World, visit: dict[str, Any]) -> None:
    from_visit = create_issue(world, "tom", visit_id=visit["id"])
    create_issue(world, customer_id=world.customers["Acme"])
    by_customer = ids(world.get(f"/api/v1/issues?customer_id={world.customers['Globex']}", "mary"))
    by_visit = ids(world.get(f"/api/v1/issues?visit_id={visit['id']}", "mary"))
    assert by_customer == by_visit == [from_visit["id"]]


def test_list_issues_by_state(world: World) -> None:
    done = assigned(world)
    open_one = create_issue(world, customer_id=world.customers["Acme"])
    assert ids(world.get("/api/v1/issues?state=assigned", "mary")) == [done["id"]]
    assert ids(world.get("/api/v1/issues?state=raised", "mary")) == [open_one["id"]]


def test_list_issues_from_and_to_on_the_due_time(world: World) -> None:
    early = assigned(world)
    late = create_issue(world, customer_id=world.customers["Acme"])
    fire(world, "issues", late, "assign", "mary", {**ASSIGN_TO_TECHNICAL, "due_at": "2026-11-27"})
    create_issue(world, customer_id=world.customers["Acme"])  # no due time yet
    window = {"from": "2026-11-20T18:00:00+08:00", "to": "2026-11-26T00:00:00+08:00"}
    assert ids(world.get("/api/v1/issues", "mary", query_string=window)) == [early["id"]]
    after = {"from": "2026-11-21T00:00:00+08:00"}
    assert ids(world.get("/api/v1/issues", "mary", query_string=after)) == [late["id"]]


def test_list_overdue_issues(world: World, clock: Clock) -> None:
    waiting = create_issue(world, customer_id=world.customers["Acme"])
    handled = assigned(world)
    clock.advance(days=2)  # Wednesday: the one-working-day assignment deadline has passed
    assert ids(world.get("/api/v1/issues?overdue=true", "mary")) == [waiting["id"]]
    assert ids(world.get("/api/v1/issues?overdue=false", "mary")) == [handled["id"]]


def test_assignment_ends_an_overdue_period(world: World, clock: Clock) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    clock.advance(days=2)
    assert world.get(f"/api/v1/issues/{issue['id']}", "mary").get_json()["overdue"] is True
    r = fire(world, "issues", issue, "assign", "mary", ASSIGN_TO_TECHNICAL)
    assert r.get_json()["overdue"] is False
    assert ids(world.get("/api/v1/issues?overdue=true", "mary")) == []
