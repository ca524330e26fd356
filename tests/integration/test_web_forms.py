"""The web forms: one more entry point to the same handlers, with the same refusals."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.conftest import World, advance, create_visit, fire
from tests.integration.web import Browser


def history(world: World, visit: dict[str, Any]) -> list[dict[str, Any]]:
    r = world.get(f"/api/v1/visits/{visit['id']}/history", "mary")
    items: list[dict[str, Any]] = r.get_json()["items"]
    return items


def api_visit(world: World, visit_id: int) -> dict[str, Any]:
    data: dict[str, Any] = world.get(f"/api/v1/visits/{visit_id}", "mary").get_json()
    return data


def new_visit_form(world: World, **over: Any) -> dict[str, Any]:
    form = {
        "customer_id": str(world.customers["Acme"]),
        "planned_at": "2026-11-10T10:00",
        "visitors": ["mary", "tom"],
        "topics": ["customer_basics", "needs_research"],
        "place": "Acme HQ",
        "purpose": "yearly visit",
        "action": "create",
    }
    form.update(over)
    return form


# -- CSRF ------------------------------------------------------------------------------------
def test_a_refused_csrf_token_writes_nothing(world: World) -> None:
    visit = create_visit(world)
    mary = Browser(world, "mary")
    before = world.counts()
    for token in ("", "forged-token"):
        r = mary.post("/visits/new", new_visit_form(world), token=token)
        assert r.status_code == 400 and 'data-status="400"' in r.text
        r = mary.post(
            f"/visits/{visit['id']}/fire/cancel", {"version": "1", "reason": "x"}, token=token
        )
        assert r.status_code == 400
    # a token from another session is refused too
    other = Browser(world, "mike")
    r = other.post(
        f"/visits/{visit['id']}/fire/cancel", {"version": "1", "reason": "x"}, token=mary.token
    )
    assert r.status_code == 400
    assert world.counts() == before
    # the login form is protected as well
    anonymous = Browser(world)
    r = anonymous.post("/login", {"username": "mary", "password": "pw-mary"}, token="")
    assert r.status_code == 400
    assert anonymous.client.get("/").status_code == 302


def test_the_api_and_webhooks_need_no_csrf_token(world: World) -> None:
    visit = create_visit(world)  # a JSON POST with a bearer token
    r = fire(world, "visits", visit, "cancel", "mary")
    assert r.status_code == 200


# -- creating a visit ---------------------------------------------------------------------------
def test_plan_a_visit_through_the_form(world: World) -> None:
    mary = Browser(world, "mary")
    form = mary.get("/visits/new").text
    assert 'id="visit-new-form"' in form
    assert '<option value="mary" selected>' in form  # the planner is a visitor by default
    assert "Acme" in form and 'name="topics"' in form and 'type="datetime-local"' in form
    r = mary.post("/visits/new", new_visit_form(world))
    assert r.status_code == 302
    visit_id = int(r.headers["Location"].rsplit("/", 1)[1])
    visit = api_visit(world, visit_id)
    assert visit["planned_at"] == "2026-11-10T02:00:00+00:00"  # 10:00 in Asia/Shanghai
    assert visit["visitors"] == ["mary", "tom"]
    assert visit["topics"] == ["customer_basics", "needs_research"]
    assert (visit["place"], visit["purpose"]) == ("Acme HQ", "yearly visit")
    assert history(world, visit)[0]["source"] == "web"
    page = mary.get(r.headers["Location"]).text
    assert f"走访 #{visit_id} 已计划" in page


def test_plan_a_visit_errors_next_to_fields_with_input_kept(world: World) -> None:
    mary = Browser(world, "mary", lang="en")
    before = world.counts()
    r = mary.post(
        "/visits/new",
        new_visit_form(world, place="  ", planned_at="soon", purpose="keep me", visitors=[]),
    )
    assert r.status_code == 422
    assert world.counts() == before
    page = r.text
    for name in ("place", "planned_at", "visitors"):
        assert re.search(rf'id="field-{name}".*?class="error"', page, re.S), name
    assert 'id="f-place-error-1"' in page
    assert ">keep me</textarea>" in page
    assert 'value="soon"' in page
    assert 'value="customer_basics" checked' in page


def test_only_marketing_plans_visits(world: World) -> None:
    before = world.counts()
    tom = Browser(world, "tom")
    assert tom.get("/visits/new").status_code == 403
    r = tom.post("/visits/new", new_visit_form(world))
    assert r.status_code == 403 and 'data-status="403"' in r.text
    assert world.counts() == before


def test_booking_clash_warns_but_does_not_refuse(world: World) -> None:
    booked = create_visit(world, planned_at="2026-11-10T10:00:00+08:00", visitors=["mary", "tom"])
    create_visit(world, planned_at="2026-11-10T15:00:00+08:00", visitors=["amy", "mary"])
    mike = Browser(world, "mike", lang="en")
    form = new_visit_form(world, planned_at="2026-11-10T11:30", visitors=["tom", "amy"])
    # asking first: a warning naming tom's visit, nothing written
    before = world.counts()
    r = mike.post("/visits/new", {**form, "action": "check"})
    assert r.status_code == 200 and 'id="clash-warning"' in r.text
    assert f"tom already has visit #{booked['id']} at 2026-11-10 10:00" in r.text
    assert "amy already" not in r.text  # amy's other visit is 3.5 hours later
    assert world.counts() == before
    assert 'value="2026-11-10T11:30"' in r.text  # the input is kept
    # planning anyway works, and the warning comes along
    r = mike.post("/visits/new", form)
    assert r.status_code == 302
    page = mike.get(r.headers["Location"]).text
    assert f"tom already has visit #{booked['id']}" in page
    assert world.counts()["visits"] == before["visits"] + 1
    # no clash: a reassuring message
    r = mike.post("/visits/new", {**form, "planned_at": "2026-11-12T10:00", "action": "check"})
    assert 'id="clash-warning"' not in r.text and "No visitor has another visit" in r.text


def test_a_cancelled_visit_does_not_clash(world: World) -> None:
    visit = create_visit(world)
    assert fire(world, "visits", visit, "cancel", "mary").status_code == 200
    r = Browser(world, "mary").post("/visits/new", {**new_visit_form(world), "action": "check"})
    assert 'id="clash-warning"' not in r.text


# -- transition forms ---------------------------------------------------------------------------
def test_full_visit_lifecycle_through_the_web_forms(world: World) -> None:
    mary = Browser(world, "mary")
    r = mary.post("/visits/new", new_visit_form(world))
    visit_id = int(r.headers["Location"].rsplit("/", 1)[1])
    tom = Browser(world, "tom")
    base = f"/visits/{visit_id}"

    page = tom.get(f"{base}/fire/prepare").text  # the preparation checklist
    assert 'type="checkbox"' in page and 'name="materials"' in page
    r = tom.post(
        f"{base}/fire/prepare",
        {
            "version": "1",
            "customer_background_reviewed": "y",
            "time_place_confirmed": "y",
            "materials": ["brochure", "product_manual"],
            "contact_person": "Ms Li",
        },
    )
    assert (r.status_code, r.headers["Location"]) == (302, base)

    tom.get(f"{base}/fire/visit")
    r = tom.post(
        f"{base}/fire/visit",
        {"version": "2", "visited_at": "2026-11-02T09:00", "site_tour_or_demo": "y"},
    )
    assert r.status_code == 302

    page = tom.get(f"{base}/fire/record").text  # 《重点客户走访记录》, prefilled from the visit
    assert 'value="2026-11-02T09:00"' in page  # visited_at from the visit step
    assert 'value="Acme HQ"' in page
    assert '<option value="tom" selected>' in page
    record = {
        "version": "3",
        "visited_at": "2026-11-02T09:00",
        "place": "Acme HQ",
        "visitors": ["mary", "tom"],
        "customer_basics": "growing fast",
        "visit_content": "talked about the roadmap",
        "customer_issues": "delivery delays",
    }
    assert tom.post(f"{base}/fire/record", record).status_code == 302

    page = mary.get(f"{base}/fire/report").text  # the visit report
    assert ">growing fast</textarea>" in page  # carried over from the record
    report = {
        "version": "4",
        "customer_basics": "growing fast",
        "content_summary": "roadmap",
        "issues_and_suggestions": "delivery delays",
        "analysis_and_conclusions": "keep close",
        "improvement_measures": "weekly call",
        "distribution": ["management", "technical"],
        "feedback_meeting_at": "2026-11-12T14:00",
    }
    r = mary.post(f"{base}/fire/report", report)
    assert r.status_code == 302

    visit = api_visit(world, visit_id)
    assert (visit["state"], visit["version"]) == ("reported", 5)
    assert visit["data"]["prepare"] == {
        "customer_background_reviewed": True,
        "needs_and_history_reviewed": False,  # an unticked checkbox is false
        "materials": ["brochure", "product_manual"],
        "time_place_confirmed": True,
        "contact_person": "Ms Li",
    }
    assert visit["data"]["visit"]["visited_at"] == "2026-11-02T09:00:00+08:00"
    assert visit["data"]["report"]["feedback_meeting_at"] == "2026-11-12T14:00:00+08:00"
    events = history(world, visit)
    assert [e["trigger"] for e in events] == [None, "prepare", "visit", "record", "report"]
    assert {e["source"] for e in events} == {"web"}
    assert [e["actor"] for e in events] == ["mary", "tom", "tom", "tom", "mary"]
    page = mary.get(base).text
    assert 'data-state="reported"' in page and "delivery delays" in page
    assert "公司管理层, 技术部门" in page  # the distribution's labels in Chinese
    assert page.count('data-source="web"') == 5
    assert 'id="triggers"' not in page  # a final state: nothing to do


def test_field_errors_appear_next_to_fields_and_keep_the_input(world: World) -> None:
    visit = create_visit(world)
    tom = Browser(world, "tom")
    before = world.counts()
    r = tom.post(
        f"/visits/{visit['id']}/fire/prepare",
        {
            "version": "1",
            "time_place_confirmed": "y",
            "contact_person": "Ms Li",
            "tools": ["camera"],
        },
    )
    assert r.status_code == 422
    assert world.counts() == before
    page = r.text
    error = re.search(
        r'id="field-customer_background_reviewed".*?<p class="error"[^>]*>(.*?)</p>', page, re.S
    )
    assert error and error.group(1) == "必须勾选"  # the engine's guard, in Chinese
    assert 'id="f-time_place_confirmed" name="time_place_confirmed" value="y" checked' in page
    assert 'value="Ms Li"' in page and 'value="camera" checked' in page
    assert 'name="version" value="1"' in page
    # a required text left empty, a bad time: in English this time
    advance(world, "visits", visit, ["prepare", "visit"], "tom")
    r = tom.post(
        f"/visits/{visit['id']}/fire/record?lang=en",
        {
            "version": "3",
            "visited_at": "yesterday",
            "place": "Acme HQ",
            "visitors": ["tom"],
            "customer_basics": "",
            "visit_content": "we talked",
        },
    )
    assert r.status_code == 422
    assert re.search(r'id="field-customer_basics".*?Missing data for required field', r.text, re.S)
    assert re.search(r'id="field-visited_at".*?Not a valid datetime', r.text, re.S)
    assert ">we talked</textarea>" in r.text and 'value="yesterday"' in r.text


def test_a_forbidden_role_gets_403_and_nothing_is_written(world: World) -> None:
    visit = create_visit(world)
    boss = Browser(world, "boss")  # management sees every visit but may not prepare one
    boss.get(f"/visits/{visit['id']}")
    before = world.counts()
    r = boss.post(
        f"/visits/{visit['id']}/fire/prepare",
        {"version": "1", "customer_background_reviewed": "y", "time_place_confirmed": "y"},
    )
    assert r.status_code == 403 and 'data-status="403"' in r.text
    assert world.counts() == before
    assert api_visit(world, visit["id"])["version"] == 1


def test_an_invisible_visit_is_404_on_submit_too(world: World) -> None:
    visit = create_visit(world, visitors=["mary", "amy"])
    tom = Browser(world, "tom")
    before = world.counts()
    r = tom.post(f"/visits/{visit['id']}/fire/cancel", {"version": "1", "reason": "x"})
    assert r.status_code == 404 and "Acme" not in r.text
    assert world.counts() == before


def test_version_conflict_says_so_and_keeps_the_input(world: World) -> None:
    visit = create_visit(world)
    mary = Browser(world, "mary", lang="en")
    form = mary.get(f"/visits/{visit['id']}/fire/cancel").text
    assert 'name="version" value="1"' in form
    # meanwhile mike reschedules the visit through the API
    r = fire(world, "visits", visit, "reschedule", "mike")
    assert r.status_code == 200
    before = world.counts()
    r = mary.post(f"/visits/{visit['id']}/fire/cancel", {"version": "1", "reason": "customer busy"})
    assert r.status_code == 409
    assert world.counts() == before
    assert 'id="conflict"' in r.text and "Someone else changed this visit meanwhile" in r.text
    assert ">customer busy</textarea>" in r.text
    assert 'name="version" value="2"' in r.text  # submitting again applies it to version 2
    r = mary.post(f"/visits/{visit['id']}/fire/cancel", {"version": "2", "reason": "customer busy"})
    assert r.status_code == 302
    assert api_visit(world, visit["id"])["state"] == "cancelled"


def test_a_step_no_longer_possible_is_409(world: World) -> None:
    visit = create_visit(world)
    fire(world, "visits", visit, "cancel", "mary")
    r = Browser(world, "mary").post(
        f"/visits/{visit['id']}/fire/reschedule",
        {"version": "2", "planned_at": "2026-11-20T10:00", "reason": "x"},
    )
    assert r.status_code == 409 and 'data-status="409"' in r.text


def test_reschedule_converts_local_time_and_refuses_a_past_time(world: World) -> None:
    visit = create_visit(world)
    mary = Browser(world, "mary", lang="en")
    page = mary.get(f"/visits/{visit['id']}/fire/reschedule").text
    assert re.search(r'name="planned_at"[^>]*value=""', page)  # a new time is asked for
    r = mary.post(
        f"/visits/{visit['id']}/fire/reschedule",
        {"version": "1", "planned_at": "2026-11-01T10:00", "reason": "asked"},
    )
    assert r.status_code == 422 and "must not be in the past" in r.text
    r = mary.post(
        f"/visits/{visit['id']}/fire/reschedule",
        {"version": "1", "planned_at": "2026-11-20T09:00", "reason": "asked"},
    )
    assert r.status_code == 302
    assert api_visit(world, visit["id"])["planned_at"] == "2026-11-20T01:00:00+00:00"


def test_a_missing_version_is_a_bad_request(world: World) -> None:
    visit = create_visit(world)
    before = world.counts()
    r = Browser(world, "mary").post(f"/visits/{visit['id']}/fire/cancel", {"reason": "x"})
    assert r.status_code == 400
    assert world.counts() == before
