"""`POST /webhooks/{integration}`: another system fires a transition with a signed event.

Checks, in the API's order: the signature header and its time (401), the size (413), the
integration and the HMAC (401), the JSON (400), the event's envelope (422), then the same
handler as the API (404, 422, 409, 403, 422). An accepted event's id is used up in the
transition's own transaction; a repeat answers the stored response and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.engine import Connection
from werkzeug.exceptions import RequestEntityTooLarge

from service.core import runtime, signing
from service.core.errors import BadRequest, DomainError, InvalidRequest, NotFound, Unauthorized
from service.store.kinds import KINDS
from service.usecases import handlers, integrations
from workflows import WorkflowError

bp = Blueprint("webhooks", __name__)
REPLAYED = "Idempotent-Replayed"
WRONG = "signature does not match"  # the same words for an unknown integration: no probing


@bp.route("/webhooks/<name>", methods=["POST"])
def receive(name: str) -> Response:
    now = runtime.now()
    try:
        parsed = signing.parse(request.headers.get(signing.HEADER))
        tolerance = float(current_app.config["WEBHOOK_TOLERANCE_SECONDS"])
        signing.check_time(parsed, now.timestamp(), tolerance)
    except signing.BadSignature as err:
        raise Unauthorized(str(err)) from None
    _check_size()
    raw = request.get_data(cache=True)  # werkzeug raises 413 past the limit, too
    account = _verified(name, parsed, raw)
    event = _envelope(raw)
    kind = KINDS.get(event["object"]["workflow"])
    if kind is None:
        raise NotFound(f"no workflow {event['object']['workflow']!r}")
    trigger = event.get("trigger") or account.mappings.get(event.get("type") or "")
    body: dict[str, Any] = {"data": event.get("data", {})}
    if trigger:
        body["trigger"] = trigger
    if "version" in event:
        body["version"] = event["version"]
    event_id = event["id"]
    answered: list[str] = []

    def keep(conn: Connection, representation: dict[str, Any]) -> None:
        text = current_app.json.dumps(representation)
        integrations.use_up(conn, account.id, event_id, 200, text)
        answered.append(text)

    ctx = handlers.Context(account.actor, "webhook", g.get("request_id"))
    try:
        handlers.fire(kind, event["object"]["id"], body, ctx, keep)
    except (DomainError, WorkflowError, integrations.UsedUp) as err:
        # A repeat of an accepted event (or its concurrent twin, which lost the race on the
        # unique event id or on the instance's version) answers what the first one did.
        stored = integrations.stored_response(account.id, event_id)
        if stored is not None:
            return _json(stored[1], stored[0], replayed=True)
        if isinstance(err, InvalidRequest) and not trigger and "trigger" in err.errors:
            raise InvalidRequest(
                "no trigger: give one, or map this event type to one",
                {"trigger": [f"missing, and no mapping for event type {event.get('type')!r}"]},
            ) from None
        raise
    return _json(answered[0], 200)


def _check_size() -> None:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if limit is not None and length is not None and length > limit:
        raise RequestEntityTooLarge()  # before the HMAC: never computed over a large body


def _verified(name: str, parsed: signing.Parsed, raw: bytes) -> integrations.Account:
    now = runtime.now()
    account, cached = integrations.account(name)
    if account is None:
        raise Unauthorized(WRONG)
    try:
        signing.verify(parsed, raw, account.secrets(now))
        return account
    except signing.BadSignature:
        if not cached:
            raise Unauthorized(WRONG) from None
    account, _ = integrations.account(name, fresh=True)  # rotated since it was cached?
    if account is None:
        raise Unauthorized(WRONG)
    try:
        signing.verify(parsed, raw, account.secrets(now))
    except signing.BadSignature:
        raise Unauthorized(WRONG) from None
    return account


def _envelope(raw: bytes) -> dict[str, Any]:
    """The event: `{"id", "type"?, "occurred_at"?, "object": {"workflow", "id"}, "trigger"?,
    "version"?, "data"?}`; other keys are the sender's and are ignored."""
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadRequest(f"malformed JSON: {err}") from None
    if not isinstance(event, dict):
        raise InvalidRequest("the event must be a JSON object", {"_schema": ["must be an object"]})
    errors: dict[str, list[str]] = {}
    event_id = event.get("id")
    if isinstance(event_id, int) and not isinstance(event_id, bool):
        event["id"] = event_id = str(event_id)
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 200:
        errors["id"] = ["required: the event's unique id, a string of 1 to 200 characters"]
    obj = event.get("object")
    if not isinstance(obj, dict):
        errors["object"] = ["required: {workflow, id}"]
    else:
        if not isinstance(obj.get("workflow"), str):
            errors["object.workflow"] = ["required: a workflow name (visit, issue, rectification)"]
        if not isinstance(obj.get("id"), int) or isinstance(obj.get("id"), bool):
            errors["object.id"] = ["required: the instance's id, an integer"]
    for key in ("type", "trigger", "occurred_at"):
        if event.get(key) is not None and not isinstance(event[key], str):
            errors[key] = ["must be a string"]
    if errors:
        raise InvalidRequest("invalid event", errors)
    return event


def _json(text: str, status: int, replayed: bool = False) -> Response:
    response = Response(text, status=status, mimetype="application/json")
    if replayed:
        response.headers[REPLAYED] = "true"
    return response
