"""The web pages render for the people allowed to see them, in Chinese and in English."""

from __future__ import annotations

import re

import pytest

from tests.integration.conftest import Clock, World, advance, create_visit
from tests.integration.web import Browser


# -- signing in and out ------------------------------------------------------------------
def test_pages_ask_to_sign_in_first(world: World) -> None:
    r = world.app.test_client().get("/visits?state=planned")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login?next=")
    assert "visits" in r.headers["Location"]


def test_login_goes_to_the_page_asked_for(world: World) -> None:
    b = Browser(world)
    b.get("/login")
    r = b.post("/login", {"username": "mary", "password": "pw-mary", "next": "/visits"})
    assert (r.status_code, r.headers["Location"]) == (302, "/visits")
    assert b.get("/visits").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_login_never_redirects_off_site(world: World, target: str) -> None:
    b = Browser(world)
    b.get("/login")
    r = b.post("/login", {"username": "mary", "password": "pw-mary", "next": target})
    assert r.headers["Location"] == "/"


def test_login_failure_says_so_and_signs_nobody_in(world: World) -> None:
    b = Browser(world)
    b.get("/login")
    r = b.post("/login", {"username": "mary", "password": "wrong"})
    assert r.status_code == 401
    assert 'id="login-error"' in r.text
    assert "用户名不存在或密码错误" in r.text
    assert 'value="mary"' in r.text  # the username typed is kept
    r = b.post("/login", {"username": "nobody", "password": "pw-nobody"})
    assert r.status_code == 401
    assert b.get("/").status_code == 302


def test_logout_ends_the_session(world: World) -> None:
    b = Browser(world, "mary")
    assert b.get("/").status_code == 200
    r = b.post("/logout")
    assert (r.status_code, r.headers["Location"]) == (302, "/login")
    assert b.get("/").status_code == 302
    assert b.client.get("/logout").status_code == 405  # signing out is a POST with a token


def test_a_deactivated_user_is_signed_out(world: World) -> None:
    from service.store.db import db
    from service.store.models import User

    b = Browser(world, "mary")
    with world.app.app_context():
        db.session.query(User).filter_by(username="mary").update({"active": False})
        db.session.commit()
    assert b.get("/").status_code == 302


def test_pages_need_no_bearer_token_and_the_api_still_does(world: World) -> None:
    b = Browser(world, "mary")
    assert b.get("/visits").status_code == 200
    assert b.client.get("/api/v1/visits").status_code == 401


# -- every page, both languages ------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_in_both_languages(world: World, lang: str) -> None:
    visit = create_visit(world)
    b = Browser(world, "mary", lang=lang)
    pages = [
        "/",
        "/visits",
        "/visits?state=planned&visitor=tom&overdue=false&from=2026-11-01&to=2026-11-30",
        "/visits/calendar?month=2026-11",
        "/visits/new",
        f"/visits/{visit['id']}",
        f"/visits/{visit['id']}/fire/cancel",
        f"/visits/{visit['id']}/fire/reschedule",
    ]
    words = {"zh": ("收件箱", "走访", "退出"), "en": ("Inbox", "Visits", "Sign out")}[lang]
    for path in pages:
        r = b.get(path)
        assert r.status_code == 200, path
        assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in r.text
        for word in words:
            assert word in r.text, (path, word)


def test_chinese_by_default_and_the_choice_is_kept(world: World) -> None:
    visit = create_visit(world)
    b = Browser(world, "mary")
    page = b.get(f"/visits/{visit['id']}").text
    assert "重点客户" in page and "计划走访时间" in page and "已计划" in page
    assert 'id="lang-en"' in page
    page = b.get(f"/visits/{visit['id']}?lang=en").text
    assert "Planned visit time" in page and "Planned" in page
    page = b.get(f"/visits/{visit['id']}").text  # no parameter: the session remembers
    assert "Planned visit time" in page and 'id="lang-zh"' in page
    assert "计划走访时间" not in page


def test_the_layout_is_for_phones_and_print_and_needs_no_network(world: World) -> None:
    b = Browser(world, "mary")
    page = b.get("/").text
    assert 'name="viewport"' in page
    assert "http://" not in page and "https://" not in page  # no CDN, no remote fonts
    with b.client.get("/web-static/visitflow.css") as css:
        assert css.status_code == 200 and b"@media (max-width" in css.data
    assert 'media="print"' in page
    with b.client.get("/web-static/print.css") as r:
        print_css = r.data.decode()
    assert ".nav" in print_css and "button" in print_css and "display: none" in print_css


