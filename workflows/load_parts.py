"""Reading a definition's parts: form fields, and states with their deadlines."""

from __future__ import annotations

from typing import Any

from workflows.checking import (
    DEADLINE_KEYS,
    EXPIRY_KEYS,
    FIELD_KEYS,
    NAME,
    RECIPIENT_KINDS,
    RECIPIENT_REF_KINDS,
    STATE_KEYS,
    TIME_TYPES,
    Checker,
    names_list,
)
from workflows.spec import (
    ROLES,
    Choice,
    DeadlineSpec,
    ExpirySpec,
    FieldSpec,
    FieldType,
    Label,
    Recipient,
    RectificationPolicy,
    StateSpec,
    TimeBound,
)
from workflows.yamlsource import child


def parse_fields(c: Checker, value: Any, path: str) -> tuple[FieldSpec, ...]:
    out: list[FieldSpec] = []
    seen: set[str] = set()
    for fpath, raw in c.items(value, path, "fields"):
        f = c.mapping(raw, fpath, FIELD_KEYS)
        if f is None:
            continue
        name = c.name(f.get("name"), child(fpath, "name"))
        if name in seen:
            c.err(child(fpath, "name"), f"field {name!r} declared twice")
        if name:
            seen.add(name)
        spec = parse_field(c, f, fpath, name)
        if spec:
            out.append(spec)
    _check_stamps(c, out, path)
    return tuple(out)


def _check_stamps(c: Checker, specs: list[FieldSpec], path: str) -> None:
    """A geo field's `stamps` names a datetime field of the same form."""
    types = {f.name: f.type for f in specs}
    for i, f in enumerate(specs):
        if f.stamps is not None and types.get(f.stamps) is not FieldType.DATETIME:
            c.err(
                child(child(path, i), "stamps"),
                f"must name a datetime field of the same form, not {f.stamps!r}",
            )


def parse_field(c: Checker, f: dict[str, Any], fpath: str, name: str | None) -> FieldSpec | None:
    ftype: FieldType | None = None
    try:
        ftype = FieldType(str(f["type"]))
    except KeyError:
        c.err(child(fpath, "type"), "is required")
    except ValueError:
        c.err(
            child(fpath, "type"),
            f"unknown field type {f.get('type')!r}"
            f" (known: {names_list(t.value for t in FieldType)})",
        )
    label = c.label(f.get("label"), child(fpath, "label"))
    help_ = c.label(f.get("help"), child(fpath, "help"), required=False)
    required = c.boolean(f.get("required"), child(fpath, "required"), False)
    choices = parse_choices(c, f.get("choices"), child(fpath, "choices"), ftype)
    max_length = parse_limit(c, f, fpath, "max_length", ftype, {FieldType.STRING, FieldType.TEXT})
    lo = parse_limit(c, f, fpath, "min", ftype, {FieldType.INTEGER, FieldType.NUMBER})
    hi = parse_limit(c, f, fpath, "max", ftype, {FieldType.INTEGER, FieldType.NUMBER})
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
    not_before, not_after, backdate_roles = parse_time_bounds(c, f, fpath, ftype)
    roles, departments = parse_eligible(c, f, fpath, ftype)
    stamps: str | None = None
    if "stamps" in f:
        if ftype is not FieldType.GEO:
            c.err(child(fpath, "stamps"), "only geo fields take stamps")
        else:
            stamps = c.name(f["stamps"], child(fpath, "stamps"))
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
        not_before=not_before,
        not_after=not_after,
        backdate_roles=backdate_roles,
        roles=roles,
        departments=departments,
        stamps=stamps,
    )


def parse_eligible(
    c: Checker, f: dict[str, Any], fpath: str, ftype: FieldType | None
) -> tuple[frozenset[str], tuple[str, ...]]:
    """`roles` and `departments` of a user or users field: whom it may name."""
    roles: tuple[str, ...] = ()
    departments: list[str] = []
    for key in ("roles", "departments"):
        if key in f and ftype not in (FieldType.USER, FieldType.USERS):
            c.err(child(fpath, key), f"only user and users fields take {key}")
            return frozenset(), ()
    if "roles" in f:
        if not isinstance(f["roles"], list) or not f["roles"]:
            c.err(child(fpath, "roles"), "must be a non-empty list of roles")
        else:
            roles = c.names(f["roles"], child(fpath, "roles"), ROLES - {"integration"}, "role")
    if "departments" in f:
        value = f["departments"]
        if not isinstance(value, list) or not value:
            c.err(child(fpath, "departments"), "must be a non-empty list of department codes")
        else:
            for i, code in enumerate(value):
                name = c.name(code, child(child(fpath, "departments"), i))
                if name:
                    departments.append(name)
    return frozenset(roles), tuple(departments)


