"""A phone in a basement: the pages kept by the service worker, a visit record filled offline,
sent once when the network is back, and a conflict with a newer version shown, not lost."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import PHONE, Person, local

PAGES_CACHE = "visitflow-pages-v1"
QUEUE = "visitflow-queue:mary"


def visited(mary: Person, place: str) -> int:
    """A visit of mary's and tom's, prepared and visited an hour ago."""
    mary.go("/visits/new")
    mary.page.select_option("#f-customer_id", index=1)
    mary.page.fill("#f-planned_at", local(1, 10))
    mary.page.select_option("#f-visitors", ["mary", "tom"])
    mary.page.fill("#f-place", place)
    mary.submit("#create-visit")
    visit_id = int(re.findall(r"/visits/(\d+)$", mary.page.url)[0])
    mary.step("prepare")
    mary.page.check("#f-customer_background_reviewed")
    mary.page.check("#f-time_place_confirmed")
    mary.submit("#fire-submit")
    mary.step("visit")
    an_hour_ago = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(hours=1)
    mary.page.fill("#f-visited_at", an_hour_ago.strftime("%Y-%m-%dT%H:%M"))
    mary.submit("#fire-submit")
    assert mary.state("visit") == "visited"
    return visit_id


def phone(chromium: Any, server: LiveServer, username: str) -> Person:
    return Person(chromium, server, username, viewport=PHONE, is_mobile=True)


def wait_kept(person: Person, path: str) -> None:
    """Until the service worker controls the page and has kept `path` (it keeps the user's
    pages in the background, after the first page it controls)."""
    person.page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    url = person.server.url + path
    person.page.wait_for_function(
        f"caches.open('{PAGES_CACHE}').then(c => c.match('{url}'))"
        ".then(r => { window.__kept = !!r; }) && window.__kept"
    )


def record_events(server: LiveServer, visit_id: int) -> int:
    from service.store.db import db

    with server.app.app_context():
        query = sa.text(
            "SELECT count(*) FROM transition_events "
            "WHERE workflow = 'visit' AND instance_id = :id AND trigger = 'record'"
        )
        return int(db.session.execute(query, {"id": visit_id}).scalar() or 0)


def fill_record(person: Person, text: str) -> None:
    person.page.fill("#f-customer_basics", "客户今年新增两座变电站。")
    person.page.fill("#f-visit_content", text)


def test_a_record_filled_offline_is_sent_once_when_back_online(
    chromium: Any, live_server: LiveServer, screenshots: Path
) -> None:
    mary = phone(chromium, live_server, "mary")
    try:
        visit_id = visited(mary, "地下配电室")
        mary.go("/")
        record_form = f"/visits/{visit_id}/fire/record"
        wait_kept(mary, record_form)  # the inbox's visit and its next step's form

        mary.context.set_offline(True)
        mary.go(record_form)  # from the service worker's copy
        assert mary.page.is_visible("#offline-banner")
        fill_record(mary, "在地下配电室无信号时填写。")
        mary.page.click("#fire-submit")
        mary.page.wait_for_selector("#queued")
        assert mary.page.locator(".queue-item.queue-waiting").count() == 1
        mary.shot(screenshots / "offline-queued.png")
        assert record_events(live_server, visit_id) == 0  # nothing reached the server
        queued = mary.page.evaluate(f"localStorage.getItem('{QUEUE}')")

        mary.context.set_offline(False)
        mary.page.wait_for_selector("#queue-sent")
        assert mary.page.locator(".queue-item").count() == 0
        assert record_events(live_server, visit_id) == 1
        mary.go(f"/visits/{visit_id}")
        assert mary.state("visit") == "recorded"
        mary.shot(screenshots / "offline-sent.png")

        # the reply was lost and the queue still holds the step: it sends it again, and the
        # server, knowing its client_id, changes nothing
        mary.page.evaluate(f"(q) => localStorage.setItem('{QUEUE}', q)", queued)
        mary.go("/")
        mary.page.wait_for_selector("#queue-sent")
        assert mary.page.locator(".queue-item").count() == 0
        assert record_events(live_server, visit_id) == 1
    finally:
        mary.close()


def test_a_step_taken_by_someone_else_meanwhile_is_shown_and_kept(
    chromium: Any, live_server: LiveServer, screenshots: Path
) -> None:
    mary = phone(chromium, live_server, "mary")
    tom = Person(chromium, live_server, "tom")
    try:
        visit_id = visited(mary, "地下二层机房")
        mary.go("/")
        record_form = f"/visits/{visit_id}/fire/record"
        wait_kept(mary, record_form)
        mary.go(record_form)
        mary.context.set_offline(True)
        fill_record(mary, "马丽离线填写的记录。")
        mary.page.click("#fire-submit")
        mary.page.wait_for_selector("#queued")

        tom.go(record_form)  # meanwhile, online, tom records the visit
        fill_record(tom, "汤姆的记录。")
        tom.submit("#fire-submit")
        assert tom.state("visit") == "recorded"

        mary.context.set_offline(False)
        mary.page.wait_for_selector(".queue-item.queue-conflict")
        assert record_events(live_server, visit_id) == 1  # tom's, not both
        saved = mary.page.evaluate(f"JSON.parse(localStorage.getItem('{QUEUE}'))")
        fields = dict(saved[0]["fields"])
        assert fields["visit_content"] == "马丽离线填写的记录。"  # nothing typed is lost
        assert "他人修改" in mary.page.inner_text("#offline-queue")
        assert "他人修改" in mary.page.inner_text("#queued")  # not "sent when back online"
        mary.shot(screenshots / "offline-conflict.png")
    finally:
        tom.close()
        mary.close()
