"""The pages as a phone (390 px) and a desk show them: the menu folds, the calendar lists its
days, the charts fit, static files come from the browser's cache, and each page's load time
(navigation to the load event, warm cache) is printed, not asserted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import LiveServer

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
SHOTS = Path("/tmp")
LOAD_MS = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  return n.loadEventEnd - n.startTime;
}"""


class Session:
    """One signed-in browser context for one user, at one viewport."""

    def __init__(self, chromium: Any, server: LiveServer, username: str, viewport: dict[str, int]):
        self.url = server.url
        self.context = chromium.new_context(viewport=viewport)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.page.goto(f"{self.url}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", f"pw-{username}")
        with self.page.expect_navigation():
            self.page.click("#login-submit")
        assert "/login" not in self.page.url

    def go(self, path: str) -> float:
        """Open `path`; the milliseconds from navigation start to the end of the load event."""
        response = self.page.goto(f"{self.url}{path}", wait_until="load")
        assert response is not None and response.status == 200, (path, response)
        return self.loaded()

    def loaded(self) -> float:
        self.page.wait_for_function(
            "performance.getEntriesByType('navigation')[0].loadEventEnd > 0"
        )
        return float(self.page.evaluate(LOAD_MS))

    def scroll_width(self) -> int:
        return int(self.page.evaluate("document.documentElement.scrollWidth"))

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"pages-{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def items(live_server: LiveServer) -> dict[str, Any]:
    """A visit planned in a few days, an issue on the customer, a notice to technical."""
    client = live_server.app.test_client()

    def post(user: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = client.post(
            "/api/v1/auth/tokens", json={"username": user, "password": f"pw-{user}"}
        ).get_json()["token"]
        r = client.post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.get_json()
        created: dict[str, Any] = r.get_json()
        return created

    zone = ZoneInfo("Asia/Shanghai")
    day = datetime.now(zone) + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    planned = day.replace(hour=10, minute=0, second=0, microsecond=0)
    visit = post(
        "mary",
        "/visits",
        {
            "customer_id": 1,  # the seed's one customer
            "planned_at": planned.isoformat(),
            "visitors": ["mary", "tom"],
            "topics": ["needs_research"],
            "place": "华东电网总部 East Grid HQ",
            "purpose": "年度走访",
        },
    )
    issue = post(
        "mary",
        "/issues",
        {
            "customer_id": 1,
            "title": "备件供应慢",
            "description": "备件到货要两周",
            "category": "product",
            "severity": "medium",
        },
    )
    notice = post(
        "sara",
        "/rectification-notices",
        {
            "department": "technical",
            "findings": "走访记录未在 2 个工作日内提交。",
            "due_at": (planned + timedelta(days=7)).replace(hour=18).isoformat(),
        },
    )
    return {"visit": visit, "issue": issue, "notice": notice, "month": planned.strftime("%Y-%m")}


@pytest.fixture
def sessions(chromium: Any, live_server: LiveServer) -> Iterator[Any]:
    opened: list[Session] = []

    def open_session(username: str, viewport: dict[str, int] = PHONE) -> Session:
        opened.append(Session(chromium, live_server, username, viewport))
        return opened[-1]

    yield open_session
    for s in opened:
        s.close()


def test_the_menu_folds_on_a_phone_and_opens_with_its_button(sessions: Any) -> None:
    phone = sessions("mary")
    phone.go("/")
    nav, button = phone.page.locator("#nav"), phone.page.locator("#menu-button")
    assert button.is_visible() and not nav.is_visible()
    assert phone.page.locator("#top").bounding_box()["height"] < 80  # one line of header
    phone.shot("phone-menu-closed")
    button.click()
    assert nav.is_visible() and phone.page.locator("#nav-visits").is_visible()
    phone.shot("phone-menu-open")
    with phone.page.expect_navigation():
        phone.page.click("#nav-visits")
    assert phone.page.url.endswith("/visits") and not nav.is_visible()
    assert phone.scroll_width() <= 390
    desk = sessions("mary", WIDE)
    desk.go("/")
    assert desk.page.locator("#nav").is_visible()
    assert not desk.page.locator("#menu-button").is_visible()
    desk.shot("desk-inbox")


def test_the_calendar_lists_the_days_on_a_phone(sessions: Any, items: dict[str, Any]) -> None:
    visit = items["visit"]
    day = datetime.fromisoformat(visit["planned_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    phone = sessions("mary")
    phone.go(f"/visits/calendar?month={items['month']}")
    assert not phone.page.locator("#calendar thead").is_visible()
    cell = phone.page.locator(f"#day-{day.date().isoformat()}")
    entry = phone.page.locator(f"#cal-visit-{visit['id']}")
    assert cell.is_visible() and entry.is_visible()
    assert cell.bounding_box()["width"] > 300  # a row across the screen, not a seventh of it
    box = entry.bounding_box()
    assert box["width"] > 200 and box["height"] < 60  # words on a line, not a letter per line
    assert "10:00" in entry.inner_text()
    empty_days = phone.page.locator("#calendar td.no-visits:not(.today)")
    assert empty_days.count() > 0 and not empty_days.first.is_visible()
    assert phone.scroll_width() <= 390
    phone.shot("phone-calendar")
    desk = sessions("mary", WIDE)
    desk.go(f"/visits/calendar?month={items['month']}")
    assert desk.page.locator("#calendar thead").is_visible()
    assert desk.page.locator("#calendar td.no-visits").first.is_visible()  # the month grid
    desk.shot("desk-calendar")


def test_the_dashboard_fits_a_phone_with_readable_charts(sessions: Any) -> None:
    phone = sessions("mike")
    phone.go("/dashboard")
    assert phone.scroll_width() <= 390
    charts = phone.page.locator("svg.chart")
    assert charts.count() == 6
    assert charts.first.bounding_box()["width"] <= 390
    size = phone.page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('svg.chart text')).fontSize)"
    )
    height = phone.page.locator("svg.chart text").first.bounding_box()["height"]
    assert size >= 12 and height >= 12  # not shrunk with the chart
    phone.shot("phone-dashboard")
    for section in ("plan-tier", "satisfaction", "cooperation"):
        phone.page.locator(f"#{section}").screenshot(path=str(SHOTS / f"pages-phone-{section}.png"))
    desk = sessions("mike", WIDE)
    desk.go("/dashboard")
    desk.shot("desk-dashboard")


