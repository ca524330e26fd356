"""The inbox: what a caller can act on now, soonest deadline first."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from service import repository as repo
from service import runtime, visibility
from service.kinds import KINDS, Kind
from service.models import Deadline, VisitVisitor
from service.representation import represent
from workflows import Actor, ActorKind, Workflow
from workflows.spec import TransitionSpec


def _participation(kind: Kind, rule: str, actor: Actor) -> sa.ColumnElement[bool]:
    t = kind.table
    if rule == "visitor" and kind.workflow == "visit":
        vv = VisitVisitor.__table__
        return sa.exists().where(vv.c.visit_id == t.c.id, vv.c.username == actor.username)
    if rule == "raiser":
        return t.c.created_by == actor.username
    if rule == "responsible_person" and "responsible_person" in t.c:
        return t.c.responsible_person == actor.username
    if rule == "responsible_department" and "responsible_department" in t.c and actor.department:
        return t.c.responsible_department == actor.department
    if rule == "addressed_department" and "department" in t.c and actor.department:
        return t.c.department == actor.department
    return sa.false()


def _may_fire(t: TransitionSpec, workflow: Workflow, actor: Actor) -> bool:
    if actor.kind is ActorKind.INTEGRATION:
        return (workflow.name, t.trigger) in actor.grants
    return actor.kind is ActorKind.SYSTEM or actor.role in t.roles


def actionable(kind: Kind, workflow: Workflow, actor: Actor) -> sa.ColumnElement[bool]:
    """SQL for "the actor may fire something here": per state, role and participation."""
    t = kind.table
    per_state: list[sa.ColumnElement[bool]] = []
    for state in workflow.definition.states:
        options: list[sa.ColumnElement[bool]] = []
        for spec in workflow.definition.transitions_from(state):
            if not _may_fire(spec, workflow, actor):
                continue
            if (
                not spec.participation
                or actor.role in spec.exempt_roles
                or actor.kind is not ActorKind.USER
            ):
                options = [sa.true()]
                break
            options.extend(_participation(kind, rule, actor) for rule in spec.participation)
        if options:
            per_state.append(sa.and_(t.c.state == state, sa.or_(*options)))
    return sa.or_(*per_state) if per_state else sa.false()


def inbox(actor: Actor, page_no: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """The caller's actionable instances, soonest running deadline first, then the rest by id.

    Instances with a running deadline are found by walking the deadlines in due order (an
    index), not by sorting every actionable instance by a computed soonest deadline.
    """
    registry = runtime.registry()
    now = runtime.now()
    dl = Deadline.__table__
    conn = repo.connection()
    need = page_no * per_page
    candidates: list[tuple[Any, Kind, dict[str, Any]]] = []
    total = 0
    for kind in KINDS.values():
        t = kind.table
        where = [actionable(kind, registry.get(kind.workflow), actor)]
        vis = visibility.clause(kind, actor)
        if vis is not None:
            where.append(vis)
        running = sa.and_(
            dl.c.workflow == kind.workflow,
            dl.c.instance_id == t.c.id,
            dl.c.state == t.c.state,
            dl.c.status.in_(("open", "fired")),
        )
        total += int(
            conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
        )
        seen: set[int] = set()
        for r in conn.execute(
            sa.select(t, dl.c.due_at.label("soonest_due"))
            .select_from(dl.join(t, running))
            .where(*where)
            .order_by(dl.c.due_at, t.c.id)
            .limit(need)
        ).mappings():
            if r["id"] not in seen:  # one running deadline per state; guard anyway
                seen.add(r["id"])
                candidates.append((r["soonest_due"], kind, dict(r)))
        if len(seen) < need:
            for r in conn.execute(
                sa.select(t, sa.null().label("soonest_due"))
                .where(*where, ~sa.exists().where(running))
                .order_by(t.c.id)
                .limit(need - len(seen))
            ).mappings():
                candidates.append((None, kind, dict(r)))
    candidates.sort(key=lambda c: (c[0] is None, c[0] or now, c[1].workflow, c[2]["id"]))
    chosen = candidates[(page_no - 1) * per_page : page_no * per_page]
    items = []
    for _, kind, row in chosen:
        deadlines = repo.current_deadlines(kind.workflow, [row["id"]])[row["id"]]
        workflow = registry.get(kind.workflow, row["definition_version"])
        items.append(represent(kind, row, workflow, actor, deadlines, now))
    return items, total
