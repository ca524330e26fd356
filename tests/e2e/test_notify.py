"""Notifications in the browser: mike assigns an issue to tom; tom signs in, sees the unread
count, opens the notification, lands on the issue, and the count drops."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import PHONE, Person


def raised_issue(server: LiveServer) -> int:
    """mary raises an issue (through the use case, as any entry point would)."""
    from service.store.kinds import ISSUE
    from service.store.models import Customer
    from service.usecases import handlers
    from workflows import Actor

    with server.app.app_context():
        from service.store.db import db

        customer = db.session.query(Customer).first()
        assert customer is not None
        payload = {
            "customer_id": customer.id,
            "title": "备件交付偏慢",
            "description": "客户反映备件从下单到到货需要六周。",
            "category": "after_sales",
            "severity": "high",
        }
        actor = Actor("mary", "marketing_staff", "marketing")
        created = handlers.create(ISSUE, payload, handlers.Context(actor, "web"))
        return int(created["id"])


def test_the_assignee_is_told_and_lands_on_the_issue(
    live_server: LiveServer, chromium: Any, screenshots: Path
) -> None:
    issue_id = raised_issue(live_server)
    mike = Person(chromium, live_server, "mike")
    tom = Person(chromium, live_server, "tom")
    try:
        mike.go(f"/issues/{issue_id}")
        mike.step("assign")
        mike.page.select_option("#f-responsible_department", "technical")
        mike.page.select_option("#f-responsible_person", "tom")
        due = (datetime.now() + timedelta(days=14)).strftime("%Y-%m-%d")
        mike.page.fill("#f-due_at", due)
        mike.submit("#fire-submit")
        assert mike.state("issue") == "assigned"

        tom.go("/")
        assert tom.page.inner_text("#unread-count") == "1"
        tom.page.click("#nav-notifications")
        tom.page.wait_for_selector("#notifications")
        item = tom.page.locator("#notifications li.unread")
        assert item.count() == 1
        text = item.first.inner_text()
        assert f"#{issue_id}" in text and "列入跟踪台账" in text and "Mike 李" in text
        tom.shot(screenshots / "notifications.png")
        tom.shot(Path("/tmp/notify-list.png"))
        phone = Person(chromium, live_server, "tom", viewport=PHONE, is_mobile=True)
        try:
            phone.go("/notifications")
            phone.shot(Path("/tmp/notify-phone.png"))
            phone.go("/notifications?lang=en")
            phone.shot(Path("/tmp/notify-phone-en.png"))
        finally:
            phone.close()
        with tom.page.expect_navigation():
            item.first.locator("button.notification-open").click()
        assert tom.page.url.endswith(f"/issues/{issue_id}")
        assert tom.page.locator("#unread-count").count() == 0  # the count dropped
        tom.shot(Path("/tmp/notify-landed.png"))
    finally:
        mike.close()
        tom.close()
