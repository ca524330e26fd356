"""The annual visit plan page: a preview (the API's dry run) and applying it (CSRF on)."""

from __future__ import annotations

import re

import pytest

from tests.integration.conftest import World, create_visit
from tests.integration.web import Browser

PREVIEW = "/plan?year=2026&from=2026-12-01&visitors_per_visit=2"
APPLY = {"year": "2026", "from": "2026-12-01", "visitors_per_visit": "2"}
DIGEST = re.compile(r'name="digest" value="([0-9a-f]+)"')


def digest_of(html: str) -> str:
    match = DIGEST.search(html)
    assert match, "no apply form in the page"
    return match.group(1)


def row(html: str, row_id: str) -> list[str]:
    """The cells of the table row with this id."""
    part = html.split(f'id="{row_id}"', 1)[1].split("</tr>", 1)[0]
    return re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", part)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_plan_page_renders_in_both_languages(world: World, lang: str) -> None:
    mike = Browser(world, "mike", lang=lang)
    form = mike.get("/plan")
    assert form.status_code == 200
    assert 'id="nav-plan" href="/plan" aria-current="page"' in form.text
    assert 'id="f-year" name="year" value="2026"' in form.text  # this year, still to plan
    assert 'id="plan-result"' not in form.text
    page = mike.get(PREVIEW).text
    texts = {
        "zh": ("年度走访计划", "预览", "待计划", "核心", "应用：创建这 8 次走访"),
        "en": ("Annual visit plan", "Preview", "To plan", "Core", "Apply: create these 8 visits"),
    }[lang]
    for text in texts:
        assert text in page, text


def test_the_preview_shows_the_visits_by_month_with_tier_totals_and_writes_nothing(
    world: World,
) -> None:
    create_visit(world)  # Acme (core, 12 a year) already has one visit in November
    mike = Browser(world, "mike", lang="en")
    before = world.counts()
    r = mike.get("/plan?year=2026")
    assert r.status_code == 200, r.text
    assert world.counts() == before
    assert 'data-from="2026-11-03"' in r.text  # the clock says 2 November: from tomorrow
    assert row(r.text, "plan-tier-core") == ["Core", "1", "12", "1", "3", "8"]
    assert row(r.text, "plan-tier-important") == ["Important", "1", "6", "0", "5", "1"]
    assert row(r.text, "plan-tier-total") == ["Total", "3", "20", "1", "10", "9"]
    assert r.text.index('id="plan-tier-core"') < r.text.index('id="plan-tier-general"')
    assert 'id="plan-month-2026-11"' in r.text and 'id="plan-month-2026-12"' in r.text
    december = r.text.split('id="plan-month-2026-12"')[1].split("</section>")[0]
    assert f'data-customer="{world.customers["Acme"]}"' in december
    assert "2026-12-" in december and "mary" in december
    assert 'id="plan-no-clashes"' in r.text
    assert "10 visits to create." in r.text


def test_the_preview_reports_existing_double_bookings(world: World) -> None:
    create_visit(world, planned_at="2026-11-10T09:00:00+08:00", visitors=["mary", "tom"])
    create_visit(world, planned_at="2026-11-10T11:00:00+08:00", visitors=["tom"])
    page = Browser(world, "mike", lang="en").get("/plan?year=2026").text
    clashes = page.split('id="plan-clashes"')[1].split("</table>")[0]
    assert 'data-user="tom"' in clashes and "2026-11-10" in clashes
    assert "morning" in clashes and "09:00, 11:00" in clashes
    assert 'data-user="mary"' not in clashes


def test_applying_creates_the_previewed_visits_and_opens_the_calendar(world: World) -> None:
    mike = Browser(world, "mike", lang="en")
    preview = mike.get(PREVIEW).text
    before = world.count("visits")
    r = mike.post("/plan", {**APPLY, "digest": digest_of(preview)})
    assert (r.status_code, r.headers["Location"]) == (302, "/visits/calendar?month=2026-12")
    assert world.count("visits") == before + 8
    calendar = mike.get(r.headers["Location"]).text
    assert "8 visits of the 2026 plan created." in calendar
    visits = world.get("/api/v1/visits?per_page=100", "mike").get_json()["items"]
    assert {(v["state"], v["created_by"]) for v in visits} == {("planned", "mike")}
    history = world.get(f"/api/v1/visits/{visits[0]['id']}/history", "mike").get_json()
    assert history["items"][0]["source"] == "web"
    again = mike.get(PREVIEW).text
    assert 'id="plan-apply"' not in again and "0 visits to create." in again


