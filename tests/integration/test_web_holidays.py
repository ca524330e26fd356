"""The official holidays page: an admin previews a State Council notice, then saves it."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from service.core import roles, runtime
from service.store.db import db
from service.store.models import User
from service.usecases import official_calendar
from tests.integration.conftest import World
from tests.integration.test_official_holidays import NOTICE_2027
from tests.integration.test_web_texts import english_words
from tests.integration.web import Browser
from workflows.notice import parse_notice

PAGE = "/holidays"


def rows(world: World) -> list[Any]:
    with world.app.app_context():
        return list(db.session.execute(sa.text("SELECT year, notice FROM official_calendar_years")))


def section(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}"', 1)[1].split("</section>", 1)[0]


def test_the_admin_finds_the_page_in_the_navigation_and_it_lists_the_years_loaded(
    world: World,
) -> None:
    admin = Browser(world, "admin")
    page = admin.get("/").text
    assert 'id="nav-holidays" href="/holidays"' in page
    r = admin.get(PAGE)
    assert r.status_code == 200 and 'aria-current="page">节假日' in r.text
    assert 'id="holidays-none"' in r.text and 'id="holidays-preview-result"' not in r.text
    assert (
        world.post("/api/v1/official-holidays", "admin", {"text": NOTICE_2027}).status_code == 200
    )
    years = section(admin.get(PAGE).text, "holidays-stored")
    assert 'data-year="2027"' in years and "国庆节 09-30–10-08" in years
    assert "09-26, 10-09" in years and "admin" in years and "2026-11-02 09:00" in years
    assert 'id="nav-holidays"' not in Browser(world, "mike").get("/").text


def test_the_preview_shows_each_holiday_make_up_day_and_change_and_writes_nothing(
    world: World,
) -> None:
    admin = Browser(world, "admin")
    before = world.counts()
    r = admin.post(PAGE, {"action": "preview", "text": NOTICE_2027})
    assert r.status_code == 200, r.text
    assert world.counts() == before and rows(world) == []
    preview = section(r.text, "holidays-preview-result")
    assert 'data-name="国庆节" data-from="2027-09-30" data-to="2027-10-08"' in preview
    assert "2027-09-30（周四） – 2027-10-08（周五）" in preview
    assert 'data-date="2027-09-26"' in preview and "2027-10-09（周六）" in preview
    changes = preview.split('id="holidays-changes"')[1].split("</table>")[0]
    assert '<tr class="holiday-change" data-date="2027-09-30">' in changes  # a Thursday, now off
    assert '<tr class="holiday-change" data-date="2027-10-08">' in changes  # past the 1-7 estimate
    assert '<tr class="holiday-change" data-date="2027-10-01">' not in changes  # off either way
    made_up = changes.split('data-date="2027-10-09"')[1].split("</tr>")[0]
    assert "放假" in made_up and "工作日" in made_up and "调休上班" in made_up
    assert "当前计划使用固定节日和按农历估算的节日" in preview
    assert (
        'name="action" value="save"' in preview
        and "9月26日（周日）、10月9日（周六）上班" in preview
    )
    words, _ = english_words(r.text)
    assert not words - {"admin"}, words


def test_the_api_dry_run_gives_the_same_changes(world: World) -> None:
    body = world.post(
        "/api/v1/official-holidays", "admin", {"text": NOTICE_2027, "dry_run": True}
    ).get_json()
    days = {c["date"]: c for c in body["changes"]}
    assert days["2027-10-09"] == {
        "date": "2027-10-09",
        "worked_now": False,
        "worked": True,
        "name": None,
        "make_up": True,
    }
    assert days["2027-09-30"]["name"] == "国庆节" and "2027-10-01" not in days


def test_saving_stores_the_notice_and_the_plan_follows_it_at_once(world: World) -> None:
    mike = Browser(world, "mike")
    assert 'id="plan-calendar-builtin"' in mike.get("/plan?year=2027").text
    admin = Browser(world, "admin")
    preview = admin.post(PAGE, {"action": "preview", "text": NOTICE_2027.replace("\n", "\r\n")})
    assert preview.status_code == 200
    r = admin.post(PAGE, {"action": "save", "text": NOTICE_2027, "year": ""})
    assert r.status_code == 302 and r.headers["Location"].endswith(PAGE)
    assert rows(world) == [(2027, NOTICE_2027)]
    page = admin.get(PAGE).text
    assert "2027 年法定节假日安排已保存" in page and 'data-year="2027"' in page
    plan = mike.get("/plan?year=2027").text
    assert 'id="plan-calendar-builtin"' not in plan and 'id="plan-result"' in plan
    assert "2027-09-30" not in plan and "2027-10-08" not in plan


def _other_process_saves_2027(world: World) -> str:
    """Another web process writes the table (here: a connection of its own, outside the app);
    returns the year's digest."""
    with world.app.app_context():
        parsed = parse_notice(NOTICE_2027)
        values = (2027, parsed.as_dict(), official_calendar.digest(parsed))
    path = world.app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO official_calendar_years (year, days, notice, digest, loaded_by, loaded_at)"
            " VALUES (?, ?, ?, ?, 'cli', ?)",
            (values[0], json.dumps(values[1]), NOTICE_2027, values[2], datetime.now(UTC)),
        )
    return values[2]


