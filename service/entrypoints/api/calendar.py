"""`GET /api/v1/calendar-feed` (the caller's feed URL) and the feed itself."""

from __future__ import annotations

from flask import Response, request, url_for
from flask_smorest import Blueprint

from service.core.errors import NotFound
from service.entrypoints.api.common import json_doc
from service.entrypoints.auth import current_actor
from service.usecases import calendar_feed

blp = Blueprint("calendar", __name__, description="Calendar feeds")


@blp.route("/api/v1/calendar-feed", methods=["GET"])
@blp.doc(responses={"200": json_doc('{"url": the iCalendar feed of the caller\'s visits}')})
def feed_url() -> dict[str, str]:
    """The URL of the caller's iCalendar feed, to subscribe to from a phone or Outlook."""
    token = calendar_feed.token_for(current_actor().username)
    return {"url": url_for("calendar.feed", token=token, _external=True)}


@blp.route("/calendar/<token>.ics", methods=["GET"])
@blp.doc(security=[], responses={"200": {"description": "text/calendar"}})
def feed(token: str) -> Response:
    """A user's visits as iCalendar (the token in the URL is the credential)."""
    username = calendar_feed.username_for(token)
    if username is None:
        raise NotFound("no such calendar feed")
    body = calendar_feed.feed(username, request.host_url)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private"})
