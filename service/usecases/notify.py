"""Notifications: resolve recipients to users, write in-app rows, queue their email copies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from service.core.notify_texts import render
from service.store import people
from service.store import repository as repo
from service.store.models import Notification
from workflows.events import Target

notifications_t = Notification.__table__
EMAIL_LANGUAGE = "zh"


def usernames(conn: Connection, targets: Iterable[Target]) -> list[str]:
    """Active users behind the targets: users, a department's manager or members, a role."""
    names: list[str] = []
    for target in targets:
        if target.kind == "user":
            names.append(target.value)
        elif target.kind in ("department_manager", "department", "role"):
            names.extend(people.members(conn, target.kind, target.value))
    found = {n: people.person(conn, n) for n in dict.fromkeys(names)}
    return [n for n, p in found.items() if p is not None and p.active]


def display_name(conn: Connection, username: str | None) -> str:
    """How a person is named in a notification: their display name, else their username."""
    if not username:
        return ""
    found = people.person(conn, username)
    return (found.display_name if found else None) or username


def send(
    conn: Connection,
    names: Iterable[str],
    kind: str,
    params: Mapping[str, Any],
    workflow: str | None,
    instance_id: int | None,
    now: datetime,
) -> int:
    """In-app notifications for `names`, and their email copy through the outbox.

    The text is not stored: `kind` and `params` are, and `notify_texts` renders them in
    the reader's language; the email is in the recipients' language, Chinese (users have
    no language of their own yet)."""
    rows = [
        {
            "username": name,
            "kind": kind,
            "message": "",
            "params": dict(params),
            "workflow": workflow,
            "instance_id": instance_id,
            "created_at": now,
            "read": False,
        }
        for name in dict.fromkeys(names)
    ]
    if not rows:
        return 0
    conn.execute(notifications_t.insert(), rows)
    message = render(kind, params, "", EMAIL_LANGUAGE)
    repo.insert_outbox(
        conn,
        "email",
        {
            "to": [r["username"] for r in rows],
            "subject": f"[VisitFlow] {message.splitlines()[0][:150]}",
            "body": message,
            "kind": kind,
            "object": {"workflow": workflow, "id": instance_id},
        },
        now,
    )
    return len(rows)
