"""Who people are, for the transition path: a user's row, a department's manager and members,
a role's members. Asked on every step (recipients, names, eligibility), so each statement is
compiled once and run on the DBAPI cursor (`repository.Prepared`), not rebuilt by SQLAlchemy.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.store import repository as repo
from service.store.models import Department, User

users_t = User.__table__
departments_t = Department.__table__


class Person(NamedTuple):
    username: str
    display_name: str | None
    role: str
    department: str | None
    active: bool


_LOOKUPS: dict[str, Any] = {
    "person": sa.select(
        users_t.c.username, users_t.c.display_name, users_t.c.role, users_t.c.department,
        users_t.c.active,
    ).where(users_t.c.username == sa.bindparam("b_value")),
    "department_manager": sa.select(departments_t.c.manager).where(
        departments_t.c.code == sa.bindparam("b_value"), departments_t.c.manager.is_not(None)
    ),
    "department": sa.select(users_t.c.username).where(
        users_t.c.department == sa.bindparam("b_value")
    ),
    "role": sa.select(users_t.c.username).where(users_t.c.role == sa.bindparam("b_value")),
}  # fmt: skip


@cache
def _lookup(key: str, dialect: sa.Dialect) -> repo.Prepared:
    return repo.Prepared(_LOOKUPS[key], dialect)


def _rows(conn: Connection, key: str, value: str) -> list[Any]:
    return list(_lookup(key, conn.dialect).execute(conn, {"b_value": value}).fetchall())


def person(conn: Connection, username: str) -> Person | None:
    """The user named `username`, active or not; None if there is none."""
    found = _rows(conn, "person", username)
    if not found:
        return None
    name, display, role, department, active = found[0]
    return Person(name, display, role, department, bool(active))


def members(conn: Connection, kind: str, value: str) -> list[str]:
    """The usernames a target names: `department_manager`, `department` or `role` `value`."""
    return [str(r[0]) for r in _rows(conn, kind, value)]
