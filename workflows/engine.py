"""The engine: one shared `transitions.Machine` per definition version, and pure `fire`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from transitions import EventData, MachineError

from workflows.access import PARTICIPATION, PARTICIPATION_TEXT, Actor, ActorKind
from workflows.calendar import BusinessCalendar
from workflows.deadlines import DeadlineRules
from workflows.errors import (
    InvalidData,
    InvalidTransition,
    NotPermitted,
    UnknownTrigger,
    VersionConflict,
)
from workflows.events import (
    Deadline,
    DeadlineCleared,
    DeadlineStarted,
    Event,
    StateChanged,
    Target,
)
from workflows.forms import Form
from workflows.guards import GUARDS, GuardContext
from workflows.machine import SharedMachine
from workflows.recipients import targets, told
from workflows.spec import (
    Definition,
    FieldSpec,
    FieldType,
    Recipient,
    TransitionSpec,
)
from workflows.timebounds import bounded, load_bounded, marked

CREATE = "create"
CLOCK_SKEW = timedelta(minutes=5)


class InstanceLike(Protocol):
    """What the engine reads of an instance; the service's rows and `Instance` both fit."""

    @property
    def id(self) -> Any: ...
    @property
    def state(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def attrs(self) -> Mapping[str, Any]: ...


class Instance:
    """A lightweight in-memory instance: a state, a version and attributes."""

    __slots__ = ("id", "state", "version", "attrs")

    def __init__(self, id: Any, state: str, version: int, attrs: Mapping[str, Any]) -> None:
        self.id = id
        self.state = state
        self.version = version
        self.attrs = attrs


class _Cursor:
    """The model handed to the shared machine for one fire: never added to it, never kept."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class Outcome(NamedTuple):
    """The result of a creation or a transition, for the caller to persist in one commit."""

    state: str
    version: int
    trigger: str
    data: dict[str, Any]  # validated, typed
    json_data: dict[str, Any]  # the same, JSON-ready
    attributes: dict[str, Any]  # instance attributes the transition sets
    events: tuple[Event, ...] = ()


class Workflow:
    """One version of one workflow: its definition, its forms and its one shared machine."""

    def __init__(
        self, definition: Definition, calendar: BusinessCalendar, clock_skew: timedelta = CLOCK_SKEW
    ) -> None:
        self.definition = definition
        self.name = definition.name
        self.version = definition.version
        self.calendar = calendar
        self.clock_skew = clock_skew  # how far a time may pass a `now` bound, for clock drift
        self.create_form = Form(definition.create.fields)
        self._bounded: dict[tuple[str, str], tuple[FieldSpec, ...]] = {
            (CREATE, ""): bounded(definition.create.fields)
        }
        self.forms: dict[tuple[str, str], Form] = {}
        self._from: dict[str, tuple[TransitionSpec, ...]] = {
            s: definition.transitions_from(s) for s in definition.states
        }
        self._by_key: dict[tuple[str, str], TransitionSpec] = {}
        self._checklists: dict[tuple[str, str], tuple[str, ...]] = {}
        self._setters = {t: tuple(f for f in t.fields if f.sets) for t in definition.transitions}
        for t in definition.transitions:
            form = Form(t.fields)
            for source in t.sources:
                self._by_key[(t.trigger, source)] = t
                self.forms[(t.trigger, source)] = form
                self._bounded[(t.trigger, source)] = bounded(t.fields)
                self._checklists[(t.trigger, source)] = tuple(
                    f.name for f in t.fields if f.required and f.type is FieldType.BOOLEAN
                )
        self._triggers = frozenset(definition.triggers)
        self.attribute_names = frozenset(
            [f.name for f in definition.create.fields]
            + [f.sets for t in definition.transitions for f in t.fields if f.sets]
            + ["created_by"]
        )
        self.deadlines = DeadlineRules(definition, calendar, self.attribute_names)
        self.machine = SharedMachine(
            states=list(definition.states),
            transitions=[
                {
                    "trigger": t.trigger,
                    "source": list(t.sources),
                    "dest": t.dest,
                    "conditions": [self._guards_hold] if t.guards else [],
                }
                for t in definition.transitions
            ],
            initial=definition.initial,
            name=f"{definition.name}@{definition.version}: ",
        )

    # -- queries ---------------------------------------------------------------------
    def group(self, name: str) -> tuple[str, ...]:
        """The states of the definition's group `name` (KeyError if it declares none)."""
        return self.definition.group(name)

    def has_trigger(self, trigger: str) -> bool:
        return trigger in self._triggers

    def transition(self, trigger: str, state: str) -> TransitionSpec | None:
        return self._by_key.get((trigger, state))

    def form(self, trigger: str, state: str) -> Form | None:
        return self.forms.get((trigger, state))

    def allowed_triggers(self, instance: InstanceLike, actor: Actor) -> list[str]:
        """The triggers `actor` may fire on `instance` now, in definition order."""
        return [
            t.trigger
            for t in self._from.get(instance.state, ())
            if self._denial(t, actor, instance.attrs) is None
        ]

    def may_create(self, actor: Actor) -> bool:
        if actor.kind is ActorKind.INTEGRATION:
            return (self.name, CREATE) in actor.grants
        return actor.kind is ActorKind.SYSTEM or actor.role in self.definition.create.roles

    # -- commands --------------------------------------------------------------------
    def create(self, actor: Actor, data: Mapping[str, Any] | None, now: datetime) -> Outcome:
        """Validate a creation: the initial state, its deadline, and the attributes to store.

        Refusals: `InvalidData` (the creation fields), then `NotPermitted` (the role).
        """
        # The contract checks creation fields (422) before the caller's role (403).
        values, backdated = self._load(self.create_form, (CREATE, ""), actor, data, now)
        if not self.may_create(actor):
            raise NotPermitted(f"role '{actor.role}' may not create a {self.name}")
        attrs = dict(values)
        attrs["created_by"] = actor.username
        initial = self.definition.initial
        events: list[Event] = [StateChanged(None, None, initial)]
        deadline = self.deadline_for(initial, attrs, now)
        if deadline is not None:
            events.append(DeadlineStarted(deadline))
        create = self.definition.create
        events += told(
            create.notify, CREATE, attrs, actor, self.definition.label, self.attribute_names
        )
        json_data = marked(self.create_form.dump(values), backdated)
        return Outcome(initial, 1, CREATE, values, json_data, attrs, tuple(events))

    def check_creation(
        self, actor: Actor, data: Mapping[str, Any] | None, now: datetime
    ) -> dict[str, Any]:
        """The creation's validated values, time bounds included; `InvalidData` if refused."""
        return self._load(self.create_form, (CREATE, ""), actor, data, now)[0]

    def _load(
        self,
        form: Form,
        key: tuple[str, str],
        actor: Actor,
        data: Mapping[str, Any] | None,
        now: datetime,
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        bounds = self._bounded[key]
        return load_bounded(form, bounds, actor.role, data, now, self.clock_skew, self.calendar.tz)

    def fire(
        self,
        instance: InstanceLike,
        trigger: str,
        actor: Actor,
        data: Mapping[str, Any] | None,
        now: datetime,
        expected_version: int | None = None,
    ) -> Outcome:
        """Check and run one transition; raise a `WorkflowError` and change nothing if refused.

        Checks run in the contract's order: unknown trigger, stale version, wrong state,
        permission, data. The instance is not modified: the caller applies the outcome.
        """
        spec = self._permitted(instance, trigger, actor, expected_version)
        key = (trigger, instance.state)
        form = self.forms[key]
        values, backdated = self._load(form, key, actor, data, now)
        dest = self._run(instance, spec, actor, values, now)
        attributes: dict[str, Any] = {}
        if values:
            for f in self._setters[spec]:
                if f.name in values:
                    attributes[f.sets or f.name] = values[f.name]
        events = self._fired(instance, spec, dest, attributes, actor, now)
        return Outcome(
            dest,
            instance.version + 1,
            trigger,
            values,
            marked(form.dump(values), backdated),
            attributes,
            events,
        )

    def _permitted(
        self, instance: InstanceLike, trigger: str, actor: Actor, expected_version: int | None
    ) -> TransitionSpec:
        """The transition `trigger` from the instance's state, if `actor` may fire it."""
        if trigger not in self._triggers:
            raise UnknownTrigger(self.name, trigger)
        if expected_version is not None and expected_version != instance.version:
            raise VersionConflict(expected_version, instance.version)
        spec = self._by_key.get((trigger, instance.state))
        if spec is None:
            raise InvalidTransition(
                instance.id, trigger, instance.state, self.allowed_triggers(instance, actor)
            )
        denial = self._denial(spec, actor, instance.attrs)
        if denial is not None:
            raise NotPermitted(denial)
        return spec

    def _run(
        self,
        instance: InstanceLike,
        spec: TransitionSpec,
        actor: Actor,
        values: dict[str, Any],
        now: datetime,
    ) -> str:
        """The state the shared machine moves to, its guards holding (else `InvalidData`)."""
        key = (spec.trigger, instance.state)
        cursor = _Cursor(instance.state)
        context = (
            GuardContext(values, instance.attrs, now, self.calendar, self._checklists[key])
            if spec.guards
            else None
        )
        try:
            self.machine.events[spec.trigger].trigger(cursor, spec=spec, context=context)
        except MachineError:  # the table and the machine disagree only if state is corrupt
            raise InvalidTransition(
                instance.id, spec.trigger, instance.state, self.allowed_triggers(instance, actor)
            ) from None
        return cursor.state

    def _fired(
        self,
        instance: InstanceLike,
        spec: TransitionSpec,
        dest: str,
        attributes: dict[str, Any],
        actor: Actor,
        now: datetime,
    ) -> tuple[Event, ...]:
        """What the transition causes: the state change, deadlines cleared and started,
        the notification it declares."""
        source = instance.state
        events: list[Event] = [StateChanged(spec.trigger, source, dest)]
        old = None if spec.internal else self.definition.states[source].deadline
        if old is not None:
            events.append(DeadlineCleared(old.kind, source))
        if not spec.internal and self.definition.states[dest].deadline is not None:
            merged = {**instance.attrs, **attributes} if attributes else instance.attrs
            deadline = self.deadline_for(dest, merged, now)
            if deadline is not None:
                events.append(DeadlineStarted(deadline))
        if spec.notify:
            merged = {**instance.attrs, **attributes}
            events += told(
                spec.notify, spec.trigger, merged, actor, spec.label, self.attribute_names
            )
        return tuple(events)

    def expire(self, instance: InstanceLike, kind: str) -> tuple[Event, ...]:
        """What the expiry of deadline `kind` causes; nothing if the instance has moved on."""
        return self.deadlines.expire(instance.state, instance.attrs, kind)

    def remind(self, instance: InstanceLike, kind: str) -> tuple[Event, ...]:
        """The reminder before deadline `kind`; nothing if the instance has moved on."""
        return self.deadlines.remind(instance.state, instance.attrs, kind)

    def deadline_for(
        self, state: str, attrs: Mapping[str, Any], entered_at: datetime
    ) -> Deadline | None:
        """The deadline that starts when an instance with `attrs` enters `state`."""
        return self.deadlines.deadline_for(state, attrs, entered_at)

    def targets(
        self, recipients: tuple[Recipient, ...], attrs: Mapping[str, Any]
    ) -> tuple[Target, ...]:
        return targets(recipients, attrs, self.attribute_names)

    # -- permission and guards -------------------------------------------------------
    def _denial(self, t: TransitionSpec, actor: Actor, attrs: Mapping[str, Any]) -> str | None:
        """Why `actor` may not fire `t`, or None if they may."""
        if actor.kind is ActorKind.SYSTEM:
            return None
        if actor.kind is ActorKind.INTEGRATION:
            if (self.name, t.trigger) in actor.grants:
                return None
            return f"integration '{actor.username}' has no grant for {self.name}:{t.trigger}"
        if actor.role not in t.roles:
            return f"role '{actor.role}' may not {t.trigger} a {self.name}"
        if not t.participation or actor.role in t.exempt_roles:
            return None
        if any(PARTICIPATION[rule](actor, attrs) for rule in t.participation):
            return None
        who = " or ".join(PARTICIPATION_TEXT[rule] for rule in t.participation)
        return f"only {who} may {t.trigger} this {self.name}"

    @staticmethod
    def _guards_hold(event: EventData) -> bool:
        spec: TransitionSpec = event.kwargs["spec"]
        context: GuardContext = event.kwargs["context"]
        errors: dict[str, list[str]] = {}
        for name in spec.guards:
            for fname, messages in GUARDS[name].check(context).items():
                errors.setdefault(fname, []).extend(messages)
        if errors:
            raise InvalidData(errors)
        return True
