"""`GET /api/v1/calendar-feed` (the caller's feed URL) and the feed itself."""

from __future__ import annotations

from flask import Response, request, url_for
from marshmallow import Schema, fields

from service.core.errors import NotFound
from service.entrypoints.api.common import Blueprint
from service.entrypoints.auth import current_actor
from service.usecases import calendar_feed

blp = Blueprint("calendar", __name__, description="Calendar feeds")


class FeedUrl(Schema):
    url = fields.String(
        required=True, metadata={"format": "uri", "description": "the caller's visits as iCalendar"}
    )


@blp.route("/api/v1/calendar-feed", methods=["GET"])
@blp.response(200, FeedUrl)
def feed_url() -> dict[str, str]:
    """The URL of the caller's iCalendar feed, to subscribe to from a phone or Outlook."""
    token = calendar_feed.token_for(current_actor().username)
    return {"url": url_for("calendar.feed", token=token, _external=True)}


@blp.route("/calendar/<token>.ics", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, {"type": "string"}, content_type="text/calendar", description="iCalendar")
@blp.errors({404: "no such calendar feed"})
def feed(token: str) -> Response:
    """A user's visits as iCalendar (the token in the URL is the credential)."""
    username = calendar_feed.username_for(token)
    if username is None:
        raise NotFound("no such calendar feed")
    body = calendar_feed.feed(username, request.host_url)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private"})
