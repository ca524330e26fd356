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
from service.core.texts import msg
from service.store.kinds import RECTIFICATION, Kind
from service.usecases import checkins, records
from service.usecases.acting import Context as Context  # the entry points name it here
from service.usecases.representation import InstanceView, represent
from service.usecases.unit_of_work import Instances, SqlInstances, SqlUnitOfWork, UnitOfWork
from workflows import Actor, InvalidData, Outcome, VersionConflict, Workflow
from workflows.forms import Form
from workflows.spec import FieldSpec

Store = Connection | Instances | None  # an entry point's connection, or a unit of work's


def _instances(store: Store) -> Instances:
    """The unit of work's instances, or the database's on the caller's connection (None:
    the request's read connection)."""
    return SqlInstances(store) if store is None or isinstance(store, Connection) else store


# -- reading ---------------------------------------------------------------------------
def load_visible(kind: Kind, instance_id: int, actor: Actor, conn: Store = None) -> dict[str, Any]:
    instances = _instances(conn)
    row = instances.load(kind, instance_id)
    if row is None or not instances.can_see(kind, row, actor):
        raise NotFound(msg("no %(kind)s %(id)s", kind=kind.title, id=instance_id))
    return row


def get(kind: Kind, instance_id: int, actor: Actor, conn: Store = None) -> dict[str, Any]:
    instances = _instances(conn)
    row = load_visible(kind, instance_id, actor, instances)
    deadlines = instances.current_deadlines(kind, row["id"])
    return represent(kind, row, workflow_of(kind, row), actor, deadlines, context.now())


def workflow_of(kind: Kind, row: Mapping[str, Any]) -> Workflow:
    return context.registry().get(kind.workflow, row["definition_version"])


def allowed(kind: Kind, row: Mapping[str, Any], actor: Actor) -> list[str]:
    return workflow_of(kind, row).allowed_triggers(InstanceView(kind, row), actor)


# -- creating --------------------------------------------------------------------------
def create(
    kind: Kind, payload: Mapping[str, Any], ctx: Context, uow: UnitOfWork | None = None
) -> dict[str, Any]:
    """Validate and store a new instance in its own unit of work; return its representation.
    `uow`: the database's unless given (the unit tests give an in-memory one)."""
    with uow or SqlUnitOfWork() as work:
        prepared = prepare_creation(kind, payload, ctx, work.instances)
        instance_id = insert_created(work.instances, kind, prepared, ctx, context.now())
        representation = get(kind, instance_id, ctx.actor, work.instances)
        work.commit()
    context.committed()
    return representation


@dataclass(frozen=True, slots=True)
class Creation:
    """A validated creation, ready to be stored."""

    workflow: Workflow
    outcome: Outcome
    columns: dict[str, Any]


def prepare_creation(
    kind: Kind, payload: Mapping[str, Any], ctx: Context, conn: Connection | Instances
) -> Creation:
    """Check a creation in the contract's order: fields and references (422), then role (403);
    inside the caller's open write transaction (`repo.writing()`) or unit of work."""
    workflow = context.registry().get(kind.workflow)
    payload = dict(payload)
    related = payload.pop("related", None) if kind is RECTIFICATION else None
    now = context.now()
    try:  # the fields, their time bounds included (a planned time in the past)
        attrs = workflow.check_creation(ctx.actor, payload, now)
    except InvalidData as err:
        raise InvalidRequest(msg("invalid %(kind)s fields", kind=kind.title), err.errors) from None
    fields = workflow.definition.create.fields
    _instances(conn).check_creation(kind, attrs, ctx.actor, related, fields)
    outcome = workflow.create(ctx.actor, payload, now)
    if kind is RECTIFICATION:  # `related` is the service's creation field, not the form's
        outcome = outcome._replace(json_data={**outcome.json_data, "related": attrs["related"]})
    attributes = {**outcome.attributes, **attrs}
    return Creation(workflow, outcome, columns_of(kind, attributes, workflow))


