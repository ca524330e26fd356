"""Named guards: business checks on a transition's data that a definition can require."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from workflows.calendar import BusinessCalendar

Errors = dict[str, list[str]]


class GuardContext(NamedTuple):
    data: Mapping[str, Any]  # the transition's validated fields
    attrs: Mapping[str, Any]  # the instance's attributes before the transition
    now: datetime
    calendar: BusinessCalendar
    required_booleans: tuple[str, ...] = ()  # the transition's required boolean fields


@dataclass(frozen=True, slots=True)
class Guard:
    """A check; `needs` are the fields the transition must declare for it to make sense."""

    name: str
    needs: tuple[str, ...]
    check: Callable[[GuardContext], Errors]
    description: str


def _due_in_future(ctx: GuardContext) -> Errors:
    due = ctx.data.get("due_at")
    if isinstance(due, datetime):
        if due <= ctx.now:
            return {"due_at": ["must be in the future"]}
    elif isinstance(due, date) and (
        due < ctx.now.astimezone(ctx.calendar.tz).date()
        # a bare date means the end of that working day: today is too late after closing time
        or ctx.calendar.end_of_working_day(due) <= ctx.now
    ):
        return {"due_at": ["must not be in the past (a date means the end of that working day)"]}
    return {}


def _low_rating_needs_comment(ctx: GuardContext) -> Errors:
    rating = ctx.data.get("satisfaction")
    comment = ctx.data.get("comment")
    if isinstance(rating, int) and rating <= 2 and not (comment and str(comment).strip()):
        return {"comment": ["required when satisfaction is 2 or lower"]}
    return {}


def _checklist_ticked(ctx: GuardContext) -> Errors:
    # A checklist's required items are booleans that must be ticked, not merely answered.
    return {
        name: ["must be ticked"] for name in ctx.required_booleans if ctx.data.get(name) is not True
    }


GUARDS: Mapping[str, Guard] = {
    g.name: g
    for g in (
        Guard(
            "checklist_ticked",
            (),
            _checklist_ticked,
            "every required item of the checklist is ticked",
        ),
        Guard("due_in_future", ("due_at",), _due_in_future, "the due date is not in the past"),
        Guard(
            "low_rating_needs_comment",
            ("satisfaction", "comment"),
            _low_rating_needs_comment,
            "a low satisfaction rating comes with a comment",
        ),
    )
}