# -- inbox ---------------------------------------------------------------------------------
def test_inbox_lists_what_i_can_act_on_soonest_first_overdue_marked(
    world: World, clock: Clock
) -> None:
    later = create_visit(world, planned_at="2026-11-20T10:00:00+08:00")
    sooner = create_visit(world, planned_at="2026-11-04T10:00:00+08:00")
    not_mine = create_visit(world, visitors=["mary", "amy"])
    clock.advance(days=3)  # past the sooner visit's planned time: its preparation is overdue
    page = Browser(world, "tom").get("/").text
    rows = re.findall(r'<tr id="inbox-visit-(\d+)" class="([^"]*)"', page)
    assert [int(i) for i, _ in rows] == [sooner["id"], later["id"]]
    assert [c for _, c in rows] == ["overdue", ""]
    assert f"inbox-visit-{not_mine['id']}" not in page
    assert "已逾期" in page


def test_inbox_is_empty_for_someone_with_nothing_to_do(world: World) -> None:
    create_visit(world)
    page = Browser(world, "boss", lang="en").get("/").text
    assert 'id="inbox-empty"' in page


# -- visits list and calendar --------------------------------------------------------------
def test_visit_list_filters_and_respects_visibility(world: World) -> None:
    acme = create_visit(world)
    globex = create_visit(
        world,
        customer_id=world.customers["Globex"],
        visitors=["mary", "amy"],
        planned_at="2026-12-01T10:00:00+08:00",
    )
    mary = Browser(world, "mary")
    page = mary.get("/visits").text
    assert f'id="visit-{acme["id"]}"' in page and f'id="visit-{globex["id"]}"' in page
    page = mary.get(f"/visits?customer_id={world.customers['Globex']}").text
    assert f'id="visit-{acme["id"]}"' not in page and f'id="visit-{globex["id"]}"' in page
    page = mary.get("/visits?visitor=tom").text
    assert f'id="visit-{acme["id"]}"' in page and f'id="visit-{globex["id"]}"' not in page
    page = mary.get("/visits?from=2026-11-11&to=2026-12-01").text
    assert f'id="visit-{acme["id"]}"' not in page and f'id="visit-{globex["id"]}"' in page
    page = mary.get("/visits?to=2026-11-10").text  # a day's end is included
    assert f'id="visit-{acme["id"]}"' in page and f'id="visit-{globex["id"]}"' not in page
    page = mary.get("/visits?state=prepared").text
    assert 'id="visits-empty"' in page
    page = mary.get("/visits?overdue=true").text
    assert 'id="visits-empty"' in page
    # tom is a visitor of the first only: the second is not in his list at all
    page = Browser(world, "tom").get("/visits").text
    assert f'id="visit-{acme["id"]}"' in page and f'id="visit-{globex["id"]}"' not in page
    assert 'id="new-visit"' not in page  # technical staff do not plan visits


def test_visit_list_pages(world: World) -> None:
    world.app.config["WEB_PER_PAGE"] = 2
    ids = [
        create_visit(world, planned_at=f"2026-11-{10 + i}T10:00:00+08:00")["id"] for i in range(3)
    ]
    mary = Browser(world, "mary", lang="en")
    first = mary.get("/visits").text
    assert re.findall(r'<tr id="visit-(\d+)"', first) == [str(ids[2]), str(ids[1])]
    assert "Page 1 of 2" in first and 'id="page-next"' in first
    second = mary.get("/visits?page=2").text
    assert re.findall(r'<tr id="visit-(\d+)"', second) == [str(ids[0])]


def test_calendar_shows_a_planned_visit_in_its_day(world: World) -> None:
    visit = create_visit(world, planned_at="2026-11-10T01:30:00+00:00")  # 09:30 in Shanghai
    late = create_visit(world, planned_at="2026-11-30T17:00:00+00:00")  # 1 Dec in Shanghai
    page = Browser(world, "mary").get("/visits/calendar?month=2026-11").text
    cell = re.search(r'<td id="day-2026-11-10"[^>]*>(.*?)</td>', page, re.S)
    assert cell is not None
    assert f'id="cal-visit-{visit["id"]}"' in cell.group(1)
    assert "09:30 Acme" in cell.group(1)
    assert f'id="cal-visit-{late["id"]}"' not in page
    december = Browser(world, "mary").get("/visits/calendar?month=2026-12").text
    assert re.search(rf'id="day-2026-12-01"[^>]*>.*?cal-visit-{late["id"]}', december, re.S)
    # an invisible visit is not on tom's calendar
    hidden = create_visit(world, visitors=["mary", "amy"])
    page = Browser(world, "tom").get("/visits/calendar?month=2026-11").text
    assert f"cal-visit-{visit['id']}" in page and f"cal-visit-{hidden['id']}" not in page


