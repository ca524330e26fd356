"""Rectification notices: supervision issues them, the addressed department acknowledges and
rectifies, supervision verifies or sends them back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.conftest import Clock, World, advance, create_visit, fire
from tests.integration.test_api_support import (
    assert_error,
    create_issue,
    create_notice,
    ids,
    instant,
    notice_payload,
)

PATH = "/api/v1/rectification-notices"


def refused_creation(world: World, user: str, payload: dict[str, Any]) -> Any:
    """POST a notice that must be refused; assert nothing was written, notifications included."""
    before = (world.counts(), world.count("notifications"))
    r = world.post(PATH, user, payload)
    assert (world.counts(), world.count("notifications")) == before
    return r


# -- issuing -----------------------------------------------------------------------------
def test_supervision_issues_a_notice_related_to_a_visit(world: World) -> None:
    visit = create_visit(world)
    r = world.post(PATH, "sara", notice_payload(related=[{"workflow": "visit", "id": visit["id"]}]))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["workflow"], body["state"], body["version"]) == ("rectification", "issued", 1)
    assert body["related"] == [{"workflow": "visit", "id": visit["id"]}]
    assert (body["department"], body["created_by"]) == ("technical", "sara")
    assert body["findings"] == "Visit records submitted late"
    assert instant(body["due_at"]) == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert r.headers["Location"].endswith(f"{PATH}/{body['id']}")


def test_notice_may_relate_to_an_issue(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    notice = create_notice(world, related=[{"workflow": "issue", "id": issue["id"]}])
    assert notice["related"] == [{"workflow": "issue", "id": issue["id"]}]


def test_related_defaults_to_empty(world: World) -> None:
    assert create_notice(world)["related"] == []


def test_data_create_holds_related(world: World) -> None:
    visit = create_visit(world)
    related = [{"workflow": "visit", "id": visit["id"]}]
    notice = create_notice(world, related=related)
    assert notice["data"]["create"]["related"] == related


def test_issued_notice_waits_for_acknowledgement(world: World) -> None:
    notice = create_notice(world)
    assert notice["allowed_triggers"] == []  # supervision has nothing to do until rectified
    assert [(d["kind"], instant(d["due_at"])) for d in notice["deadlines"]] == [
        ("acknowledgement", datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    ]


def test_addressed_department_sees_acknowledge_as_allowed(world: World) -> None:
    notice = create_notice(world)
    r = world.get(f"{PATH}/{notice['id']}", "ted")
    assert r.get_json()["allowed_triggers"] == ["acknowledge"]


BAD_RELATED = [
    pytest.param([{"workflow": "visit", "id": 9999}], id="unknown-visit"),
    pytest.param([{"workflow": "customer", "id": 1}], id="unknown-workflow"),
    pytest.param([{"workflow": "visit", "id": "1"}], id="id-not-an-integer"),
    pytest.param([{"workflow": "visit"}], id="no-id"),
    pytest.param(["visit:1"], id="item-not-an-object"),
    pytest.param({"workflow": "visit", "id": 1}, id="not-a-list"),
]


@pytest.mark.parametrize("related", BAD_RELATED)
def test_bad_related_is_422(world: World, related: Any) -> None:
    create_visit(world)  # visit 1 exists
    r = refused_creation(world, "sara", notice_payload(related=related))
    body = assert_error(r, 422, "invalid_request")
    assert list(body["errors"]) == ["related"]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        pytest.param({"department": "legal"}, "department", id="unknown-department"),
        pytest.param({"findings": ""}, "findings", id="empty-findings"),
        pytest.param({"due_at": "2026-11-20T18:00:00"}, "due_at", id="naive-due-time"),
        pytest.param({"findings": "x" * 20_001}, "findings", id="text-over-20000"),
    ],
)
def test_bad_notice_field_is_422(world: World, override: dict[str, Any], field: str) -> None:
    body = assert_error(
        refused_creation(world, "sara", notice_payload(**override)), 422, "invalid_request"
    )
    assert list(body["errors"]) == [field]


def test_only_supervision_issues_notices(world: World) -> None:
    for user in ("mary", "mike", "tom", "boss", "admin"):
        assert_error(refused_creation(world, user, notice_payload()), 403, "forbidden")


def test_bare_due_date_is_the_end_of_that_working_day(world: World) -> None:
    r = world.post(PATH, "sara", notice_payload(due_at="2026-11-20"))
    assert r.status_code == 201, r.get_json()
    assert instant(r.get_json()["due_at"]) == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


# -- acknowledging and rectifying --------------------------------------------------------
def test_addressed_department_acknowledges(world: World) -> None:
    notice = create_notice(world)
    r = fire(
        world,
        "rectification-notices",
        notice,
        "acknowledge",
        "ted",
        {"plan": "weekly review", "responsible_person": "ted"},
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["state"], body["version"], body["responsible_person"]) == (
        "acknowledged",
        2,
        "ted",
    )
    assert body["data"]["acknowledge"] == {"plan": "weekly review", "responsible_person": "ted"}


def test_acknowledgement_starts_the_rectification_deadline_at_due_at(world: World) -> None:
    notice = advance(world, "rectification-notices", create_notice(world), ["acknowledge"], "tom")
    read = world.get(f"{PATH}/{notice['id']}", "tom").get_json()
    assert [(d["kind"], instant(d["due_at"])) for d in read["deadlines"]] == [
        ("rectification", datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    ]


def test_another_department_cannot_see_the_notice_to_acknowledge_it(world: World) -> None:
    notice = create_notice(world)
    before = world.counts()
    assert_error(
        fire(world, "rectification-notices", notice, "acknowledge", "amy"), 404, "not_found"
    )
    assert world.counts() == before


def test_marketing_sees_but_may_not_acknowledge_a_notice_to_technical(world: World) -> None:
    notice = create_notice(world)
    before = world.counts()
    assert_error(
        fire(world, "rectification-notices", notice, "acknowledge", "mary"), 403, "forbidden"
    )
    assert world.counts() == before


def test_management_acknowledges_for_any_department(world: World) -> None:
    notice = create_notice(world)
    r = fire(world, "rectification-notices", notice, "acknowledge", "boss")
    assert r.status_code == 200, r.get_json()


def test_acknowledge_without_a_plan_is_422_invalid_data(world: World) -> None:
    notice = create_notice(world)
    before = world.counts()
    r = fire(world, "rectification-notices", notice, "acknowledge", "tom", {})
    body = assert_error(r, 422, "invalid_data")
    assert list(body["errors"]) == ["plan"]
    assert world.counts() == before


def test_addressed_department_rectifies(world: World) -> None:
    notice = advance(world, "rectification-notices", create_notice(world), ["acknowledge"], "tom")
    r = fire(world, "rectification-notices", notice, "rectify", "ted")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["state"], body["version"]) == ("rectified", 3)
    assert body["data"]["rectify"] == {"report": "fixed"}
    assert [d["kind"] for d in body["deadlines"]] == ["verification"]


# -- verifying or sending back -----------------------------------------------------------
@pytest.fixture
def rectified(world: World) -> dict[str, Any]:
    notice = advance(world, "rectification-notices", create_notice(world), ["acknowledge"], "tom")
    return advance(world, "rectification-notices", notice, ["rectify"], "tom")


def test_supervision_may_verify_or_return_a_rectified_notice(
    world: World, rectified: dict[str, Any]
) -> None:
    read = world.get(f"{PATH}/{rectified['id']}", "sara").get_json()
    assert read["allowed_triggers"] == ["verify", "return"]


def test_supervision_verifies(world: World, rectified: dict[str, Any]) -> None:
    r = fire(world, "rectification-notices", rectified, "verify", "sara")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["state"], body["version"]) == ("verified", 4)
    assert (body["allowed_triggers"], body["deadlines"]) == ([], [])


def test_supervision_returns_and_the_department_rectifies_again(
    world: World, rectified: dict[str, Any]
) -> None:
    returned = fire(world, "rectification-notices", rectified, "return", "sara")
    assert returned.status_code == 200, returned.get_json()
    assert (returned.get_json()["state"], returned.get_json()["version"]) == ("acknowledged", 4)
    again = fire(
        world,
        "rectification-notices",
        returned.get_json(),
        "rectify",
        "tom",
        {"report": "fixed, and checked"},
    )
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["data"]["rectify"] == {"report": "fixed, and checked"}


def test_the_department_may_not_verify_its_own_rectification(
    world: World, rectified: dict[str, Any]
) -> None:
    before = world.counts()
    assert_error(fire(world, "rectification-notices", rectified, "verify", "tom"), 403, "forbidden")
    assert world.counts() == before


def test_return_without_a_reason_is_422_invalid_data(
    world: World, rectified: dict[str, Any]
) -> None:
    before = world.counts()
    r = fire(world, "rectification-notices", rectified, "return", "sara", {})
    body = assert_error(r, 422, "invalid_data")
    assert list(body["errors"]) == ["reason"]
    assert world.counts() == before


def test_notice_history_follows_the_chain(world: World, rectified: dict[str, Any]) -> None:
    advance(world, "rectification-notices", rectified, ["verify"], "sara")
    items = world.get(f"{PATH}/{rectified['id']}/history", "tom").get_json()["items"]
    assert [(e["actor"], e["trigger"], e["from"], e["to"]) for e in items] == [
        ("sara", None, None, "issued"),
        ("tom", "acknowledge", "issued", "acknowledged"),
        ("tom", "rectify", "acknowledged", "rectified"),
        ("sara", "verify", "rectified", "verified"),
    ]


# -- list --------------------------------------------------------------------------------
def test_list_notices_by_department(world: World) -> None:
    to_technical = create_notice(world)
    to_marketing = create_notice(world, department="marketing")
    assert ids(world.get(f"{PATH}?department=technical", "sara")) == [to_technical["id"]]
    assert ids(world.get(f"{PATH}?department=marketing", "sara")) == [to_marketing["id"]]


def test_list_notices_by_state(world: World) -> None:
    acknowledged = advance(
        world, "rectification-notices", create_notice(world), ["acknowledge"], "tom"
    )
    issued = create_notice(world)
    assert ids(world.get(f"{PATH}?state=acknowledged", "sara")) == [acknowledged["id"]]
    assert ids(world.get(f"{PATH}?state=issued", "sara")) == [issued["id"]]


def test_list_overdue_notices(world: World, clock: Clock) -> None:
    unacknowledged = create_notice(world)
    acknowledged = advance(
        world, "rectification-notices", create_notice(world), ["acknowledge"], "tom"
    )
    clock.advance(days=2)  # the one-working-day acknowledgement deadline has passed
    assert ids(world.get(f"{PATH}?overdue=true", "sara")) == [unacknowledged["id"]]
    assert ids(world.get(f"{PATH}?overdue=false", "sara")) == [acknowledged["id"]]
