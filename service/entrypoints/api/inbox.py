"""`GET /api/v1/inbox`."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from service.entrypoints.api.common import Blueprint, PageArgs, page, paging
from service.entrypoints.auth import current_actor
from service.usecases.inbox import inbox

blp = Blueprint("inbox", __name__, url_prefix="/api/v1", description="My inbox")

# each item is the representation of its workflow's instances (api/schemas.instance_schema)
ITEM = {
    "description": "a visit, issue or notice, as GET /{path}/{id} gives it, with `workflow`",
    "anyOf": [
        {"$ref": f"#/components/schemas/{name}"} for name in ("Visit", "Issue", "Rectification")
    ],
}


class InboxPage(Schema):
    items = fields.List(fields.Dict(metadata=ITEM), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


@blp.route("/inbox", methods=["GET"])
@blp.arguments(PageArgs, location="query", as_kwargs=False)
@blp.response(200, InboxPage, description="a page of visits, issues and notices")
def get_inbox(args: dict[str, Any]) -> dict[str, Any]:
    """What the caller can act on now (visits, issues, notices), soonest deadline first."""
    page_no, per_page = paging(args)
    items, total = inbox(current_actor(), page_no, per_page)
    return page(items, total, page_no, per_page)
