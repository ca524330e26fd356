"""Generated texts in the reader's language: a supervisor reads the findings and the notice
the checks issued in Chinese, then switches to English and reads them in English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import PHONE, Person

LATIN = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture(scope="module")
def checked(live_server: LiveServer) -> LiveServer:
    """The supervision checks run once: the core customer has had no visit this year."""
    from service.usecases import supervision

    with live_server.app.app_context():
        result = supervision.run_checks()
    assert result["findings"] >= 1 and result["notices"] >= 1, result
    return live_server


@pytest.fixture
def sara(chromium: Any, checked: LiveServer) -> Iterator[Any]:
    person = Person(chromium, checked, "sara")
    yield person.page
    person.close()


def test_findings_and_the_generated_notice_in_chinese_then_in_english(
    sara: Any, checked: LiveServer
) -> None:
    sara.goto(f"{checked.url}/supervision/findings")
    row = sara.locator("#findings tbody tr").first
    detail = row.inner_text()
    assert "走访计划执行滞后" in detail and "华东电网 East Grid（核心客户）" in detail
    assert "截至" in detail and "已完成走访 0 次" in detail
    assert not LATIN.findall(detail.replace("East Grid", "")), detail
    sara.screenshot(path="/tmp/texts-findings-zh.png", full_page=True)

    with sara.expect_navigation():
        row.locator("a[id$='-notice']").click()
    findings = sara.locator("#data-create").inner_text()
    assert "走访计划执行滞后：华东电网 East Grid（核心客户）" in findings, findings
    assert "visits done" not in sara.content()
    assert sara.inner_text("#notice-created-by") == "系统"
    sara.screenshot(path="/tmp/texts-notice-zh.png", full_page=True)

    with sara.expect_navigation():
        sara.click("#lang-en")
    findings = sara.locator("#data-create").inner_text()
    assert "Visit plan behind schedule: 华东电网 East Grid (Core): 0 visits done by" in findings
    assert "核心客户" not in findings
    sara.screenshot(path="/tmp/texts-notice-en.png", full_page=True)

    sara.goto(f"{checked.url}/supervision/findings")
    detail = sara.locator("#findings tbody tr").first.inner_text()
    assert "Visit plan behind schedule" in detail and "expected of 12 this year" in detail
    sara.screenshot(path="/tmp/texts-findings-en.png", full_page=True)


def test_findings_read_at_phone_width_in_chinese(chromium: Any, checked: LiveServer) -> None:
    sara = Person(chromium, checked, "sara", viewport=PHONE)
    page = sara.page
    try:
        page.goto(f"{checked.url}/supervision/findings?lang=zh")
        text = page.locator("#findings").inner_text()
        assert "应完成" in text and "visits" not in text
        page.screenshot(path="/tmp/texts-findings-phone-zh.png", full_page=True)
    finally:
        sara.close()
