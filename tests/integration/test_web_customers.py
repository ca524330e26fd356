"""The customers pages: by tier with this year's visits done against the tier's quota and
the visits of it due by today."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.integration.conftest import Clock, World, advance, create_visit
from tests.integration.test_api_support import create_issue
from tests.integration.web import Browser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_customer_pages_render_in_both_languages(world: World, lang: str) -> None:
    acme = world.customers["Acme"]
    mary = Browser(world, "mary", lang=lang)
    for path in ("/customers", f"/customers/{acme}", "/customers/new", f"/customers/{acme}/edit"):
        r = mary.get(path)
        assert r.status_code == 200, path
        assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in r.text
    assert ("重点客户" if lang == "zh" else "Key customers") in mary.get("/customers").text
    tom = Browser(world, "tom", lang=lang)
    assert tom.get("/customers").status_code == 200
    assert tom.get(f"/customers/{acme}").status_code == 200


def test_customers_list_shows_done_against_required_per_customer(world: World) -> None:
    done = create_visit(world)  # Acme, this year
    advance(world, "visits", done, ["prepare", "visit"], "mary")
    create_visit(world)  # planned only: not done
    text = Browser(world, "mary").get("/customers").text
    assert f'id="quota-{world.customers["Acme"]}">1/12<' in text
    assert f'id="quota-{world.customers["Globex"]}">0/6<' in text
    assert f'id="quota-{world.customers["Initech"]}">0/2<' in text
    assert text.index('id="tier-core"') < text.index('id="tier-important"')
    # by the clock (2026-11-02) January to October have ended: core 10, important 5
    # (February ... October), general 1 (June) are due, so all three are behind
    acme, globex, initech = (world.customers[n] for n in ("Acme", "Globex", "Initech"))
    assert f'id="due-{acme}">截至今天应完成 10 次<' in text
    assert f'id="due-{globex}">截至今天应完成 5 次<' in text
    assert f'id="due-{initech}">截至今天应完成 1 次<' in text
    assert text.count('class="behind"') == 3
    page = Browser(world, "mary", lang="en").get(f"/customers/{acme}").text
    assert 'id="customer-quota">1/12 (2026)<' in page
    assert 'id="customer-due">10 due by 2026-11-02<' in page
    assert 'id="customer-behind"' in page


def test_no_customer_is_behind_before_a_month_has_ended(world: World, clock: Clock) -> None:
    # 31 January 23:59:59 in Shanghai: January's visit is not yet due; a second later it is
    clock.now = datetime(2026, 1, 31, 15, 59, 59, tzinfo=UTC)
    mary = Browser(world, "mary", lang="en")
    text = mary.get("/customers").text
    assert 'class="behind"' not in text and text.count("0 due by today") == 3
    acme = world.customers["Acme"]
    assert 'id="customer-due">0 due by 2026-01-31<' in mary.get(f"/customers/{acme}").text
    clock.now = datetime(2026, 1, 31, 16, 0, tzinfo=UTC)
    text = mary.get("/customers").text
    assert f'id="due-{acme}">1 due by today<' in text and text.count('class="behind"') == 1
    page = mary.get(f"/customers/{acme}").text
    assert 'id="customer-due">1 due by 2026-02-01<' in page and 'id="customer-behind"' in page


def test_customer_page_shows_only_visible_visits_and_issues(world: World) -> None:
    acme = world.customers["Acme"]
    seen = create_visit(world, visitors=["mary", "tom"])
    hidden = create_visit(world, visitors=["mary", "amy"])
    issue = create_issue(world, customer_id=acme, title="Hidden issue")
    mine = create_issue(world, "tom", visit_id=seen["id"], customer_id=acme, title="Tom's")
    tom = Browser(world, "tom").get(f"/customers/{acme}").text
    assert f'href="/visits/{seen["id"]}"' in tom and f'href="/visits/{hidden["id"]}"' not in tom
    assert f'href="/issues/{mine["id"]}"' in tom and f'href="/issues/{issue["id"]}"' not in tom
    mary = Browser(world, "mary").get(f"/customers/{acme}").text
    assert f'href="/visits/{hidden["id"]}"' in mary and f'href="/issues/{issue["id"]}"' in mary


def test_marketing_adds_and_edits_a_customer(world: World) -> None:
    mary = Browser(world, "mary", lang="en")
    before = world.count("customers")
    r = mary.post("/customers/new", {"name": "", "tier": "nope", "region": "East"})
    assert r.status_code == 422 and 'id="f-name-error-1"' in r.text and 'value="East"' in r.text
    assert world.count("customers") == before
    r = mary.post(
        "/customers/new",
        {"name": "Umbrella", "tier": "important", "criteria": ["industry_reputation"]},
    )
    assert r.status_code == 302
    customer_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = mary.post(f"/customers/{customer_id}/edit", {"name": "Umbrella Corp", "region": "West"})
    assert r.status_code == 302
    data = world.get(f"/api/v1/customers/{customer_id}", "mary").get_json()
    assert (data["name"], data["tier"], data["criteria"]) == ("Umbrella Corp", "important", [])
    assert data["region"] == "West"


def test_the_edit_form_shows_the_tier_to_marketing_without_offering_it(world: World) -> None:
    acme = world.customers["Acme"]
    mary = Browser(world, "mary", lang="en")
    form = mary.get(f"/customers/{acme}/edit").text
    assert '<select id="f-tier"' not in form and 'name="tier"' not in form
    tier = form.split('id="field-tier"')[1].split("</div>")[0]
    assert 'id="f-tier"' in tier and ">Core</p>" in tier
    assert "The tier changes through the yearly tier review." in tier
    assert f'href="/tier-reviews/new?customer_id={acme}"' in tier
    assert '<select id="f-tier"' in mary.get("/customers/new").text  # set when added
    zh = Browser(world, "mike", lang="zh").get(f"/customers/{acme}/edit").text
    assert "客户等级通过年度分级评审变更。" in zh and "提议分级" in zh


def test_a_tier_sent_to_the_edit_form_by_marketing_is_refused(world: World) -> None:
    acme = world.customers["Acme"]
    mary = Browser(world, "mary", lang="en")
    mary.get(f"/customers/{acme}/edit")
    before = world.counts()
    r = mary.post(f"/customers/{acme}/edit", {"name": "Acme", "tier": "general"})
    assert r.status_code == 422
    assert 'id="f-tier-error-1"' in r.text and "tier review" in r.text
    assert world.counts() == before
    assert world.get(f"/api/v1/customers/{acme}", "mary").get_json()["tier"] == "core"
    assert world.count("customer_tier_history") == 0


def test_an_admin_changes_the_tier_in_the_form_and_the_history_shows_it(world: World) -> None:
    acme = world.customers["Acme"]
    admin = Browser(world, "admin", lang="en")
    assert 'id="new-customer"' not in admin.get("/customers").text
    assert admin.get("/customers/new").status_code == 403
    assert 'id="edit-customer"' in admin.get(f"/customers/{acme}").text
    form = admin.get(f"/customers/{acme}/edit").text
    assert '<select id="f-tier"' in form and "as set by an administrator" in form
    r = admin.post(
        f"/customers/{acme}/edit",
        {"name": "Acme", "tier": "general", "criteria": ["major_revenue"]},
    )
    assert r.status_code == 302, r.text
    assert world.get(f"/api/v1/customers/{acme}", "mary").get_json()["tier"] == "general"
    page = admin.get(f"/customers/{acme}").text
    history = page.split('id="tier-history"')[1].split("</table>")[0]
    assert ">Core<" in history and ">General<" in history and ">admin<" in history
    assert "Set by an administrator" in history
    zh = Browser(world, "boss", lang="zh").get(f"/customers/{acme}").text
    assert "由管理员设置" in zh.split('id="tier-history"')[1].split("</table>")[0]


def test_others_see_customers_read_only(world: World) -> None:
    acme = world.customers["Acme"]
    tom = Browser(world, "tom")
    assert 'id="edit-customer"' not in tom.get(f"/customers/{acme}").text
    assert 'id="new-customer"' not in tom.get("/customers").text
    before = world.counts()
    assert tom.get("/customers/new").status_code == 403
    r = tom.post(f"/customers/{acme}/edit", {"name": "Hacked", "tier": "core"})
    assert r.status_code == 403
    r = tom.post("/customers/new", {"name": "X", "tier": "core"}, token="")
    assert r.status_code == 400
    assert world.counts() == before
    assert Browser(world, "tom").get("/customers/9999").status_code == 404
