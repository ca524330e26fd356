"""The notifications page: the reader's notifications, mark read, open the item; the count."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service.core.notify_texts import render
from service.entrypoints.web.auth import load_actor, login_required, web_actor
from service.entrypoints.web.common import bp, lang, page_args, page_of
from service.entrypoints.web.views import object_url
from service.store import repository as repo
from service.store.models import Notification

notifications_t = Notification.__table__


@bp.context_processor
def unread_count() -> dict[str, Any]:
    """The reader's unread notifications, for the count in the navigation."""
    actor = load_actor()
    if actor is None:
        return {"unread_notifications": 0}
    t = notifications_t
    query = sa.select(sa.func.count()).where(t.c.username == actor.username, t.c.read.is_(False))
    return {"unread_notifications": int(repo.connection().execute(query).scalar() or 0)}


@bp.route("/notifications")
@login_required
def notifications() -> str:
    t = notifications_t
    mine = t.c.username == web_actor().username
    page_no, per_page = page_args()
    rows, total = page_of(sa.select(t).where(mine).order_by(t.c.id.desc()), page_no, per_page)
    reader = lang()
    items = [
        {
            "id": r["id"],
            "message": render(r["kind"], r["params"], r["message"], reader),
            "created_at": r["created_at"],
            "read": r["read"],
            "url": object_url(r["workflow"], r["instance_id"]) if r["instance_id"] else None,
        }
        for r in rows
    ]
    return render_template(
        "web/notifications.html", items=items, total=total, page=page_no, per_page=per_page
    )


def _mark(notification_id: int | None) -> int:
    """Mark one (or, with None, every) notification of the reader read; how many matched."""
    t = notifications_t
    where = [t.c.username == web_actor().username]
    if notification_id is not None:
        where.append(t.c.id == notification_id)
    with repo.writing() as conn:
        return int(conn.execute(t.update().where(*where).values(read=True)).rowcount)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def notification_read(notification_id: int) -> Response:
    if not _mark(notification_id):
        abort(404)
    return redirect(url_for("web.notifications", page=request.form.get("page", 1, type=int)))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def notifications_read_all() -> Response:
    _mark(None)
    return redirect(url_for("web.notifications"))


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def notification_open(notification_id: int) -> Response:
    """Open the notification's item, marking it read."""
    t = notifications_t
    mine = (t.c.id == notification_id, t.c.username == web_actor().username)
    row = repo.connection().execute(sa.select(t).where(*mine)).mappings().first()
    if row is None:
        abort(404)
    _mark(notification_id)
    url = object_url(row["workflow"], row["instance_id"]) if row["instance_id"] else None
    return redirect(url or url_for("web.notifications"))