def test_requests_look_for_another_processs_save_at_most_every_calendar_sync_seconds(
    world: World,
) -> None:
    world.app.config["CALENDAR_SYNC_SECONDS"] = 3600.0
    mike = Browser(world, "mike")
    assert 'id="plan-calendar-builtin"' in mike.get("/plan?year=2027").text  # looked just now
    _other_process_saves_2027(world)
    assert 'id="plan-calendar-builtin"' in mike.get("/plan?year=2027").text  # not yet again
    world.app.extensions["official_calendar_sync"]["at"] -= 3600  # an hour later
    assert 'id="plan-calendar-builtin"' not in mike.get("/plan?year=2027").text


def test_a_notice_saved_by_another_process_is_followed_at_the_next_request(world: World) -> None:
    """With CALENDAR_SYNC_SECONDS 0 every request looks: this process's calendar follows
    another's save before its next request."""
    world.app.config["CALENDAR_SYNC_SECONDS"] = 0.0
    mike = Browser(world, "mike")
    assert 'id="plan-calendar-builtin"' in mike.get("/plan?year=2027").text
    digest = _other_process_saves_2027(world)
    assert 'id="plan-calendar-builtin"' not in mike.get("/plan?year=2027").text
    with world.app.test_request_context():
        calendar = runtime.registry().calendar
        loaded = calendar._loaded
        official_calendar.sync()  # nothing changed: the years are not read again
        assert calendar.official_stamp == f"2027:{digest}" and calendar._loaded is loaded


BAD = [
    ("", "不能为空白。"),
    ("关于2027年部分节假日安排的通知\n请周知。", "未找到任何节日"),
    (NOTICE_2027.replace("共9天", "共8天"), "国庆节：通知写明共 8 天，但所列日期共 9 天"),
    (NOTICE_2027.replace("9月30日（周四）", "9月30日（周五）"), "国庆节：2027-09-30 不是周五"),
    (NOTICE_2027.split("\n", 1)[1], "文本中没有年份"),
    (
        "关于2027年部分节假日安排的通知\n" + "一、元旦：1月1日放假1天。" * 2000,
        "长度不能超过 20000。",
    ),
]


@pytest.mark.parametrize("action", ["preview", "save"])
@pytest.mark.parametrize(("text", "problem"), BAD)
def test_a_bad_notice_is_422_with_the_parser_problem_in_chinese_and_nothing_saved(
    world: World, action: str, text: str, problem: str
) -> None:
    r = Browser(world, "admin").post(PAGE, {"action": action, "text": text})
    assert r.status_code == 422 and problem in r.text, r.text
    assert 'id="form-errors"' in r.text and 'id="f-text-error-1"' in r.text
    assert 'id="holidays-save-form"' not in r.text and rows(world) == []


def test_a_year_that_is_not_a_number_is_named(world: World) -> None:
    text = NOTICE_2027.split("\n", 1)[1]
    r = Browser(world, "admin", lang="en").post(PAGE, {"text": text, "year": "20x7"})
    assert r.status_code == 422 and 'id="f-year-error-1"' in r.text
    assert "Not a valid integer." in r.text and rows(world) == []
    ok = Browser(world, "admin").post(PAGE, {"text": text, "year": "2027"})
    assert ok.status_code == 200 and 'data-year="2027"' in ok.text


