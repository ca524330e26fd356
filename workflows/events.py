"""What a transition or a deadline causes: plain values the service persists and delivers.

Named tuples: immutable, and cheap to make on the hot path of every fire.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from workflows.spec import Label


class Target(NamedTuple):
    """A resolved recipient: a user, a department's manager or members, or a role's members."""

    kind: str  # user | department_manager | department | role
    value: str


class Deadline(NamedTuple):
    """A computed deadline: due while the instance stays in `state`."""

    kind: str
    state: str
    due_at: datetime
    remind_at: datetime | None = None


class StateChanged(NamedTuple):
    trigger: str | None
    source: str | None
    dest: str


class DeadlineStarted(NamedTuple):
    deadline: Deadline


class DeadlineCleared(NamedTuple):
    kind: str
    state: str


class MarkedOverdue(NamedTuple):
    kind: str
    state: str


class NotificationRequested(NamedTuple):
    kind: str  # reminder | overdue | escalated | transition
    deadline_kind: str  # or, for a transition, its trigger (`create` for a creation)
    targets: tuple[Target, ...]
    label: Label  # the deadline's (or transition's) label, for the message
    actor: str | None = None  # who acted: not told of their own action


class RectificationRequested(NamedTuple):
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
