"""The forms clicked through in headless Chromium: visitors chosen by typing
part of a name, a notice's related issue chosen by search, a returned notice keeping both
rectification reports, and the addressee opening the related issue (no 404)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import PHONE, Person, local, people  # noqa: F401 - fixture

SHOTS = Path("/tmp")


def plan_visit_typing_names(mary: Person) -> int:
    mary.go("/visits/new")
    mary.page.select_option("#f-customer_id", index=1)
    mary.page.fill("#f-planned_at", local(3, 10))
    mary.page.fill("#f-visitors-filter", "tom")  # part of "Tom 张 · 技术部"
    assert mary.page.locator("#f-visitors option:not([hidden])").all_inner_texts() == [
        "Tom 张 · 技术部"
    ]
    mary.page.press("#f-visitors-filter", "Enter")
    assert "Tom 张" in mary.page.inner_text("#f-visitors-chosen")
    assert "Mary 王" in mary.page.inner_text("#f-visitors-chosen")  # the planner, preselected
    mary.page.fill("#f-place", "华东电网总部")
    mary.shot(SHOTS / "forms-visit-new.png")
    mary.submit("#create-visit")
    assert mary.state("visit") == "planned"
    return int(re.findall(r"/visits/(\d+)$", mary.page.url)[0])


def raise_issue(mary: Person, visit_id: int) -> int:
    mary.go(f"/visits/{visit_id}")
    with mary.page.expect_navigation():
        mary.page.click("#raise-issue")
    assert mary.page.locator("#f-visit_id-chosen li").count() == 1  # the visit, by its label
    mary.page.fill("#f-title", "备件交付偏慢")
    mary.page.fill("#f-description", "客户反映备件从下单到到货需要六周。")
    mary.page.select_option("#f-category", "after_sales")
    mary.page.select_option("#f-severity", index=2)
    mary.submit("#issue-submit")
    return int(re.findall(r"/issues/(\d+)$", mary.page.url)[0])


def issue_notice_with_search(sara: Person, issue_id: int) -> int:
    sara.go("/notices/new")
    sara.page.select_option("#f-department", "technical")
    sara.page.fill("#f-findings", "备件问题未按期跟踪。")
    sara.page.fill("#f-due_at", local(5, 18)[:10])
    sara.page.fill("#f-related_issues", "备件")
    option = sara.page.locator("#f-related_issues-results .ref-option").first
    option.wait_for()
    assert option.inner_text() == f"#{issue_id} 备件交付偏慢 · 华东电网 East Grid"
    option.click()
    chosen = sara.page.locator('#f-related_issues-chosen input[name="related_issues"]')
    assert chosen.get_attribute("value") == str(issue_id)
    sara.shot(SHOTS / "forms-notice-new.png")
    sara.submit("#issue-notice")
    return int(re.findall(r"/notices/(\d+)$", sara.page.url)[0])


def rectify(tom: Person, notice_id: int, report: str) -> None:
    tom.go(f"/notices/{notice_id}")
    tom.step("rectify")
    tom.page.fill("#f-report", report)
    tom.submit("#fire-submit")


def test_forms_pick_people_and_items_and_keep_every_round(
    people: dict[str, Person],  # noqa: F811
    chromium: Any,
    live_server: LiveServer,  # noqa: F811
) -> None:
    mary, sara, tom = people["mary"], people["sara"], people["tom"]
    visit_id = plan_visit_typing_names(mary)
    issue_id = raise_issue(mary, visit_id)
    assert tom.go(f"/issues/{issue_id}").status == 404  # before the notice: not tom's issue

    notice_id = issue_notice_with_search(sara, issue_id)
    tom.go(f"/notices/{notice_id}")
    tom.step("acknowledge")
    tom.page.fill("#f-plan", "每周跟踪备件到货。")
    tom.submit("#fire-submit")
    rectify(tom, notice_id, "第一次整改报告：已建立跟踪表。")
    sara.go(f"/notices/{notice_id}")
    sara.step("return")
    sara.page.fill("#f-reason", "跟踪表未覆盖全部备件。")
    sara.submit("#fire-submit")
    rectify(tom, notice_id, "第二次整改报告：跟踪表已覆盖全部备件。")

    sara.go(f"/notices/{notice_id}")
    history = sara.page.inner_text("#history")
    assert "第一次整改报告" in history and "第二次整改报告" in history
    assert history.index("第二次整改报告") < history.index("第一次整改报告")
    assert "版本" not in sara.page.inner_text("main")
    sara.shot(SHOTS / "forms-notice-rounds.png")
    phone = Person(chromium, live_server, "sara", viewport=PHONE)
    try:
        phone.go(f"/notices/{notice_id}")
        phone.shot(SHOTS / "forms-notice-rounds-phone.png")
    finally:
        phone.close()

    tom.go(f"/notices/{notice_id}")
    link = tom.page.locator("#notice-related a").first
    with tom.page.expect_navigation() as nav:
        link.click()
    assert nav.value.status == 200
    assert tom.state("issue") == "raised"
    tom.shot(SHOTS / "forms-related-issue-tom.png")
