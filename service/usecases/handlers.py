"""Use cases: create an instance, fire a transition, read them. One handler, one commit.

The API, the web forms, the webhooks and the RQ jobs all call these; entry points parse
and authenticate, they do not decide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Connection

from service.core import context
from service.core.errors import InvalidRequest, NotFound
from service.core.statuses import DeadlineStatus
from service.core.texts import msg
from service.store import repository as repo
from service.store import visibility
from service.store.kinds import RECTIFICATION, Kind
from service.usecases import notify, references
from service.usecases.representation import InstanceView, represent
from workflows import Actor, InvalidData, Outcome, VersionConflict, Workflow
from workflows.engine import CREATE
from workflows.events import DeadlineCleared, DeadlineStarted, NotificationRequested


@dataclass(frozen=True, slots=True)
class Context:
    """Who acts, through which entry point, in which request."""

    actor: Actor
    source: str  # web | api | webhook | job
    request_id: str | None = None


# -- reading ---------------------------------------------------------------------------
def load_visible(
    kind: Kind, instance_id: int, actor: Actor, conn: Connection | None = None
) -> dict[str, Any]:
    row = repo.load(kind, instance_id, conn)
    if row is None or not visibility.can_see(kind, row, actor, conn):
        raise NotFound(msg("no %(kind)s %(id)s", kind=kind.title, id=instance_id))
    return row


def get(
    kind: Kind, instance_id: int, actor: Actor, conn: Connection | None = None
) -> dict[str, Any]:
    row = load_visible(kind, instance_id, actor, conn)
    deadlines = repo.current_deadlines(kind.workflow, [row["id"]], conn)[row["id"]]
    return represent(kind, row, workflow_of(kind, row), actor, deadlines, context.now())


def workflow_of(kind: Kind, row: Mapping[str, Any]) -> Workflow:
    return context.registry().get(kind.workflow, row["definition_version"])


def allowed(kind: Kind, row: Mapping[str, Any], actor: Actor) -> list[str]:
    return workflow_of(kind, row).allowed_triggers(InstanceView(kind, row), actor)


# -- creating --------------------------------------------------------------------------
def create(kind: Kind, payload: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """Validate and store a new instance in its own transaction; return its representation."""
    with repo.writing() as conn:
        prepared = prepare_creation(kind, payload, ctx, conn)
        instance_id = insert_created(conn, kind, prepared, ctx, context.now())
        representation = get(kind, instance_id, ctx.actor, conn)
    context.committed()
    return representation


@dataclass(frozen=True, slots=True)
class Creation:
    """A validated creation, ready to be stored."""

    workflow: Workflow
    outcome: Outcome
    columns: dict[str, Any]


def prepare_creation(
    kind: Kind, payload: Mapping[str, Any], ctx: Context, conn: Connection
) -> Creation:
    """Check a creation in the contract's order: fields and references (422), then role (403)."""
    workflow = context.registry().get(kind.workflow)
    payload = dict(payload)
    related = payload.pop("related", None) if kind is RECTIFICATION else None
    now = context.now()
    try:  # the fields, their time bounds included (a planned time in the past)
        attrs = workflow.check_creation(ctx.actor, payload, now)
    except InvalidData as err:
        raise InvalidRequest(msg("invalid %(kind)s fields", kind=kind.title), err.errors) from None
    fields = workflow.definition.create.fields
    references.check_creation(conn, kind, attrs, ctx.actor, related, fields)
    outcome = workflow.create(ctx.actor, payload, now)
    if kind is RECTIFICATION:  # `related` is the service's creation field, not the form's
        outcome = outcome._replace(json_data={**outcome.json_data, "related": attrs["related"]})
    attributes = {**outcome.attributes, **attrs}
    return Creation(workflow, outcome, columns_of(kind, attributes, workflow))


def insert_created(
    conn: Connection,
    kind: Kind,
    creation: Creation,
    ctx: Context,
    now: datetime,
    origin: str | None = None,
) -> int:
    """Store a prepared creation inside an open transaction: row, event, deadlines, outbox."""
    extra = {"origin": origin} if kind is RECTIFICATION else {}
    instance_id = repo.insert_instance(
        conn,
        kind,
        {
            **creation.columns,
            **extra,
            "definition_version": creation.workflow.version,
            "state": creation.outcome.state,
            "version": 1,
            "data": {"create": creation.outcome.json_data},
            "overdue": False,
            "created_at": now,
            "updated_at": now,
        },
    )
    _record(conn, kind, instance_id, creation.outcome, None, ctx, now)
    return instance_id


