"""The definition checker: typed readers that collect problems instead of stopping."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from workflows.durations import Duration
from workflows.errors import Problem
from workflows.spec import (
    FieldType,
    Label,
)
from workflows.yamlsource import LocatedYaml, child

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
    "groups",
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
    "notify",
    "internal",
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
    "not_before",
    "not_after",
    "backdate_roles",
    "roles",
    "departments",
    "stamps",
}
RECIPIENT_KINDS = {"visitors", "raiser", "responsible_person"}
RECIPIENT_REF_KINDS = {"department_manager", "department", "role", "field"}
TIME_TYPES = {FieldType.DATE, FieldType.DATETIME}


class Checker:
    """Walks one parsed file, collecting problems instead of stopping at the first."""

    def __init__(self, doc: LocatedYaml) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def err(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.doc.file, self.doc.line(path), path, message))

    # -- small typed readers ---------------------------------------------------------
    def items(self, value: Any, path: str, what: str) -> list[tuple[str, Any]]:
        """The entries of the list `value` with their paths; none for an absent list, and an
        error (no entries) when it is not a list of `what`."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.err(path, f"must be a list of {what}")
            return []
        return [(child(path, i), raw) for i, raw in enumerate(value)]

    def mapping(self, value: Any, path: str, keys: set[str] | None = None) -> dict[str, Any] | None:
        """`value` if it is a mapping, else None. An empty mapping is still a mapping: callers
        must go on and report each key it lacks."""
        if not isinstance(value, dict):
            self.err(path, "must be a mapping")
            return None
        if keys is not None:
            for key in value:
                if key not in keys:
                    self.err(
                        child(path, str(key)), f"unknown key (expected one of {names_list(keys)})"
                    )
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
                self.err(sub, f"unknown {what} {item!r} (known: {names_list(known_set)})")
            else:
                out.append(item)
        return tuple(out)


def names_list(items: Iterable[str]) -> str:
    return ", ".join(sorted(items))
