"""The key-customer tier review pages: the list, marketing's proposal form, management's
decision on a review's page and the tier history on the customer's page (CSRF on)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import World
from tests.integration.test_reviews import counts, decide, propose
from tests.integration.web import Browser


def proposal_form(world: World, **over: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "year": "2026",
        "customer_id": str(world.customers["Globex"]),
        "proposed_tier": "core",
        "criteria": ["major_revenue", "long_term_partner"],
        "reason": "three large projects this year",
    }
    form.update(over)
    return form


def review_of(world: World, review_id: int) -> dict[str, Any]:
    r = world.get(f"/api/v1/tier-reviews/{review_id}", "mary")
    assert r.status_code == 200
    body: dict[str, Any] = r.get_json()
    return body


def tier_of(world: World, name: str) -> str:
    customer = world.get(f"/api/v1/customers/{world.customers[name]}", "mary").get_json()
    return str(customer["tier"])


# -- pages ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_review_pages_render_in_both_languages(world: World, lang: str) -> None:
    globex, _initech = propose(world)
    decide(world, globex["id"], "boss", "approved")
    texts = {
        "zh": ("客户分级评审", "提议分级", "待决定", "已批准", "分级变更记录", "重要", "核心"),
        "en": ("Tier reviews", "Propose a tier", "Pending", "Approved", "Tier history"),
    }[lang]
    mary = Browser(world, "mary", lang=lang)
    bodies = {}
    for path in (
        "/tier-reviews",
        "/tier-reviews/new",
        f"/tier-reviews/{globex['id']}",
        f"/customers/{world.customers['Globex']}",
    ):
        r = mary.get(path)
        assert r.status_code == 200, (path, r.status_code)
        bodies[path] = r.text
    page = "".join(bodies.values())
    for text in texts:
        assert text in page, text
    current = 'id="nav-tier-reviews" href="/tier-reviews" aria-current="page"'
    assert current in bodies["/tier-reviews"]
    history = bodies[f"/customers/{world.customers['Globex']}"].split('id="tier-history"')[1]
    assert f'href="/tier-reviews/{globex["id"]}"' in history and "boss" in history


def test_the_list_filters_by_year_and_decision(world: World) -> None:
    globex, initech = propose(world)
    decide(world, globex["id"], "boss", "rejected")
    (older,) = propose(
        world,
        year=2025,
        proposals=[{"customer_id": world.customers["Acme"], "proposed_tier": "important"}],
    )
    mike = Browser(world, "mike", lang="en")
    page = mike.get("/tier-reviews").text  # this year by default
    assert f'id="review-{globex["id"]}"' in page and f'id="review-{initech["id"]}"' in page
    assert f'id="review-{older["id"]}"' not in page
    pending = mike.get("/tier-reviews?year=2026&decision=pending").text
    assert f'id="review-{initech["id"]}"' in pending
    assert f'id="review-{globex["id"]}"' not in pending
    decided = mike.get("/tier-reviews?year=2026&decision=decided").text
    assert f'id="review-{globex["id"]}" data-decision="rejected"' in decided
    assert f'id="review-{initech["id"]}"' not in decided
    every_year = mike.get("/tier-reviews?year=&decision=pending").text
    assert f'id="review-{older["id"]}"' in every_year
    assert 'id="tier-reviews-empty"' in mike.get("/tier-reviews?year=2024").text


# -- proposing ------------------------------------------------------------------------------
def test_marketing_proposes_a_tier_through_the_form(world: World) -> None:
    mary = Browser(world, "mary", lang="en")
    globex = world.customers["Globex"]
    form = mary.get(f"/tier-reviews/new?customer_id={globex}").text  # from the customer page
    assert f'<option value="{globex}" selected>' in form
    assert '<option value="important" selected>' in form  # its tier now
    assert 'id="f-criteria-major_revenue" value="major_revenue" checked' in form
    r = mary.post("/tier-reviews/new", proposal_form(world))
    assert r.status_code == 302, r.text
    review_id = int(r.headers["Location"].rsplit("/", 1)[1])
    review = review_of(world, review_id)
    assert (review["year"], review["current_tier"], review["proposed_tier"]) == (
        2026,
        "important",
        "core",
    )
    assert review["criteria"] == ["major_revenue", "long_term_partner"]
    assert (review["proposed_by"], review["decision"]) == ("mary", None)
    page = mary.get(r.headers["Location"]).text
    assert f"Tier proposal #{review_id} submitted." in page
    assert 'id="decision-form"' not in page  # marketing does not decide
    customer = mary.get(f"/customers/{globex}").text
    assert f'id="pending-review-{review_id}"' in customer and 'id="propose-tier"' in customer


def test_a_second_undecided_proposal_is_a_conflict_writing_nothing(world: World) -> None:
    (first, _) = propose(world)
    mike = Browser(world, "mike", lang="en")
    mike.get("/tier-reviews/new")
    before = counts(world)
    r = mike.post("/tier-reviews/new", proposal_form(world, proposed_tier="general"))
    assert r.status_code == 409
    assert 'id="form-conflict"' in r.text and f'href="/tier-reviews/{first["id"]}"' in r.text
    assert '<option value="general" selected>' in r.text  # the input is kept
    assert counts(world) == before


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"year": ""}, "year"),
        ({"year": "next"}, "year"),
        ({"year": "1999"}, "year"),
        ({"customer_id": ""}, "customer_id"),
        ({"customer_id": "999"}, "customer_id"),
        ({"proposed_tier": "gold"}, "proposed_tier"),
        ({"proposed_tier": ""}, "proposed_tier"),
        ({"criteria": ["friendship"]}, "criteria"),
        ({"reason": "x" * 5001}, "reason"),
    ],
)
def test_invalid_proposals_are_shown_next_to_their_field_writing_nothing(
    world: World, over: dict[str, Any], field: str
) -> None:
    mary = Browser(world, "mary", lang="en")
    mary.get("/tier-reviews/new")
    before = counts(world)
    r = mary.post("/tier-reviews/new", proposal_form(world, **over))
    assert r.status_code == 422, r.text
    assert f'id="f-{field}-error-1"' in r.text and 'id="form-errors"' in r.text
    assert counts(world) == before


def test_field_messages_are_in_chinese_on_chinese_pages(world: World) -> None:
    mary = Browser(world, "mary")
    mary.get("/tier-reviews/new")
    r = mary.post("/tier-reviews/new", proposal_form(world, customer_id=""))
    assert r.status_code == 422 and "此项必填。" in r.text
    r = mary.post("/tier-reviews/new", proposal_form(world, customer_id="999", proposed_tier="x"))
    assert r.status_code == 422 and "必须是核心、重要或一般客户。" in r.text
    r = mary.post("/tier-reviews/new", proposal_form(world, customer_id="999"))
    assert r.status_code == 422 and "没有这个客户。" in r.text


@pytest.mark.parametrize("user", ["tom", "amy", "boss", "sara", "admin"])
def test_only_marketing_proposes(world: World, user: str) -> None:
    b = Browser(world, user, lang="en")
    before = counts(world)
    assert b.get("/tier-reviews/new").status_code == 403
    r = b.post("/tier-reviews/new", proposal_form(world))
    assert r.status_code == 403 and "Only marketing proposes" in r.text
    assert 'id="new-tier-review"' not in b.get("/tier-reviews").text
    assert counts(world) == before


@pytest.mark.parametrize("token", ["", "forged"])
def test_a_proposal_without_the_csrf_token_is_refused(world: World, token: str) -> None:
    mary = Browser(world, "mary", lang="en")
    mary.get("/tier-reviews/new")
    before = counts(world)
    r = mary.post("/tier-reviews/new", proposal_form(world), token=token)
    assert r.status_code == 400
    assert counts(world) == before


# -- deciding -------------------------------------------------------------------------------
def test_management_approves_with_a_comment_and_the_tier_changes(world: World) -> None:
    globex, _ = propose(world)
    boss = Browser(world, "boss", lang="en")
    page = boss.get(f"/tier-reviews/{globex['id']}").text
    assert 'id="decision-approve"' in page and 'id="decision-reject"' in page
    r = boss.post(
        f"/tier-reviews/{globex['id']}/decision",
        {"decision": "approved", "comment": "Agreed at the review meeting"},
    )
    assert (r.status_code, r.headers["Location"]) == (302, f"/tier-reviews/{globex['id']}")
    review = review_of(world, globex["id"])
    assert (review["decision"], review["decided_by"], review["comment"]) == (
        "approved",
        "boss",
        "Agreed at the review meeting",
    )
    assert tier_of(world, "Globex") == "core"
    page = boss.get(r.headers["Location"]).text
    assert "the customer&#39;s tier is updated" in page and 'id="decision-form"' not in page
    customer = boss.get(f"/customers/{world.customers['Globex']}").text
    history = customer.split('id="tier-history"')[1].split("</table>")[0]
    assert "Important" in history and "Core" in history and "boss" in history
    assert 'id="customer-tier">Core<' in customer


def test_management_rejects_and_the_tier_stays(world: World) -> None:
    _, initech = propose(world)
    boss = Browser(world, "boss", lang="en")
    boss.get(f"/tier-reviews/{initech['id']}")
    r = boss.post(f"/tier-reviews/{initech['id']}/decision", {"decision": "rejected"})
    assert r.status_code == 302
    assert review_of(world, initech["id"])["decision"] == "rejected"
    assert tier_of(world, "Initech") == "general"
    customer = boss.get(f"/customers/{world.customers['Initech']}").text
    assert 'id="tier-history-empty"' in customer


@pytest.mark.parametrize("user", ["mary", "mike", "tom", "sara", "admin"])
def test_only_management_decides(world: World, user: str) -> None:
    globex, _ = propose(world)
    b = Browser(world, user, lang="en")
    page = b.get(f"/tier-reviews/{globex['id']}")
    assert page.status_code == 200 and 'id="decision-form"' not in page.text
    before = counts(world)
    r = b.post(f"/tier-reviews/{globex['id']}/decision", {"decision": "approved"})
    assert r.status_code == 403 and "Only management decides" in r.text
    assert counts(world) == before and review_of(world, globex["id"])["decision"] is None


@pytest.mark.parametrize("token", ["", "forged"])
def test_a_decision_without_the_csrf_token_is_refused(world: World, token: str) -> None:
    globex, _ = propose(world)
    boss = Browser(world, "boss", lang="en")
    boss.get(f"/tier-reviews/{globex['id']}")
    before = counts(world)
    r = boss.post(f"/tier-reviews/{globex['id']}/decision", {"decision": "approved"}, token=token)
    assert r.status_code == 400
    assert counts(world) == before and review_of(world, globex["id"])["decision"] is None


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"decision": "maybe"}, "decision"),
        ({}, "decision"),
        ({"decision": "approved", "comment": "x" * 5001}, "comment"),
    ],
)
def test_invalid_decisions_are_refused_writing_nothing(
    world: World, form: dict[str, str], field: str
) -> None:
    globex, _ = propose(world)
    boss = Browser(world, "boss", lang="en")
    boss.get(f"/tier-reviews/{globex['id']}")
    before = counts(world)
    r = boss.post(f"/tier-reviews/{globex['id']}/decision", form)
    assert r.status_code == 422
    assert f'id="f-{field}-error-1"' in r.text and 'id="decision-form"' in r.text
    assert counts(world) == before and review_of(world, globex["id"])["decision"] is None


def test_a_second_decision_is_a_conflict(world: World) -> None:
    globex, _ = propose(world)
    boss = Browser(world, "boss", lang="en")
    boss.get(f"/tier-reviews/{globex['id']}")
    decide(world, globex["id"], "boss", "rejected")  # meanwhile, through the API
    before = counts(world)
    r = boss.post(f"/tier-reviews/{globex['id']}/decision", {"decision": "approved"})
    assert r.status_code == 409 and "Someone decided on this proposal meanwhile." in r.text
    assert 'data-decision="rejected"' in r.text and 'id="decision-form"' not in r.text
    assert counts(world) == before and tier_of(world, "Globex") == "important"


def test_unknown_reviews_are_404(world: World) -> None:
    boss = Browser(world, "boss", lang="en")
    assert boss.get("/tier-reviews/42").status_code == 404
    boss.get("/tier-reviews")
    assert boss.post("/tier-reviews/42/decision", {"decision": "approved"}).status_code == 404


def test_the_menu_shows_tier_reviews_to_marketing_and_management_only(world: World) -> None:
    for user, shown in (("mary", True), ("mike", True), ("boss", True), ("tom", False)):
        page = Browser(world, user).get("/").text
        assert ('id="nav-tier-reviews"' in page) is shown, user
