"""The official holidays in the browser: a 2027 plan on the built-in fallback, an admin loads
the State Council's notice for 2027 (preview, then save), and the plan follows it at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import PHONE, Person

YEAR = 2027
NOTICE = """国务院办公厅关于2027年部分节假日安排的通知
国办发明电〔2026〕9号

各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2027年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历腊月二十九、周五）至13日（农历正月初八、周六）放假调休，共9天。2月14日（周日）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）、5月8日（周六）上班。
五、端午节：6月9日（周三）放假，共1天。
六、中秋节：9月15日（周三）放假，共1天。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作，遇有重大突发事件，要按规定及时报告并妥善处置，确保人民群众祥和平安度过节日假期。

国务院办公厅
2026年11月10日
"""
OFF = [
    (date(2027, 1, 1), date(2027, 1, 3)),
    (date(2027, 2, 5), date(2027, 2, 13)),
    (date(2027, 4, 3), date(2027, 4, 5)),
    (date(2027, 5, 1), date(2027, 5, 5)),
    (date(2027, 6, 9), date(2027, 6, 9)),
    (date(2027, 9, 15), date(2027, 9, 15)),
    (date(2027, 10, 1), date(2027, 10, 7)),
]
MAKE_UP = {date(2027, 2, 14), date(2027, 4, 25), date(2027, 5, 8), date(2027, 9, 26)}
MAKE_UP.add(date(2027, 10, 9))


def days_off() -> set[date]:
    out = set()
    for start, end in OFF:
        out.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    return out


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    """An administrator, and visits 30 working days apart: the core customer's 12 do not fit."""
    from service.core import runtime
    from service.store.db import db
    from service.usecases.accounts import create_user, ensure_department

    app = live_server.app
    with app.app_context():
        ensure_department("it", "信息技术部")
        db.session.commit()
        create_user("admin", "admin", "it", "pw-admin", "系统管理员")
        assert runtime.registry().calendar.year_source(YEAR) == "builtin", "2027 has data"
    app.config["PLAN_MIN_GAP_WORKING_DAYS"] = 30
    return live_server


@pytest.fixture(scope="module")
def mike(chromium: Any, server: LiveServer) -> Iterator[Person]:
    person = Person(chromium, server, "mike")
    yield person
    person.close()


@pytest.fixture(scope="module")
def admin(chromium: Any, server: LiveServer) -> Iterator[Person]:
    person = Person(chromium, server, "admin")
    yield person
    person.close()


def planned_days(page: Any) -> list[date]:
    texts = page.locator(".plan-visit").all_inner_texts()
    return [date.fromisoformat(text[:10]) for text in texts]


def test_the_plan_falls_back_then_follows_the_notice_an_admin_loads(
    mike: Person, admin: Person, server: LiveServer
) -> None:
    plan = mike.page
    mike.go(f"/plan?year={YEAR}")
    notice = plan.locator("#plan-calendar-builtin")
    assert notice.is_visible() and "2027 年尚无官方节假日安排" in notice.inner_text()
    assert plan.locator("#plan-calendar-load").count() == 0  # mike is no administrator
    fallback = planned_days(plan)
    assert fallback and date(2027, 10, 1) not in fallback
    mike.shot("/tmp/holidays-plan-fallback-zh.png")

    page = admin.page
    with page.expect_navigation():
        page.click("#nav-holidays")
    assert page.locator("h1").inner_text() == "法定节假日"
    assert page.locator("#holidays-none").is_visible()
    page.fill("#f-text", NOTICE)
    with page.expect_navigation():
        page.click("#holidays-preview")
    assert page.locator(".error").count() == 0, page.locator(".error").all_inner_texts()
    spans = page.locator("#holidays-spans .holiday-span")
    assert spans.count() == 7
    assert "2027-02-05（周五） – 2027-02-13（周六）" in page.inner_text("#holidays-spans")
    assert page.locator("#holidays-workdays .workday").count() == 5
    change = page.locator('.holiday-change[data-date="2027-10-09"]').inner_text()
    assert "放假" in change and "调休上班" in change
    assert page.locator("#holidays-years").count() == 0  # nothing saved by the preview
    admin.shot("/tmp/holidays-preview-zh.png")
    with page.expect_navigation():
        page.click("#holidays-save")
    assert "2027 年法定节假日安排已保存" in page.inner_text("#flashes")
    years = page.locator('#holidays-years .holiday-year[data-year="2027"]').inner_text()
    assert "系统管理员" in years and "10-01–10-07" in years
    admin.shot("/tmp/holidays-saved-zh.png")
    admin.go("/holidays?lang=en")
    assert page.locator("#holidays-stored h2").inner_text() == "Years loaded"
    admin.shot("/tmp/holidays-saved-en.png")

    mike.go(f"/plan?year={YEAR}")
    assert plan.locator("#plan-calendar-builtin").count() == 0
    days = planned_days(plan)
    assert days, "no visit planned"
    assert not set(days) & days_off(), sorted(set(days) & days_off())
    weekend = [d for d in days if d.weekday() >= 5 and d not in MAKE_UP]
    assert not weekend, weekend
    reason = plan.locator("#plan-shortfalls .shortfall-reason").first.inner_text()
    assert "次未能安排" in reason and "间隔 30 个工作日" in reason, reason
    visitors = " ".join(plan.locator(".plan-visit").all_inner_texts())
    assert "Mary 王" in visitors and "mary" not in visitors
    mike.shot("/tmp/holidays-plan-official-zh.png")


def test_the_page_is_refused_to_anyone_but_an_admin(mike: Person) -> None:
    response = mike.go("/holidays")
    assert response.status == 403
    assert "只有系统管理员可以载入法定节假日安排" in mike.page.inner_text("main")
    assert mike.page.locator("#nav-holidays").count() == 0


def test_the_admin_page_at_phone_width(chromium: Any, server: LiveServer) -> None:
    phone = Person(chromium, server, "admin", viewport=PHONE, is_mobile=True)
    try:
        phone.go("/holidays")
        page = phone.page
        assert page.locator("#nav").is_hidden()  # folded under the menu button
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        page.fill("#f-text", NOTICE.replace("共7天", "共8天"))
        with page.expect_navigation():
            page.click("#holidays-preview")
        assert "国庆节：通知写明共 8 天，但所列日期共 7 天" in page.inner_text("#f-text-error-1")
        phone.shot("/tmp/holidays-phone-error-zh.png")
        page.fill("#f-text", "")
        upload = {"name": "2027.txt", "mimeType": "text/plain", "buffer": NOTICE.encode()}
        page.set_input_files("#f-file", upload)
        with page.expect_navigation():
            page.click("#holidays-preview")
        assert page.locator("#holidays-spans .holiday-span").count() == 7
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.shot("/tmp/holidays-phone-preview-zh.png")
    finally:
        phone.close()
