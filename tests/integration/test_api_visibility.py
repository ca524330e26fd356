"""Confidentiality: technical and after-sales staff see only their visits, their issues and the
notices to their department; anything else reads as 404 and is absent from lists."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import World, advance, create_visit, fire
from tests.integration.test_api_support import assert_error, create_issue, create_notice, ids

SEE_ALL = ["mary", "mike", "boss", "sara", "admin"]


@pytest.fixture
def visits(world: World) -> dict[str, dict[str, Any]]:
    """tom's (with mary), amy's (with mary), and one of mike's alone."""
    return {
        "tom": create_visit(world, visitors=["mary", "tom"]),
        "amy": create_visit(world, visitors=["mary", "amy"]),
        "mike": create_visit(world, visitors=["mike"]),
    }


# -- visits ------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["tom", "amy"])
def test_staff_list_only_the_visits_they_are_visitors_of(
    world: World, visits: dict[str, dict[str, Any]], user: str
) -> None:
    body = world.get("/api/v1/visits", user).get_json()
    assert [v["id"] for v in body["items"]] == [visits[user]["id"]]
    assert body["total"] == 1


def test_technical_staff_on_no_visit_list_nothing(
    world: World, visits: dict[str, dict[str, Any]]
) -> None:
    body = world.get("/api/v1/visits", "ted").get_json()
    assert (body["items"], body["total"]) == ([], 0)


def test_a_filter_does_not_reveal_hidden_visits(
    world: World, visits: dict[str, dict[str, Any]]
) -> None:
    assert ids(world.get("/api/v1/visits?visitor=amy", "tom")) == []
    assert ids(world.get("/api/v1/visits?visitor=amy", "mary")) == [visits["amy"]["id"]]


def test_visitor_reads_their_visit(world: World, visits: dict[str, dict[str, Any]]) -> None:
    r = world.get(f"/api/v1/visits/{visits['amy']['id']}", "amy")
    assert r.status_code == 200
    assert r.get_json()["id"] == visits["amy"]["id"]


@pytest.mark.parametrize("suffix", ["", "/history"])
def test_someone_elses_visit_reads_as_404(
    world: World, visits: dict[str, dict[str, Any]], suffix: str
) -> None:
    r = world.get(f"/api/v1/visits/{visits['amy']['id']}{suffix}", "tom")
    assert_error(r, 404, "not_found")


def test_someone_elses_visit_cannot_be_fired_on(
    world: World, visits: dict[str, dict[str, Any]]
) -> None:
    before = world.counts()
    assert_error(fire(world, "visits", visits["tom"], "prepare", "amy"), 404, "not_found")
    assert world.counts() == before


def test_hidden_and_unknown_visits_answer_alike(
    world: World, visits: dict[str, dict[str, Any]]
) -> None:
    hidden = world.get(f"/api/v1/visits/{visits['amy']['id']}", "tom").get_json()
    unknown = world.get("/api/v1/visits/9999", "tom").get_json()
    assert hidden["message"].replace(str(visits["amy"]["id"]), "N") == unknown["message"].replace(
        "9999", "N"
    )


def test_marketing_management_supervision_and_admin_see_every_visit(
    world: World, visits: dict[str, dict[str, Any]]
) -> None:
    every = sorted(v["id"] for v in visits.values())
    for user in SEE_ALL:
        assert sorted(ids(world.get("/api/v1/visits", user))) == every, user
        assert world.get("/api/v1/visits", user).get_json()["total"] == 3, user
        history = world.get(f"/api/v1/visits/{visits['amy']['id']}/history", user)
        assert history.status_code == 200, user


# -- issues ------------------------------------------------------------------------------
def test_raiser_sees_their_issue_and_colleagues_do_not(
    world: World, visits: dict[str, dict[str, Any]]
) -> None:
    issue = create_issue(world, "tom", visit_id=visits["tom"]["id"])
    assert ids(world.get("/api/v1/issues", "tom")) == [issue["id"]]
    assert ids(world.get("/api/v1/issues", "ted")) == []
    assert_error(world.get(f"/api/v1/issues/{issue['id']}", "ted"), 404, "not_found")


