"""The pages as a Progressive Web App: a manifest, a service worker, what it keeps offline.

The service worker (`static/sw.js`, served at `/sw.js` so that its scope is every page)
keeps the shell (styles, scripts, icons, the offline page) and the pages a user is likely to
need in a basement: their inbox, and for each item in it the item's page and the forms of
the steps they may take now (`/offline/pages`, asked again whenever a page loads online).
Forms filled offline wait in the browser's queue (`static/offline.js`) and are sent when the
phone is back online, each with the `client_id` its form was rendered with, so that a step
is done once however often the queue sends it (`usecases.client_requests`).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template, request, url_for

from service.entrypoints.web.assets import static_folder
from service.entrypoints.web.auth import login_required, web_actor
from service.entrypoints.web.common import _, bp, lang
from service.entrypoints.web.views import object_url
from service.usecases.inbox import inbox

KEPT_ITEMS = 30  # the inbox's first items whose pages and step forms are kept offline
FIRE_ENDPOINTS = {
    "visit": "web.visit_fire",
    "issue": "web.issue_fire",
    "rectification": "web.notice_fire",
}
ID_ARGS = {"visit": "visit_id", "issue": "issue_id", "rectification": "notice_id"}


@bp.route("/manifest.webmanifest")
def manifest() -> Response:
    def icon(name: str, size: int, purpose: str = "any") -> dict[str, str]:
        src = url_for("web.static", filename=name)
        return {"src": src, "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}

    body = {
        "name": _("VisitFlow key-customer visits"),
        "short_name": "VisitFlow",
        "description": _("Visits to key customers, their issues and rectification notices."),
        "lang": "zh-CN" if lang() == "zh" else "en",
        "start_url": url_for("web.inbox"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f5f7fa",
        "theme_color": "#1d4ed8",
        "icons": [
            icon("icon-192.png", 192),
            icon("icon-512.png", 512),
            icon("icon-maskable-512.png", 512, "maskable"),
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/sw.js")
def service_worker() -> Response:
    """The worker at the site's root (its scope is every page), never cached long: a new
    version must reach phones at their next visit."""
    script = (static_folder() / "sw.js").read_bytes()  # small: no file left open
    response = Response(script, mimetype="text/javascript")
    response.add_etag()
    response.make_conditional(request)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.route("/offline")
def offline_page() -> str:
    """What a page that was never kept shows offline (the worker keeps this one)."""
    return render_template("web/offline.html")


@bp.route("/offline/pages")
@login_required
def offline_pages() -> Response:
    """The pages the worker keeps for the signed-in user: the inbox, the shell's pages, and
    the first items of the inbox with the forms of the steps they may take."""
    actor = web_actor()
    items, _total = inbox(actor, 1, KEPT_ITEMS)
    pages: list[str] = [url_for("web.inbox"), url_for("web.visits")]
    for item in items:
        workflow = item["workflow"]
        page = object_url(workflow, item["id"])
        if page is None:
            continue
        pages.append(page)
        ids: dict[str, Any] = {ID_ARGS[workflow]: item["id"]}
        for trigger in item.get("allowed_triggers", ()):
            pages.append(url_for(FIRE_ENDPOINTS[workflow], trigger=trigger, **ids))
    response = jsonify({"user": actor.username, "pages": pages})
    response.headers["Cache-Control"] = "no-store"
    return response
