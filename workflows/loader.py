"""Load definition files, check everything at once, and build frozen `Definition`s."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows.checking import (
    TOP_KEYS,
    Checker,
)
from workflows.errors import DefinitionError, Problem
from workflows.load_graph import (
    attribute_checks,
    attribute_types,
    build_graph,
    graph_checks,
    parse_transitions,
    recipient_attributes,
)
from workflows.load_parts import (
    parse_fields,
    parse_recipients,
    parse_states,
)
from workflows.spec import (
    ROLES,
    CreateSpec,
    Definition,
    MigrationSpec,
    Recipient,
    StateSpec,
)
from workflows.yamlsource import LocatedYaml, child, read_yaml


def _migrations(c: Checker, value: Any) -> tuple[MigrationSpec, ...]:
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


def _groups(c: Checker, value: Any, states: dict[str, StateSpec]) -> dict[str, tuple[str, ...]]:
    """Named sets of states (`took_place: [visited, recorded, reported]`)."""
    if value is None:
        return {}
    groups = c.mapping(value, "groups")
    if groups is None:
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for key, members in groups.items():
        path = child("groups", str(key))
        name = c.name(key, path)
        if not isinstance(members, list) or not members:
            c.err(path, "must be a non-empty list of states")
            continue
        found = c.names(members, path, states, "state")
        for i, state in enumerate(members):
            if state in members[:i]:
                c.err(child(path, i), f"state {state!r} listed twice")
        if name and len(found) == len(members):
            out[name] = found
    return out


def _version(c: Checker, value: Any) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        c.err("version", "must be an integer of at least 1")
        return None
    return value


def _initial(c: Checker, value: Any, states: dict[str, StateSpec]) -> str | None:
    """The one state every instance starts in."""
    if value is None:
        c.err("initial", "is required")
        return None
    if not isinstance(value, str):
        c.err("initial", "must be one state")
        return None
    found = c.names(value, "initial", states, "state")
    return found[0] if found else None


def _create(c: Checker, value: Any) -> CreateSpec:
    cr = c.mapping(value, "create", {"roles", "fields", "notify"}) or {}
    roles = c.names(cr.get("roles"), "create.roles", ROLES, "role")
    fields = parse_fields(c, cr.get("fields"), "create.fields")
    notify = parse_recipients(c, cr.get("notify"), "create.notify")
    if cr and "notify" not in cr:
        c.err("create.notify", "is required: who is told (an empty list [] if nobody)")
    return CreateSpec(frozenset(roles), fields, notify)


def _in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    # The checks run section by section; readers fix a file top to bottom. `sorted` is
    # stable, so problems on one line keep the order they were found in.
    return sorted(problems, key=lambda p: p.line)


def parse_definition(doc: LocatedYaml) -> tuple[Definition | None, list[Problem]]:
    """Check one parsed file; return its definition only if it has no problem."""
    c = Checker(doc)
    definition = _definition(c, doc)
    if c.problems or definition is None:
        return None, _in_file_order(c.problems)
    return definition, []


def _definition(c: Checker, doc: LocatedYaml) -> Definition | None:
    top = c.mapping(doc.data, "", TOP_KEYS)
    if top is None:
        return None
    name = c.name(top.get("name"), "name")
    version = _version(c, top.get("version"))
    label = c.label(top.get("label"), "label")
    description = c.label(top.get("description"), "description", required=False)
    states = parse_states(c, top.get("states"))
    initial = _initial(c, top.get("initial"), states)
    notified: list[tuple[str, tuple[Recipient, ...]]] = []
    transitions, transition_fields = parse_transitions(c, top.get("transitions"), states, notified)
    create = _create(c, top.get("create", {}))
    graph_checks(c, initial, states, build_graph(top.get("transitions"), states))
    types = attribute_types(create, transition_fields)
    attribute_checks(c, types, states)
    recipient_attributes(c, types, [("create.notify", create.notify), *notified])
    migrations = _migrations(c, top.get("migrations"))
    groups = _groups(c, top.get("groups"), states)
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
        groups=groups,
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
