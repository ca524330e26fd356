"""Reading transitions, and the checks across them: reachability, clashes, attributes."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from workflows.access import PARTICIPATION
from workflows.checking import (
    TIME_TYPES,
    TRANSITION_KEYS,
    Checker,
)
from workflows.guards import GUARDS
from workflows.load_parts import (
    parse_fields,
    parse_recipients,
)
from workflows.spec import (
    ROLES,
    CreateSpec,
    DeadlineSpec,
    FieldSpec,
    FieldType,
    Recipient,
    StateSpec,
    TransitionSpec,
)
from workflows.yamlsource import child


def parse_transitions(
    c: Checker,
    value: Any,
    states: dict[str, StateSpec],
    notified: list[tuple[str, tuple[Recipient, ...]]] | None = None,
) -> tuple[list[TransitionSpec], list[FieldSpec]]:
    """The valid transitions, and the fields of all of them: a field still sets its attribute
    when its transition has some other problem, so attribute checks must see it.
    `notified`, if given, receives each transition's notify path and recipients."""
    if not isinstance(value, list) or not value:
        c.err("transitions", "must be a non-empty list")
        return [], []
    out: list[TransitionSpec] = []
    fields: list[FieldSpec] = []
    seen: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(value):
        tpath = child("transitions", i)
        t = c.mapping(raw, tpath, TRANSITION_KEYS)
        if t is None:
            continue
        trigger = c.name(t.get("trigger"), child(tpath, "trigger"))
        sources = parse_sources(c, t.get("source"), child(tpath, "source"), states)
        check_unique(c, trigger, sources, i, child(tpath, "trigger"), seen)
        transition_fields = parse_fields(c, t.get("fields"), child(tpath, "fields"))
        fields += transition_fields
        spec = parse_transition(c, t, tpath, states, trigger, sources, transition_fields)
        if spec:
            out.append(spec)
            if notified is not None:
                notified.append((child(tpath, "notify"), spec.notify))
    return out, fields


def parse_sources(
    c: Checker, value: Any, path: str, states: dict[str, StateSpec]
) -> tuple[str, ...]:
    sources = c.names(value, path, states, "state")
    if not value:
        c.err(path, "is required")
    for source in sources:
        if states[source].final:
            c.err(path, f"{source!r} is final: no transition may leave it")
    return sources


def check_unique(
    c: Checker,
    trigger: str | None,
    sources: tuple[str, ...],
    i: int,
    path: str,
    seen: dict[tuple[str, str], int],
) -> None:
    """A trigger may leave each state by one transition only."""
    if not trigger:
        return
    for source in sources:
        if (trigger, source) in seen:
            c.err(
                path,
                f"trigger {trigger!r} from {source!r} is already defined by"
                f" transitions[{seen[(trigger, source)]}]",
            )
        else:
            seen[(trigger, source)] = i


def parse_transition(
    c: Checker,
    t: dict[str, Any],
    tpath: str,
    states: dict[str, StateSpec],
    trigger: str | None,
    sources: tuple[str, ...],
    fields: tuple[FieldSpec, ...],
) -> TransitionSpec | None:
    dest = c.names(t.get("dest"), child(tpath, "dest"), states, "state")
    if not isinstance(t.get("dest"), str):
        c.err(child(tpath, "dest"), "must be one state")
    label = c.label(t.get("label"), child(tpath, "label"))
    roles = c.names(t.get("roles"), child(tpath, "roles"), ROLES, "role")
    if not t.get("roles"):
        c.err(child(tpath, "roles"), "at least one role is required")
    participation = c.names(
        t.get("participation"), child(tpath, "participation"), PARTICIPATION, "participation rule"
    )
    exempt = c.names(t.get("exempt_roles"), child(tpath, "exempt_roles"), ROLES, "role")
    guards = c.names(t.get("guards"), child(tpath, "guards"), GUARDS, "guard")
    notify = parse_recipients(c, t.get("notify"), child(tpath, "notify"))
    if "notify" not in t:
        c.err(child(tpath, "notify"), "is required: who is told (an empty list [] if nobody)")
    field_names = {f.name for f in fields}
    for guard in guards:
        for need in GUARDS[guard].needs:
            if need not in field_names:
                c.err(child(tpath, "guards"), f"guard {guard!r} needs a field {need!r}")
    internal = c.boolean(t.get("internal"), child(tpath, "internal"), False)
    if internal and dest and tuple(sources) != (dest[0],):
        c.err(child(tpath, "internal"), "an internal transition stays in its one source state")
    if not (trigger and sources and dest and label and roles):
        return None
    return TransitionSpec(
        trigger=trigger,
        sources=sources,
        dest=dest[0],
        label=label,
        roles=frozenset(roles),
        participation=participation,
        exempt_roles=frozenset(exempt),
        guards=guards,
        fields=fields,
        notify=notify,
        internal=internal,
    )


