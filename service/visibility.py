"""Confidentiality (regulation section 1): who may see which instances."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from service.kinds import Kind
from service.models import VisitVisitor
from workflows import Actor, ActorKind

SEE_ALL = frozenset({"marketing_staff", "marketing_manager", "management", "supervision", "admin"})


def sees_all(kind: Kind, actor: Actor) -> bool:
    if actor.kind is ActorKind.SYSTEM or actor.role in SEE_ALL:
        return True
    if actor.kind is ActorKind.INTEGRATION:
        return any(workflow == kind.workflow for workflow, _ in actor.grants)
    return False


def visited_by(visits: sa.Table, username: str) -> sa.ColumnElement[bool]:
    """Visits `username` goes on: from the visitor index, not a probe per visit."""
    vv = VisitVisitor.__table__
    return visits.c.id.in_(sa.select(vv.c.visit_id).where(vv.c.username == username))


def clause(kind: Kind, actor: Actor) -> sa.ColumnElement[bool] | None:
    """A WHERE clause restricting `kind`'s table to what `actor` may see; None for everything."""
    if sees_all(kind, actor):
        return None
    t = kind.table
    if actor.kind is ActorKind.INTEGRATION or actor.role not in ("technical", "after_sales"):
        return sa.false()
    if kind.workflow == "visit":
        return visited_by(t, actor.username)
    if kind.workflow == "issue":
        mine = t.c.created_by == actor.username
        if actor.department:
            return sa.or_(mine, t.c.responsible_department == actor.department)
        return mine
    if kind.workflow == "rectification" and actor.department:
        return t.c.department == actor.department
    return sa.false()


def can_see(kind: Kind, row: Mapping[str, Any], actor: Actor) -> bool:
    """The same rule as `clause`, for one loaded row."""
    if sees_all(kind, actor):
        return True
    if actor.kind is ActorKind.INTEGRATION or actor.role not in ("technical", "after_sales"):
        return False
    if kind.workflow == "visit":
        return actor.username in (row.get("visitors") or ())
    if kind.workflow == "issue":
        return row.get("created_by") == actor.username or (
            actor.department is not None and row.get("responsible_department") == actor.department
        )
    if kind.workflow == "rectification":
        return actor.department is not None and row.get("department") == actor.department
    return False