def columns_of(kind: Kind, attrs: Mapping[str, Any], workflow: Workflow) -> dict[str, Any]:
    """Attributes as column values; a bare due date is the end of that working day."""
    times = kind.time_columns
    columns = kind.table.columns
    out: dict[str, Any] = {}
    for name, value in attrs.items():
        if name not in columns:
            continue
        if name in times and isinstance(value, date) and not isinstance(value, datetime):
            value = workflow.calendar.due_from_date(value)
        out[name] = value
    return out


# -- firing ----------------------------------------------------------------------------
Keep = Callable[[Connection, dict[str, Any]], None]


def fire(
    kind: Kind,
    instance_id: int,
    body: Any,
    ctx: Context,
    keep: Keep | None = None,
) -> dict[str, Any]:
    """Fire one transition from a request body `{"trigger", "version"?, "data"?}`.

    One write transaction: the checks (`prepare_transition`), then the optimistic update
    and its records (`apply_transition`: same version as read, or 409), so that of
    concurrent transitions exactly one wins.

    `keep(conn, representation)`, if given, runs inside the transaction after the
    transition's writes, so that what an entry point stores about the request (a webhook's
    event id and response) commits with the transition or not at all.
    """
    now = context.now()
    representation: dict[str, Any] | None = None
    with repo.writing() as conn:
        prepared = prepare_transition(conn, kind, instance_id, body, ctx, now)
        row = apply_transition(conn, prepared, ctx, now)
        if keep is not None:
            representation = prepared.represent(row, ctx.actor, now)
            keep(conn, representation)
    context.committed()
    if representation is None:
        representation = prepared.represent(row, ctx.actor, now)
    return representation


@dataclass(frozen=True, slots=True)
class PreparedTransition:
    """A transition checked and computed, not yet written: what `apply_transition` writes."""

    kind: Kind
    row: dict[str, Any]  # the instance as read; its version is the one the update expects
    workflow: Workflow
    outcome: Outcome
    values: dict[str, Any]  # the columns the update sets

    @property
    def instance_id(self) -> int:
        return int(self.row["id"])

    def represent(self, row: Mapping[str, Any], actor: Actor, now: datetime) -> dict[str, Any]:
        """The representation of `row` as `apply_transition` left it."""
        deadlines = _new_deadlines(self.outcome, now)
        return represent(self.kind, row, self.workflow, actor, deadlines, now)


def prepare_transition(
    conn: Connection, kind: Kind, instance_id: int, body: Any, ctx: Context, now: datetime
) -> PreparedTransition:
    """Every check of a transition, in the contract's order, without writing anything.

    Runs on the caller's connection, inside its `repo.writing()` transaction, so that several
    transitions (a feedback meeting's assignments) can be checked before any is written.
    """
    row = load_visible(kind, instance_id, ctx.actor, conn)
    trigger, expected, data = _parse_transition(body)
    workflow = workflow_of(kind, row)
    outcome = workflow.fire(InstanceView(kind, row), trigger, ctx.actor, data, now, expected)
    spec = workflow.transition(trigger, row["state"])
    assert spec is not None  # fire succeeded, so the transition exists
    references.check_references(spec.fields, outcome.data, conn)
    values = {
        **columns_of(kind, outcome.attributes, workflow),
        "state": outcome.state,
        "data": {**(row["data"] or {}), trigger: outcome.json_data},
        "overdue": False,
        "updated_at": now,
    }
    return PreparedTransition(kind, row, workflow, outcome, values)