def test_an_instance_page_shows_its_diagram_and_fits_a_phone(
    sessions: Any, items: dict[str, Any]
) -> None:
    phone = sessions("mary")
    phone.go(f"/visits/{items['visit']['id']}")
    diagram = phone.page.locator("#diagram svg.diagram")
    assert diagram.is_visible()
    assert phone.page.locator("#diagram-planned.current").count() == 1
    assert phone.page.locator("#diagram-panel summary").inner_text() == "流程图"
    assert diagram.bounding_box()["width"] <= 390
    assert phone.scroll_width() <= 390
    phone.shot("phone-visit")
    desk = sessions("sara", WIDE)
    desk.go(f"/notices/{items['notice']['id']}")
    assert desk.page.locator("#diagram-issued.current").count() == 1
    desk.shot("desk-notice")


def test_static_files_come_from_the_cache_and_each_page_loads_quickly(
    sessions: Any, items: dict[str, Any]
) -> None:
    """Each page twice: the second load takes its CSS from the cache (nothing transferred);
    the load times of the second round are printed (the target is 300 ms)."""
    pages = {
        "mary": [
            ("inbox", "/"),
            ("visits", "/visits"),
            ("calendar", f"/visits/calendar?month={items['month']}"),
            ("visit", f"/visits/{items['visit']['id']}"),
            ("issues", "/issues"),
            ("issue", f"/issues/{items['issue']['id']}"),
            ("customers", "/customers"),
            ("customer", "/customers/1"),
        ],
        "sara": [("notice", f"/notices/{items['notice']['id']}")],
        "mike": [("dashboard", "/dashboard"), ("compliance", "/compliance"), ("plan", "/plan")],
    }
    timings: dict[str, float] = {}
    for user, paths in pages.items():
        desk = sessions(user, WIDE)
        for name, path in paths:
            desk.go(path)
            timings[name] = desk.go(path)
            css = desk.page.evaluate(
                "performance.getEntriesByType('resource')"
                ".filter(e => e.name.includes('visitflow.css')).map(e => e.transferSize)"
            )
            assert css == [0], (name, css)  # from the cache, not even revalidated
    print("\nbrowser load (navigation start to load event end, warm cache):")
    for name, ms in timings.items():
        print(f"  {name:<11} {ms:7.1f} ms")