def parse_time_bounds(
    c: Checker, f: dict[str, Any], fpath: str, ftype: FieldType | None
) -> tuple[TimeBound | None, TimeBound | None, frozenset[str]]:
    """`not_before` / `not_after` (date and datetime fields only) and `backdate_roles`."""
    bounds: dict[str, TimeBound | None] = {}
    for key in ("not_before", "not_after"):
        bounds[key] = None
        if key not in f:
            continue
        if ftype is not None and ftype not in TIME_TYPES:
            c.err(
                child(fpath, key),
                f"only {names_list(t.value for t in TIME_TYPES)} fields take {key}",
            )
            continue
        try:
            bounds[key] = TimeBound(f[key])
        except ValueError:
            c.err(
                child(fpath, key),
                f"unknown time bound {f[key]!r} (known: {names_list(b.value for b in TimeBound)})",
            )
    if bounds["not_before"] is not None and bounds["not_before"] == bounds["not_after"]:
        c.err(
            child(fpath, "not_after"),
            "a field cannot be both not_before and not_after the same bound",
        )
    roles: tuple[str, ...] = ()
    if "backdate_roles" in f:
        rpath = child(fpath, "backdate_roles")
        if "not_before" not in f:
            c.err(rpath, "backdate_roles needs not_before: only a lower bound can be back-dated")
        elif not isinstance(f["backdate_roles"], list) or not f["backdate_roles"]:
            c.err(rpath, "must be a non-empty list of roles")
        else:
            roles = c.names(f["backdate_roles"], rpath, ROLES, "role")
    return bounds["not_before"], bounds["not_after"], frozenset(roles)


def parse_choices(c: Checker, value: Any, path: str, ftype: FieldType | None) -> tuple[Choice, ...]:
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


def parse_limit(
    c: Checker,
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
        c.err(child(path, key), f"only {names_list(t.value for t in allowed)} fields take {key}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        c.err(child(path, key), "must be a number")
        return None
    if key == "max_length" and (not isinstance(value, int) or value < 1):
        c.err(child(path, key), "must be a positive integer")
        return None
    return float(value)


def parse_recipients(c: Checker, value: Any, path: str) -> tuple[Recipient, ...]:
    out: list[Recipient] = []
    for rpath, raw in c.items(value, path, "recipients"):
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
                f"unknown recipient {raw!r} (known: {names_list(RECIPIENT_KINDS)},"
                f" or {names_list(k + ':REF' for k in RECIPIENT_REF_KINDS)})",
            )
    return tuple(out)


def parse_deadline(c: Checker, value: Any, path: str) -> DeadlineSpec | None:
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
    expiry = parse_expiry(c, d.get("on_expiry", {}), child(path, "on_expiry"))
    if not (kind and label):
        return None
    return DeadlineSpec(kind, label, after, at_field, offset, remind, expiry)


def parse_expiry(c: Checker, value: Any, path: str) -> ExpirySpec:
    e = c.mapping(value, path, EXPIRY_KEYS) or {}
    rpath = child(path, "rectification")
    return ExpirySpec(
        mark_overdue=c.boolean(e.get("mark_overdue"), child(path, "mark_overdue"), True),
        notify=parse_recipients(c, e.get("notify"), child(path, "notify")),
        rectification=parse_rectification(c, e["rectification"], rpath)
        if "rectification" in e
        else None,
        escalate_to=parse_recipients(c, e.get("escalate_to"), child(path, "escalate_to")),
    )


def parse_rectification(c: Checker, value: Any, path: str) -> RectificationPolicy | None:
    r = c.mapping(value, path, {"department", "findings"})
    if r is None:
        return None
    department = c.text(r.get("department"), child(path, "department"))
    findings = c.label(r.get("findings"), child(path, "findings"))
    return RectificationPolicy(department, findings) if department and findings else None


def parse_states(c: Checker, value: Any) -> dict[str, StateSpec]:
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
            parse_deadline(c, s["deadline"], child(spath, "deadline")) if "deadline" in s else None
        )
        if deadline and final:
            c.err(child(spath, "deadline"), "a final state cannot have a deadline")
        states[name] = StateSpec(name, label or Label(name, name), final, deadline)
    return states
