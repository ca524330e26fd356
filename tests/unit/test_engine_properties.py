"""Stateful property tests of the engine: random walks through each workflow with the system
actor, valid generated data and random refused fires."""

from __future__ import annotations

import copy
import functools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from workflows import (
    Actor,
    Instance,
    InvalidData,
    InvalidTransition,
    Registry,
    UnknownTrigger,
    VersionConflict,
    Workflow,
    WorkflowError,
)
from workflows.events import StateChanged
from workflows.spec import FieldSpec, FieldType, TransitionSpec

SHANGHAI = ZoneInfo("Asia/Shanghai")
REGISTRY = Registry.from_dir(Path(__file__).resolve().parents[2] / "definitions")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
# Generated times stay well inside 2026, the last year of the official holiday data.
EARLIEST = NOW.replace(tzinfo=None) + timedelta(minutes=1)
LATEST = datetime(2026, 12, 20, 18, 0)
PAST = datetime(2026, 1, 5, 9, 0)  # the earliest actual time generated
# the latest: a day early, as the generated local times are read in zones west of Shanghai
LATEST_PAST = NOW.replace(tzinfo=None) - timedelta(days=1)
SYSTEM = Actor.system()
SETTINGS = settings(max_examples=50, stateful_step_count=30, deadline=None, database=None)

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
short_texts = st.text(max_size=30).map(lambda s: "x" + s)  # never blank


def _text(limit: int) -> st.SearchStrategy[str]:
    return st.one_of(short_texts, st.just("y" * limit))


def _value(f: FieldSpec, t: TransitionSpec | None) -> st.SearchStrategy[Any]:
    """Valid JSON-like values for one field (guards included)."""
    if f.type is FieldType.STRING:
        return _text(f.max_length or 200)
    if f.type is FieldType.TEXT:
        return _text(f.max_length or 20_000)
    if f.type is FieldType.INTEGER:
        lo = int(f.min) if f.min is not None else -(10**6)
        return st.integers(lo, int(f.max) if f.max is not None else lo + 10**6)
    if f.type is FieldType.RATING:
        return st.integers(1, 5)
    if f.type is FieldType.NUMBER:
        return st.floats(f.min, f.max, allow_nan=False, allow_infinity=False)
    if f.type is FieldType.BOOLEAN:
        ticked = t is not None and "checklist_ticked" in t.guards and f.required
        return st.just(True) if ticked else st.booleans()
    # An actual time (`not_after: now`) lies in the past, any other in the future: fires at NOW.
    lo, hi = (PAST, LATEST_PAST) if f.not_after else (EARLIEST, LATEST)
    if f.type is FieldType.DATE:
        return st.dates(lo.date(), hi.date()).map(lambda d: d.isoformat())
    if f.type is FieldType.DATETIME:
        zones = st.sampled_from([SHANGHAI, ZoneInfo("UTC"), ZoneInfo("Europe/Berlin")])
        return st.datetimes(lo, hi, timezones=zones).map(lambda d: d.isoformat())
    if f.type is FieldType.CHOICE:
        return st.sampled_from(f.choice_values)
    if f.type is FieldType.MULTI_CHOICE:
        return st.lists(st.sampled_from(f.choice_values), unique=True, min_size=int(f.required))
    if f.type in (FieldType.USER, FieldType.DEPARTMENT):
        return names
    if f.type is FieldType.USERS:
        return st.lists(names, unique=True, min_size=int(f.required), max_size=4)
    if f.type is FieldType.GEO:
        return st.fixed_dictionaries(
            {
                "latitude": st.floats(-90, 90),
                "longitude": st.floats(-180, 180),
                "accuracy": st.floats(1, 5_000),
                "device_time": st.datetimes(PAST, LATEST_PAST, timezones=st.just(SHANGHAI)).map(
                    lambda d: d.isoformat()
                ),
            }
        )
    raise AssertionError(f"no strategy for {f.type}")


