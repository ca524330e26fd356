"""Form pickers: people offered by the roles a field declares and refused with 422
outside them; related items chosen by a search that honours visibility; date labels."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.conftest import World, advance, create_visit, fire
from tests.integration.test_api_support import assert_error, create_issue
from tests.integration.test_web_forms import new_visit_form
from tests.integration.web import Browser

INELIGIBLE = ("boss", "admin", "sara", "crm")


def options(html: str, select_id: str) -> list[str]:
    match = re.search(rf'<select id="{select_id}".*?</select>', html, re.S)
    assert match, select_id
    return [v for v in re.findall(r'<option value="([^"]*)"', match.group(0)) if v]


# -- people pickers ------------------------------------------------------------------------
def test_the_visitors_picker_offers_staff_only(world: World) -> None:
    page = Browser(world, "mary").get("/visits/new").text
    offered = options(page, "f-visitors")
    assert set(offered) == {"mary", "mike", "tom", "ted", "amy"}
    assert 'data-filter="' in page  # the picker is searchable (static/forms.js)


def test_the_record_form_offers_staff_only_too(world: World) -> None:
    visit = advance(world, "visits", create_visit(world), ["prepare", "visit"], "mary")
    page = Browser(world, "mary").get(f"/visits/{visit['id']}/fire/record").text
    assert not set(options(page, "f-visitors")) & set(INELIGIBLE)


@pytest.mark.parametrize("who", ["boss", "admin"])
def test_the_api_refuses_an_ineligible_visitor_writing_nothing(world: World, who: str) -> None:
    before = world.counts()
    payload = {
        "customer_id": world.customers["Acme"],
        "planned_at": "2026-11-10T10:00:00+08:00",
        "visitors": ["mary", who],
        "place": "Acme HQ",
    }
    body = assert_error(world.post("/api/v1/visits", "mary", payload), 422, "invalid_request")
    assert set(body["errors"]) == {"visitors"}
    assert who in " ".join(body["errors"]["visitors"])
    assert world.counts() == before


def test_the_page_refuses_an_ineligible_visitor_next_to_the_field(world: World) -> None:
    before = world.counts()
    r = Browser(world, "mary").post("/visits/new", new_visit_form(world, visitors=["mary", "boss"]))
    assert r.status_code == 422
    field = r.text[r.text.index('id="field-visitors"') :]
    assert 'class="error"' in field[: field.index("</div>")]
    assert world.counts() == before


def test_an_ineligible_responsible_person_is_refused(world: World) -> None:
    issue = create_issue(world, visit_id=create_visit(world)["id"])
    before = world.counts()
    data = {
        "responsible_department": "technical",
        "responsible_person": "admin",
        "due_at": "2026-11-20",
    }
    body = assert_error(fire(world, "issues", issue, "assign", "mike", data), 422, "invalid_data")
    assert set(body["errors"]) == {"responsible_person"}
    assert world.counts() == before
    page = Browser(world, "mike").get(f"/issues/{issue['id']}/fire/assign").text
    assert not set(options(page, "f-responsible_person")) & set(INELIGIBLE)
    assert "tom" in options(page, "f-responsible_person")


def test_date_fields_are_labelled_as_dates(world: World) -> None:
    issue = create_issue(world, visit_id=create_visit(world)["id"])
    page = Browser(world, "mike", lang="zh").get(f"/issues/{issue['id']}/fire/assign").text
    label = re.search(r'<label for="f-due_at">(.*?)</label>', page, re.S)
    assert label and "（日期）" in label.group(1)
    assert '<input type="date" id="f-due_at"' in page


# -- related items by search -----------------------------------------------------------------
@pytest.fixture
def items(world: World) -> dict[str, Any]:
    mine = create_visit(world, visitors=["mary", "tom"])
    hidden = create_visit(world, visitors=["mary"], customer_id=world.customers["Globex"])
    return {
        "mine": mine,
        "hidden": hidden,
        "mine_issue": create_issue(world, visit_id=mine["id"], title="Spare parts late"),
        "hidden_issue": create_issue(world, visit_id=hidden["id"], title="Spare parts missing"),
    }


def search(browser: Browser, workflow: str, q: str) -> list[dict[str, Any]]:
    r = browser.get(f"/search/items?workflow={workflow}&q={q}")
    assert r.status_code == 200
    found: list[dict[str, Any]] = r.get_json()["items"]
    return found


def test_search_finds_by_customer_title_and_id_with_labels(
    world: World, items: dict[str, Any]
) -> None:
    sara = Browser(world, "sara", lang="zh")
    [visit] = search(sara, "visit", "Globex")
    assert visit == {
        "id": items["hidden"]["id"],
        "label": f"Globex · 2026-11-10 走访 · #{visit['id']}",
    }
    titles = {i["id"] for i in search(sara, "issue", "spare")}
    assert titles == {items["mine_issue"]["id"], items["hidden_issue"]["id"]}
    assert [i["id"] for i in search(sara, "issue", f"%23{items['mine_issue']['id']}")] == [
        items["mine_issue"]["id"]
    ]
    assert search(sara, "issue", "%25") == []  # LIKE wildcards are searched for as text


def test_search_never_shows_what_the_user_may_not_see(world: World, items: dict[str, Any]) -> None:
    tom = Browser(world, "tom")
    assert [i["id"] for i in search(tom, "issue", "spare")] == []  # raised by mary, unassigned
    assert [v["id"] for v in search(tom, "visit", "")] == [items["mine"]["id"]]
    assert search(tom, "visit", "Globex") == []


def test_search_refuses_other_workflows(world: World) -> None:
    r = Browser(world, "sara").get("/search/items?workflow=rectification&q=x")
    assert r.status_code == 422 and "workflow" in r.get_json()["errors"]


def test_the_notice_form_picks_related_items_by_search(world: World, items: dict[str, Any]) -> None:
    sara = Browser(world, "sara", lang="zh")
    page = sara.get("/notices/new").text
    assert page.count("data-ref") == 2 and "/search/items?workflow=issue" in page
    form = {
        "department": "technical",
        "findings": "",  # refused: the chosen items must come back with their labels
        "due_at": "2026-11-20",
        "related_issues": [str(items["hidden_issue"]["id"])],
    }
    r = sara.post("/notices/new", form)
    assert r.status_code == 422
    assert f'name="related_issues" value="{items["hidden_issue"]["id"]}"' in r.text
    assert "Spare parts missing · Globex" in r.text


def test_the_raise_form_picks_its_visit_by_search(world: World, items: dict[str, Any]) -> None:
    mary = Browser(world, "mary", lang="zh")
    page = mary.get(f"/issues/new?visit_id={items['mine']['id']}").text
    assert "/search/items?workflow=visit" in page
    assert f'name="visit_id" value="{items["mine"]["id"]}"' in page
    assert "Acme · 2026-11-10 走访" in page
