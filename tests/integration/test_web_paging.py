"""The list pages' paging: one page-argument parser, one counted query, the same pager."""

from __future__ import annotations

import re

import pytest

from service.entrypoints.web.common import page_args, page_count
from tests.integration.conftest import World, create_visit
from tests.integration.test_api_support import create_issue
from tests.integration.test_web_notices import add_finding
from tests.integration.web import Browser


@pytest.mark.parametrize(
    ("query", "page"), [("", 1), ("page=3", 3), ("page=0", 1), ("page=-2", 1), ("page=x", 1)]
)
def test_the_page_asked_for_is_a_positive_number_else_the_first(
    world: World, query: str, page: int
) -> None:
    world.app.config["WEB_PER_PAGE"] = 7
    with world.app.test_request_context(f"/notifications?{query}&per_page=1000"):
        assert page_args() == (page, 7)  # the size is the setting's, never the visitor's


def test_parsed_filters_give_up_their_page_and_size(world: World) -> None:
    parsed = {"state": "planned", "page": 4, "per_page": 1000}
    with world.app.test_request_context("/visits?page=9"):
        assert page_args(parsed) == (4, world.app.config["WEB_PER_PAGE"])
        assert (
            page_args(parsed, "COMPLIANCE_PER_PAGE")[1] == world.app.config["COMPLIANCE_PER_PAGE"]
        )
    assert parsed == {"state": "planned"}


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3)])
def test_page_count(total: int, pages: int) -> None:
    assert page_count(total, 2) == pages


def shown(html: str, prefix: str) -> list[str]:
    return re.findall(rf'id="{prefix}-(\d+)"', html)


def test_the_issue_ledger_pages(world: World) -> None:
    world.app.config["WEB_PER_PAGE"] = 2
    for n in range(3):
        create_issue(world, customer_id=world.customers["Acme"], title=f"Issue {n}")
    mary = Browser(world, "mary", lang="en")
    first, second = mary.get("/issues").text, mary.get("/issues?page=2").text
    assert len(shown(first, "issue")) == 2 and len(shown(second, "issue")) == 1
    assert not set(shown(first, "issue")) & set(shown(second, "issue"))
    assert "Page 1 of 2" in first and 'id="page-next"' in first
    assert "Page 2 of 2" in second and 'id="page-next"' not in second
    assert mary.get("/issues?page=0").status_code == 422  # the filters' own check, as before


def test_notifications_page_newest_first(world: World) -> None:
    world.app.config["WEB_PER_PAGE"] = 2
    for day in (10, 11, 12):
        create_visit(world, planned_at=f"2026-11-{day}T10:00:00+08:00")  # tom is told of each
    tom = Browser(world, "tom", lang="en")
    first = shown(tom.get("/notifications").text, "notification")
    second = shown(tom.get("/notifications?page=2").text, "notification")
    assert len(first) == 2 and len(second) == 1
    listed = [int(i) for i in first + second]
    assert listed == sorted(listed, reverse=True) and len(set(listed)) == 3


def test_the_findings_page(world: World) -> None:
    world.app.config["WEB_PER_PAGE"] = 2
    ids = [add_finding(world, key=f"record_completeness:visit:{n}:v1") for n in range(3)]
    sara = Browser(world, "sara", lang="en")
    first = sara.get("/supervision/findings").text
    assert shown(first, "finding") == [str(ids[2]), str(ids[1])]
    assert "Page 1 of 2" in first
    second = sara.get("/supervision/findings?page=2").text
    assert shown(second, "finding") == [str(ids[0])] and "Page 2 of 2" in second
