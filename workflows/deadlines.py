"""The deadline a state runs: when it falls due, its reminder, and what its expiry causes."""

from __future__ import annotations

from collections.abc import Mapping, Set
from datetime import date, datetime
from typing import Any

from workflows.calendar import BusinessCalendar
from workflows.events import (
    Deadline,
    Event,
    MarkedOverdue,
    NotificationRequested,
    RectificationRequested,
)
from workflows.recipients import department, targets
from workflows.spec import DeadlineSpec, Definition


class DeadlineRules:
    """One definition's deadlines, counted on one business calendar."""

    def __init__(
        self, definition: Definition, calendar: BusinessCalendar, attribute_names: Set[str]
    ) -> None:
        self.definition = definition
        self.calendar = calendar
        self.attribute_names = attribute_names
        self._remind_back = {
            name: s.deadline.remind_before.negated()
            for name, s in definition.states.items()
            if s.deadline is not None and s.deadline.remind_before is not None
        }

    def deadline_for(
        self, state: str, attrs: Mapping[str, Any], entered_at: datetime
    ) -> Deadline | None:
        """The deadline that starts when an instance with `attrs` enters `state`."""
        spec = self.definition.states[state].deadline
        if spec is None:
            return None
        due = self._due(spec, attrs, entered_at)
        if due is None:
            return None
        remind_at = None
        if spec.remind_before is not None:
            remind_at = self.calendar.add(due, self._remind_back[state])
            if remind_at <= entered_at:
                remind_at = None
        return Deadline(spec.kind, state, due, remind_at)

    def expire(self, state: str, attrs: Mapping[str, Any], kind: str) -> tuple[Event, ...]:
        """What the expiry of deadline `kind` causes; nothing if the instance has moved on."""
        spec = self.running(state, kind)
        if spec is None:
            return ()
        expiry = spec.on_expiry
        names = self.attribute_names
        events: list[Event] = []
        if expiry.mark_overdue:
            events.append(MarkedOverdue(kind, state))
        if expiry.notify:
            told = targets(expiry.notify, attrs, names)
            events.append(NotificationRequested("overdue", kind, told, spec.label))
        if expiry.rectification is not None:
            events.append(
                RectificationRequested(
                    department(expiry.rectification.department, attrs, names),
                    expiry.rectification.findings,
                    kind,
                )
            )
        if expiry.escalate_to:
            told = targets(expiry.escalate_to, attrs, names)
            events.append(NotificationRequested("escalated", kind, told, spec.label))
        return tuple(events)

    def remind(self, state: str, attrs: Mapping[str, Any], kind: str) -> tuple[Event, ...]:
        """The reminder before deadline `kind`; nothing if the instance has moved on."""
        spec = self.running(state, kind)
        if spec is None or spec.remind_before is None:
            return ()
        told = targets(spec.on_expiry.notify, attrs, self.attribute_names)
        return (NotificationRequested("reminder", kind, told, spec.label),)

    def running(self, state: str, kind: str) -> DeadlineSpec | None:
        """The deadline of `kind` that `state` runs, if it runs that one."""
        state_spec = self.definition.states.get(state)
        if state_spec is None or state_spec.deadline is None:
            return None
        return state_spec.deadline if state_spec.deadline.kind == kind else None

    def _due(
        self, spec: DeadlineSpec, attrs: Mapping[str, Any], start: datetime
    ) -> datetime | None:
        if spec.after is not None:
            return self.calendar.add(start, spec.after)
        value = attrs.get(spec.at_field or "")
        if isinstance(value, str):
            value = _parse_time(value)
        if isinstance(value, datetime):
            due = value
        elif isinstance(value, date):
            due = self.calendar.end_of_working_day(value)
        else:
            return None
        return self.calendar.add(due, spec.offset) if spec.offset is not None else due


def _parse_time(value: str) -> datetime | date | None:
    try:
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    except ValueError:
        return None
