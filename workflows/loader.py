"""Load definition files, check everything at once, and build frozen `Definition`s."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
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
}
RECIPIENT_KINDS = {"visitors", "raiser", "responsible_person"}
RECIPIENT_REF_KINDS = {"department_manager", "department", "role"}
TIME_TYPES = {FieldType.DATE, FieldType.DATETIME}
DEFAULT_ATTRS = {"created_by", "created_at"}


class _Checker:
    """Walks one parsed file, collecting problems instead of stopping at the first."""

    def __init__(self, doc: LocatedYaml) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def err(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.doc.file, self.doc.line(path), path, message))

    # -- small typed readers ---------------------------------------------------------
    def mapping(self, value: Any, path: str, keys: set[str] | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.err(path, "must be a mapping")
            return {}
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
        zh = self.text(m.get("zh"), child(path, "zh")) if m else None
        en = self.text(m.get("en"), child(path, "en")) if m else None
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
        if not f:
            continue
        name = c.name(f.get("name"), child(fpath, "name"))
        if name in seen:
            c.err(child(fpath, "name"), f"field {name!r} declared twice")
        if name:
            seen.add(name)
        ftype: FieldType | None = None
        try:
            ftype = FieldType(str(f.get("type")))
        except ValueError:
            c.err(
                child(fpath, "type"),
                f"unknown field type {f.get('type')!r}"
                f" (known: {_list(t.value for t in FieldType)})",
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
        if name and ftype and label:
            out.append(
                FieldSpec(
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
                )
            )
    return tuple(out)


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
    if not d:
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
    e = c.mapping(d.get("on_expiry", {}), child(path, "on_expiry"), EXPIRY_KEYS)
    epath = child(path, "on_expiry")
    rect: RectificationPolicy | None = None
    if "rectification" in e:
        r = c.mapping(e["rectification"], child(epath, "rectification"), {"department", "findings"})
        dept = c.text(r.get("department"), child(epath, "rectification.department"))
        findings = c.label(r.get("findings"), child(epath, "rectification.findings"))
        rect = RectificationPolicy(dept, findings) if dept and findings else None
    expiry = ExpirySpec(
        mark_overdue=c.boolean(e.get("mark_overdue"), child(epath, "mark_overdue"), True),
        notify=_recipients(c, e.get("notify"), child(epath, "notify")),
        rectification=rect,
        escalate_to=_recipients(c, e.get("escalate_to"), child(epath, "escalate_to")),
    )
    if not (kind and label):
        return None
    return DeadlineSpec(kind, label, after, at_field, offset, remind, expiry)


def _states(c: _Checker, value: Any) -> dict[str, StateSpec]:
    states: dict[str, StateSpec] = {}
    raw_states = c.mapping(value, "states")
    if isinstance(value, dict) and not value:
        c.err("states", "at least one state is required")
    for name, raw in raw_states.items():
        spath = child("states", str(name))
        if not isinstance(name, str) or not NAME.match(name):
            c.err(spath, "state names must be lower_snake_case")
            continue
        s = c.mapping(raw, spath, STATE_KEYS)
        label = c.label(s.get("label"), child(spath, "label"))
        final = c.boolean(s.get("final"), child(spath, "final"), False)
        deadline = (
            _deadline(c, s["deadline"], child(spath, "deadline")) if "deadline" in s else None
        )
        if deadline and final:
            c.err(child(spath, "deadline"), "a final state cannot have a deadline")
        states[name] = StateSpec(name, label or Label(name, name), final, deadline)
    return states


def _transitions(c: _Checker, value: Any, states: dict[str, StateSpec]) -> list[TransitionSpec]:
    if not isinstance(value, list) or not value:
        c.err("transitions", "must be a non-empty list")
        return []
    out: list[TransitionSpec] = []
    seen: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(value):
        tpath = child("transitions", i)
        t = c.mapping(raw, tpath, TRANSITION_KEYS)
        if not t:
            continue
        trigger = c.name(t.get("trigger"), child(tpath, "trigger"))
        sources = c.names(t.get("source"), child(tpath, "source"), states, "state")
        if not t.get("source"):
            c.err(child(tpath, "source"), "is required")
        dest_list = c.names(t.get("dest"), child(tpath, "dest"), states, "state")
        if not isinstance(t.get("dest"), str):
            c.err(child(tpath, "dest"), "must be one state")
        label = c.label(t.get("label"), child(tpath, "label"))
        roles = c.names(t.get("roles"), child(tpath, "roles"), ROLES, "role")
        if not t.get("roles"):
            c.err(child(tpath, "roles"), "at least one role is required")
        participation = c.names(
            t.get("participation"),
            child(tpath, "participation"),
            PARTICIPATION,
            "participation rule",
        )
        exempt = c.names(t.get("exempt_roles"), child(tpath, "exempt_roles"), ROLES, "role")
        guards = c.names(t.get("guards"), child(tpath, "guards"), GUARDS, "guard")
        fields = _fields(c, t.get("fields"), child(tpath, "fields"))
        field_names = {f.name for f in fields}
        for guard in guards:
            for need in GUARDS[guard].needs:
                if need not in field_names:
                    c.err(child(tpath, "guards"), f"guard {guard!r} needs a field {need!r}")
        for source in sources:
            if states.get(source) and states[source].final:
                c.err(child(tpath, "source"), f"{source!r} is final: no transition may leave it")
            if trigger and (trigger, source) in seen:
                c.err(
                    child(tpath, "trigger"),
                    f"trigger {trigger!r} from {source!r} is already defined by"
                    f" transitions[{seen[(trigger, source)]}]",
                )
            elif trigger:
                seen[(trigger, source)] = i
        if trigger and sources and dest_list and label and roles:
            out.append(
                TransitionSpec(
                    trigger=trigger,
                    sources=sources,
                    dest=dest_list[0],
                    label=label,
                    roles=frozenset(roles),
                    participation=participation,
                    exempt_roles=frozenset(exempt),
                    guards=guards,
                    fields=fields,
                )
            )
    return out


def _graph_checks(
    c: _Checker, initial: str | None, states: dict[str, StateSpec], trans: list[TransitionSpec]
) -> None:
    if initial is None or initial not in states:
        return
    exits: dict[str, set[str]] = {name: set() for name in states}
    for t in trans:
        for s in t.sources:
            exits.setdefault(s, set()).add(t.dest)
    reached = {initial}
    queue = deque([initial])
    while queue:
        for nxt in exits.get(queue.popleft(), ()):
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    for name, state in states.items():
        if name not in reached:
            c.err(child("states", name), f"state {name!r} cannot be reached from {initial!r}")
        if not state.final and not exits.get(name):
            c.err(child("states", name), f"state {name!r} is not final but has no way out")
    if not any(s.final for s in states.values()):
        c.err("states", "at least one state must be final")


def _attribute_checks(
    c: _Checker, create: CreateSpec, states: dict[str, StateSpec], trans: list[TransitionSpec]
) -> None:
    """Deadlines read attributes: each must be set by creation or a transition, as a time."""
    types: dict[str, FieldType] = {f.name: f.type for f in create.fields}
    for t in trans:
        for f in t.fields:
            if f.sets:
                types.setdefault(f.sets, f.type)
    for name, state in states.items():
        d = state.deadline
        if d is None or d.at_field is None:
            continue
        path = child(child("states", name), "deadline.at_field")
        if d.at_field not in types:
            c.err(path, f"no creation field or transition sets {d.at_field!r}")
        elif types[d.at_field] not in TIME_TYPES:
            c.err(path, f"{d.at_field!r} is a {types[d.at_field].value}, not a date or datetime")
        rect = d.on_expiry.rectification
        if rect and not rect.department.startswith("dept:") and rect.department not in types:
            c.err(
                child(child("states", name), "deadline.on_expiry.rectification.department"),
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
        frm = m.get("from_version")
        if not isinstance(frm, int) or isinstance(frm, bool) or frm < 1:
            c.err(child(mpath, "from_version"), "must be a version number")
            continue
        mapping = c.mapping(m.get("states", {}), child(mpath, "states"))
        out.append(MigrationSpec(frm, {str(k): str(v) for k, v in mapping.items()}))
    return tuple(out)


def parse_definition(doc: LocatedYaml) -> tuple[Definition | None, list[Problem]]:
    """Check one parsed file; return its definition only if it has no problem."""
    c = _Checker(doc)
    top = c.mapping(doc.data, "", TOP_KEYS)
    if not top:
        return None, c.problems
    name = c.name(top.get("name"), "name")
    version = top.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        c.err("version", "must be an integer of at least 1")
    label = c.label(top.get("label"), "label")
    description = c.label(top.get("description"), "description", required=False)
    states = _states(c, top.get("states"))
    initial = c.names(top.get("initial"), "initial", states, "state")
    if top.get("initial") is None:
        c.err("initial", "is required")
    trans = _transitions(c, top.get("transitions"), states)
    cr = c.mapping(top.get("create", {}), "create", {"roles", "fields"})
    create_roles = c.names(cr.get("roles"), "create.roles", ROLES, "role")
    create = CreateSpec(frozenset(create_roles), _fields(c, cr.get("fields"), "create.fields"))
    _graph_checks(c, initial[0] if initial else None, states, trans)
    _attribute_checks(c, create, states, trans)
    migrations = _migrations(c, top.get("migrations"))
    if c.problems or not (name and label and initial) or not isinstance(version, int):
        return None, c.problems
    return (
        Definition(
            name=name,
            version=version,
            label=label,
            initial=initial[0],
            states=states,
            transitions=tuple(trans),
            create=create,
            source=doc.file,
            description=description,
            migrations=migrations,
        ),
        [],
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


def check_dir(directory: str | Path) -> tuple[list[Definition], list[Problem]]:
    """Check every `*.yaml` file of a folder; return the good definitions and all problems."""
    folder = Path(directory)
    definitions: list[Definition] = []
    problems: list[Problem] = []
    if not folder.is_dir():
        return [], [Problem(str(folder), 0, "", "not a folder")]
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        problems.append(Problem(str(folder), 0, "", "no definition files (*.yaml)"))
    seen: dict[tuple[str, int], str] = {}
    for path in files:
        doc, found = read_yaml(path.read_text(encoding="utf-8"), str(path))
        problems.extend(found)
        if doc is None or found:
            continue
        definition, found = parse_definition(doc)
        problems.extend(found)
        if definition is None:
            continue
        if definition.key in seen:
            problems.append(
                Problem(
                    str(path),
                    doc.line("version"),
                    "version",
                    f"{definition.name} version {definition.version} is also defined"
                    f" in {seen[definition.key]}",
                )
            )
            continue
        seen[definition.key] = str(path)
        definitions.append(definition)
    return definitions, problems


def load_dir(directory: str | Path) -> list[Definition]:
    """Load a folder of definitions, or raise `DefinitionError` listing every problem."""
    definitions, problems = check_dir(directory)
    if problems:
        raise DefinitionError(problems)
    return definitions
