"""The supervision group's checks (regulation 7(一)2): plan execution, record completeness and
timeliness of issue resolution. Each finding is recorded once, listed at
GET /api/v1/supervision/findings, and turned into one rectification notice where policy says
so - never twice, and never a second notice for an overdue issue whose expiry issued one.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from service.core import config
from service.usecases import deadlines, supervision
from tests.integration.conftest import (
    TRANSITION_DATA,
    Clock,
    World,
    advance,
    create_visit,
    fire,
)
from tests.integration.web import Browser
from tests.support.worker import queue_of, run_queued, table_rows


def policy(**over: Any) -> dict[str, Any]:
    chosen = copy.deepcopy(config.DEFAULT_POLICY)
    chosen.update(over)
    return chosen


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, Any]:
    # no yearly quotas unless a test sets them: plan execution findings only where wanted
    return {
        "OUTBOX_DISPATCH": "inline",
        "MAILBOX_PATH": str(tmp_path / "mail.mbox"),
        "POLICY": policy(visit_quotas={}),
    }


@pytest.fixture(autouse=True)
def empty_redis(redis_url: str) -> None:
    conn = redis.Redis.from_url(redis_url)
    conn.flushall()
    conn.close()


def run_checks(world: World) -> dict[str, Any]:
    with world.app.app_context():
        return supervision.run_checks()


def findings(world: World, user: str = "sara", **query: Any) -> list[dict[str, Any]]:
    r = world.get("/api/v1/supervision/findings", user, query_string=query)
    assert r.status_code == 200, r.get_json()
    return list(r.get_json()["items"])


def notices(world: World) -> list[dict[str, Any]]:
    return table_rows(world.app, "rectification_notices")


def visited_visit(world: World) -> dict[str, Any]:
    visit = create_visit(world, planned_at="2026-11-02T10:00:00+08:00")
    return advance(world, "visits", visit, ["prepare", "visit"], "tom")


def assigned_issue(world: World) -> dict[str, Any]:
    r = world.post(
        "/api/v1/issues",
        "mary",
        {
            "customer_id": world.customers["Acme"],
            "title": "Late spare parts",
            "description": "Spare parts take weeks",
            "category": "after_sales",
            "severity": "medium",
        },
    )
    assert r.status_code == 201, r.get_json()
    data = {
        "responsible_department": "technical",
        "responsible_person": "ted",
        "due_at": "2026-11-20",
    }
    r = fire(world, "issues", r.get_json(), "assign", "mary", data)
    assert r.status_code == 200, r.get_json()
    return dict(r.get_json())


# -- record completeness ------------------------------------------------------------------------
def test_a_visit_not_recorded_within_two_working_days_is_a_finding_with_a_notice(
    world: World, clock: Clock
) -> None:
    visit = visited_visit(world)  # visited on Monday 2026-11-02
    clock.now = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)  # Thursday: three working days on
    assert run_checks(world) == {"findings": 1, "notices": 1, "at": clock.now.isoformat()}
    [item] = findings(world, kind="record_completeness")
    assert item["object"] == {"workflow": "visit", "id": visit["id"]}
    assert item["department"] == "marketing"
    assert datetime.fromisoformat(item["found_at"]) == clock.now
    [notice] = notices(world)
    assert item["notice_id"] == notice["id"]
    assert (notice["department"], notice["state"]) == ("marketing", "issued")
    assert notice["related"] == [{"workflow": "visit", "id": visit["id"]}]


def test_two_working_days_are_not_yet_a_finding(world: World, clock: Clock) -> None:
    visited_visit(world)
    clock.now = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)  # Wednesday evening
    assert run_checks(world)["findings"] == 0
    assert findings(world) == []


def test_running_the_checks_again_adds_no_finding_and_no_notice(world: World, clock: Clock) -> None:
    visited_visit(world)
    clock.now = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    run_checks(world)
    before = (findings(world), notices(world))
    clock.advance(days=1)
    assert run_checks(world)["findings"] == 0
    assert (findings(world), notices(world)) == before


def test_a_finding_kind_policy_does_not_list_gets_no_notice(world: World, clock: Clock) -> None:
    world.app.config["POLICY"]["auto_rectification"]["findings"] = ["issue_timeliness"]
    visited_visit(world)
    clock.now = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    assert run_checks(world)["notices"] == 0
    [item] = findings(world)
    assert item["notice_id"] is None
    assert notices(world) == []


# -- timeliness of issue resolution -------------------------------------------------------------
def issue_past_due(world: World, clock: Clock) -> dict[str, Any]:
    issue = assigned_issue(world)
    [d] = [
        d
        for d in table_rows(world.app, "deadlines", workflow="issue", instance_id=issue["id"])
        if d["status"] == "open"
    ]
    clock.now = d["due_at"] + timedelta(hours=1)
    return issue


def test_an_issue_past_its_deadline_is_a_finding_sharing_the_expirys_notice(
    world: World, clock: Clock
) -> None:
    issue = issue_past_due(world, clock)
    with world.app.app_context():
        [expiry_notice] = deadlines.fire_all_due().notices
    assert run_checks(world) == {"findings": 1, "notices": 0, "at": clock.now.isoformat()}
    [item] = findings(world, kind="issue_timeliness")
    assert item["object"] == {"workflow": "issue", "id": issue["id"]}
    assert (item["department"], item["notice_id"]) == ("technical", expiry_notice)
    assert [n["id"] for n in notices(world)] == [expiry_notice]


def test_an_issue_found_late_before_its_deadline_fires_gets_one_notice(
    world: World, clock: Clock
) -> None:
    issue = issue_past_due(world, clock)
    assert run_checks(world)["notices"] == 1
    run_queued(world.app)  # now the deadline fires too
    [notice] = notices(world)
    assert notice["related"] == [{"workflow": "issue", "id": issue["id"]}]
    assert findings(world)[0]["notice_id"] == notice["id"]
    assert run_checks(world)["findings"] == 0
    assert len(notices(world)) == 1


# -- plan execution -----------------------------------------------------------------------------
def test_customers_behind_their_yearly_visits_at_mid_year_are_findings(
    world: World, clock: Clock
) -> None:
    world.app.config["POLICY"]["visit_quotas"] = {"core": 12, "important": 6, "general": 2}
    for day in (10, 17):  # Globex (important) has its two visits, planned and made in June
        clock.now = datetime(2026, 6, day, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
        visit = create_visit(
            world, customer_id=world.customers["Globex"], planned_at=f"2026-06-{day}T10:00+08:00"
        )
        visit = advance(world, "visits", visit, ["prepare"], "tom")
        clock.now = datetime(2026, 6, day, 3, 0, tzinfo=UTC)  # 11:00: the visit is over
        visited = {"visited_at": f"2026-06-{day}T10:00:00+08:00"}
        r = fire(world, "visits", visit, "visit", "tom", visited)
        record = {**TRANSITION_DATA["record"], **visited}  # and recorded the same day
        assert fire(world, "visits", r.get_json(), "record", "tom", record).status_code == 200
    # 30 June 10:00 in Shanghai: June has not ended, so the visits due are those of the months
    # ended, January to May: core 5 (one a month), important 2 (February, April), general 0
    clock.now = datetime(2026, 6, 30, 2, 0, tzinfo=UTC)
    result = run_checks(world)
    items = findings(world, kind="plan_execution")
    assert [i["object"] for i in items] == [{"workflow": "customer", "id": world.customers["Acme"]}]
    assert "0 visits done" in items[0]["detail"]
    assert "5 expected of 12" in items[0]["detail"]
    assert result == {"findings": 1, "notices": 1, "at": clock.now.isoformat()}
    [notice] = notices(world)
    assert (items[0]["notice_id"], notice["department"], notice["related"]) == (
        notice["id"],
        "marketing",
        [],
    )
    clock.now = datetime(2026, 6, 30, 15, 59, 59, tzinfo=UTC)  # 23:59:59: still June
    assert run_checks(world)["findings"] == 0, findings(world)
    assert len(notices(world)) == 1
    # 16:00 UTC is 1 July 00:00 in Shanghai: June's visits fall due (core 6, important 3,
    # general 1), so Globex (2 of 3) and Initech (0 of 1) are behind too, and Acme for July
    clock.now = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
    assert run_checks(world)["findings"] == 3
    details = {i["object"]["id"]: i["detail"] for i in findings(world, kind="plan_execution")}
    assert "2 visits done by 2026-07-01, 3 expected of 6" in details[world.customers["Globex"]]
    assert "0 visits done by 2026-07-01, 1 expected of 2" in details[world.customers["Initech"]]


def test_the_supervise_job_runs_the_checks_on_a_real_worker(world: World, clock: Clock) -> None:
    world.app.config["POLICY"]["visit_quotas"] = {"core": 12, "important": 6, "general": 2}
    clock.now = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    with world.app.app_context():
        queue_of(world.app).enqueue("service.jobs.tasks.supervise")
        queue_of(world.app).enqueue("service.jobs.tasks.supervise")
    first, second = run_queued(world.app, rounds=1)
    # 1 July 10:00 in Shanghai, no visit done: January to June are due, core 6, important 3
    # and general 1 (June's), so Acme, Globex and Initech are all behind
    assert first.result["findings"] == 3
    assert second.result["findings"] == 0
    assert Counter(i["kind"] for i in findings(world)) == {"plan_execution": 3}
    assert len(notices(world)) == 3


# -- who may see the findings -------------------------------------------------------------------
@pytest.mark.parametrize("user", ["sara", "boss", "mike", "mary", "admin"])
def test_supervision_management_and_marketing_see_the_findings(world: World, user: str) -> None:
    assert world.get("/api/v1/supervision/findings", user).status_code == 200


@pytest.mark.parametrize("user", ["tom", "amy"])
def test_technical_and_after_sales_staff_may_not_see_the_findings(world: World, user: str) -> None:
    r = world.get("/api/v1/supervision/findings", user)
    assert r.status_code == 403
    assert r.get_json()["code"] == "forbidden"


def test_the_findings_page_says_when_the_checks_run_next(world: World, clock: Clock) -> None:
    clock.now = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # Friday 09:00 Shanghai: 08:00 has passed
    page = Browser(world, "sara", lang="en").get("/supervision/findings").text
    said = page.split('id="finding-schedule">')[1].split("</p>")[0]
    assert said == "The checks run on working days at 08:00; the next run: 2026-12-07 08:00."
    clock.now = datetime(2026, 12, 6, 23, 59, tzinfo=UTC)  # Monday 07:59 Shanghai
    page = Browser(world, "sara").get("/supervision/findings").text
    assert "检查于每个工作日 08:00 进行；下次检查：2026-12-07 08:00。" in page
    world.app.config["SUPERVISION_INTERVAL"] = 600
    page = Browser(world, "sara", lang="en").get("/supervision/findings").text
    assert "The checks run every 600 seconds." in page
