"""`GET /api/v1/inbox`."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from service.entrypoints.api.common import PageArgs, json_doc, page, paging
from service.entrypoints.auth import current_actor
from service.usecases.inbox import inbox

blp = Blueprint("inbox", __name__, url_prefix="/api/v1", description="My inbox")


@blp.route("/inbox", methods=["GET"])
@blp.arguments(PageArgs, location="query", as_kwargs=False)
@blp.doc(responses={"200": json_doc("a page of visits, issues and notices, each with `workflow`")})
def get_inbox(args: dict[str, Any]) -> dict[str, Any]:
    """What the caller can act on now (visits, issues, notices), soonest deadline first."""
    page_no, per_page = paging(args)
    items, total = inbox(current_actor(), page_no, per_page)
    return page(items, total, page_no, per_page)
