"""The Progressive Web App's parts: the manifest, the service worker, the pages kept offline."""

from __future__ import annotations

from tests.integration.conftest import World, advance, create_visit
from tests.integration.web import Browser


def test_the_manifest_names_the_app_its_icons_and_its_start(world: World) -> None:
    r = world.app.test_client().get("/manifest.webmanifest")
    assert r.status_code == 200 and r.mimetype == "application/manifest+json"
    manifest = r.get_json()
    assert manifest["name"] == "VisitFlow 重点客户走访" and manifest["lang"] == "zh-CN"
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        with world.app.test_client().get(icon["src"]) as served:
            assert served.status_code == 200 and served.data[:4] == b"\x89PNG"


def test_every_page_links_the_manifest_and_the_offline_script(world: World) -> None:
    page = Browser(world, "mary").get("/").text
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert "/offline.js" in page and 'id="offline-queue"' in page


def test_the_service_worker_is_served_for_the_whole_site_and_never_kept_long(
    world: World,
) -> None:
    r = world.app.test_client().get("/sw.js")
    assert r.status_code == 200 and "javascript" in r.mimetype
    assert r.headers["Service-Worker-Allowed"] == "/"
    assert r.headers["Cache-Control"] == "no-cache"
    assert b'addEventListener("fetch"' in r.data


def test_the_pages_kept_offline_are_the_users_items_and_their_next_steps(world: World) -> None:
    mine = create_visit(world, visitors=["mary", "tom"])
    advance(world, "visits", mine, ["prepare", "visit"], "tom")
    others = create_visit(world, visitors=["mary"])  # tom may not see it: never on his phone
    r = Browser(world, "tom").get("/offline/pages")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    assert body["user"] == "tom"
    pages = body["pages"]
    assert pages[:2] == ["/", "/visits"]
    assert f"/visits/{mine['id']}" in pages and f"/visits/{mine['id']}/fire/record" in pages
    assert not any(p.startswith(f"/visits/{others['id']}") for p in pages)


def test_the_pages_kept_offline_need_a_signed_in_user(world: World) -> None:
    r = world.app.test_client().get("/offline/pages")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_the_offline_page_says_what_is_kept(world: World) -> None:
    page = Browser(world, "mary").get("/offline").text
    assert "此页面未保存在本设备上" in page
