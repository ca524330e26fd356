"""What makes the pages quick and whole: static files under their content hash cached for a
year (never a stale or unhashed one), the diagram drawn on the server without a script, the
favicon, and the markup the phone layout needs (menu button, calendar list, scalable charts)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

from service.entrypoints.web import assets
from tests.integration.conftest import World, create_visit
from tests.integration.web import Browser

STATIC = Path(__file__).resolve().parents[2] / "service" / "entrypoints" / "web" / "static"
LONG = "public, max-age=31536000, immutable"


def _hash(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:16]


def test_pages_link_static_files_under_their_content_hash(world: World) -> None:
    page = Browser(world, "mary").get("/").text
    for name in ("visitflow.css", "print.css", "favicon.svg", "favicon-32.png"):
        assert f'href="/web-static/{name}?v={_hash(name)}"' in page, name


@pytest.mark.parametrize("name", ["visitflow.css", "favicon.svg", "apple-touch-icon.png"])
def test_a_hashed_url_is_cached_for_a_year(world: World, name: str) -> None:
    with world.app.test_client().get(f"/web-static/{name}?v={_hash(name)}") as r:
        assert r.status_code == 200
        assert r.headers["Cache-Control"] == LONG
        assert "Expires" not in r.headers


@pytest.mark.parametrize("query", ["", "?v=0123456789abcdef", "?v="])
def test_an_unhashed_or_stale_url_is_not_kept(world: World, query: str) -> None:
    with world.app.test_client().get(f"/web-static/visitflow.css{query}") as r:
        assert r.status_code == 200
        assert "immutable" not in r.headers.get("Cache-Control", "")
        assert "max-age=31536000" not in r.headers.get("Cache-Control", "")
        assert r.headers.get("ETag")  # revalidated, cheaply


def test_a_changed_file_gets_a_new_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets, "static_folder", lambda: tmp_path)
    target = tmp_path / "site.css"
    target.write_text("body { color: red; }")
    os.utime(target, ns=(10**18, 10**18))
    before = assets.digest("site.css")
    target.write_text("body { color: blue; }")  # same size: the time tells it changed
    os.utime(target, ns=(10**18 + 1, 10**18 + 1))
    after = assets.digest("site.css")
    assert before is not None and after is not None and after != before
    assert after == hashlib.sha256(target.read_bytes()).hexdigest()[:16]


def test_no_digest_outside_the_static_folder() -> None:
    assert assets.digest("../__init__.py") is None
    assert assets.digest("missing.css") is None


def test_the_favicon_is_served_without_signing_in(world: World) -> None:
    client = world.app.test_client()
    with client.get("/favicon.ico") as r:
        assert r.status_code == 200
        assert r.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    with client.get(f"/web-static/favicon.svg?v={_hash('favicon.svg')}") as r:
        assert r.mimetype == "image/svg+xml" and b"<svg" in r.data
    login = client.get("/login").text
    assert 'rel="icon"' in login and 'type="image/svg+xml"' in login


def test_an_instance_page_draws_its_diagram_without_a_script(world: World) -> None:
    visit = create_visit(world)
    page = Browser(world, "mary").get(f"/visits/{visit['id']}").text
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert "mermaid" not in page.lower() and all(
        s.split("?")[0].endswith(("/forms.js", "/offline.js")) for s in scripts
    ), scripts
    assert "<summary>流程图</summary>" in page
    svg = re.search(r'<div class="diagram-box" id="diagram">(<svg .*?</svg>)</div>', page, re.S)
    assert svg is not None
    assert 'aria-current="step" id="diagram-planned"' in svg.group(1)
    assert "完成走访准备" in svg.group(1)  # the steps are labelled in the page's language
    english = Browser(world, "mary", lang="en").get(f"/visits/{visit['id']}").text
    assert "<summary>Workflow diagram</summary>" in english and "Mark prepared" in english


def test_the_menu_button_controls_the_navigation(world: World) -> None:
    page = Browser(world, "mary").get("/").text
    toggle = page.index('id="nav-toggle"')
    assert page.index('for="nav-toggle"') > toggle and page.index('id="nav"') > toggle
    assert 'type="checkbox"' in page[page.rfind("<", 0, toggle) : toggle]
    assert "菜单" in page
    assert 'id="nav-toggle"' not in Browser(world).get("/login").text  # nobody signed in


def test_the_calendar_marks_days_for_the_phone_list(world: World) -> None:
    visit = create_visit(world, planned_at="2026-11-10T01:30:00+00:00")
    page = Browser(world, "mary").get("/visits/calendar?month=2026-11").text
    day = re.search(r'<td id="day-2026-11-10" class="([^"]*)">(.*?)</td>', page, re.S)
    assert day is not None and "no-visits" not in day.group(1)
    assert '<span class="day-name">周二</span>' in day.group(2)
    assert f'id="cal-visit-{visit["id"]}"' in day.group(2)
    empty = re.search(r'<td id="day-2026-11-11" class="([^"]*)"', page)
    assert empty is not None and "no-visits" in empty.group(1)
    assert (
        'id="calendar-empty"' in Browser(world, "mary").get("/visits/calendar?month=2027-02").text
    )


def test_dashboard_charts_stretch_without_shrinking_their_text(world: World) -> None:
    page = Browser(world, "mike").get("/dashboard?from=2026-01-01&to=2027-01-01").text
    charts = re.findall(r'<svg class="chart"[^>]*>', page)
    assert len(charts) == 6
    assert all("viewBox" not in c and 'width="100%"' in c for c in charts)
    bars = re.findall(r'<rect x="0" y="\d+" width="([^"]+)"', page)
    assert bars and all(w.endswith("%") for w in bars)
