"""Load definition files, check everything at once, and build frozen `Definition`s."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows.access import PARTICIPATION
from workflows.calendar import Duration
from workflows.errors import DefinitionError, Problem
from workflows.guards import GUARDS
from workflows.spec import (
    ROLES,
    Choice,
    CreateSpec,
    DeadlineSpec,
    Definition,
    ExpirySpec,
    FieldSpec,
    FieldType,
    Label,
    MigrationSpec,
    Recipient,
    RectificationPolicy,
    StateSpec,
    TransitionSpec,
)
from workflows.yamlsource import LocatedYaml, child, read_yaml

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TOP_KEYS = {
    "name",
    "version",
    "label",
    "description",
    "initial",
    "states",
    "transitions",
    "create",
    "migrations",
}
STATE_KEYS = {"label", "final", "deadline", "description"}
DEADLINE_KEYS = {"kind", "label", "after", "at_field", "offset", "remind_before", "on_expiry"}
EXPIRY_KEYS = {"mark_overdue", "notify", "rectification", "escalate_to"}
TRANSITION_KEYS = {
    "trigger",
    "source",
    "dest",
    "label",
    "description",
    "roles",
    "participation",
    "exempt_roles",
    "guards",
    "fields",
}
FIELD_KEYS = {
    "name",
    "type",
    "required",
    "label",
    "help",
    "choices",
    "max_length",
    "min",
    "max",
    "sets",
    "accepts_date",
}
RECIPIENT_KINDS = {"visitors", "raiser", "responsible_person"}
RECIPIENT_REF_KINDS = {"department_manager", "department", "role"}
TIME_TYPES = {FieldType.DATE, FieldType.DATETIME}


class _Checker:
    """Walks one parsed file, collecting problems instead of stopping at the first."""

    def __init__(self, doc: LocatedYaml) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def err(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.doc.file, self.doc.line(path), path, message))

    # -- small typed readers ---------------------------------------------------------
    def mapping(self, value: Any, path: str, keys: set[str] | None = None) -> dict[str, Any] | None:
        """`value` if it is a mapping, else None. An empty mapping is still a mapping: callers
        must go on and report each key it lacks."""
        if not isinstance(value, dict):
            self.err(path, "must be a mapping")
            return None
        if keys is not None:
            for key in value:
                if key not in keys:
                    self.err(child(path, str(key)), f"unknown key (expected one of {_list(keys)})")
        return value

    def text(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.err(path, "must be non-empty text")
            return None
        return value

    def name(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not NAME.match(value):
            self.err(path, "must be a lower_snake_case name")
            return None
        return value

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.err(path, "must be true or false")
            return default
        return value

    def label(self, value: Any, path: str, required: bool = True) -> Label | None:
        if value is None:
            if required:
                self.err(path, "a label in zh and en is required")
            return None
        m = self.mapping(value, path, {"zh", "en"})
        if m is None:
            return None
        zh = self.text(m.get("zh"), child(path, "zh"))
        en = self.text(m.get("en"), child(path, "en"))
        return Label(zh, en) if zh and en else None

    def duration(self, value: Any, path: str) -> Duration | None:
        if not isinstance(value, dict):
            self.err(path, "must be a duration such as {working_days: 2} or {hours: 4}")
            return None
        try:
            return Duration.parse(value)
        except ValueError as exc:
            self.err(path, str(exc))
            return None

    def names(self, value: Any, path: str, known: Iterable[str], what: str) -> tuple[str, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        known_set = set(known)
        out: list[str] = []
        for i, item in enumerate(items):
            sub = child(path, i) if isinstance(value, list) else path
            if not isinstance(item, str) or item not in known_set:
                self.err(sub, f"unknown {what} {item!r} (known: {_list(known_set)})")
            else:
                out.append(item)
        return tuple(out)


def _list(items: Iterable[str]) -> str:
    return ", ".join(sorted(items))


def _fields(c: _Checker, value: Any, path: str) -> tuple[FieldSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        c.err(path, "must be a list of fields")
        return ()
    out: list[FieldSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(value):
        fpath = child(path, i)
        f = c.mapping(raw, fpath, FIELD_KEYS)
        if f is None:
            continue
        name = c.name(f.get("name"), child(fpath, "name"))
        if name in seen:
            c.err(child(fpath, "name"), f"field {name!r} declared twice")
        if name:
            seen.add(name)
        spec = _field(c, f, fpath, name)
        if spec:
            out.append(spec)
    return tuple(out)


def _field(c: _Checker, f: dict[str, Any], fpath: str, name: str | None) -> FieldSpec | None:
    ftype: FieldType | None = None
    try:
        ftype = FieldType(str(f["type"]))
    except KeyError:
        c.err(child(fpath, "type"), "is required")
    except ValueError:
        c.err(
            child(fpath, "type"),
            f"unknown field type {f.get('type')!r} (known: {_list(t.value for t in FieldType)})",
        )
    label = c.label(f.get("label"), child(fpath, "label"))
    help_ = c.label(f.get("help"), child(fpath, "help"), required=False)
    required = c.boolean(f.get("required"), child(fpath, "required"), False)
    choices = _choices(c, f.get("choices"), child(fpath, "choices"), ftype)
    max_length = _limit(c, f, fpath, "max_length", ftype, {FieldType.STRING, FieldType.TEXT})
    lo = _limit(c, f, fpath, "min", ftype, {FieldType.INTEGER, FieldType.NUMBER})
    hi = _limit(c, f, fpath, "max", ftype, {FieldType.INTEGER, FieldType.NUMBER})
    if lo is not None and hi is not None and lo > hi:
        c.err(child(fpath, "min"), "min is greater than max")
    sets = f.get("sets")
    target: str | None = None
    if sets is True:
        target = name
    elif isinstance(sets, str):
        target = c.name(sets, child(fpath, "sets"))
    elif sets not in (None, False):
        c.err(child(fpath, "sets"), "must be true or an attribute name")
    accepts_date = c.boolean(f.get("accepts_date"), child(fpath, "accepts_date"), False)
    if accepts_date and ftype is not FieldType.DATETIME:
        c.err(child(fpath, "accepts_date"), "only datetime fields take accepts_date")
    if not (name and ftype and label):
        return None
    return FieldSpec(
        name=name,
        type=ftype,
        label=label,
        required=required,
        help=help_,
        choices=choices,
        max_length=int(max_length) if max_length else None,
        min=lo,
        max=hi,
        sets=target,
        accepts_date=accepts_date,
    )


def _choices(c: _Checker, value: Any, path: str, ftype: FieldType | None) -> tuple[Choice, ...]:
    wants = ftype in (FieldType.CHOICE, FieldType.MULTI_CHOICE)
    if value is None:
        if wants:
            c.err(path, f"a {ftype.value if ftype else ''} field needs choices")
        return ()
    if not wants:
        c.err(path, "only choice and multi_choice fields take choices")
        return ()
    if not isinstance(value, list) or not value:
        c.err(path, "must be a non-empty list of {value, label}")
        return ()
    out: list[Choice] = []
    seen: set[str] = set()
    for i, raw in enumerate(value):
        cpath = child(path, i)
        m = c.mapping(raw, cpath, {"value", "label"})
        if m is None:
            continue
        v = m.get("value")
        if not isinstance(v, str) or not v:
            c.err(child(cpath, "value"), "must be non-empty text")
            continue
        if v in seen:
            c.err(child(cpath, "value"), f"choice {v!r} listed twice")
        seen.add(v)
        label = c.label(m.get("label"), child(cpath, "label"))
        if label:
            out.append(Choice(v, label))
    return tuple(out)


def _limit(
    c: _Checker,
    f: dict[str, Any],
    path: str,
    key: str,
    ftype: FieldType | None,
    allowed: set[FieldType],
) -> float | None:
    value = f.get(key)
    if value is None:
        return None
    if ftype not in allowed:
        c.err(child(path, key), f"only {_list(t.value for t in allowed)} fields take {key}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        c.err(child(path, key), "must be a number")
        return None
    if key == "max_length" and (not isinstance(value, int) or value < 1):
        c.err(child(path, key), "must be a positive integer")
        return None
    return float(value)


def _recipients(c: _Checker, value: Any, path: str) -> tuple[Recipient, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        c.err(path, "must be a list of recipients")
        return ()
    out: list[Recipient] = []
    for i, raw in enumerate(value):
        rpath = child(path, i)
        if not isinstance(raw, str):
            c.err(rpath, "must be text such as visitors or department_manager:marketing")
            continue
        kind, _, ref = raw.partition(":")
        if kind in RECIPIENT_KINDS and not ref:
            out.append(Recipient(kind))
        elif kind in RECIPIENT_REF_KINDS and ref:
            if kind == "role" and ref not in ROLES:
                c.err(rpath, f"unknown role {ref!r}")
                continue
            out.append(Recipient(kind, ref))
        else:
            c.err(
                rpath,
                f"unknown recipient {raw!r} (known: {_list(RECIPIENT_KINDS)},"
                f" or {_list(k + ':REF' for k in RECIPIENT_REF_KINDS)})",
            )
    return tuple(out)


def _deadline(c: _Checker, value: Any, path: str) -> DeadlineSpec | None:
    d = c.mapping(value, path, DEADLINE_KEYS)
    if d is None:
        return None
    kind = c.name(d.get("kind"), child(path, "kind"))
    label = c.label(d.get("label"), child(path, "label"))
    after = c.duration(d["after"], child(path, "after")) if "after" in d else None
    at_field = c.name(d["at_field"], child(path, "at_field")) if "at_field" in d else None
    if ("after" in d) == ("at_field" in d):
        c.err(path, "needs exactly one of after or at_field")
    offset = c.duration(d["offset"], child(path, "offset")) if "offset" in d else None
    if offset and "at_field" not in d:
        c.err(child(path, "offset"), "offset only applies to at_field")
    remind = (
        c.duration(d["remind_before"], child(path, "remind_before"))
        if "remind_before" in d
        else None
    )
    if remind and remind.amount <= 0:
        c.err(child(path, "remind_before"), "must be positive")
    expiry = _expiry(c, d.get("on_expiry", {}), child(path, "on_expiry"))
    if not (kind and label):
        return None
    return DeadlineSpec(kind, label, after, at_field, offset, remind, expiry)


def _expiry(c: _Checker, value: Any, path: str) -> ExpirySpec:
    e = c.mapping(value, path, EXPIRY_KEYS) or {}
    rpath = child(path, "rectification")
    return ExpirySpec(
        mark_overdue=c.boolean(e.get("mark_overdue"), child(path, "mark_overdue"), True),
        notify=_recipients(c, e.get("notify"), child(path, "notify")),
        rectification=_rectification(c, e["rectification"], rpath)
        if "rectification" in e
        else None,
        escalate_to=_recipients(c, e.get("escalate_to"), child(path, "escalate_to")),
    )


def _rectification(c: _Checker, value: Any, path: str) -> RectificationPolicy | None:
    r = c.mapping(value, path, {"department", "findings"})
    if r is None:
        return None
    department = c.text(r.get("department"), child(path, "department"))
    findings = c.label(r.get("findings"), child(path, "findings"))
    return RectificationPolicy(department, findings) if department and findings else None


def _states(c: _Checker, value: Any) -> dict[str, StateSpec]:
    states: dict[str, StateSpec] = {}
    raw_states = c.mapping(value, "states")
    if raw_states == {}:
        c.err("states", "at least one state is required")
    for name, raw in (raw_states or {}).items():
        spath = child("states", str(name))
        if not isinstance(name, str) or not NAME.match(name):
            c.err(spath, "state names must be lower_snake_case")
            continue
        # A state without a body is still declared: keep it, so that the transitions to and
        # from it are not reported as well.
        s = c.mapping(raw, spath, STATE_KEYS) or {}
        label = c.label(s.get("label"), child(spath, "label"))
        final = c.boolean(s.get("final"), child(spath, "final"), False)
        deadline = (
            _deadline(c, s["deadline"], child(spath, "deadline")) if "deadline" in s else None
        )
        if deadline and final:
            c.err(child(spath, "deadline"), "a final state cannot have a deadline")
        states[name] = StateSpec(name, label or Label(name, name), final, deadline)
    return states


def _transitions(
    c: _Checker, value: Any, states: dict[str, StateSpec]
) -> tuple[list[TransitionSpec], list[FieldSpec]]:
    """The valid transitions, and the fields of all of them: a field still sets its attribute
    when its transition has some other problem, so attribute checks must see it."""
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
        sources = _sources(c, t.get("source"), child(tpath, "source"), states)
        _unique(c, trigger, sources, i, child(tpath, "trigger"), seen)
        transition_fields = _fields(c, t.get("fields"), child(tpath, "fields"))
        fields += transition_fields
        spec = _transition(c, t, tpath, states, trigger, sources, transition_fields)
        if spec:
            out.append(spec)
    return out, fields


def _sources(c: _Checker, value: Any, path: str, states: dict[str, StateSpec]) -> tuple[str, ...]:
    sources = c.names(value, path, states, "state")
    if not value:
        c.err(path, "is required")
    for source in sources:
        if states[source].final:
            c.err(path, f"{source!r} is final: no transition may leave it")
    return sources


def _unique(
    c: _Checker,
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


def _transition(
    c: _Checker,
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
    field_names = {f.name for f in fields}
    for guard in guards:
        for need in GUARDS[guard].needs:
            if need not in field_names:
                c.err(child(tpath, "guards"), f"guard {guard!r} needs a field {need!r}")
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
    )


@dataclass
class _Graph:
    """The state graph as far as the raw transitions tell it, whatever their other problems:
    a transition refused for, say, an unknown role still says where it goes."""

    exits: dict[str, set[str]] = field(default_factory=dict)  # state -> the states it leads to
    open_exits: set[str] = field(default_factory=set)  # left towards an unknown dest
    entries: set[str] = field(default_factory=set)  # entered from an unknown source


def _graph(value: Any, states: dict[str, StateSpec]) -> _Graph:
    graph = _Graph()
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


def _graph_checks(
    c: _Checker, initial: str | None, states: dict[str, StateSpec], graph: _Graph
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


def _attribute_types(
    create: CreateSpec, transition_fields: Iterable[FieldSpec]
) -> dict[str, FieldType]:
    """The instance attributes: the creation fields, and the transition fields that set one."""
    types = {f.name: f.type for f in create.fields}
    for f in transition_fields:
        if f.sets:
            types.setdefault(f.sets, f.type)
    return types


def _attribute_checks(
    c: _Checker, types: dict[str, FieldType], states: dict[str, StateSpec]
) -> None:
    """Deadlines read attributes: each must be set by creation or a transition."""
    for name, state in states.items():
        if state.deadline is not None:
            _deadline_attributes(c, state.deadline, child("states", name), types)


def _deadline_attributes(
    c: _Checker, d: DeadlineSpec, spath: str, types: dict[str, FieldType]
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


def _migrations(c: _Checker, value: Any) -> tuple[MigrationSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        c.err("migrations", "must be a list")
        return ()
    out: list[MigrationSpec] = []
    for i, raw in enumerate(value):
        mpath = child("migrations", i)
        m = c.mapping(raw, mpath, {"from_version", "states"})
        if m is None:
            continue
        frm = m.get("from_version")
        if not isinstance(frm, int) or isinstance(frm, bool) or frm < 1:
            c.err(child(mpath, "from_version"), "must be a version number")
            continue
        mapping = c.mapping(m.get("states", {}), child(mpath, "states")) or {}
        out.append(MigrationSpec(frm, {str(k): str(v) for k, v in mapping.items()}))
    return tuple(out)


def _version(c: _Checker, value: Any) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        c.err("version", "must be an integer of at least 1")
        return None
    return value


def _initial(c: _Checker, value: Any, states: dict[str, StateSpec]) -> str | None:
    """The one state every instance starts in."""
    if value is None:
        c.err("initial", "is required")
        return None
    if not isinstance(value, str):
        c.err("initial", "must be one state")
        return None
    found = c.names(value, "initial", states, "state")
    return found[0] if found else None


def _create(c: _Checker, value: Any) -> CreateSpec:
    cr = c.mapping(value, "create", {"roles", "fields"}) or {}
    roles = c.names(cr.get("roles"), "create.roles", ROLES, "role")
    return CreateSpec(frozenset(roles), _fields(c, cr.get("fields"), "create.fields"))


def _in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    # The checks run section by section; readers fix a file top to bottom. `sorted` is
    # stable, so problems on one line keep the order they were found in.
    return sorted(problems, key=lambda p: p.line)


def parse_definition(doc: LocatedYaml) -> tuple[Definition | None, list[Problem]]:
    """Check one parsed file; return its definition only if it has no problem."""
    c = _Checker(doc)
    definition = _definition(c, doc)
    if c.problems or definition is None:
        return None, _in_file_order(c.problems)
    return definition, []


def _definition(c: _Checker, doc: LocatedYaml) -> Definition | None:
    top = c.mapping(doc.data, "", TOP_KEYS)
    if top is None:
        return None
    name = c.name(top.get("name"), "name")
    version = _version(c, top.get("version"))
    label = c.label(top.get("label"), "label")
    description = c.label(top.get("description"), "description", required=False)
    states = _states(c, top.get("states"))
    initial = _initial(c, top.get("initial"), states)
    transitions, transition_fields = _transitions(c, top.get("transitions"), states)
    create = _create(c, top.get("create", {}))
    _graph_checks(c, initial, states, _graph(top.get("transitions"), states))
    _attribute_checks(c, _attribute_types(create, transition_fields), states)
    migrations = _migrations(c, top.get("migrations"))
    if not (name and version and label and initial):
        return None
    return Definition(
        name=name,
        version=version,
        label=label,
        initial=initial,
        states=states,
        transitions=tuple(transitions),
        create=create,
        source=doc.file,
        description=description,
        migrations=migrations,
    )


def load_text(text: str, file: str = "<text>") -> Definition:
    """Load one definition from YAML text, or raise `DefinitionError` with every problem."""
    doc, problems = read_yaml(text, file)
    if doc is None or problems:
        raise DefinitionError(problems)
    definition, problems = parse_definition(doc)
    if definition is None:
        raise DefinitionError(problems)
    return definition


def source_doc(definition: Definition) -> LocatedYaml | None:
    """The file `definition` was loaded from, parsed again to locate problems found after
    loading; None when there is no such file (loaded from text, or since removed)."""
    try:
        text = Path(definition.source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    doc, _ = read_yaml(text, definition.source)
    return doc


def migration_problems(
    definitions: Sequence[Definition],
    locate: Callable[[Definition], LocatedYaml | None] = source_doc,
    broken: Set[tuple[str, int]] = frozenset(),
) -> list[Problem]:
    """Check each migration against both versions: its `from_version` must be among
    `definitions`, its keys states of that version, its values states of the migrating one.

    `locate` gives the parsed file of a definition, for the lines of its problems (0 when it
    has none). Versions in `broken` exist but failed their own checks: a migration from one
    of them is not reported, as that would only repeat their problems.
    """
    loaded = {d.key: d for d in definitions}
    problems: list[Problem] = []
    for d in definitions:
        found = [
            problem
            for i, m in enumerate(d.migrations)
            if (d.name, m.from_version) not in broken
            for problem in _migration_problems(d, child("migrations", i), m, loaded)
        ]
        if found:
            doc = locate(d)
            problems += _in_file_order(
                Problem(d.source, doc.line(path) if doc else 0, path, message)
                for path, message in found
            )
    return problems


def _migration_problems(
    d: Definition, path: str, m: MigrationSpec, loaded: Mapping[tuple[str, int], Definition]
) -> list[tuple[str, str]]:
    """The (path, message) of each problem of migration `m` of `d`."""
    old = loaded.get((d.name, m.from_version))
    if old is None:
        return [(child(path, "from_version"), f"no {d.name} version {m.from_version} loaded")]
    found: list[tuple[str, str]] = []
    for src, dst in m.states.items():
        spath = child(child(path, "states"), src)
        if src not in old.states:
            found.append((spath, f"{src!r} is not a state of version {m.from_version}"))
        if dst not in d.states:
            found.append((spath, f"{dst!r} is not a state of version {d.version}"))
    return found


@dataclass
class _Folder:
    """What checking a folder has found so far, file by file."""

    problems: dict[str, list[Problem]] = field(default_factory=dict)
    loaded: dict[tuple[str, int], tuple[Definition, LocatedYaml]] = field(default_factory=dict)
    broken: set[tuple[str, int]] = field(default_factory=set)

    def add(self, path: Path) -> None:
        file = str(path)
        found = self.problems.setdefault(file, [])
        doc, problems = _read_file(path)
        found += problems
        if doc is None or problems:
            return
        definition, problems = parse_definition(doc)
        found += problems
        if definition is None:
            self.broken |= _declared_key(doc)
        elif definition.key in self.loaded:
            first = self.loaded[definition.key][0].source
            found.append(
                Problem(
                    file,
                    doc.line("version"),
                    "version",
                    f"{definition.name} version {definition.version} is also defined in {first}",
                )
            )
        else:
            self.loaded[definition.key] = (definition, doc)


def _read_file(path: Path) -> tuple[LocatedYaml | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return None, [Problem(str(path), 0, "", f"cannot read: {err}")]
    return read_yaml(text, str(path))


def _declared_key(doc: LocatedYaml) -> set[tuple[str, int]]:
    """The (name, version) a broken file declares, if it declares one."""
    data = doc.data if isinstance(doc.data, dict) else {}
    name, version = data.get("name"), data.get("version")
    return {(name, version)} if isinstance(name, str) and isinstance(version, int) else set()


def check_dir(directory: str | Path) -> tuple[list[Definition], list[Problem]]:
    """Check every `*.yaml` file of a folder, and the migrations between the versions; return
    the good definitions and all problems, file by file and in file order within each."""
    folder = Path(directory)
    if not folder.is_dir():
        return [], [Problem(str(folder), 0, "", "not a folder")]
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        return [], [Problem(str(folder), 0, "", "no definition files (*.yaml)")]
    found = _Folder()
    for path in files:
        found.add(path)
    definitions = [d for d, _ in found.loaded.values()]
    docs = {key: doc for key, (_, doc) in found.loaded.items()}
    for problem in migration_problems(definitions, lambda d: docs[d.key], found.broken):
        found.problems[problem.file].append(problem)
    return definitions, [p for file in found.problems.values() for p in _in_file_order(file)]


def load_dir(directory: str | Path) -> list[Definition]:
    """Load a folder of definitions, or raise `DefinitionError` listing every problem."""
    definitions, problems = check_dir(directory)
    if problems:
        raise DefinitionError(problems)
    return definitions