def test_calendar_defaults_to_this_month(world: World) -> None:
    mary = Browser(world, "mary", lang="en")
    assert "Visits in 2026-11" in mary.get("/visits/calendar").text
    assert 'id="day-2025-12-29"' in mary.get("/visits/calendar?month=2026-01").text


@pytest.mark.parametrize(
    ("query", "label", "message"),
    [
        ("month=2026-13", "Month", "Not a month (2026-12)."),
        ("month=garbage", "Month", "Not a month (2026-12)."),
        ("month=2026-1", "Month", "Not a month (2026-12)."),
        ("visitor=nobody", "Visitor", "No such user."),
    ],
)
def test_calendar_names_a_bad_month_or_visitor(
    world: World, query: str, label: str, message: str
) -> None:
    visit = create_visit(world)  # planned in 2026-11, this month: not shown beside an error
    page = Browser(world, "mary", lang="en").get(f"/visits/calendar?{query}")
    assert page.status_code == 422
    box = re.search(r'<div class="notice error" id="filter-errors".*?</div>', page.text, re.S)
    assert box, page.text
    assert f"<strong>{label}</strong>: {message}" in box.group(0)
    assert f"cal-visit-{visit['id']}" not in page.text
    zh = Browser(world, "mary").get(f"/visits/calendar?{query}")
    assert zh.status_code == 422 and message not in zh.text


# -- one visit ------------------------------------------------------------------------------
def test_visit_page_shows_data_deadlines_history_diagram_and_my_buttons(world: World) -> None:
    visit = create_visit(world)
    visit = advance(world, "visits", visit, ["prepare"], "tom")
    page = Browser(world, "tom", lang="en").get(f"/visits/{visit['id']}").text
    assert 'data-state="prepared"' in page
    assert "Acme HQ" in page and "Business cooperation" in page and "Needs research" in page
    assert "2026-11-10 10:00" in page  # in the business time zone
    assert 'id="data-prepare"' in page and "Customer background reviewed" in page
    assert 'id="deadline-visit"' in page and "Visit deadline" in page
    assert re.search(r'<li id="state-prepared" class="current"', page)
    assert re.search(r'<div class="diagram-box" id="diagram"><svg class="diagram"', page)
    assert '<g class="state current" aria-current="step" id="diagram-prepared">' in page
    assert page.count('data-source="api"') == 2  # the creation and the preparation
    # buttons: tom (a technical visitor) may only mark it visited
    assert re.findall(r'id="fire-(\w+)"', page) == ["visit"]
    buttons = re.findall(
        r'id="fire-(\w+)"', Browser(world, "mary").get(f"/visits/{visit['id']}").text
    )
    assert buttons == ["visit", "cancel", "reschedule"]
    assert (
        re.findall(r'id="fire-(\w+)"', Browser(world, "boss").get(f"/visits/{visit['id']}").text)
        == []
    )


def test_an_invisible_visit_is_not_found(world: World) -> None:
    visit = create_visit(world, visitors=["mary", "amy"])
    tom = Browser(world, "tom")
    for path in (f"/visits/{visit['id']}", f"/visits/{visit['id']}/fire/prepare", "/visits/999"):
        r = tom.get(path)
        assert r.status_code == 404, path
        assert 'id="error"' in r.text and "text/html" in r.headers["Content-Type"]


def test_a_step_the_role_may_not_take_is_refused_on_the_page(world: World) -> None:
    visit = create_visit(world)
    r = Browser(world, "boss").get(f"/visits/{visit['id']}/fire/prepare")
    assert r.status_code == 403 and 'data-status="403"' in r.text
    r = Browser(world, "mary").get(f"/visits/{visit['id']}/fire/report")
    assert r.status_code == 409  # not from the planned state
    assert Browser(world, "mary").get(f"/visits/{visit['id']}/fire/nonsense").status_code == 404