def test_a_plan_that_changed_since_the_preview_is_shown_again_not_applied(world: World) -> None:
    mike = Browser(world, "mike", lang="en")
    old = digest_of(mike.get(PREVIEW).text)
    create_visit(world, planned_at="2026-12-15T10:00:00+08:00")  # Acme needs one fewer now
    before = world.counts()
    r = mike.post("/plan", {**APPLY, "digest": old})
    assert r.status_code == 409
    assert world.counts() == before
    assert "The plan changed since the preview" in r.text
    assert digest_of(r.text) != old and 'id="plan-count"' in r.text


@pytest.mark.parametrize("token", ["", "forged"])
def test_applying_without_the_csrf_token_is_refused_writing_nothing(
    world: World, token: str
) -> None:
    mike = Browser(world, "mike", lang="en")
    digest = digest_of(mike.get(PREVIEW).text)
    before = world.counts()
    r = mike.post("/plan", {**APPLY, "digest": digest}, token=token)
    assert r.status_code == 400 and 'id="error"' in r.text
    assert world.counts() == before


@pytest.mark.parametrize("user", ["mary", "tom", "amy", "boss", "sara", "admin"])
def test_only_a_marketing_manager_may_plan(world: World, user: str) -> None:
    b = Browser(world, user, lang="en")
    before = world.counts()
    assert 'id="nav-plan"' not in b.get("/").text
    r = b.get(PREVIEW)
    assert r.status_code == 403 and "Only a marketing manager" in r.text
    assert b.post("/plan", APPLY).status_code == 403
    assert world.counts() == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"year": ""}, None, None),  # a blank year shows the empty form again
        ({"year": "abc", "from": ""}, "year", "Not a valid integer."),
        ({"year": "2025", "from": ""}, "year", "the year is over"),
        ({"year": "1999", "from": ""}, "year", "greater than or equal to 2000"),
        ({"from": "2027-01-05"}, "from", "must be a day of `year`"),
        ({"from": "2026-10-01"}, "from", "must be after today"),
        ({"from": "soon"}, "from", "Not a valid date."),
        ({"visitors_per_visit": "0"}, "visitors_per_visit", "greater than or equal to 1"),
    ],
)
def test_invalid_fields_are_shown_next_to_them_and_nothing_is_written(
    world: World, fields: dict[str, str], field: str | None, message: str | None
) -> None:
    mike = Browser(world, "mike", lang="en")
    mike.get("/plan")
    before = world.counts()
    form = {**APPLY, **fields}
    r = mike.post("/plan", form)
    if field is None:
        assert r.status_code == 422 and 'id="f-year-error-1"' in r.text
    else:
        assert r.status_code == 422
        assert f'id="f-{field}-error-1"' in r.text and message in r.text
        preview = mike.get("/plan?" + "&".join(f"{k}={v}" for k, v in form.items()))
        assert preview.status_code == 422 and f'id="f-{field}-error-1"' in preview.text
        assert 'id="plan-result"' not in preview.text
    assert world.counts() == before


def test_field_messages_are_in_chinese_on_chinese_pages(world: World) -> None:
    mike = Browser(world, "mike")
    r = mike.get("/plan?year=2025")
    assert r.status_code == 422 and "该年度已结束" in r.text


def test_the_2027_preview_says_its_holidays_are_builtin_and_lists_what_does_not_fit(
    world: World, clock: object
) -> None:
    from datetime import UTC, datetime

    clock.now = datetime(2026, 12, 3, 1, tzinfo=UTC)  # type: ignore[attr-defined]
    page = Browser(world, "mike").get("/plan?year=2027").text
    assert 'id="plan-calendar-builtin"' in page and "2027 年尚无官方节假日安排" in page
    assert "国庆节 10-01–10-07" in page and "估算" in page
    late = Browser(world, "mike", lang="en").get("/plan?year=2026").text
    assert 'id="plan-shortfalls"' in late and "Acme" in late.split('id="plan-shortfalls"')[1]
    assert 'id="plan-calendar-builtin"' not in late
