"""An instance's page keeps every round of a step: the timeline shows each event
with the data submitted in it, newest first; the step cards follow the history; people are
named by their display names; no internal jargon (versions, entry points) on the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import World, advance, create_visit, fire
from tests.integration.test_api_support import create_issue, create_notice
from tests.integration.web import Browser


@pytest.fixture
def named(world: World) -> World:
    from service.store.db import db
    from service.store.models import User

    with world.app.app_context():
        for username, name in (
            ("mary", "王丽"),
            ("tom", "张涛"),
            ("sara", "赵敏"),
            ("mike", "李明"),
        ):
            db.session.execute(
                User.__table__.update()
                .where(User.__table__.c.username == username)
                .values(display_name=name)
            )
        db.session.commit()
    return world


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


def timeline(html: str) -> str:
    start = html.index('id="history"')
    return html[start : html.index("</section>", start)]


def returned_notice(world: World) -> dict[str, Any]:
    path = "rectification-notices"
    notice = create_notice(world, department="technical")
    notice = ok(fire(world, path, notice, "acknowledge", "tom"))
    notice = ok(fire(world, path, notice, "rectify", "tom", {"report": "First report: retrained"}))
    notice = ok(fire(world, path, notice, "return", "sara", {"reason": "Not enough"}))
    return ok(fire(world, path, notice, "rectify", "tom", {"report": "Second report: audited"}))


def test_a_returned_notice_shows_both_rectification_reports(world: World) -> None:
    notice = returned_notice(world)
    page = Browser(world, "sara", lang="zh").get(f"/notices/{notice['id']}").text
    history = timeline(page)
    assert "First report: retrained" in history and "Second report: audited" in history
    assert history.index("Second report") < history.index("First report")  # newest first
    assert history.count("<dt>整改报告</dt>") == 2  # the field, in each round
    assert "Second report: audited" in page[: page.index('id="history"')]  # the card: latest
    assert "第 2 次" in page  # the card says it is a second round


def test_a_visit_sent_back_for_rework_shows_both_records(world: World) -> None:
    visit = create_visit(world)
    visit = advance(world, "visits", visit, ["prepare", "visit"], "mary")
    record = {
        "visited_at": "2026-11-01T10:30:00+08:00",  # before the tests' clock: not in the future
        "place": "Acme HQ",
        "visitors": ["mary", "tom"],
        "customer_basics": "growing",
    }
    visit = ok(fire(world, "visits", visit, "record", "mary", {**record, "visit_content": "v1"}))
    visit = ok(fire(world, "visits", visit, "rework", "mike"))
    content = {**record, "visit_content": "The second, complete record"}
    visit = ok(fire(world, "visits", visit, "record", "mary", content))
    page = Browser(world, "mary").get(f"/visits/{visit['id']}").text
    history = timeline(page)
    assert ">v1<" in history and "The second, complete record" in history
    assert history.index("The second, complete record") < history.index(">v1<")
    # the cards follow the history: the record submitted again comes after the rework
    assert page.index('id="data-rework"') < page.index('id="data-record"')
    assert page.index('id="data-visit"') < page.index('id="data-rework"')


def test_a_reopened_issue_shows_both_resolutions(world: World) -> None:
    issue = create_issue(world, visit_id=create_visit(world)["id"])
    issue = advance(world, "issues", issue, ["assign"], "mary")
    issue = ok(
        fire(
            world,
            "issues",
            issue,
            "resolve",
            "tom",
            {"root_cause": "Cause one", "solution": "Solution one", "customer_informed": True},
        )
    )
    issue = ok(fire(world, "issues", issue, "reopen", "mary"))
    issue = ok(
        fire(
            world,
            "issues",
            issue,
            "resolve",
            "tom",
            {"root_cause": "Cause two", "solution": "Solution two", "customer_informed": True},
        )
    )
    history = timeline(Browser(world, "mary").get(f"/issues/{issue['id']}").text)
    assert "Solution one" in history and "Solution two" in history
    assert history.index("Solution two") < history.index("Solution one")


def test_people_are_named_by_display_name_without_jargon(named: World) -> None:
    world = named
    notice = returned_notice(world)
    visit = create_visit(world)
    issue = create_issue(world, visit_id=visit["id"])
    issue = advance(world, "issues", issue, ["assign"], "mary")
    browser = Browser(world, "sara", lang="zh")
    pages = {
        "notice": browser.get(f"/notices/{notice['id']}").text,
        "visit": browser.get(f"/visits/{visit['id']}").text,
        "issue": browser.get(f"/issues/{issue['id']}").text,
        "ledger": browser.get("/issues").text,
        "visits": browser.get("/visits").text,
    }
    assert "张涛" in timeline(pages["notice"]) and "赵敏" in timeline(pages["notice"])
    assert "王丽, 张涛" in pages["visit"]  # the visitors
    assert '<dd id="issue-person">张涛</dd>' in pages["issue"]
    assert '<dd id="issue-raised-by">王丽</dd>' in pages["issue"]
    assert "张涛" in pages["ledger"] and "王丽, 张涛" in pages["visits"]
    for name, page in pages.items():
        assert "版本" not in page, name
        assert " · web · " not in page and " · api · " not in page, name
        assert ">tom<" not in page and ">mary<" not in page, name
