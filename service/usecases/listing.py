"""Lists of instances as the API and the pages show them: what the reader may see, one page
of it, each row represented with its allowed triggers and running deadlines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from service.core import context
from service.store import filters, visibility
from service.store import repository as repo
from service.store.kinds import Kind
from service.store.paging import page_rows
from service.usecases.representation import represent
from workflows import Actor


def visible(kind: Kind, actor: Actor, where: list[Any]) -> sa.Select[Any]:
    """The instances matching `where` that `actor` may see."""
    vis = visibility.clause(kind, actor)
    return sa.select(kind.table).where(*where, *([vis] if vis is not None else []))


def represent_rows(kind: Kind, rows: list[dict[str, Any]], actor: Actor) -> list[dict[str, Any]]:
    deadlines = repo.current_deadlines(kind.workflow, [r["id"] for r in rows])
    now = context.now()
    registry = context.registry()
    return [
        represent(
            kind,
            r,
            registry.get(kind.workflow, r["definition_version"]),
            actor,
            deadlines[r["id"]],
            now,
        )
        for r in rows
    ]


def list_visible(
    kind: Kind, args: Mapping[str, Any], actor: Actor, page_no: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the instances matching the list filters `args`, newest first, and the
    count of them all."""
    query = visible(kind, actor, filters.where(kind, args)).order_by(kind.table.c.id.desc())
    rows, total = page_rows(repo.connection(), query, page_no, per_page)
    return represent_rows(kind, rows, actor), total


def history(
    kind: Kind, instance_id: int, page_no: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of an instance's audit trail, oldest first, and its length."""
    events, total = repo.history(kind.workflow, instance_id, page_no, per_page)
    items = [
        {
            "at": e["at"].isoformat(),
            "actor": e["actor"],
            "source": e["source"],
            "trigger": e["trigger"],
            "from": e["from_state"],
            "to": e["to_state"],
            "version": e["version"],
            "data": e["data"] or {},
        }
        for e in events
    ]
    return items, total
