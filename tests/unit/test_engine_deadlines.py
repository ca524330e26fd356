"""Tests for the engine's deadlines: which start and clear on each step, when they fall due on
the business calendar, reminders, and what an expiry or a reminder causes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from workflows import Registry, Workflow
from workflows.events import (
    Deadline,
    DeadlineCleared,
    DeadlineStarted,
    Event,
    MarkedOverdue,
    NotificationRequested,
    RectificationRequested,
    StateChanged,
    Target,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def summary(events: tuple[Event, ...]) -> list[tuple[str, str | None, str | None]]:
    out: list[tuple[str, str | None, str | None]] = []
    for e in events:
        if isinstance(e, StateChanged):
            out.append(("changed", e.source, e.dest))
        elif isinstance(e, DeadlineCleared):
            out.append(("cleared", e.kind, e.state))
        elif isinstance(e, DeadlineStarted):
            out.append(("started", e.deadline.kind, e.deadline.state))
        elif isinstance(e, NotificationRequested) and e.kind == "transition":
            continue  # who a transition tells: tests/unit/test_engine_notify.py
        else:
            out.append((type(e).__name__, None, None))
    return out


def started(events: tuple[Event, ...]) -> Deadline:
    (deadline,) = [e.deadline for e in events if isinstance(e, DeadlineStarted)]
    return deadline


# -- which deadlines start and clear ---------------------------------------------------------


@pytest.mark.parametrize(
    ("workflow", "kind", "initial"),
    [
        ("visit", "preparation", "planned"),
        ("issue", "assignment", "raised"),
        ("rectification", "acknowledgement", "issued"),
    ],
)
def test_create_starts_the_initial_states_deadline(
    registry: Registry, flow: Any, now: datetime, workflow: str, kind: str, initial: str
) -> None:
    wf = registry.get(workflow)
    outcome = wf.create(flow.actor_for(workflow, "create"), flow.data(workflow, "create"), now)
    assert summary(outcome.events) == [("changed", None, initial), ("started", kind, initial)]


@pytest.mark.parametrize(
    ("workflow", "state", "trigger", "expected"),
    [
        (
            "visit",
            "planned",
            "prepare",
            [("cleared", "preparation", "planned"), ("started", "visit", "prepared")],
        ),
        (
            "visit",
            "prepared",
            "visit",
            [("cleared", "visit", "prepared"), ("started", "record", "visited")],
        ),
        (
            "visit",
            "visited",
            "record",
            [("cleared", "record", "visited"), ("started", "report", "recorded")],
        ),
        ("visit", "recorded", "report", [("cleared", "report", "recorded")]),
        (
            "visit",
            "recorded",
            "rework",
            [("cleared", "report", "recorded"), ("started", "record", "visited")],
        ),
        ("visit", "planned", "cancel", [("cleared", "preparation", "planned")]),
        ("visit", "prepared", "cancel", [("cleared", "visit", "prepared")]),
        (
            "visit",
            "planned",
            "reschedule",
            [("cleared", "preparation", "planned"), ("started", "preparation", "planned")],
        ),
        (
            "visit",
            "prepared",
            "reschedule",
            [("cleared", "visit", "prepared"), ("started", "preparation", "planned")],
        ),
        (
            "issue",
            "raised",
            "assign",
            [("cleared", "assignment", "raised"), ("started", "resolution", "assigned")],
        ),
        (
            "issue",
            "assigned",
            "resolve",
            [("cleared", "resolution", "assigned"), ("started", "confirmation", "resolved")],
        ),
        ("issue", "resolved", "confirm", [("cleared", "confirmation", "resolved")]),
        (
            "issue",
            "resolved",
            "reopen",
            [("cleared", "confirmation", "resolved"), ("started", "resolution", "assigned")],
        ),
        ("issue", "raised", "answer_on_the_spot", [("cleared", "assignment", "raised")]),
        (
            "rectification",
            "issued",
            "acknowledge",
            [
                ("cleared", "acknowledgement", "issued"),
                ("started", "rectification", "acknowledged"),
            ],
        ),
        (
            "rectification",
            "acknowledged",
            "rectify",
            [
                ("cleared", "rectification", "acknowledged"),
                ("started", "verification", "rectified"),
            ],
        ),
        ("rectification", "rectified", "verify", [("cleared", "verification", "rectified")]),
        (
            "rectification",
            "rectified",
            "return",
            [
                ("cleared", "verification", "rectified"),
                ("started", "rectification", "acknowledged"),
            ],
        ),
    ],
)
def test_each_transition_clears_the_old_deadline_and_starts_the_new_one(
    flow: Any,
    workflow: str,
    state: str,
    trigger: str,
    expected: list[tuple[str, str, str]],
) -> None:
    outcome = flow.fire(flow.at(workflow, state), trigger)
    assert summary(outcome.events) == [("changed", state, outcome.state), *expected]


# -- when deadlines fall due ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("visited", "due"),
    [
        (at(3, 6, 15), at(3, 10, 18)),  # Friday -> Tuesday
        (at(3, 6, 23, 30), at(3, 10, 18)),  # late on Friday still counts from Friday
        (at(9, 29, 10), at(10, 8, 18)),  # Tuesday -> the first day after National Day
        (at(9, 30, 16), at(10, 9, 18)),  # across the whole National Day holiday
        (at(10, 9, 16), at(10, 12, 18)),  # Saturday 10 October is a make-up working day
    ],
    ids=str,
)
def test_the_record_is_due_two_working_days_after_the_visit(
    flow: Any, visited: datetime, due: datetime
) -> None:
    instance = flow.at("visit", "prepared")
    data = flow.data("visit", "visit", visited_at=visited.isoformat())
    deadline = started(flow.fire(instance, "visit", data=data, now=visited).events)
    assert (deadline.kind, deadline.state, deadline.due_at) == ("record", "visited", due)
    assert deadline.due_at.astimezone(SHANGHAI).time().hour == 18


def test_the_record_reminder_comes_four_hours_before_it_is_due(flow: Any) -> None:
    instance = flow.at("visit", "prepared")
    deadline = started(flow.fire(instance, "visit", now=at(3, 6, 15)).events)
    assert deadline.remind_at == at(3, 10, 14)


def test_the_report_is_due_three_working_days_after_the_record(flow: Any) -> None:
    instance = flow.at("visit", "visited")
    deadline = started(flow.fire(instance, "record", now=at(3, 6, 10)).events)
    assert (deadline.kind, deadline.due_at, deadline.remind_at) == (
        "report",
        at(3, 11, 18),
        at(3, 10, 18),
    )


@pytest.mark.parametrize(
    ("workflow", "created", "kind", "due"),
    [
        ("issue", at(3, 6, 10), "assignment", at(3, 9, 18)),
        ("issue", at(9, 30, 10), "assignment", at(10, 8, 18)),
        ("rectification", at(9, 30, 10), "acknowledgement", at(10, 8, 18)),
    ],
    ids=str,
)
def test_an_after_deadline_counts_working_days_from_creation(
    registry: Registry,
    flow: Any,
    workflow: str,
    created: datetime,
    kind: str,
    due: datetime,
) -> None:
    data = flow.data(workflow, "create")
    if "due_at" in data:  # a notice's deadline lies after its creation
        data["due_at"] = (created + timedelta(days=14)).isoformat()
    outcome = registry.get(workflow).create(flow.actor_for(workflow, "create"), data, created)
    deadline = started(outcome.events)
    assert (deadline.kind, deadline.due_at, deadline.remind_at) == (kind, due, None)


def test_verification_is_due_three_working_days_after_rectification_across_national_day(
    flow: Any,
) -> None:
    instance = flow.at("rectification", "acknowledged")
    deadline = started(flow.fire(instance, "rectify", now=at(9, 30, 10)).events)
    assert (deadline.kind, deadline.due_at) == ("verification", at(10, 10, 18))


def test_confirmation_is_due_five_working_days_after_resolution(flow: Any) -> None:
    instance = flow.at("issue", "assigned")
    deadline = started(flow.fire(instance, "resolve", now=at(3, 4, 11)).events)
    assert (deadline.kind, deadline.due_at) == ("confirmation", at(3, 11, 18))


@pytest.mark.parametrize(
    ("due_date", "due", "remind"),
    [
        ("2026-03-13", at(3, 13, 18), at(3, 12, 18)),  # a Friday
        ("2026-03-14", at(3, 16, 18), at(3, 13, 18)),  # a Saturday: the next working day
        ("2026-10-01", at(10, 8, 18), at(9, 30, 18)),  # National Day: after the holiday
    ],
)
def test_a_bare_due_date_means_the_end_of_that_working_day(
    flow: Any, due_date: str, due: datetime, remind: datetime
) -> None:
    instance = flow.at("issue", "raised")
    data = flow.data("issue", "assign", due_at=due_date)
    deadline = started(flow.fire(instance, "assign", data=data, now=at(3, 2, 9)).events)
    assert (deadline.kind, deadline.state, deadline.due_at, deadline.remind_at) == (
        "resolution",
        "assigned",
        due,
        remind,
    )


def test_the_preparation_deadline_is_the_planned_time_reminded_a_working_day_before(
    visit_wf: Workflow, flow: Any, marketing_staff: Any
) -> None:
    planned = at(3, 9, 10)  # a Monday
    data = flow.data("visit", "create", planned_at=planned.isoformat())
    deadline = started(visit_wf.create(marketing_staff, data, at(3, 2, 9)).events)
    assert (deadline.kind, deadline.due_at, deadline.remind_at) == (
        "preparation",
        planned,
        at(3, 6, 10),
    )


@pytest.mark.parametrize(
    ("planned", "due"),
    [(at(3, 5, 10), at(3, 6, 18)), (at(9, 30, 10), at(10, 8, 18))],
    ids=str,
)
def test_the_visit_is_due_the_working_day_after_its_planned_time(
    flow: Any, planned: datetime, due: datetime
) -> None:
    instance = flow.at("visit", "planned", planned_at=planned.isoformat())
    deadline = started(flow.fire(instance, "prepare").events)
    assert (deadline.kind, deadline.state, deadline.due_at) == ("visit", "prepared", due)


def test_the_rectification_deadline_is_the_notices_due_time(flow: Any) -> None:
    due = at(3, 20, 12)
    instance = flow.at("rectification", "issued", due_at=due.isoformat())
    deadline = started(flow.fire(instance, "acknowledge").events)
    assert (deadline.kind, deadline.due_at, deadline.remind_at) == (
        "rectification",
        due,
        at(3, 19, 12),
    )


@pytest.mark.parametrize(
    ("state", "attrs", "due"),
    [
        ("assigned", {"due_at": "2026-03-13"}, at(3, 13, 18)),
        ("assigned", {"due_at": date(2026, 3, 13)}, at(3, 13, 18)),
        ("planned", {"planned_at": "2026-03-09T10:00:00+08:00"}, at(3, 9, 10)),
        ("planned", {"planned_at": "2026-03-09T02:00:00+00:00"}, at(3, 9, 10)),
    ],
    ids=["date text", "date", "datetime text", "datetime text in UTC"],
)
def test_deadline_for_reads_times_stored_as_values_or_iso_text(
    registry: Registry, now: datetime, state: str, attrs: dict[str, Any], due: datetime
) -> None:
    workflow = "issue" if state == "assigned" else "visit"
    deadline = registry.get(workflow).deadline_for(state, attrs, now)
    assert deadline is not None
    assert deadline.due_at == due


@pytest.mark.parametrize(
    ("workflow", "state", "attrs"),
    [
        ("issue", "assigned", {}),
        ("issue", "assigned", {"due_at": "not a date"}),
        ("issue", "customer_confirmed", {}),
        ("visit", "reported", {}),
    ],
    ids=["missing", "unreadable", "final issue", "final visit"],
)
def test_no_deadline_without_a_time_or_in_a_final_state(
    registry: Registry, now: datetime, workflow: str, state: str, attrs: dict[str, Any]
) -> None:
    assert registry.get(workflow).deadline_for(state, attrs, now) is None


# -- reminders that would already be past ----------------------------------------------------


@pytest.mark.parametrize(
    ("assigned_at", "remind"),
    [
        (at(3, 12, 17, 59), at(3, 12, 18)),
        (at(3, 12, 18), None),  # the reminder time itself
        (at(3, 13, 9), None),
    ],
    ids=str,
)
def test_a_reminder_already_past_is_omitted(
    flow: Any, assigned_at: datetime, remind: datetime | None
) -> None:
    instance = flow.at("issue", "raised")
    data = flow.data("issue", "assign", due_at="2026-03-13")
    deadline = started(flow.fire(instance, "assign", data=data, now=assigned_at).events)
    assert (deadline.due_at, deadline.remind_at) == (at(3, 13, 18), remind)


def test_a_visit_planned_for_later_today_gets_no_reminder(
    visit_wf: Workflow, flow: Any, marketing_staff: Any
) -> None:
    data = flow.data("visit", "create", planned_at=at(3, 2, 15).isoformat())
    deadline = started(visit_wf.create(marketing_staff, data, at(3, 2, 9)).events)
    assert (deadline.due_at, deadline.remind_at) == (at(3, 2, 15), None)


# -- expiry ------------------------------------------------------------------------------------


def _label(registry: Registry, workflow: str, state: str) -> Any:
    spec = registry.get(workflow).definition.states[state].deadline
    assert spec is not None
    return spec.label


@pytest.mark.parametrize(
    ("workflow", "state", "kind", "targets"),
    [
        (
            "visit",
            "planned",
            "preparation",
            (
                Target("user", "mia"),
                Target("user", "tina"),
                Target("department_manager", "marketing"),
            ),
        ),
        (
            "visit",
            "prepared",
            "visit",
            (
                Target("user", "mia"),
                Target("user", "tina"),
                Target("department_manager", "marketing"),
            ),
        ),
        (
            "visit",
            "visited",
            "record",
            (
                Target("user", "mia"),
                Target("user", "tina"),
                Target("department_manager", "marketing"),
            ),
        ),
        ("visit", "recorded", "report", (Target("department", "marketing"),)),
        ("issue", "raised", "assignment", (Target("department_manager", "marketing"),)),
        ("issue", "resolved", "confirmation", (Target("department", "marketing"),)),
        ("rectification", "issued", "acknowledgement", (Target("department", "technical"),)),
        ("rectification", "rectified", "verification", (Target("role", "supervision"),)),
    ],
)
def test_expiry_marks_overdue_and_notifies_the_people_concerned(
    registry: Registry,
    flow: Any,
    workflow: str,
    state: str,
    kind: str,
    targets: tuple[Target, ...],
) -> None:
    instance = flow.at(workflow, state)
    assert registry.get(workflow).expire(instance, kind) == (
        MarkedOverdue(kind, state),
        NotificationRequested("overdue", kind, targets, _label(registry, workflow, state)),
    )


def test_an_overdue_ledger_issue_notifies_and_requests_a_rectification_notice(
    issue_wf: Workflow, registry: Registry, flow: Any
) -> None:
    instance = flow.at("issue", "assigned")
    spec = issue_wf.definition.states["assigned"].deadline
    assert spec is not None and spec.on_expiry.rectification is not None
    assert issue_wf.expire(instance, "resolution") == (
        MarkedOverdue("resolution", "assigned"),
        NotificationRequested(
            "overdue",
            "resolution",
            (Target("user", "tom"), Target("department_manager", "technical")),
            spec.label,
        ),
        RectificationRequested("technical", spec.on_expiry.rectification.findings, "resolution"),
    )


def test_the_rectification_request_names_the_issues_own_responsible_department(
    issue_wf: Workflow, flow: Any
) -> None:
    instance = flow.at("issue", "raised")
    data = flow.data(
        "issue", "assign", responsible_department="after_sales", responsible_person="amy"
    )
    instance = flow.advance(instance, "assign", data=data)
    events = issue_wf.expire(instance, "resolution")
    (request,) = [e for e in events if isinstance(e, RectificationRequested)]
    (notice,) = [e for e in events if isinstance(e, NotificationRequested)]
    assert request.department == "after_sales"
    assert notice.targets == (Target("user", "amy"), Target("department_manager", "after_sales"))


def test_an_overdue_rectification_escalates_to_management(
    rectification_wf: Workflow, registry: Registry, flow: Any
) -> None:
    instance = flow.at("rectification", "acknowledged")
    label = _label(registry, "rectification", "acknowledged")
    assert rectification_wf.expire(instance, "rectification") == (
        MarkedOverdue("rectification", "acknowledged"),
        NotificationRequested(
            "overdue", "rectification", (Target("department_manager", "technical"),), label
        ),
        NotificationRequested("escalated", "rectification", (Target("role", "management"),), label),
    )


@pytest.mark.parametrize(
    ("workflow", "state", "kind"),
    [
        ("visit", "prepared", "preparation"),  # moved on
        ("visit", "reported", "report"),
        ("visit", "cancelled", "visit"),
        ("issue", "assigned", "assignment"),
        ("issue", "customer_confirmed", "confirmation"),
        ("rectification", "acknowledged", "acknowledgement"),
        ("rectification", "verified", "verification"),
        ("visit", "planned", "report"),  # a kind that is not the current state's
        ("visit", "planned", "nonsense"),
    ],
)
def test_expiry_after_the_instance_moved_on_does_nothing(
    registry: Registry, flow: Any, workflow: str, state: str, kind: str
) -> None:
    wf = registry.get(workflow)
    instance = flow.at(workflow, state)
    assert wf.expire(instance, kind) == ()
    assert wf.remind(instance, kind) == ()


# -- reminders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workflow", "state", "kind", "targets"),
    [
        (
            "visit",
            "planned",
            "preparation",
            (
                Target("user", "mia"),
                Target("user", "tina"),
                Target("department_manager", "marketing"),
            ),
        ),
        ("visit", "recorded", "report", (Target("department", "marketing"),)),
        (
            "issue",
            "assigned",
            "resolution",
            (Target("user", "tom"), Target("department_manager", "technical")),
        ),
        (
            "rectification",
            "acknowledged",
            "rectification",
            (Target("department_manager", "technical"),),
        ),
    ],
)
def test_remind_asks_for_a_reminder_to_the_people_concerned(
    registry: Registry,
    flow: Any,
    workflow: str,
    state: str,
    kind: str,
    targets: tuple[Target, ...],
) -> None:
    instance = flow.at(workflow, state)
    assert registry.get(workflow).remind(instance, kind) == (
        NotificationRequested("reminder", kind, targets, _label(registry, workflow, state)),
    )


@pytest.mark.parametrize(
    ("workflow", "state", "kind"),
    [
        ("issue", "raised", "assignment"),
        ("visit", "prepared", "visit"),
        ("rectification", "rectified", "verification"),
    ],
)
def test_no_reminder_for_a_deadline_that_declares_none(
    registry: Registry, flow: Any, workflow: str, state: str, kind: str
) -> None:
    assert registry.get(workflow).remind(flow.at(workflow, state), kind) == ()
