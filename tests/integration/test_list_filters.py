"""Bad list filters are refused with a message naming the parameter, never silently ignored:
the API answers 422 `invalid_request` with `errors` per parameter; the list pages show the
message near the filters, in the page's language, with status 422 and no rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from service.entrypoints.web import filtering
from service.store import filters
from tests.integration.conftest import World, create_visit
from tests.integration.web import Browser

ROOT = Path(__file__).resolve().parents[2]
# (query, the parameter named, its message)
BAD = [
    ("from=garbage", "from", filters.NOT_A_MOMENT),
    ("to=2026-12-01T09:00:00", "to", filters.NOT_A_MOMENT),  # a time without its offset
    ("overdue=maybe", "overdue", filters.NOT_YES_NO),
    ("page=0", "page", filters.AT_LEAST_ONE),
    ("per_page=-3", "per_page", filters.AT_LEAST_ONE),
    ("state=nonexistent", "state", filters.UNKNOWN_STATE),
    ("stat=planned", "stat", filters.UNKNOWN_FILTER),  # a misspelt parameter
    ("from=2026-12-10&to=2026-12-01", "to", filters.FROM_AFTER_TO),
]
BAD_BY_KIND = {
    "visits": [
        ("customer_id=abc", "customer_id", filters.NOT_A_NUMBER),
        ("visitor=nobody", "visitor", filters.UNKNOWN_USER),
    ],
    "issues": [
        ("customer_id=abc", "customer_id", filters.NOT_A_NUMBER),
        ("visit_id=1.5", "visit_id", filters.NOT_A_NUMBER),
        ("severity=huge", "severity", filters.UNKNOWN_CHOICE),
        ("category=weather", "category", filters.UNKNOWN_CHOICE),
        ("department=nowhere", "department", filters.UNKNOWN_DEPARTMENT),
        ("responsible_person=nobody", "responsible_person", filters.UNKNOWN_USER),
        ("visitor=tom", "visitor", filters.UNKNOWN_FILTER),  # issues have no visitors
    ],
    "rectification-notices": [
        ("department=nowhere", "department", filters.UNKNOWN_DEPARTMENT),
        ("customer_id=1", "customer_id", filters.UNKNOWN_FILTER),
    ],
}
API_CASES = [(kind, *case) for kind, extra in BAD_BY_KIND.items() for case in BAD + extra]
PAGES = {"visits": "/visits", "issues": "/issues", "rectification-notices": "/notices"}
PAGE_CASES = [c for c in API_CASES if c[2] != "per_page"]  # pages have no per_page


@pytest.mark.parametrize(("kind", "query", "name", "message"), API_CASES)
def test_the_api_refuses_a_bad_filter_naming_it(
    world: World, kind: str, query: str, name: str, message: str
) -> None:
    r = world.get(f"/api/v1/{kind}?{query}", "mary")
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["code"] == "invalid_request"
    assert body["errors"] == {name: [message]}  # per parameter, not under "query"
    assert name in body["message"]


@pytest.mark.parametrize(("kind", "query", "name", "message"), PAGE_CASES)
def test_a_list_page_shows_a_bad_filter_near_the_filters(
    world: World, kind: str, query: str, name: str, message: str
) -> None:
    create_visit(world)
    page = Browser(world, "mary", lang="en").get(f"{PAGES[kind]}?{query}")
    assert page.status_code == 422
    box = re.search(r'<div class="notice error" id="filter-errors".*?</div>', page.text, re.S)
    assert box, page.text
    assert message in box.group(0)
    assert 'class="filters"' in page.text  # the filters are there to correct
    assert not re.search(r'<tr id="(visit|issue|notice)-\d+"', page.text)  # no rows


def test_the_message_is_in_chinese_on_a_chinese_page(world: World) -> None:
    page = Browser(world, "mary").get("/visits?from=garbage&overdue=maybe")
    assert page.status_code == 422
    assert "以下筛选条件无法使用" in page.text
    assert "不是日期" in page.text and "应为“是”或“否”" in page.text
    assert "Not a date" not in page.text


def test_blank_filters_of_a_submitted_form_are_no_filters(world: World) -> None:
    visit = create_visit(world)
    page = Browser(world, "mary").get(
        "/visits?state=&customer_id=&visitor=&overdue=&from=&to=&lang=zh"
    )
    assert page.status_code == 200
    assert f'id="visit-{visit["id"]}"' in page.text


def test_the_api_takes_a_date_as_that_business_day(world: World) -> None:
    visit = create_visit(world, planned_at="2026-11-10T17:30:00+08:00")

    def ids(query: str) -> list[int]:
        r = world.get(f"/api/v1/visits?{query}", "mary")
        assert r.status_code == 200, r.get_json()
        return [v["id"] for v in r.get_json()["items"]]

    assert ids("from=2026-11-10&to=2026-11-10") == [visit["id"]]  # the day's end included
    assert ids("from=2026-11-11") == []
    assert ids("to=2026-11-10T17:29:59%2B08:00") == []


def test_a_bad_filter_on_the_ledger_export_is_refused(world: World) -> None:
    r = Browser(world, "mary", lang="en").get("/issues/export.csv?overdue=maybe")
    assert r.status_code == 422
    assert filters.NOT_YES_NO in r.text and "text/csv" not in r.headers["Content-Type"]


def test_every_filter_message_and_label_has_its_chinese() -> None:
    catalog = ROOT / "service" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with catalog.open("rb") as f:
        translated = {m.id for m in read_po(f) if m.id and m.string}
    texts = set(filters.MESSAGES) | set(filtering.LABELS.values())
    texts |= {v for labels in filtering.KIND_LABELS.values() for v in labels.values()}
    assert texts - translated == set()