def test_an_uploaded_file_in_gb18030_is_read_and_a_binary_one_refused(world: World) -> None:
    admin = Browser(world, "admin")
    upload = (io.BytesIO(NOTICE_2027.encode("gb18030")), "2027.txt")
    r = admin.post(PAGE, {"action": "preview", "file": upload}, content_type="multipart/form-data")
    assert r.status_code == 200 and 'data-name="国庆节"' in r.text
    assert "9月26日（周日）、10月9日（周六）上班" in r.text  # in the form, to save
    binary = (io.BytesIO(b"\xff\xd8\xff\xe0\x00\x10JFIF\xff\xff"), "photo.txt")
    r = admin.post(PAGE, {"action": "save", "file": binary}, content_type="multipart/form-data")
    assert (
        r.status_code == 422 and "该文件不是可识别编码的纯文本文件" in r.text and rows(world) == []
    )


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 4096}])
def test_an_upload_over_the_size_limit_is_413_and_saves_nothing(world: World) -> None:
    big = (io.BytesIO(NOTICE_2027.encode() * 20), "2027.txt")
    r = Browser(world, "admin").post(
        PAGE, {"action": "save", "file": big}, content_type="multipart/form-data"
    )
    assert r.status_code == 413 and "提交的内容过大：最多 4 KB。" in r.text
    assert rows(world) == []


@pytest.mark.parametrize("user", ["mike", "mary", "boss", "sara"])
def test_only_an_admin_sees_or_uses_the_page(world: World, user: str) -> None:
    browser = Browser(world, user)
    assert browser.get(PAGE).status_code == 403
    r = browser.post(PAGE, {"action": "save", "text": NOTICE_2027})
    assert r.status_code == 403 and "只有系统管理员可以载入法定节假日安排" in r.text
    assert rows(world) == []


def test_saving_without_the_csrf_token_is_refused(world: World) -> None:
    r = Browser(world, "admin").post(PAGE, {"action": "save", "text": NOTICE_2027}, token="")
    assert r.status_code == 400 and rows(world) == []


def test_the_plan_says_why_visits_do_not_fit_and_names_the_visitors(
    world: World, clock: object
) -> None:
    with world.app.app_context():
        for username, name in (("mary", "王丽"), ("tom", "张涛"), ("amy", "陈静")):
            db.session.execute(
                sa.update(User).where(User.username == username).values(display_name=name)
            )
        db.session.commit()
    clock.now = datetime(2026, 12, 3, 1, tzinfo=UTC)  # type: ignore[attr-defined]
    page = Browser(world, "mike").get("/plan?year=2026").text
    short = page.split('id="plan-shortfalls"')[1].split("</table>")[0]
    assert "原因" in short and 'data-reason="gap"' in short
    assert "10 次未能安排：剩余 20 个工作日按每次间隔 10 个工作日只能安排 2 次走访" in short
    visits = [v.split("</span>")[0] for v in page.split('class="plan-visit">')[1:]]
    assert visits and all("王丽" in v for v in visits), visits
    assert not any("mary" in v or "tom" in v for v in visits), visits
    english = Browser(world, "mike", lang="en").get("/plan?year=2026").text
    assert "10 not placed: the 20 working days left hold 2 visits 10 working days apart" in english


def test_the_api_says_why_in_english_unless_asked_for_chinese(world: World, clock: object) -> None:
    clock.now = datetime(2026, 12, 3, 1, tzinfo=UTC)  # type: ignore[attr-defined]

    def reason(**headers: str) -> str:
        r = world.client.post(
            "/api/v1/plans", headers={**world.auth("mike"), **headers}, json={"year": 2026}
        )
        [short] = [s for s in r.get_json()["shortfalls"] if s["customer_id"] == acme]
        return str(short["reasons"][0]["message"])

    acme = world.customers["Acme"]

    assert reason().startswith("10 not placed: the 20 working days left hold 2 visits")
    assert reason(**{"Accept-Language": "zh-CN,zh;q=0.9"}).startswith("10 次未能安排：剩余 20")


def test_the_fallback_notice_links_to_the_page_for_an_admin_who_plans(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today only a marketing manager plans (and is told an administrator loads the notice);
    a role that both plans and loads gets the link from the notice to the page."""
    assert 'id="plan-calendar-load"' not in Browser(world, "mike").get("/plan?year=2027").text
    monkeypatch.setattr(roles, "PLANNERS", roles.PLANNERS | {"admin"})
    page = Browser(world, "admin").get("/plan?year=2027").text
    notice = page.split('id="plan-calendar-builtin"')[1].split("</p>")[0]
    assert '<a id="plan-calendar-load" href="/holidays">载入 2027 年官方节假日安排</a>' in notice
