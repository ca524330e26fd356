"""Notifications: resolve recipients to users, write in-app rows, queue their email copies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
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


# The transition path asks these for every step: compiled once, run on the DBAPI cursor
# (repository.Prepared), not rebuilt and compiled by SQLAlchemy each time.
_LOOKUPS: dict[str, Any] = {
    "department_manager": sa.select(departments_t.c.manager).where(
        departments_t.c.code == sa.bindparam("b_value"), departments_t.c.manager.is_not(None)
    ),
    "department": sa.select(users_t.c.username).where(
        users_t.c.department == sa.bindparam("b_value")
    ),
    "role": sa.select(users_t.c.username).where(users_t.c.role == sa.bindparam("b_value")),
    "person": sa.select(users_t.c.active, users_t.c.display_name).where(
        users_t.c.username == sa.bindparam("b_value")
    ),
}


@cache
def _lookup(key: str, dialect: sa.Dialect) -> repo.Prepared:
    return repo.Prepared(_LOOKUPS[key], dialect)


def _rows(conn: Connection, key: str, value: str) -> list[Any]:
    return list(_lookup(key, conn.dialect).execute(conn, {"b_value": value}).fetchall())


def usernames(conn: Connection, targets: Iterable[Target]) -> list[str]:
    """Active users behind the targets: users, a department's manager or members, a role."""
    names: list[str] = []
    for target in targets:
        if target.kind == "user":
            names.append(target.value)
        elif target.kind in ("department_manager", "department", "role"):
            names.extend(str(r[0]) for r in _rows(conn, target.kind, target.value))
    unique = list(dict.fromkeys(names))
    return [n for n in unique if any(bool(r[0]) for r in _rows(conn, "person", n))]


def display_name(conn: Connection, username: str | None) -> str:
    """How a person is named in a notification: their display name, else their username."""
    if not username:
        return ""
    found = _rows(conn, "person", username)
    return str(found[0][1] or username) if found else username


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