@dataclass
class Graph:
    """The state graph as far as the raw transitions tell it, whatever their other problems:
    a transition refused for, say, an unknown role still says where it goes."""

    exits: dict[str, set[str]] = field(default_factory=dict)  # state -> the states it leads to
    open_exits: set[str] = field(default_factory=set)  # left towards an unknown dest
    entries: set[str] = field(default_factory=set)  # entered from an unknown source


def build_graph(value: Any, states: dict[str, StateSpec]) -> Graph:
    graph = Graph()
    for t in value if isinstance(value, list) else []:
        if not isinstance(t, dict):
            continue
        raw_sources = t.get("source")
        items = raw_sources if isinstance(raw_sources, list) else [raw_sources]
        sources = [s for s in items if isinstance(s, str) and s in states]
        dest = t.get("dest")
        if not isinstance(dest, str) or dest not in states:
            graph.open_exits.update(sources)
            continue
        for source in sources:
            graph.exits.setdefault(source, set()).add(dest)
        if len(sources) < len(items):
            graph.entries.add(dest)
    return graph


def graph_checks(
    c: Checker, initial: str | None, states: dict[str, StateSpec], graph: Graph
) -> None:
    if initial is None or initial not in states:
        return
    # The dests of transitions from an unknown source may be reachable: only the broken
    # source is a problem, not what it leads to.
    reached = {initial} | graph.entries
    queue = deque(reached)
    while queue:
        for nxt in graph.exits.get(queue.popleft(), ()):
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    for name, state in states.items():
        if name not in reached:
            c.err(child("states", name), f"state {name!r} cannot be reached from {initial!r}")
        if not state.final and not graph.exits.get(name) and name not in graph.open_exits:
            c.err(child("states", name), f"state {name!r} is not final but has no way out")
    if not any(s.final for s in states.values()):
        c.err("states", "at least one state must be final")


def attribute_types(
    create: CreateSpec, transition_fields: Iterable[FieldSpec]
) -> dict[str, FieldType]:
    """The instance attributes: the creation fields, and the transition fields that set one."""
    types = {f.name: f.type for f in create.fields}
    for f in transition_fields:
        if f.sets:
            types.setdefault(f.sets, f.type)
    return types


def attribute_checks(c: Checker, types: dict[str, FieldType], states: dict[str, StateSpec]) -> None:
    """Deadlines read attributes: each must be set by creation or a transition."""
    for name, state in states.items():
        if state.deadline is not None:
            deadline_attributes(c, state.deadline, child("states", name), types)
            on_expiry = child(child("states", name), "deadline.on_expiry")
            recipient_attributes(
                c,
                types,
                [
                    (child(on_expiry, "notify"), state.deadline.on_expiry.notify),
                    (child(on_expiry, "escalate_to"), state.deadline.on_expiry.escalate_to),
                ],
            )


def recipient_attributes(
    c: Checker, types: dict[str, FieldType], notified: Iterable[tuple[str, tuple[Recipient, ...]]]
) -> None:
    """A `field:NAME` recipient names a user or users attribute set by creation or a
    transition."""
    for path, recipients in notified:
        for i, r in enumerate(recipients):
            if r.kind != "field" or r.ref is None:
                continue
            if r.ref not in types:
                c.err(child(path, i), f"no creation field or transition sets {r.ref!r}")
            elif types[r.ref] not in (FieldType.USER, FieldType.USERS):
                c.err(child(path, i), f"{r.ref!r} is a {types[r.ref].value}, not a user or users")


def deadline_attributes(
    c: Checker, d: DeadlineSpec, spath: str, types: dict[str, FieldType]
) -> None:
    if d.at_field is not None:
        path = child(spath, "deadline.at_field")
        if d.at_field not in types:
            c.err(path, f"no creation field or transition sets {d.at_field!r}")
        elif types[d.at_field] not in TIME_TYPES:
            c.err(path, f"{d.at_field!r} is a {types[d.at_field].value}, not a date or datetime")
    rect = d.on_expiry.rectification
    if rect and not rect.department.startswith("dept:") and rect.department not in types:
        c.err(
            child(spath, "deadline.on_expiry.rectification.department"),
            f"{rect.department!r} is neither an attribute nor dept:CODE",
        )
