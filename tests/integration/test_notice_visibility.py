"""A notice's addressed department may open every item the notice relates: the
related visits and issues become visible to its members, through the API, the pages and the
lists alike; items no notice to them relates stay hidden."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.conftest import World, create_visit
from tests.integration.test_api_support import create_issue, create_notice, ids
from tests.integration.web import Browser


@pytest.fixture
def hidden(world: World) -> dict[str, dict[str, Any]]:
    """A visit and an issue tom may not see, and an unrelated issue he may not see either."""
    visit = create_visit(world, visitors=["mary"])
    return {
        "visit": visit,
        "issue": create_issue(world, visit_id=visit["id"]),
        "other": create_issue(world, visit_id=visit["id"], title="Another one"),
    }


def relate(world: World, items: dict[str, dict[str, Any]], department: str = "technical") -> Any:
    related = [
        {"workflow": "visit", "id": items["visit"]["id"]},
        {"workflow": "issue", "id": items["issue"]["id"]},
    ]
    return create_notice(world, department=department, related=related)


def test_before_a_notice_the_items_read_as_404(
    world: World, hidden: dict[str, dict[str, Any]]
) -> None:
    assert world.get(f"/api/v1/issues/{hidden['issue']['id']}", "tom").status_code == 404
    assert world.get(f"/api/v1/visits/{hidden['visit']['id']}", "tom").status_code == 404


def test_the_addressed_department_sees_the_related_items(
    world: World, hidden: dict[str, dict[str, Any]]
) -> None:
    relate(world, hidden)
    for user in ("tom", "ted"):  # every member of the department, not only its manager
        assert world.get(f"/api/v1/issues/{hidden['issue']['id']}", user).status_code == 200
        assert world.get(f"/api/v1/visits/{hidden['visit']['id']}", user).status_code == 200
        assert ids(world.get("/api/v1/issues", user)) == [hidden["issue"]["id"]]
        assert ids(world.get("/api/v1/visits", user)) == [hidden["visit"]["id"]]


def test_unrelated_items_and_other_departments_stay_hidden(
    world: World, hidden: dict[str, dict[str, Any]]
) -> None:
    relate(world, hidden)
    assert world.get(f"/api/v1/issues/{hidden['other']['id']}", "tom").status_code == 404
    assert hidden["other"]["id"] not in ids(world.get("/api/v1/issues", "tom"))
    for path in (
        f"/api/v1/issues/{hidden['issue']['id']}",
        f"/api/v1/visits/{hidden['visit']['id']}",
    ):
        assert world.get(path, "amy").status_code == 404
    assert ids(world.get("/api/v1/issues", "amy")) == []


def test_every_link_of_the_notice_page_opens_for_the_addressee(
    world: World, hidden: dict[str, dict[str, Any]]
) -> None:
    notice = relate(world, hidden)
    tom = Browser(world, "tom")
    page = tom.get(f"/notices/{notice['id']}")
    assert page.status_code == 200
    related = re.search(r'<dd id="notice-related">(.*?)</dd>', page.text, re.S)
    assert related
    links = re.findall(r'href="([^"]+)"', related.group(1))
    assert len(links) == 2
    for link in links:
        assert tom.get(link).status_code == 200, link
    assert tom.get(f"/issues/{hidden['other']['id']}").status_code == 404
    assert f'href="/issues/{hidden["other"]["id"]}"' not in tom.get("/issues").text


def test_an_automatic_notice_makes_its_items_visible_too(
    world: World, hidden: dict[str, dict[str, Any]]
) -> None:
    from service.core import runtime
    from service.core.texts import msg
    from service.store import repository as repo
    from service.usecases import deadlines

    related = [{"workflow": "issue", "id": hidden["issue"]["id"]}]
    with world.app.app_context(), repo.writing() as conn:
        issued = deadlines.issue_notice(
            conn, "technical", msg("late"), related, "test:auto", runtime.now()
        )
    assert issued is not None
    assert world.get(f"/api/v1/issues/{hidden['issue']['id']}", "tom").status_code == 200
    assert world.get(f"/api/v1/issues/{hidden['other']['id']}", "tom").status_code == 404