def insert_created(
    conn: Connection | Instances,
    kind: Kind,
    creation: Creation,
    ctx: Context,
    now: datetime,
    origin: str | None = None,
) -> int:
    """Store a prepared creation inside an open transaction: row, event, deadlines, outbox."""
    instances = _instances(conn)
    extra = {"origin": origin} if kind is RECTIFICATION else {}
    instance_id = instances.add(
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
    records.record(instances, kind, instance_id, creation.outcome, None, ctx, now)
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
    uow: UnitOfWork | None = None,
) -> dict[str, Any]:
    """Fire one transition from a request body `{"trigger", "version"?, "data"?}`.

    One unit of work (the database's unless `uow` is given): the checks
    (`prepare_transition`), then the optimistic update and its records (`apply_transition`:
    same version as read, or 409), so that of concurrent transitions exactly one wins.

    `keep(conn, representation)`, if given, runs inside the transaction after the
    transition's writes, so that what an entry point stores about the request (a webhook's
    event id and response) commits with the transition or not at all.
    """
    now = context.now()
    representation: dict[str, Any] | None = None
    with uow or SqlUnitOfWork() as work:
        prepared = prepare_transition(work.instances, kind, instance_id, body, ctx, now)
        row = apply_transition(work.instances, prepared, ctx, now)
        if keep is not None:
            representation = prepared.represent(row, ctx.actor, now)
            keep(work.connection, representation)
        work.commit()
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
    # deadlines that run on through the transition (an internal one leaves its state's)
    running: tuple[dict[str, Any], ...] = ()

    @property
    def instance_id(self) -> int:
        return int(self.row["id"])

    def represent(self, row: Mapping[str, Any], actor: Actor, now: datetime) -> dict[str, Any]:
        """The representation of `row` as `apply_transition` left it."""
        deadlines = [*self.running, *records.new_deadlines(self.outcome, now)]
        return represent(self.kind, row, self.workflow, actor, deadlines, now)


def prepare_transition(
    conn: Connection | Instances,
    kind: Kind,
    instance_id: int,
    body: Any,
    ctx: Context,
    now: datetime,
) -> PreparedTransition:
    """Every check of a transition, in the contract's order, without writing anything.

    Runs on the caller's connection, inside its `repo.writing()` transaction (or in a unit of
    work), so that several transitions (a feedback meeting's assignments) can be checked
    before any is written.
    """
    instances = _instances(conn)
    row = load_visible(kind, instance_id, ctx.actor, instances)
    trigger, expected, data = _parse_transition(body)
    workflow = workflow_of(kind, row)
    outcome = workflow.fire(InstanceView(kind, row), trigger, ctx.actor, data, now, expected)
    spec = workflow.transition(trigger, row["state"])
    assert spec is not None  # fire succeeded, so the transition exists
    instances.check_references(spec.fields, outcome.data)
    outcome, checked = _checked_in(instances, kind, row, spec.fields, outcome)
    values = {
        **columns_of(kind, outcome.attributes, workflow),
        **checked,
        "state": outcome.state,
        "data": {**(row["data"] or {}), trigger: outcome.json_data},
        # an internal transition stays in its state: its deadline, and being late, run on
        "overdue": bool(row["overdue"]) if spec.internal else False,
        "updated_at": now,
    }
    running = tuple(instances.current_deadlines(kind, instance_id)) if spec.internal else ()
    return PreparedTransition(kind, row, workflow, outcome, values, running)


def _checked_in(
    instances: Instances,
    kind: Kind,
    row: Mapping[str, Any],
    fields: tuple[FieldSpec, ...],
    outcome: Outcome,
) -> tuple[Outcome, dict[str, Any]]:
    """The outcome with its check-ins measured against the customer's sites, and the
    columns they set (`usecases.checkins`); as it was for a form without a check-in."""
    if not checkins.geo_fields(fields):
        return outcome, {}
    tier, sites = instances.customer_sites(row.get("customer_id"))
    earlier = row.get("checkin_flags") or ()
    measured, columns = checkins.check(fields, outcome.data, tier, sites, earlier)
    if not measured:
        return outcome, {}
    json_data = {**outcome.json_data, **Form.dump(measured)}
    kept = {name: value for name, value in columns.items() if name in kind.table.columns}
    return outcome._replace(json_data=json_data), kept


def apply_transition(
    conn: Connection | Instances, prepared: PreparedTransition, ctx: Context, now: datetime
) -> dict[str, Any]:
    """Write a prepared transition inside the caller's open transaction: the optimistic
    update (VersionConflict if the instance moved since it was read), the audit event,
    deadlines and outbox rows. Returns the instance row as it now stands."""
    instances = _instances(conn)
    kind, row = prepared.kind, prepared.row
    if not instances.update(kind, prepared.instance_id, row["version"], prepared.values):
        latest = instances.load(kind, prepared.instance_id)
        raise VersionConflict(row["version"], latest["version"] if latest else -1)
    records.record(instances, kind, prepared.instance_id, prepared.outcome, row["state"], ctx, now)
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
