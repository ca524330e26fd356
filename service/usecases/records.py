"""What a creation or a transition writes beside its row, in its unit of work: the audit
event, the deadlines it closes and starts, the notifications and the outbox rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.core import context
from service.core.statuses import DeadlineStatus
from service.store.kinds import Kind
from service.usecases.acting import Context
from service.usecases.unit_of_work import Instances, Message
from workflows import Outcome
from workflows.engine import CREATE
from workflows.events import DeadlineCleared, DeadlineStarted, NotificationRequested


def record(
    instances: Instances,
    kind: Kind,
    instance_id: int,
    outcome: Outcome,
    source_state: str | None,
    ctx: Context,
    now: datetime,
) -> None:
    """The audit event, the deadlines and the outbox rows of one creation or transition."""
    trigger = None if source_state is None else outcome.trigger
    instances.add_event(
        workflow=kind.workflow,
        instance_id=instance_id,
        at=now,
        actor=ctx.actor.username,
        source=ctx.source,
        trigger=trigger,
        from_state=source_state,
        to_state=outcome.state,
        version=outcome.version,
        data=outcome.json_data,
        request_id=ctx.request_id,
    )
    outbox_rows = _follow_events(instances, kind, instance_id, outcome, now)
    transition = {
        "workflow": kind.workflow,
        "id": instance_id,
        "trigger": trigger,
        "from": source_state,
        "to": outcome.state,
        "version": outcome.version,
        "actor": ctx.actor.username,
        "source": ctx.source,
        "at": now.isoformat(),
    }
    outbox_rows.append({"topic": "transition", "payload": transition})
    instances.add_outbox([{**r, "created_at": now} for r in outbox_rows])


def _follow_events(
    instances: Instances, kind: Kind, instance_id: int, outcome: Outcome, now: datetime
) -> list[dict[str, Any]]:
    """What the engine's events ask: notifications told, deadlines closed and started;
    returns the outbox rows that schedule the started deadlines."""
    outbox_rows: list[dict[str, Any]] = []
    for event in outcome.events:
        if isinstance(event, NotificationRequested):
            _tell(instances, kind, instance_id, event, now)
        elif isinstance(event, DeadlineCleared):
            instances.close_deadlines(kind.workflow, instance_id, now)
        elif isinstance(event, DeadlineStarted):
            schedule = _start_deadline(instances, kind, instance_id, event, outcome.version, now)
            outbox_rows.append({"topic": "deadline.schedule", "payload": schedule})
    return outbox_rows


def _start_deadline(
    instances: Instances,
    kind: Kind,
    instance_id: int,
    event: DeadlineStarted,
    version: int,
    now: datetime,
) -> dict[str, Any]:
    """Store an open deadline; return what the outbox schedules for it."""
    d = event.deadline
    deadline_id = instances.add_deadline(
        workflow=kind.workflow,
        instance_id=instance_id,
        kind=d.kind,
        state=d.state,
        version=version,
        due_at=d.due_at,
        remind_at=d.remind_at,
        status=DeadlineStatus.OPEN,
        created_at=now,
    )
    return {
        "deadline_id": deadline_id,
        "due_at": d.due_at.isoformat(),
        "remind_at": d.remind_at.isoformat() if d.remind_at else None,
    }


def _tell(
    instances: Instances,
    kind: Kind,
    instance_id: int,
    event: NotificationRequested,
    now: datetime,
) -> None:
    """The declared people are told, in the transition's transaction; never the actor."""
    names = [n for n in instances.recipients(event.targets) if n != event.actor]
    if not names:
        return
    workflow = context.registry().get(kind.workflow).definition.label
    params = {
        "workflow": {"zh": workflow.zh, "en": workflow.en},
        "id": instance_id,
        "trigger": event.deadline_kind,
        "label": {"zh": event.label.zh, "en": event.label.en},
        "actor": instances.display_name(event.actor),
    }
    what = kind.created if event.deadline_kind == CREATE else "transition"
    instances.notify(names, Message(what, params, kind.workflow, instance_id), now)


def new_deadlines(outcome: Outcome, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "kind": e.deadline.kind,
            "state": e.deadline.state,
            "due_at": e.deadline.due_at,
            "status": DeadlineStatus.OPEN,
        }
        for e in outcome.events
        if isinstance(e, DeadlineStarted)
    ]
