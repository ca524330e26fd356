"""What a transition or a deadline causes: plain values the service persists and delivers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.spec import Label


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved recipient: a user, a department's manager or members, or a role's members."""

    kind: str  # user | department_manager | department | role
    value: str


@dataclass(frozen=True, slots=True)
class Deadline:
    """A computed deadline: due while the instance stays in `state`."""

    kind: str
    state: str
    due_at: datetime
    remind_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StateChanged:
    trigger: str | None
    source: str | None
    dest: str


@dataclass(frozen=True, slots=True)
class DeadlineStarted:
    deadline: Deadline


@dataclass(frozen=True, slots=True)
class DeadlineCleared:
    kind: str
    state: str


@dataclass(frozen=True, slots=True)
class MarkedOverdue:
    kind: str
    state: str


@dataclass(frozen=True, slots=True)
class NotificationRequested:
    kind: str  # reminder | overdue | escalated
    deadline_kind: str
    targets: tuple[Target, ...]
    label: Label  # the deadline's label, for the message


@dataclass(frozen=True, slots=True)
class RectificationRequested:
    department: str | None  # None when the attribute it names is not set
    findings: Label
    deadline_kind: str


Event = (
    StateChanged
    | DeadlineStarted
    | DeadlineCleared
    | MarkedOverdue
    | NotificationRequested
    | RectificationRequested
)