def _satisfy_guards(t: TransitionSpec | None, data: dict[str, Any]) -> dict[str, Any]:
    if t is not None and "low_rating_needs_comment" in t.guards:
        if data.get("satisfaction", 5) <= 2 and not (data.get("comment") or "").strip():
            data["comment"] = "Explained by the customer."
    return data


@functools.cache
def form_data(
    fields: tuple[FieldSpec, ...], t: TransitionSpec | None
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid data for a form; built once per form."""
    required = {f.name: _value(f, t) for f in fields if f.required}
    optional = {f.name: _value(f, t) | st.none() for f in fields if not f.required}
    return st.fixed_dictionaries(required, optional=optional).map(
        lambda data: _satisfy_guards(t, data)
    )


_CANONICAL: dict[FieldType, Any] = {
    FieldType.GEO: {
        "latitude": 31.2,
        "longitude": 121.5,
        "accuracy": 10.0,
        "device_time": "2026-01-01T00:00:00+08:00",
    },
    FieldType.STRING: "x",
    FieldType.TEXT: "x",
    FieldType.INTEGER: 1,
    FieldType.NUMBER: 1.0,
    FieldType.BOOLEAN: True,
    FieldType.DATE: (NOW + timedelta(days=7)).date().isoformat(),
    FieldType.DATETIME: (NOW + timedelta(days=7)).isoformat(),
    FieldType.USER: "someone",
    FieldType.USERS: ["someone"],
    FieldType.DEPARTMENT: "technical",
    FieldType.RATING: 5,
}


def canonical_data(t: TransitionSpec) -> dict[str, Any]:
    """A fixed valid data set for `t`: its required fields only."""
    data: dict[str, Any] = {}
    for f in t.fields:
        if not f.required:
            continue
        if f.type is FieldType.CHOICE:
            data[f.name] = f.choice_values[0]
        elif f.type is FieldType.MULTI_CHOICE:
            data[f.name] = [f.choice_values[0]]
        elif f.type is FieldType.INTEGER and f.min is not None:
            data[f.name] = int(f.min)
        elif f.not_after is not None:
            data[f.name] = (NOW - timedelta(days=1)).isoformat()
        else:
            data[f.name] = _CANONICAL[f.type]
    return data


NONZERO = st.integers(-100, 100).filter(bool)


@functools.cache
def impossible_triggers(workflow: Workflow, state: str) -> st.SearchStrategy[str]:
    """Trigger names that cannot fire from `state`: the workflow's others, and unknown ones."""
    triggers = workflow.definition.triggers
    unknown = names.filter(lambda n: n not in triggers)
    others = [t for t in triggers if workflow.transition(t, state) is None]
    return st.sampled_from(others) | unknown if others else unknown


def _snapshot(instance: Instance) -> tuple[Any, ...]:
    return (instance.state, instance.version, copy.deepcopy(dict(instance.attrs)))


class WorkflowWalk(RuleBasedStateMachine):
    """One instance of `workflow`, fired at random; the engine's answers are checked."""

    workflow: Workflow

    def __init__(self) -> None:
        super().__init__()
        self.instance = Instance(1, "", 0, {})
        self.fires = 0
        self.history: list[tuple[str | None, str]] = []

    @property
    def exits(self) -> tuple[TransitionSpec, ...]:
        return self.workflow.definition.transitions_from(self.instance.state)

    @initialize(data=st.data())
    def create(self, data: st.DataObject) -> None:
        fields = self.workflow.definition.create.fields
        values = data.draw(form_data(fields, None), label="create data")
        outcome = self.workflow.create(SYSTEM, values, NOW)
        self.instance = Instance(1, outcome.state, outcome.version, outcome.attributes)

    @precondition(lambda self: bool(self.exits))
    @rule(data=st.data(), send_version=st.booleans())
    def fire_a_possible_trigger(self, data: st.DataObject, send_version: bool) -> None:
        trigger = data.draw(st.sampled_from([t.trigger for t in self.exits]), label="trigger")
        spec = self.workflow.transition(trigger, self.instance.state)
        assert spec is not None
        values = data.draw(form_data(spec.fields, spec), label="data")
        version = self.instance.version if send_version else None
        outcome = self.workflow.fire(self.instance, spec.trigger, SYSTEM, values, NOW, version)
        assert outcome.state == spec.dest
        assert outcome.version == self.instance.version + 1
        (changed,) = [e for e in outcome.events if isinstance(e, StateChanged)]
        self.history.append((changed.source, changed.dest))
        self.fires += 1
        attrs = {**self.instance.attrs, **outcome.attributes}
        self.instance = Instance(1, outcome.state, outcome.version, attrs)

    @rule(data=st.data())
    def fire_an_impossible_trigger(self, data: st.DataObject) -> None:
        strategy = impossible_triggers(self.workflow, self.instance.state)
        trigger = data.draw(strategy, label="trigger")
        error = InvalidTransition if self.workflow.has_trigger(trigger) else UnknownTrigger
        self._refused(trigger, {}, None, error)

    @rule(data=st.data())
    def fire_with_a_stale_version(self, data: st.DataObject) -> None:
        trigger = data.draw(st.sampled_from(self.workflow.definition.triggers), label="trigger")
        stale = self.instance.version + data.draw(NONZERO, label="version offset")
        self._refused(trigger, {}, stale, VersionConflict)

    @precondition(lambda self: bool(self.exits))
    @rule(data=st.data())
    def fire_with_an_unknown_field(self, data: st.DataObject) -> None:
        trigger = data.draw(st.sampled_from([t.trigger for t in self.exits]), label="trigger")
        spec = self.workflow.transition(trigger, self.instance.state)
        assert spec is not None
        values = {**data.draw(form_data(spec.fields, spec), label="data"), "zz_unknown": 1}
        error = self._refused(spec.trigger, values, None, InvalidData)
        assert isinstance(error, InvalidData) and "zz_unknown" in error.errors

    def _refused(
        self, trigger: str, values: dict[str, Any], version: int | None, expected: type
    ) -> WorkflowError:
        before = _snapshot(self.instance)
        try:
            self.workflow.fire(self.instance, trigger, SYSTEM, values, NOW, version)
        except WorkflowError as error:
            assert type(error) is expected, (trigger, error)
            assert _snapshot(self.instance) == before
            return error
        raise AssertionError(f"{trigger!r} from {self.instance.state!r} was not refused")

    @invariant()
    def state_is_one_of_the_definitions(self) -> None:
        assert self.instance.state in self.workflow.definition.states

    @invariant()
    def version_counts_the_successful_fires(self) -> None:
        assert self.instance.version == 1 + self.fires

    @invariant()
    def history_chains_from_the_initial_state(self) -> None:
        previous = self.workflow.definition.initial
        for source, dest in self.history:
            assert source == previous
            previous = dest
        assert previous == self.instance.state

    @invariant()
    def allowed_triggers_are_exactly_those_that_succeed(self) -> None:
        succeeded = []
        for trigger in self.workflow.definition.triggers:
            spec = self.workflow.transition(trigger, self.instance.state)
            data = canonical_data(spec) if spec is not None else {}
            try:
                self.workflow.fire(self.instance, trigger, SYSTEM, data, NOW)
            except InvalidTransition:
                continue
            succeeded.append(trigger)
        allowed = self.workflow.allowed_triggers(self.instance, SYSTEM)
        assert len(set(allowed)) == len(allowed)
        assert sorted(allowed) == sorted(succeeded)


class VisitWalk(WorkflowWalk):
    workflow = REGISTRY.get("visit")


class IssueWalk(WorkflowWalk):
    workflow = REGISTRY.get("issue")


class RectificationWalk(WorkflowWalk):
    workflow = REGISTRY.get("rectification")


TestVisitWalk = VisitWalk.TestCase
TestVisitWalk.settings = SETTINGS
TestIssueWalk = IssueWalk.TestCase
TestIssueWalk.settings = SETTINGS
TestRectificationWalk = RectificationWalk.TestCase
TestRectificationWalk.settings = SETTINGS
