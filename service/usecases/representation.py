"""How an instance looks in the API: the contract's representation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from service.core import texts
from service.store.kinds import Kind
from workflows import Actor, Workflow


def iso(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


class InstanceView:
    """An instance row as the engine sees it: id, state, version and attributes."""

    __slots__ = ("id", "state", "version", "attrs")

    def __init__(self, kind: Kind, row: Mapping[str, Any]) -> None:
        self.id = row["id"]
        self.state = row["state"]
        self.version = row["version"]
        self.attrs = {name: row.get(name) for name in kind.fields}
        self.attrs["created_by"] = row.get("created_by")


def represent(
    kind: Kind,
    row: Mapping[str, Any],
    workflow: Workflow,
    actor: Actor,
    deadlines: Sequence[Mapping[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    current = [d for d in deadlines if d["state"] == row["state"]]
    overdue = bool(row.get("overdue")) or any(d["due_at"] <= now for d in current)
    out: dict[str, Any] = {
        "id": row["id"],
        "workflow": kind.workflow,
        "definition_version": row["definition_version"],
        "state": row["state"],
        "version": row["version"],
    }
    for name in kind.fields:
        out[name] = iso(row.get(name))
    for name, column in kind.texts:  # a generated text, in the reader's language
        if row.get(column):
            out[name] = texts.render(row[column])
    out["created_by"] = row.get("created_by")
    out["data"] = row.get("data") or {}
    out["allowed_triggers"] = workflow.allowed_triggers(InstanceView(kind, row), actor)
    out["deadlines"] = [
        {"kind": d["kind"], "due_at": iso(d["due_at"]), "state": d["state"]} for d in current
    ]
    out["overdue"] = overdue
    out["created_at"] = iso(row.get("created_at"))
    out["updated_at"] = iso(row.get("updated_at"))
    return out