def test_issue_assigned_to_a_department_is_seen_by_its_members(world: World) -> None:
    issue = advance(
        world,
        "issues",
        create_issue(world, customer_id=world.customers["Acme"]),
        ["assign"],
        "mary",
    )
    assert ids(world.get("/api/v1/issues", "ted")) == [issue["id"]]
    assert world.get(f"/api/v1/issues/{issue['id']}/history", "ted").status_code == 200


def test_issue_assigned_elsewhere_stays_hidden(world: World) -> None:
    issue = advance(
        world,
        "issues",
        create_issue(world, customer_id=world.customers["Acme"]),
        ["assign"],
        "mary",
    )
    assert ids(world.get("/api/v1/issues", "amy")) == []
    assert_error(world.get(f"/api/v1/issues/{issue['id']}/history", "amy"), 404, "not_found")


def test_hidden_issue_cannot_be_fired_on(world: World) -> None:
    issue = advance(
        world,
        "issues",
        create_issue(world, customer_id=world.customers["Acme"]),
        ["assign"],
        "mary",
    )
    before = world.counts()
    assert_error(fire(world, "issues", issue, "resolve", "amy"), 404, "not_found")
    assert world.counts() == before


def test_raiser_still_sees_an_issue_assigned_to_another_department(
    world: World, visits: dict[str, dict[str, Any]]
) -> None:
    issue = create_issue(world, "amy", visit_id=visits["amy"]["id"])
    advance(world, "issues", issue, ["assign"], "mary")  # to technical
    assert ids(world.get("/api/v1/issues", "amy")) == [issue["id"]]
    assert world.get(f"/api/v1/issues/{issue['id']}", "amy").status_code == 200


def test_raised_issue_is_hidden_from_other_visitors_of_its_visit(
    world: World, visits: dict[str, dict[str, Any]]
) -> None:
    # mary raises it from tom's visit: tom neither raised it nor has it in his department.
    issue = create_issue(world, "mary", visit_id=visits["tom"]["id"])
    assert_error(world.get(f"/api/v1/issues/{issue['id']}", "tom"), 404, "not_found")


def test_see_all_roles_see_every_issue(world: World, visits: dict[str, dict[str, Any]]) -> None:
    raised = create_issue(world, "tom", visit_id=visits["tom"]["id"])
    other = create_issue(world, "mary", customer_id=world.customers["Acme"])
    for user in SEE_ALL:
        assert sorted(ids(world.get("/api/v1/issues", user))) == [raised["id"], other["id"]], user


# -- rectification notices ---------------------------------------------------------------
@pytest.mark.parametrize("user", ["tom", "ted"])
def test_addressed_department_sees_the_notice(world: World, user: str) -> None:
    notice = create_notice(world, department="technical")
    create_notice(world, department="after_sales")
    assert ids(world.get("/api/v1/rectification-notices", user)) == [notice["id"]]


def test_notice_to_another_department_reads_as_404(world: World) -> None:
    notice = create_notice(world, department="technical")
    for suffix in ("", "/history"):
        r = world.get(f"/api/v1/rectification-notices/{notice['id']}{suffix}", "amy")
        assert_error(r, 404, "not_found")
    assert ids(world.get("/api/v1/rectification-notices", "amy")) == []


def test_notice_to_another_department_cannot_be_fired_on(world: World) -> None:
    notice = create_notice(world, department="after_sales")
    before = world.counts()
    r = fire(world, "rectification-notices", notice, "acknowledge", "tom")
    assert_error(r, 404, "not_found")
    assert world.counts() == before


def test_see_all_roles_see_every_notice(world: World) -> None:
    notices = [create_notice(world, department=d)["id"] for d in ("technical", "after_sales")]
    for user in SEE_ALL:
        assert sorted(ids(world.get("/api/v1/rectification-notices", user))) == notices, user
