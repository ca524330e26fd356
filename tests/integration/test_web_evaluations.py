"""Half-yearly evaluation records through the pages (CSRF on): the list, recording one (the
API's use case, with its KPI snapshot), and a record with the snapshot drawn as charts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.conftest import World
from tests.integration.test_web_dashboard import _fixture
from tests.integration.web import Browser

OFFLINE_SCRIPT = re.compile(r'<script src="/web-static/offline\.js\?v=[0-9a-f]+" defer>')


def count(world: World) -> int:
    return world.count("evaluations")


def evaluation_form(**over: Any) -> dict[str, Any]:
    return {
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "summary": "Core customers visited on plan",
        "findings": "General-tier visits behind",
        "measures": "Add general-tier visits to the Q1 plan",
        **over,
    }


def api_evaluation(world: World, user: str = "mike") -> dict[str, Any]:
    body = {k: v for k, v in evaluation_form().items()}
    r = world.post("/api/v1/evaluations", user, body)
    assert r.status_code == 201, r.get_json()
    created: dict[str, Any] = r.get_json()
    return created


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_evaluation_pages_render_in_both_languages(world: World, lang: str) -> None:
    _fixture(world)
    record = api_evaluation(world)
    mike = Browser(world, "mike", lang=lang)
    texts = {
        "zh": ("半年度效果评估", "记录效果评估", "期间开始", "考核指标快照", "总体评价"),
        "en": (
            "Half-yearly evaluations",
            "Record an evaluation",
            "Period start",
            "KPI snapshot",
            "Summary",
        ),
    }[lang]
    listed, form, page = (
        mike.get(p) for p in ("/evaluations", "/evaluations/new", f"/evaluations/{record['id']}")
    )
    for r in (listed, form, page):
        assert r.status_code == 200
    assert texts[0] in listed.text and texts[1] in listed.text
    assert (
        f'id="evaluation-{record["id"]}"' in listed.text and 'id="nav-evaluations"' in listed.text
    )
    assert texts[2] in form.text
    assert texts[3] in page.text and texts[4] in page.text
    assert page.text.count('<svg class="chart"') == 6  # the dashboard's charts, of the snapshot
    assert re.findall(r"<script[^>]*>", page.text) == [OFFLINE_SCRIPT.search(page.text)[0]]


def test_the_form_starts_with_the_current_half_year(world: World) -> None:
    form = Browser(world, "boss").get("/evaluations/new").text  # the clock: 2 November 2026
    assert (
        'id="f-period_start" name="period_start" required aria-required="true" value="2026-07-01"'
        in form
    )
    assert 'name="period_end" required aria-required="true" value="2026-12-31"' in form


def test_an_evaluation_is_recorded_with_the_kpis_of_its_period(world: World) -> None:
    _fixture(world)
    mike = Browser(world, "mike", lang="en")
    mike.get("/evaluations/new")
    r = mike.post("/evaluations/new", evaluation_form(findings=""))
    assert r.status_code == 302, r.text
    evaluation_id = int(r.headers["Location"].rsplit("/", 1)[1])
    record = world.get(f"/api/v1/evaluations/{evaluation_id}", "mike").get_json()
    assert (record["created_by"], record["findings"], record["period_end"]) == (
        "mike",
        None,
        "2026-12-31",
    )
    assert record["kpi"]["plan_completion"]["done"] == 2
    page = mike.get(r.headers["Location"]).text
    assert "Core customers visited on plan" in page and 'id="evaluation-findings">—<' in page
    tier = page.split('id="tier-core"')[1].split("</tr>")[0]
    assert '<td data-label="Done">2</td>' in tier  # the snapshot, as the dashboard shows it
    assert 'href="/dashboard?from=2026-01-01&amp;to=2027-01-01"' in page


def test_a_refused_csrf_token_writes_nothing(world: World) -> None:
    mike = Browser(world, "mike", lang="en")
    mike.get("/evaluations/new")
    for token in ("", "forged"):
        r = mike.post("/evaluations/new", evaluation_form(), token=token)
        assert r.status_code == 400
    assert count(world) == 0


def test_roles(world: World) -> None:
    record = api_evaluation(world)
    for user in ("mary", "sara", "admin"):  # KPI readers: they read, they do not record
        b = Browser(world, user, lang="en")
        page = b.get("/evaluations").text
        assert 'id="nav-evaluations"' in page and 'id="new-evaluation"' not in page
        assert b.get(f"/evaluations/{record['id']}").status_code == 200
        r = b.get("/evaluations/new")
        assert r.status_code == 403 and "Only the marketing manager and management" in r.text
        assert b.post("/evaluations/new", evaluation_form()).status_code == 403
    for user in ("tom", "amy"):
        b = Browser(world, user, lang="en")
        assert 'id="nav-evaluations"' not in b.get("/").text
        assert b.get("/evaluations").status_code == 403
        assert b.get(f"/evaluations/{record['id']}").status_code == 403
        assert b.post("/evaluations/new", evaluation_form()).status_code == 403
    assert count(world) == 1
    assert Browser(world, "boss").get("/evaluations/99").status_code == 404


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"period_end": "2026-06-30", "period_start": "2026-07-01"}, "period_end", "不能早于"),
        ({"period_start": "July"}, "period_start", "Not a valid date."),
        ({"period_start": ""}, "period_start", "Missing data for required field."),
        ({"summary": "   "}, "summary", "Length must be between 1 and 20000."),
    ],
)
def test_invalid_fields_are_shown_next_to_them_writing_nothing(
    world: World, over: dict[str, str], field: str, message: str
) -> None:
    lang = "zh" if field == "period_end" else "en"
    boss = Browser(world, "boss", lang=lang)
    boss.get("/evaluations/new")
    r = boss.post("/evaluations/new", evaluation_form(measures="Kept measures", **over))
    assert r.status_code == 422
    assert f'id="f-{field}-error-1"' in r.text and message in r.text
    assert ">Kept measures</textarea>" in r.text
    assert count(world) == 0