def apply_transition(
    conn: Connection, prepared: PreparedTransition, ctx: Context, now: datetime
) -> dict[str, Any]:
    """Write a prepared transition inside the caller's open transaction: the optimistic
    update (VersionConflict if the instance moved since it was read), the audit event,
    deadlines and outbox rows. Returns the instance row as it now stands."""
    kind, row = prepared.kind, prepared.row
    if not repo.update_instance(conn, kind, prepared.instance_id, row["version"], prepared.values):
        latest = repo.load(kind, prepared.instance_id, conn)
        raise VersionConflict(row["version"], latest["version"] if latest else -1)
    _record(conn, kind, prepared.instance_id, prepared.outcome, row["state"], ctx, now)
    return {**row, **prepared.values, "version": prepared.outcome.version}


def _parse_transition(body: Any) -> tuple[str, int | None, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest(
            msg("the body must be a JSON object"), {"_schema": ["must be an object"]}
        )
    errors: dict[str, list[str]] = {}
    trigger = body.get("trigger")
    if not isinstance(trigger, str) or not trigger:
        errors["trigger"] = ["Missing data for required field."]
    version = body.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        errors["version"] = ["must be an integer"]
    data = body.get("data", {})
    if data is not None and not isinstance(data, dict):
        errors["data"] = ["must be an object"]
    unknown = set(body) - {"trigger", "version", "data"}
    for key in unknown:
        errors[key] = ["Unknown field."]
    if errors:
        raise InvalidRequest(msg("invalid transition request"), errors)
    return str(trigger), version, data


def _record(
    conn: Connection,
    kind: Kind,
    instance_id: int,
    outcome: Outcome,
    source_state: str | None,
    ctx: Context,
    now: datetime,
) -> None:
    """The audit event, the deadlines and the outbox rows of one creation or transition."""
    repo.insert_event(
        conn,
        workflow=kind.workflow,
        instance_id=instance_id,
        at=now,
        actor=ctx.actor.username,
        source=ctx.source,
        trigger=None if source_state is None else outcome.trigger,
        from_state=source_state,
        to_state=outcome.state,
        version=outcome.version,
        data=outcome.json_data,
        request_id=ctx.request_id,
    )
    outbox_rows: list[dict[str, Any]] = []
    for event in outcome.events:
        if isinstance(event, NotificationRequested):
            _tell(conn, kind, instance_id, event, now)
        elif isinstance(event, DeadlineCleared):
            repo.close_deadlines(conn, kind.workflow, instance_id, now)
        elif isinstance(event, DeadlineStarted):
            d = event.deadline
            deadline_id = repo.insert_deadline(
                conn,
                workflow=kind.workflow,
                instance_id=instance_id,
                kind=d.kind,
                state=d.state,
                version=outcome.version,
                due_at=d.due_at,
                remind_at=d.remind_at,
                status=DeadlineStatus.OPEN,
                created_at=now,
            )
            schedule = {
                "deadline_id": deadline_id,
                "due_at": d.due_at.isoformat(),
                "remind_at": d.remind_at.isoformat() if d.remind_at else None,
            }
            outbox_rows.append({"topic": "deadline.schedule", "payload": schedule})
    transition = {
        "workflow": kind.workflow,
        "id": instance_id,
        "trigger": None if source_state is None else outcome.trigger,
        "from": source_state,
        "to": outcome.state,
        "version": outcome.version,
        "actor": ctx.actor.username,
        "source": ctx.source,
        "at": now.isoformat(),
    }
    outbox_rows.append({"topic": "transition", "payload": transition})
    repo.insert_outbox_many(conn, [{**r, "created_at": now} for r in outbox_rows])


def _tell(
    conn: Connection, kind: Kind, instance_id: int, event: NotificationRequested, now: datetime
) -> None:
    """The declared people are told, in the transition's transaction; never the actor."""
    names = [n for n in notify.usernames(conn, event.targets) if n != event.actor]
    if not names:
        return
    workflow = context.registry().get(kind.workflow).definition.label
    params = {
        "workflow": {"zh": workflow.zh, "en": workflow.en},
        "id": instance_id,
        "trigger": event.deadline_kind,
        "label": {"zh": event.label.zh, "en": event.label.en},
        "actor": notify.display_name(conn, event.actor),
    }
    what = kind.created if event.deadline_kind == CREATE else "transition"
    notify.send(conn, names, what, params, kind.workflow, instance_id, now)


def _new_deadlines(outcome: Outcome, now: datetime) -> list[dict[str, Any]]:
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
