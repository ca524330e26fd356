"""What a browser sees of a bad list filter: the list page with a clear message near the
filters (status 422), in Chinese and in English, at desktop and phone width; fixing the
filter shows the list again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import PHONE, Person


def test_a_bad_filter_is_explained_on_the_list_page(
    chromium: Any, live_server: LiveServer, screenshots: Path
) -> None:
    mary = Person(chromium, live_server, "mary")
    page = mary.page
    try:
        response = page.goto(f"{live_server.url}/visits?from=garbage&overdue=maybe")
        assert response.status == 422
        box = page.locator("#filter-errors")
        assert box.is_visible()
        text = box.inner_text()
        assert "以下筛选条件无法使用" in text and "不是日期" in text and "逾期" in text
        assert page.locator("#visit-filters").is_visible()  # the filters, to correct them
        page.screenshot(path=str(screenshots / "running-bad-filter-zh.png"), full_page=True)
        page.screenshot(path="/tmp/running-bad-filter-zh.png", full_page=True)
        # correcting it: the filter form's own submit, blank values are no filter
        page.goto(f"{live_server.url}/visits?lang=en&page=0")
        assert "Must be 1 or more." in page.locator("#filter-errors").inner_text()
        with page.expect_navigation():
            page.click("#filter-submit")
        assert page.locator("#filter-errors").count() == 0
        assert page.locator("#visit-total").is_visible()
    finally:
        mary.close()


def test_the_message_fits_a_phone(chromium: Any, live_server: LiveServer) -> None:
    mary = Person(chromium, live_server, "mary", viewport=PHONE)
    page = mary.page
    try:
        response = page.goto(f"{live_server.url}/issues?severity=huge&customer_id=abc")
        assert response.status == 422
        box = page.locator("#filter-errors")
        assert box.is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, width  # no sideways scrolling
        page.screenshot(path="/tmp/running-bad-filter-phone.png", full_page=True)
    finally:
        mary.close()
