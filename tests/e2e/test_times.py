"""In Chromium: an actual visit time two weeks ahead is refused next to its field, with the
input kept, and a time that has passed is accepted; a manager's back-dated plan is marked in
the history. Screenshots: /tmp/times-*.png."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import PHONE, Person, local, people, plan_visit

__all__ = ["people"]  # the fixture, shared with the walkthrough
SHANGHAI = ZoneInfo("Asia/Shanghai")


def an_hour_ago() -> str:
    return (datetime.now(SHANGHAI) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


def test_a_visit_time_two_weeks_ahead_is_refused_then_a_past_one_accepted(
    people: dict[str, Person], chromium: Any, live_server: LiveServer
) -> None:
    mary, tom = people["mary"], people["tom"]
    visit_id = plan_visit(mary, 1, "华东电网总部 East Grid HQ", "年度走访")
    tom.go(f"/visits/{visit_id}")
    tom.step("prepare")
    tom.page.check("#f-customer_background_reviewed")
    tom.page.check("#f-time_place_confirmed")
    tom.submit("#fire-submit")
    tom.step("visit")
    today = datetime.now(SHANGHAI).date().isoformat()
    assert tom.page.get_attribute("#f-visited_at", "max") == f"{today}T23:59"

    ahead = local(14, 10)
    tom.page.fill("#f-visited_at", ahead)
    with tom.page.expect_navigation():
        tom.page.click("#fire-submit")
    error = tom.page.locator("#field-visited_at .error")
    assert error.inner_text() == "不能晚于当前时间"
    assert tom.page.locator("#form-errors").count() == 1
    assert tom.page.input_value("#f-visited_at") == ahead  # the input is kept
    assert tom.page.get_attribute("#f-visited_at", "aria-invalid") == "true"
    tom.page.screenshot(path="/tmp/times-refused-zh.png", full_page=True)

    phone = Person(chromium, live_server, "tom", viewport=PHONE)
    try:
        phone.go(f"/visits/{visit_id}/fire/visit?lang=en")
        phone.page.fill("#f-visited_at", ahead)
        with phone.page.expect_navigation():
            phone.page.click("#fire-submit")
        assert phone.page.locator("#field-visited_at .error").inner_text() == (
            "must not be in the future"
        )
        phone.page.screenshot(path="/tmp/times-refused-en-phone.png", full_page=True)
    finally:
        phone.close()

    tom.page.fill("#f-visited_at", an_hour_ago())
    tom.submit("#fire-submit")
    assert tom.state("visit") == "visited"
    tom.page.screenshot(path="/tmp/times-accepted-zh.png", full_page=True)


def test_a_manager_back_dates_a_visit_and_the_history_says_so(people: dict[str, Person]) -> None:
    mike = people["mike"]
    mike.go("/visits/new")
    assert mike.page.get_attribute("#f-planned_at", "min") is None  # he may back-date
    mike.page.select_option("#f-customer_id", index=1)
    mike.page.fill("#f-planned_at", local(-3, 10))
    mike.page.select_option("#f-visitors", ["tom"])
    mike.page.check("#f-topics-business_cooperation")
    mike.page.fill("#f-place", "华东电网总部 East Grid HQ")
    mike.submit("#create-visit")
    badge = mike.page.locator("#history .badge.backdated")
    assert badge.inner_text() == "补录（早于录入时间）：计划走访时间"
    mike.page.screenshot(path="/tmp/times-backdated-zh.png", full_page=True)

    mary = people["mary"]
    mary.go("/visits/new")
    today = datetime.now(SHANGHAI).date().isoformat()
    assert mary.page.get_attribute("#f-planned_at", "min") == f"{today}T00:00"
