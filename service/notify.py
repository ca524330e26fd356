"""Notifications: resolve recipients to users, write in-app rows, queue their email copies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service import repository as repo
from service.models import Department, Notification, User
from service.notify_texts import render
from workflows.events import Target

notifications_t = Notification.__table__
users_t = User.__table__
departments_t = Department.__table__
EMAIL_LANGUAGE = "zh"


def usernames(conn: Connection, targets: Iterable[Target]) -> list[str]:
    """Active users behind the targets: users, a department's manager or members, a role."""
    names: list[str] = []
    for target in targets:
        if target.kind == "user":
            names.append(target.value)
            continue
        if target.kind == "department_manager":
            query = sa.select(departments_t.c.manager).where(
                departments_t.c.code == target.value, departments_t.c.manager.is_not(None)
            )
        elif target.kind == "department":
            query = sa.select(users_t.c.username).where(users_t.c.department == target.value)
        elif target.kind == "role":
            query = sa.select(users_t.c.username).where(users_t.c.role == target.value)
        else:
            continue
        names.extend(str(n) for n in conn.execute(query).scalars())
    unique = list(dict.fromkeys(names))
    if not unique:
        return []
    active = set(
        conn.execute(
            sa.select(users_t.c.username).where(users_t.c.username.in_(unique), users_t.c.active)
        ).scalars()
    )
    return [n for n in unique if n in active]


def display_name(conn: Connection, username: str | None) -> str:
    """How a person is named in a notification: their display name, else their username."""
    if not username:
        return ""
    query = sa.select(users_t.c.display_name).where(users_t.c.username == username)
    return str(conn.execute(query).scalar() or username)


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
