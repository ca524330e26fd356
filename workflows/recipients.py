"""Who a definition's recipients are for one instance: users, roles and departments."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from workflows.access import Actor
from workflows.events import Event, NotificationRequested, Target
from workflows.spec import Label, Recipient


def department(ref: str, attrs: Mapping[str, Any], attribute_names: Set[str]) -> str | None:
    """The department code `ref` names: `dept:CODE`, an attribute holding one, or a code."""
    if ref.startswith("dept:"):
        return ref[5:]
    if ref in attribute_names:
        value = attrs.get(ref)
        return str(value) if value else None
    return ref


def targets(
    recipients: tuple[Recipient, ...], attrs: Mapping[str, Any], attribute_names: Set[str]
) -> tuple[Target, ...]:
    """The recipients resolved against the instance's attributes, each once, in order."""
    out: list[Target] = []
    for r in recipients:
        if r.kind == "visitors":
            out.extend(Target("user", u) for u in attrs.get("visitors") or ())
        elif r.kind == "raiser" and attrs.get("created_by"):
            out.append(Target("user", str(attrs["created_by"])))
        elif r.kind == "responsible_person" and attrs.get("responsible_person"):
            out.append(Target("user", str(attrs["responsible_person"])))
        elif r.kind == "role" and r.ref:
            out.append(Target("role", r.ref))
        elif r.kind == "field" and r.ref:
            value = attrs.get(r.ref)
            names = value if isinstance(value, list | tuple) else [value] if value else []
            out.extend(Target("user", str(u)) for u in names)
        elif r.kind in ("department_manager", "department") and r.ref:
            code = department(r.ref, attrs, attribute_names)
            if code:
                out.append(Target(r.kind, code))
    return tuple(dict.fromkeys(out))


def told(
    recipients: tuple[Recipient, ...],
    what: str,
    attrs: Mapping[str, Any],
    actor: Actor,
    label: Label,
    attribute_names: Set[str],
) -> list[Event]:
    """The notification a creation or transition declares; the actor is not told of
    their own action (the service drops them once the targets are resolved)."""
    if not recipients:
        return []
    found = targets(recipients, attrs, attribute_names)
    return [NotificationRequested("transition", what, found, label, actor.username)]
