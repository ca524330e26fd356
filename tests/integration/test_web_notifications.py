"""The notifications page: list, unread count in the header, mark read, open the item."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import World, create_visit
from tests.integration.web import Browser
from tests.support.worker import table_rows


def unread(world: World, user: str) -> list[int]:
    return [n["id"] for n in table_rows(world.app, "notifications", username=user, read=False)]


def two_visits(world: World) -> list[dict[str, Any]]:
    """Mary plans two visits with tom: tom is told of each."""
    return [create_visit(world), create_visit(world, planned_at="2026-11-12T10:00:00+08:00")]


def test_the_page_lists_newest_first_in_the_readers_language(world: World) -> None:
    first, second = two_visits(world)
    page = Browser(world, "tom").get("/notifications")
    assert page.status_code == 200
    html = page.text
    assert 'id="unread-count"' in html and ">2</span>" in html
    assert html.index(f"重点客户走访 #{second['id']} 已计划（mary）") < html.index(
        f"重点客户走访 #{first['id']} 已计划（mary）"
    )
    assert html.count('class="notification unread"') == 2
    english = Browser(world, "tom", lang="en").get("/notifications").text
    assert f"Key-customer visit #{second['id']} planned by mary" in english
    assert "Mark all read" in english and "全部标为已读" in html


def test_opening_a_notification_lands_on_the_item_and_marks_it_read(world: World) -> None:
    first, _ = two_visits(world)
    tom = Browser(world, "tom")
    tom.get("/notifications")
    [newest, oldest] = sorted(unread(world, "tom"), reverse=True)
    r = tom.post(f"/notifications/{oldest}/open")
    assert r.status_code == 302 and r.headers["Location"] == f"/visits/{first['id']}"
    assert unread(world, "tom") == [newest]
    assert ">1</span>" in tom.get(f"/visits/{first['id']}").text  # the count dropped


def test_mark_one_and_mark_all_read(world: World) -> None:
    two_visits(world)
    tom = Browser(world, "tom")
    tom.get("/notifications")
    newest = max(unread(world, "tom"))
    assert tom.post(f"/notifications/{newest}/read").status_code == 302
    assert len(unread(world, "tom")) == 1
    assert tom.post("/notifications/read-all").status_code == 302
    assert unread(world, "tom") == []
    assert 'id="unread-count"' not in tom.get("/notifications").text


def test_someone_elses_notification_is_not_found_and_nothing_is_written(world: World) -> None:
    two_visits(world)
    theirs = unread(world, "tom")
    mary = Browser(world, "mary")
    mary.get("/notifications")
    for path in (f"/notifications/{theirs[0]}/read", f"/notifications/{theirs[0]}/open"):
        assert mary.post(path).status_code == 404
    assert mary.post("/notifications/999999/read").status_code == 404
    mary.post("/notifications/read-all")
    assert unread(world, "tom") == theirs


def test_a_post_without_a_valid_csrf_token_is_refused(world: World) -> None:
    two_visits(world)
    tom = Browser(world, "tom")
    tom.get("/notifications")
    mine = unread(world, "tom")
    assert tom.post(f"/notifications/{mine[0]}/read", token="").status_code == 400
    assert tom.post("/notifications/read-all", token="forged").status_code == 400
    assert unread(world, "tom") == mine


def test_signed_out_readers_are_sent_to_sign_in(world: World) -> None:
    r = world.app.test_client().get("/notifications")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
