"""The inbox: what a caller can act on now, soonest deadline first."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.core import context
from service.core.statuses import DeadlineStatus
from service.store import repository as repo
from service.store import visibility
from service.store.kinds import KINDS, Kind
from service.store.models import Deadline
from service.usecases.representation import represent
from workflows import Actor, ActorKind, Workflow
from workflows.spec import TransitionSpec


def _participation(kind: Kind, rule: str, actor: Actor) -> sa.ColumnElement[bool]:
    t = kind.table
    if rule == "visitor" and kind.workflow == "visit":
        return visibility.visited_by(t, actor.username)
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


def actionable_states(
    kind: Kind, workflow: Workflow, actor: Actor
) -> list[tuple[str, sa.ColumnElement[bool]]]:
    """SQL for "the actor may fire something here", per state (they exclude each other):
    the state, and the role and participation of a transition out of it."""
    t = kind.table
    per_state: list[tuple[str, sa.ColumnElement[bool]]] = []
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
            per_state.append((state, sa.and_(t.c.state == state, sa.or_(*options))))
    return per_state


Candidate = tuple[Any, Kind, dict[str, Any]]  # (soonest running due time or None, kind, row)


def inbox(actor: Actor, page_no: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """The caller's actionable instances, soonest running deadline first, then the rest by id.

    State by state (each its own query, so that each uses its own index): the count; if any,
    instances with a running deadline, found by walking that state's deadlines in due order
    (`ix_deadlines_walk`) rather than sorting every actionable instance; then, if the page
    needs more, those without one, by id.
    """
    registry = context.registry()
    now = context.now()
    conn = repo.connection()
    candidates: list[Candidate] = []
    total = 0
    for kind in KINDS.values():
        per_state = actionable_states(kind, registry.get(kind.workflow), actor)
        if per_state:  # else nothing of this kind is ever the actor's to act on
            found, count = _candidates(conn, kind, per_state, actor, page_no * per_page)
            candidates.extend(found)
            total += count
    candidates.sort(key=lambda c: (c[0] is None, c[0] or now, c[1].workflow, c[2]["id"]))
    chosen = candidates[(page_no - 1) * per_page : page_no * per_page]
    items = []
    for _, kind, row in chosen:
        deadlines = repo.current_deadlines(kind.workflow, [row["id"]])[row["id"]]
        workflow = registry.get(kind.workflow, row["definition_version"])
        items.append(represent(kind, row, workflow, actor, deadlines, now))
    return items, total


def _candidates(
    conn: Connection,
    kind: Kind,
    per_state: list[tuple[str, sa.ColumnElement[bool]]],
    actor: Actor,
    need: int,
) -> tuple[list[Candidate], int]:
    """Up to `need` of the kind's actionable instances per state, and how many there are."""
    t = kind.table
    vis = visibility.clause(kind, actor)
    visible = [] if vis is None else [vis]
    counts = [
        sa.select(sa.func.count()).select_from(t).where(c, *visible).scalar_subquery()
        for _, c in per_state
    ]
    per_count = [int(n) for n in conn.execute(sa.select(*counts)).one()]
    running = _running(kind)
    seen: set[int] = set()
    out: list[Candidate] = []
    for (state, clause), n in zip(per_state, per_count, strict=True):
        if not n:
            continue  # a walk finding nothing would read all of the state's deadlines
        for row in _walk(conn, kind, state, [clause, *visible], running, need):
            seen.add(row["id"])
            out.append((row["soonest_due"], kind, row))
    if len(seen) < need:
        for r in conn.execute(
            sa.select(t, sa.null().label("soonest_due"))
            .where(sa.or_(*(c for _, c in per_state)), *visible, ~sa.exists().where(running))
            .order_by(t.c.id)
            .limit(need - len(seen))
        ).mappings():
            out.append((None, kind, dict(r)))
    return out, sum(per_count)


def _running(kind: Kind) -> sa.ColumnElement[bool]:
    """A deadline of the instance's current state that still runs."""
    dl, t = Deadline.__table__, kind.table
    return sa.and_(
        dl.c.workflow == kind.workflow,
        dl.c.instance_id == t.c.id,
        dl.c.state == t.c.state,
        dl.c.status.in_((DeadlineStatus.OPEN, DeadlineStatus.FIRED)),
    )


def _walk(
    conn: Connection,
    kind: Kind,
    state: str,
    where: list[sa.ColumnElement[bool]],
    running: sa.ColumnElement[bool],
    need: int,
) -> list[dict[str, Any]]:
    """Up to `need` instances in `state` with a running deadline, soonest first: the
    state's deadlines walked in due order, each instance with its soonest one."""
    dl, t = Deadline.__table__, kind.table
    walk = (
        sa.select(t, dl.c.due_at.label("soonest_due"))
        .select_from(dl.join(t, running))
        .where(dl.c.state == state, *where)
        .order_by(dl.c.due_at, t.c.id)
    )
    found: dict[int, dict[str, Any]] = {}
    limit = need
    while True:  # an instance with two running deadlines comes twice: read on
        rows = conn.execute(walk.limit(limit)).mappings().all()
        for r in rows:
            found.setdefault(r["id"], dict(r))  # its soonest deadline
        if len(found) >= need or len(rows) < limit:
            break
        found.clear()
        limit *= 2
    return list(found.values())[:need]
