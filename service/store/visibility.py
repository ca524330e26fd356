"""Confidentiality (regulation section 1): who may see which instances."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.core import roles
from service.store import repository as repo
from service.store.kinds import Kind
from service.store.models import NoticeItem, VisitVisitor
from workflows import Actor, ActorKind

_ITEMS = NoticeItem.__table__


def sees_all(kind: Kind, actor: Actor) -> bool:
    if actor.kind is ActorKind.SYSTEM or actor.role in roles.SEE_ALL:
        return True
    if actor.kind is ActorKind.INTEGRATION:
        return any(workflow == kind.workflow for workflow, _ in actor.grants)
    return False


def visited_by(visits: sa.Table, username: str) -> sa.ColumnElement[bool]:
    """Visits `username` goes on: from the visitor index, not a probe per visit."""
    vv = VisitVisitor.__table__
    return visits.c.id.in_(sa.select(vv.c.visit_id).where(vv.c.username == username))


def noticed_to(kind: Kind, department: str) -> sa.ColumnElement[bool]:
    """Items a notice addressed to `department` relates: its members must be able to open
    every link of the notice (from the notice items index)."""
    return kind.table.c.id.in_(
        sa.select(_ITEMS.c.item_id).where(
            _ITEMS.c.workflow == kind.workflow, _ITEMS.c.department == department
        )
    )


def clause(kind: Kind, actor: Actor) -> sa.ColumnElement[bool] | None:
    """A WHERE clause restricting `kind`'s table to what `actor` may see; None for everything."""
    if sees_all(kind, actor):
        return None
    t = kind.table
    if actor.kind is ActorKind.INTEGRATION or actor.role not in roles.DEPARTMENT_ROLES:
        return sa.false()
    own = _own_clause(kind, actor)
    if actor.department and kind.workflow in ("visit", "issue"):
        return sa.or_(own, noticed_to(kind, actor.department))
    if kind.workflow == "rectification" and actor.department:
        return t.c.department == actor.department
    return own


def _own_clause(kind: Kind, actor: Actor) -> sa.ColumnElement[bool]:
    t = kind.table
    if kind.workflow == "visit":
        return visited_by(t, actor.username)
    if kind.workflow == "issue":
        mine = t.c.created_by == actor.username
        if actor.department:
            return sa.or_(mine, t.c.responsible_department == actor.department)
        return mine
    return sa.false()


def can_see(
    kind: Kind, row: Mapping[str, Any], actor: Actor, conn: Connection | None = None
) -> bool:
    """The same rule as `clause`, for one loaded row (`conn`: the transaction it was read in)."""
    if sees_all(kind, actor):
        return True
    if actor.kind is ActorKind.INTEGRATION or actor.role not in roles.DEPARTMENT_ROLES:
        return False
    if kind.workflow == "rectification":
        return actor.department is not None and row.get("department") == actor.department
    if _sees_own(kind, row, actor):
        return True
    return actor.department is not None and _noticed(kind, row["id"], actor.department, conn)


def _sees_own(kind: Kind, row: Mapping[str, Any], actor: Actor) -> bool:
    if kind.workflow == "visit":
        return actor.username in (row.get("visitors") or ())
    if kind.workflow == "issue":
        return row.get("created_by") == actor.username or (
            actor.department is not None and row.get("responsible_department") == actor.department
        )
    return False


def _noticed(kind: Kind, item_id: int, department: str, conn: Connection | None) -> bool:
    if kind.workflow not in ("visit", "issue"):
        return False
    query = sa.select(_ITEMS.c.notice_id).where(
        _ITEMS.c.workflow == kind.workflow,
        _ITEMS.c.department == department,
        _ITEMS.c.item_id == item_id,
    )
    return (conn or repo.connection()).execute(query.limit(1)).first() is not None
