"""`/notifications` (the caller's) and `/supervision/findings`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response
from marshmallow import Schema, fields

from service.core import roles
from service.core.errors import Forbidden, NotFound
from service.core.notify_texts import render
from service.core.texts import language, stored
from service.entrypoints.api.common import Blueprint, PageArgs, page, page_schema, paging
from service.entrypoints.auth import current_actor
from service.store import repository as repo
from service.store.models import Finding, Notification
from service.store.paging import page_rows

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1",
    description="Notifications and supervision findings",
)
notifications_t = Notification.__table__
findings_t = Finding.__table__


class NotificationArgs(PageArgs):
    unread = fields.Boolean()


class ObjectRef(Schema):
    workflow = fields.String(required=True)
    id = fields.Integer(required=True)


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    message = fields.String(required=True)
    object = fields.Nested(ObjectRef, required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    read = fields.Boolean(required=True)


class FindingSchema(Schema):
    kind = fields.String(required=True)
    object = fields.Nested(ObjectRef, required=True)
    detail = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    found_at = fields.String(required=True, metadata={"format": "date-time"})
    notice_id = fields.Integer(allow_none=True)


@blp.route("/notifications", methods=["GET"])
@blp.arguments(NotificationArgs, location="query", as_kwargs=False)
@blp.response(
    200,
    page_schema(NotificationSchema, "NotificationPage"),
    description="the caller's notifications, newest first",
)
def list_notifications(args: dict[str, Any]) -> dict[str, Any]:
    """The caller's notifications, newest first (`?unread=true` for the unread ones); each
    `message` in the API's language for the caller (`texts.language`: `Accept-Language`'s
    zh or en, English when it names neither), as its errors and findings are."""
    page_no, per_page = paging(args)
    where = [notifications_t.c.username == current_actor().username]
    if "unread" in args:
        where.append(notifications_t.c.read.is_(not args["unread"]))
    query = sa.select(notifications_t).where(*where).order_by(notifications_t.c.id.desc())
    rows, total = page_rows(repo.connection(), query, page_no, per_page)
    lang = language()
    items = [
        {
            "id": r["id"],
            "kind": r["kind"],
            "message": render(r["kind"], r["params"], r["message"], lang),
            "object": {"workflow": r["workflow"], "id": r["instance_id"]},
            "created_at": r["created_at"].isoformat(),
            "read": r["read"],
        }
        for r in rows
    ]
    return page(items, total, page_no, per_page)


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(204, description="marked read")
@blp.errors({404: "no such notification of the caller's"})
def mark_read(notification_id: int) -> Response:
    """Mark one of the caller's notifications read."""
    t = notifications_t
    with repo.writing() as conn:
        done = conn.execute(
            t.update()
            .where(t.c.id == notification_id, t.c.username == current_actor().username)
            .values(read=True)
        ).rowcount
    if not done:
        raise NotFound(f"no notification {notification_id}")
    return Response(status=204)


class FindingArgs(PageArgs):
    kind = fields.String()


@blp.route("/supervision/findings", methods=["GET"])
@blp.arguments(FindingArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(FindingSchema, "FindingPage"), description="newest first")
@blp.errors({403: "findings are for supervision, management and marketing"})
def list_findings(args: dict[str, Any]) -> dict[str, Any]:
    """What the supervision checks found, newest first, with the notice each led to."""
    if current_actor().role not in roles.SEE_ALL:
        raise Forbidden("findings are for supervision, management and marketing")
    page_no, per_page = paging(args)
    where = [findings_t.c.kind == args["kind"]] if "kind" in args else []
    query = sa.select(findings_t).where(*where).order_by(findings_t.c.id.desc())
    rows, total = page_rows(repo.connection(), query, page_no, per_page)
    items = [
        {
            "kind": r["kind"],
            "object": {"workflow": r["workflow"] or "customer", "id": r["object_id"]},
            "detail": stored(r["message"], r["detail"]),  # in the reader's language
            "department": r["department"],
            "found_at": r["found_at"].isoformat(),
            "notice_id": r["notice_id"],
        }
        for r in rows
    ]
    return page(items, total, page_no, per_page)
