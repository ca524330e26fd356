"""Times that cannot be true: an actual time in the future, a planned time in the past.

Declared on the fields (`not_after: now`, `not_before: now`, `backdate_roles`); refused with
422 and the field named, through the API, the webhooks and the web forms, writing nothing.
The integration clock starts on Monday 2026-11-02 at 09:00 in Shanghai (01:00 UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.conftest import (
    TRANSITION_DATA,
    Clock,
    World,
    advance,
    create_visit,
    fire,
    visit_payload,
)
from tests.integration.test_api_support import (
    assert_error,
    create_issue,
    create_notice,
    notice_payload,
)
from tests.integration.test_webhooks_inbound import Hook, event, make_integration
from tests.integration.web import Browser

BACKDATED = "_backdated"


def visited(world: World) -> dict[str, Any]:
    return advance(world, "visits", create_visit(world), ["prepare"], "tom")


def history(world: World, path: str, instance: dict[str, Any]) -> list[dict[str, Any]]:
    r = world.get(f"/api/v1/{path}/{instance['id']}/history", "mary")
    items: list[dict[str, Any]] = r.get_json()["items"]
    return items


# -- actual times ------------------------------------------------------------------------------
def test_a_visit_in_2030_is_422_invalid_data_naming_visited_at_and_writes_nothing(
    world: World,
) -> None:
    visit = visited(world)
    before = world.counts()
    r = fire(world, "visits", visit, "visit", "tom", {"visited_at": "2030-01-01T10:00:00+08:00"})
    body = assert_error(r, 422, "invalid_data")
    assert body["errors"] == {"visited_at": ["must not be in the future"]}
    assert world.counts() == before
    assert world.get(f"/api/v1/visits/{visit['id']}", "tom").get_json()["state"] == "prepared"


@pytest.mark.parametrize(
    ("visited_at", "status"),
    [
        ("2026-11-02T09:04:59+08:00", 200),  # within the five minutes' clock-skew allowance
        ("2026-11-02T09:05:01+08:00", 422),
        ("2026-11-02T01:04:00Z", 200),  # the same instants, spelled in UTC
        ("2026-11-02T01:06:00Z", 422),
        ("2026-11-01T18:04:00-07:00", 200),  # ... and in another zone, the day before
        ("2026-11-01T18:06:00-07:00", 422),
    ],
)
def test_the_edge_is_now_plus_the_allowance_whatever_the_offset(
    world: World, visited_at: str, status: int
) -> None:
    r = fire(world, "visits", visited(world), "visit", "tom", {"visited_at": visited_at})
    assert r.status_code == status, r.get_json()


@pytest.mark.parametrize("app_config", [{"CLOCK_SKEW_SECONDS": 0}])
def test_the_allowance_is_configurable(world: World) -> None:
    r = fire(
        world, "visits", visited(world), "visit", "tom", {"visited_at": "2026-11-02T09:01+08:00"}
    )
    assert assert_error(r, 422, "invalid_data")["errors"] == {
        "visited_at": ["must not be in the future"]
    }


def test_a_record_dated_in_the_future_is_refused(world: World) -> None:
    visit = advance(world, "visits", visited(world), ["visit"], "tom")
    data = {**TRANSITION_DATA["record"], "visited_at": "2026-11-16T10:00:00+08:00"}
    body = assert_error(fire(world, "visits", visit, "record", "tom", data), 422, "invalid_data")
    assert list(body["errors"]) == ["visited_at"]


def test_a_rectification_completed_in_the_future_is_refused(world: World) -> None:
    notice = advance(world, "rectification-notices", create_notice(world), ["acknowledge"], "tom")
    before = world.counts()
    data = {"report": "fixed", "completed_at": "2026-11-03T18:00:00+08:00"}
    r = fire(world, "rectification-notices", notice, "rectify", "tom", data)
    assert assert_error(r, 422, "invalid_data")["errors"] == {
        "completed_at": ["must not be in the future"]
    }
    assert world.counts() == before
    data["completed_at"] = "2026-11-02T08:30:00+08:00"
    assert fire(world, "rectification-notices", notice, "rectify", "tom", data).status_code == 200


def test_an_issue_resolved_in_the_future_is_refused(world: World) -> None:
    issue = create_issue(world, customer_id=world.customers["Acme"])
    issue = advance(world, "issues", issue, ["assign"], "mary")
    data = {**TRANSITION_DATA["resolve"], "resolved_at": "2026-11-05T10:00:00+08:00"}
    r = fire(world, "issues", issue, "resolve", "tom", data)
    assert list(assert_error(r, 422, "invalid_data")["errors"]) == ["resolved_at"]


def test_a_webhook_with_a_future_visit_time_is_refused_and_its_id_stays_free(
    world: World, clock: Clock
) -> None:
    hook = Hook(world, clock, "crm", make_integration(world))
    visit = visited(world)
    before = world.counts()
    sent = event(visit, "visit", data={"visited_at": "2026-11-16T10:00:00+08:00"})
    body = assert_error(hook.send(sent), 422, "invalid_data")
    assert body["errors"] == {"visited_at": ["must not be in the future"]}
    assert world.counts() == before
    again = {**sent, "data": {"visited_at": "2026-11-02T08:45:00+08:00"}}
    assert hook.send(again).status_code == 200


# -- planned times -----------------------------------------------------------------------------
def test_a_visit_planned_in_the_past_is_refused_for_marketing_staff(world: World) -> None:
    before = world.counts()
    payload = visit_payload(world, planned_at="2026-10-30T10:00:00+08:00")
    body = assert_error(world.post("/api/v1/visits", "mary", payload), 422, "invalid_request")
    assert body["errors"] == {"planned_at": ["must not be in the past"]}
    assert world.counts() == before


def test_a_marketing_manager_may_back_date_and_it_is_recorded(world: World) -> None:
    payload = visit_payload(world, planned_at="2026-10-30T10:00:00+08:00")
    r = world.post("/api/v1/visits", "mike", payload)
    assert r.status_code == 201, r.get_json()
    visit = r.get_json()
    assert visit["data"]["create"][BACKDATED] == ["planned_at"]
    [created] = history(world, "visits", visit)
    assert created["data"][BACKDATED] == ["planned_at"]


def test_a_future_plan_by_the_manager_is_not_marked(world: World) -> None:
    visit = create_visit(world, "mike")
    assert BACKDATED not in visit["data"]["create"]


def test_rescheduling_into_the_past_is_refused_for_staff_and_marked_for_the_manager(
    world: World,
) -> None:
    visit = create_visit(world)
    past = {"planned_at": "2026-11-01T10:00:00+08:00", "reason": "it happened on Sunday"}
    r = fire(world, "visits", visit, "reschedule", "mary", past)
    assert assert_error(r, 422, "invalid_data")["errors"] == {
        "planned_at": ["must not be in the past"]
    }
    r = fire(world, "visits", visit, "reschedule", "mike", past)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["data"]["reschedule"][BACKDATED] == ["planned_at"]
    assert history(world, "visits", visit)[-1]["data"][BACKDATED] == ["planned_at"]


def test_a_plan_for_now_within_the_allowance_is_accepted(world: World) -> None:
    visit = create_visit(world, planned_at="2026-11-02T08:56:00+08:00")
    assert BACKDATED not in visit["data"]["create"]


@pytest.mark.parametrize(
    ("now", "due_at", "status"),
    [
        (datetime(2026, 11, 2, 15, 59, tzinfo=UTC), "2026-11-02", 201),  # 23:59 in Shanghai
        (datetime(2026, 11, 2, 16, 6, tzinfo=UTC), "2026-11-02", 422),  # 00:06 on the 3rd
        (datetime(2026, 11, 2, 16, 6, tzinfo=UTC), "2026-11-03", 201),
        (datetime(2026, 11, 2, 16, 3, tzinfo=UTC), "2026-11-02", 201),  # the allowance
    ],
)
def test_a_bare_due_date_is_compared_with_today_in_shanghai(
    world: World, clock: Clock, now: datetime, due_at: str, status: int
) -> None:
    clock.now = now
    r = world.post("/api/v1/rectification-notices", "sara", notice_payload(due_at=due_at))
    assert r.status_code == status, r.get_json()


# -- web forms ---------------------------------------------------------------------------------
def test_the_visit_form_refuses_a_time_two_weeks_ahead_next_to_the_field(world: World) -> None:
    visit = visited(world)
    tom = Browser(world, "tom")
    page = tom.get(f"/visits/{visit['id']}/fire/visit").text
    assert re.search(r'name="visited_at"[^>]*max="2026-11-02T23:59"', page)
    before = world.counts()
    r = tom.post(
        f"/visits/{visit['id']}/fire/visit", {"version": "2", "visited_at": "2026-11-16T10:00"}
    )
    assert r.status_code == 422
    assert world.counts() == before
    error = re.search(r'id="field-visited_at".*?<p class="error"[^>]*>(.*?)</p>', r.text, re.S)
    assert error and error.group(1) == "不能晚于当前时间"
    assert 'value="2026-11-16T10:00"' in r.text  # the input is kept
    r = tom.post(
        f"/visits/{visit['id']}/fire/visit", {"version": "2", "visited_at": "2026-11-02T08:30"}
    )
    assert r.status_code == 302


def test_the_plan_form_bounds_planned_at_below_except_for_the_manager(world: World) -> None:
    mary, mike = Browser(world, "mary"), Browser(world, "mike")
    assert re.search(r'name="planned_at"[^>]*min="2026-11-02T00:00"', mary.get("/visits/new").text)
    assert not re.search(r'name="planned_at"[^>]*min=', mike.get("/visits/new").text)


def test_the_history_shows_a_back_dated_plan(world: World) -> None:
    payload = visit_payload(world, planned_at="2026-10-30T10:00:00+08:00")
    visit = world.post("/api/v1/visits", "mike", payload).get_json()
    page = Browser(world, "mike", lang="en").get(f"/visits/{visit['id']}").text
    assert re.search(r'class="badge backdated">Back-dated: Planned visit time<', page)
    page = Browser(world, "mary").get(f"/visits/{visit['id']}").text
    assert "补录（早于录入时间）：计划走访时间" in page


def test_the_openapi_form_schemas_describe_the_bounds(world: World) -> None:
    spec = world.client.get("/api/v1/openapi.json").get_json()
    text = str(spec["components"]["schemas"])
    assert "not in the future" in text and "may back-date" in text


def test_a_timestamp_in_the_past_marks_nothing_when_it_is_not_bounded(world: World) -> None:
    visit = advance(world, "visits", visited(world), ["visit", "record"], "tom")
    data = {**TRANSITION_DATA["report"], "feedback_meeting_at": "2026-10-01T10:00:00+08:00"}
    r = fire(world, "visits", visit, "report", "mary", data)
    assert r.status_code == 200 and BACKDATED not in r.get_json()["data"]["report"]
