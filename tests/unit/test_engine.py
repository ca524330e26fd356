"""Tests for workflows.engine: lifecycles, the contract's order of checks, permissions,
form validation, guards, purity of `fire`, creation, and the shared machine."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from workflows import (
    Actor,
    Instance,
    InvalidData,
    InvalidTransition,
    NotPermitted,
    Registry,
    UnknownTrigger,
    VersionConflict,
    Workflow,
    WorkflowError,
)
from workflows.events import DeadlineStarted, StateChanged

# -- lifecycles ------------------------------------------------------------------------------


def test_visit_lifecycle_goes_planned_to_reported_one_version_per_step(flow: Any) -> None:
    instance = flow.create("visit")
    assert (instance.state, instance.version) == ("planned", 1)
    for trigger, state in [
        ("prepare", "prepared"),
        ("visit", "visited"),
        ("record", "recorded"),
        ("report", "reported"),
    ]:
        outcome = flow.fire(instance, trigger)
        assert (outcome.state, outcome.version, outcome.trigger) == (
            state,
            instance.version + 1,
            trigger,
        )
        instance = flow.apply(instance, outcome)
    assert (instance.state, instance.version) == ("reported", 5)


def test_issue_lifecycle_goes_raised_to_customer_confirmed(flow: Any) -> None:
    instance = flow.create("issue")
    assert (instance.state, instance.version) == ("raised", 1)
    states = []
    for trigger in ("assign", "resolve", "confirm"):
        instance = flow.advance(instance, trigger)
        states.append((instance.state, instance.version))
    assert states == [("assigned", 2), ("resolved", 3), ("customer_confirmed", 4)]


def test_assign_sets_the_ledger_attributes(flow: Any, now: datetime) -> None:
    instance = flow.at("issue", "raised")
    outcome = flow.fire(instance, "assign")
    assert outcome.attributes == {
        "responsible_department": "technical",
        "responsible_person": "tom",
        "due_at": (now + timedelta(days=10)).date(),
    }


def test_an_unsatisfied_customer_reopens_a_resolved_issue(flow: Any) -> None:
    instance = flow.at("issue", "resolved")
    instance = flow.advance(instance, "reopen")
    assert (instance.state, instance.version) == ("assigned", 4)
    instance = flow.advance(instance, "resolve")
    instance = flow.advance(instance, "confirm")
    assert (instance.state, instance.version) == ("customer_confirmed", 6)


def test_an_issue_answered_on_the_spot_closes_at_once(flow: Any) -> None:
    instance = flow.at("issue", "raised")
    outcome = flow.fire(instance, "answer_on_the_spot")
    assert (outcome.state, outcome.version) == ("customer_confirmed", 2)
    assert outcome.data == {"answer": "The delay was a one-off customs hold."}


def test_rectification_sent_back_goes_round_again_until_verified(flow: Any) -> None:
    instance = flow.create("rectification")
    seen = [(instance.state, instance.version)]
    for trigger in ("acknowledge", "rectify", "return", "rectify", "verify"):
        instance = flow.advance(instance, trigger)
        seen.append((instance.state, instance.version))
    assert seen == [
        ("issued", 1),
        ("acknowledged", 2),
        ("rectified", 3),
        ("acknowledged", 4),
        ("rectified", 5),
        ("verified", 6),
    ]


def test_visit_record_is_sent_back_for_rework_then_recorded_again(flow: Any) -> None:
    instance = flow.at("visit", "recorded")
    instance = flow.advance(instance, "rework")
    assert (instance.state, instance.version) == ("visited", 5)
    instance = flow.advance(instance, "record")
    assert (instance.state, instance.version) == ("recorded", 6)


@pytest.mark.parametrize("state", ["planned", "prepared"])
def test_visit_can_be_cancelled_before_it_happens(flow: Any, state: str) -> None:
    instance = flow.at("visit", state)
    assert flow.advance(instance, "cancel").state == "cancelled"


def test_rescheduling_a_prepared_visit_replans_it_with_the_new_time(
    flow: Any, now: datetime
) -> None:
    instance = flow.at("visit", "prepared")
    new_time = now + timedelta(days=20)
    data = flow.data("visit", "reschedule", planned_at=new_time.isoformat())
    instance = flow.advance(instance, "reschedule", data=data)
    assert instance.state == "planned"
    assert instance.attrs["planned_at"] == new_time


def test_outcome_data_is_typed_and_json_data_is_iso_text(flow: Any, now: datetime) -> None:
    outcome = flow.fire(flow.at("visit", "visited"), "record")
    assert outcome.data["visited_at"] == now
    assert isinstance(outcome.data["visited_at"], datetime)
    assert outcome.json_data["visited_at"] == now.isoformat()


# -- the contract's order of checks ------------------------------------------------------------


def test_unknown_trigger_is_reported_before_a_stale_version(
    visit_wf: Workflow, flow: Any, marketing_staff: Actor, now: datetime
) -> None:
    instance = flow.at("visit", "planned")
    with pytest.raises(UnknownTrigger) as caught:
        visit_wf.fire(instance, "teleport", marketing_staff, {}, now, expected_version=99)
    assert (caught.value.workflow, caught.value.trigger) == ("visit", "teleport")


def test_another_workflows_trigger_is_unknown_here(
    visit_wf: Workflow, flow: Any, marketing_staff: Actor, now: datetime
) -> None:
    instance = flow.at("visit", "planned")
    with pytest.raises(UnknownTrigger):
        visit_wf.fire(instance, "assign", marketing_staff, {}, now)


def test_stale_version_is_reported_even_if_the_trigger_is_invalid_from_this_state(
    visit_wf: Workflow, flow: Any, marketing_staff: Actor, now: datetime
) -> None:
    instance = flow.at("visit", "prepared")  # version 2; "report" is not possible here
    with pytest.raises(VersionConflict) as caught:
        visit_wf.fire(instance, "report", marketing_staff, {}, now, expected_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)


def test_stale_version_is_reported_before_permission_and_data(
    visit_wf: Workflow, flow: Any, admin: Actor, now: datetime
) -> None:
    instance = flow.at("visit", "planned")
    with pytest.raises(VersionConflict):
        visit_wf.fire(instance, "prepare", admin, {"bogus": 1}, now, expected_version=2)


def test_the_current_version_is_accepted(
    visit_wf: Workflow, flow: Any, now: datetime, technical_visitor: Actor
) -> None:
    instance = flow.at("visit", "prepared")
    outcome = visit_wf.fire(
        instance, "visit", technical_visitor, flow.data("visit", "visit"), now, expected_version=2
    )
    assert outcome.version == 3


@pytest.mark.parametrize(
    ("actor_key", "allowed"),
    [
        ("technical_visitor", ["prepare"]),
        ("marketing_staff", ["prepare", "cancel", "reschedule"]),
        ("marketing_staff_outsider", ["cancel", "reschedule"]),
        ("admin", []),
    ],
)
def test_wrong_state_is_invalid_transition_listing_what_the_actor_may_fire(
    visit_wf: Workflow,
    flow: Any,
    actors: dict[str, Actor],
    now: datetime,
    actor_key: str,
    allowed: list[str],
) -> None:
    instance = flow.at("visit", "planned")
    with pytest.raises(InvalidTransition) as caught:
        visit_wf.fire(instance, "record", actors[actor_key], flow.data("visit", "record"), now)
    assert caught.value.state == "planned"
    assert caught.value.trigger == "record"
    assert caught.value.instance_id == instance.id
    assert caught.value.allowed == allowed


def test_wrong_state_is_reported_before_invalid_data(
    issue_wf: Workflow, flow: Any, marketing_staff: Actor, now: datetime
) -> None:
    instance = flow.at("issue", "raised")
    with pytest.raises(InvalidTransition):
        issue_wf.fire(instance, "confirm", marketing_staff, {"satisfaction": 9}, now)


@pytest.mark.parametrize(
    ("workflow", "state", "trigger", "actor_key"),
    [
        ("visit", "planned", "prepare", "admin"),
        ("visit", "planned", "prepare", "management"),
        ("visit", "planned", "cancel", "technical_visitor"),
        ("visit", "recorded", "report", "technical_visitor"),
        ("issue", "raised", "assign", "technical"),
        ("issue", "raised", "assign", "supervision"),
        ("issue", "resolved", "confirm", "after_sales"),
        ("rectification", "rectified", "verify", "admin"),
        ("rectification", "rectified", "verify", "management"),
    ],
)
def test_a_role_not_listed_on_the_transition_is_not_permitted(
    registry: Registry,
    flow: Any,
    actors: dict[str, Actor],
    now: datetime,
    workflow: str,
    state: str,
    trigger: str,
    actor_key: str,
) -> None:
    instance = flow.at(workflow, state)
    with pytest.raises(NotPermitted):
        registry.get(workflow).fire(
            instance, trigger, actors[actor_key], flow.data(workflow, trigger), now
        )


def test_permission_is_checked_before_data(
    visit_wf: Workflow, flow: Any, admin: Actor, now: datetime
) -> None:
    instance = flow.at("visit", "planned")
    with pytest.raises(NotPermitted):
        visit_wf.fire(instance, "prepare", admin, {"bogus": 1}, now)


# -- participation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "trigger", "actor_key", "permitted"),
    [
        ("planned", "prepare", "technical", False),  # technical, not a visitor
        ("planned", "prepare", "technical_visitor", True),
        ("planned", "prepare", "marketing_staff_outsider", False),  # staff are not exempt
        ("planned", "prepare", "marketing_manager", True),  # exempt for prepare
        ("prepared", "visit", "technical", False),
        ("prepared", "visit", "marketing_manager", True),
        ("visited", "record", "technical", False),
        ("visited", "record", "technical_visitor", True),
        ("visited", "record", "marketing_staff", True),  # a visitor
        ("visited", "record", "marketing_manager", False),  # not exempt for record
    ],
)
def test_only_visitors_act_on_a_visit_unless_exempt(
    visit_wf: Workflow,
    flow: Any,
    actors: dict[str, Actor],
    now: datetime,
    state: str,
    trigger: str,
    actor_key: str,
    permitted: bool,
) -> None:
    instance = flow.at("visit", state)
    data = flow.data("visit", trigger)
    if permitted:
        assert visit_wf.fire(instance, trigger, actors[actor_key], data, now).version == (
            instance.version + 1
        )
    else:
        with pytest.raises(NotPermitted, match="visitor"):
            visit_wf.fire(instance, trigger, actors[actor_key], data, now)


@pytest.mark.parametrize(
    ("actor", "permitted"),
    [
        (Actor("tom", "technical", "technical"), True),  # responsible person and department
        (Actor("tina", "technical", "technical"), True),  # responsible department
        (Actor("tom", "after_sales", "after_sales"), True),  # responsible person only
        (Actor("amy", "after_sales", "after_sales"), False),
        (Actor("mia", "marketing_staff", "marketing"), False),
        (Actor("max", "marketing_manager", "marketing"), True),  # exempt
        (Actor("meg", "management", "management"), False),
    ],
    ids=lambda v: v.username + ":" + v.role if isinstance(v, Actor) else str(v),
)
def test_only_the_responsible_department_or_person_resolves_an_issue(
    issue_wf: Workflow, flow: Any, now: datetime, actor: Actor, permitted: bool
) -> None:
    instance = flow.at("issue", "assigned")
    data = flow.data("issue", "resolve")
    if permitted:
        assert issue_wf.fire(instance, "resolve", actor, data, now).state == "resolved"
    else:
        with pytest.raises(NotPermitted):
            issue_wf.fire(instance, "resolve", actor, data, now)


def test_a_technical_raiser_answers_their_issue_on_the_spot_but_others_may_not(
    issue_wf: Workflow, flow: Any, now: datetime, technical_visitor: Actor, technical: Actor
) -> None:
    instance = flow.create("issue", actor=technical_visitor)
    data = flow.data("issue", "answer_on_the_spot")
    assert issue_wf.fire(instance, "answer_on_the_spot", technical_visitor, data, now).state == (
        "customer_confirmed"
    )
    with pytest.raises(NotPermitted):
        issue_wf.fire(instance, "answer_on_the_spot", technical, data, now)


def test_a_technical_visitor_who_did_not_raise_the_issue_may_not_answer_on_the_spot(
    issue_wf: Workflow, flow: Any, now: datetime, technical: Actor
) -> None:
    raised = flow.at("issue", "raised")
    instance = Instance(
        raised.id, raised.state, raised.version, {**raised.attrs, "visitors": ["tom"]}
    )
    with pytest.raises(NotPermitted):
        issue_wf.fire(
            instance, "answer_on_the_spot", technical, flow.data("issue", "answer_on_the_spot"), now
        )


@pytest.mark.parametrize(
    ("actor", "permitted"),
    [
        (Actor("tom", "technical", "technical"), True),
        (Actor("amy", "after_sales", "after_sales"), False),
        (Actor("meg", "management", "management"), True),  # exempt
        (Actor("sue", "supervision", "technical"), False),  # role not listed
    ],
    ids=lambda v: v.username if isinstance(v, Actor) else str(v),
)
def test_only_the_addressed_department_acknowledges_a_notice(
    rectification_wf: Workflow, flow: Any, now: datetime, actor: Actor, permitted: bool
) -> None:
    instance = flow.at("rectification", "issued")
    data = flow.data("rectification", "acknowledge")
    if permitted:
        assert rectification_wf.fire(instance, "acknowledge", actor, data, now).version == 2
    else:
        with pytest.raises(NotPermitted):
            rectification_wf.fire(instance, "acknowledge", actor, data, now)


# -- integrations and the system -------------------------------------------------------------


def test_an_integration_fires_a_granted_trigger_without_being_a_visitor(
    visit_wf: Workflow, flow: Any, now: datetime
) -> None:
    crm = Actor.integration("crm", frozenset({("visit", "record")}))
    instance = flow.at("visit", "visited")
    outcome = visit_wf.fire(instance, "record", crm, flow.data("visit", "record"), now)
    assert outcome.state == "recorded"


@pytest.mark.parametrize(
    "grants",
    [frozenset(), frozenset({("visit", "visit")}), frozenset({("issue", "prepare")})],
    ids=["none", "another trigger", "another workflow"],
)
def test_an_integration_may_not_fire_an_ungranted_trigger(
    visit_wf: Workflow, flow: Any, now: datetime, grants: frozenset[tuple[str, str]]
) -> None:
    crm = Actor.integration("crm", grants)
    instance = flow.at("visit", "planned")
    with pytest.raises(NotPermitted, match="integration:crm"):
        visit_wf.fire(instance, "prepare", crm, flow.data("visit", "prepare"), now)


def test_an_integration_is_offered_only_its_granted_triggers(visit_wf: Workflow, flow: Any) -> None:
    crm = Actor.integration("crm", frozenset({("visit", "cancel"), ("visit", "record")}))
    assert visit_wf.allowed_triggers(flow.at("visit", "planned"), crm) == ["cancel"]
    assert visit_wf.allowed_triggers(flow.at("visit", "visited"), crm) == ["record"]


def test_the_system_actor_may_fire_any_transition(
    visit_wf: Workflow, flow: Any, now: datetime, system: Actor
) -> None:
    instance = flow.at("visit", "visited")
    outcome = visit_wf.fire(instance, "record", system, flow.data("visit", "record"), now)
    assert outcome.state == "recorded"


def test_the_system_actor_still_needs_valid_data(
    visit_wf: Workflow, flow: Any, now: datetime, system: Actor
) -> None:
    instance = flow.at("visit", "visited")
    with pytest.raises(InvalidData):
        visit_wf.fire(instance, "record", system, {}, now)


# -- form validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "trigger", "changes", "field", "message"),
    [
        ("visited", "record", {"visit_content": ...}, "visit_content", "Missing data"),
        ("visited", "record", {"visited_at": None}, "visited_at", "null"),
        ("planned", "prepare", {"bogus": True}, "bogus", "Unknown field"),
        ("visited", "record", {"place": "x" * 201}, "place", "Longer than maximum length 200"),
        (
            "visited",
            "record",
            {"customer_basics": "x" * 20_001},
            "customer_basics",
            "Longer than maximum length 20000",
        ),
        ("planned", "prepare", {"materials": ["fax"]}, "materials", "Must be one of"),
        ("planned", "prepare", {"tools": ["camera", "camera"]}, "tools", "only once"),
        ("visited", "record", {"visitors": ["tina", "tina"]}, "visitors", "only once"),
        ("visited", "record", {"visitors": []}, "visitors", "at least one"),
        ("visited", "record", {"place": "   "}, "place", "blank"),
        ("visited", "record", {"visit_content": "\n\t "}, "visit_content", "blank"),
        ("prepared", "visit", {"visited_at": "2026-03-02T10:00:00"}, "visited_at", "aware"),
        ("prepared", "visit", {"visited_at": "yesterday"}, "visited_at", "Not a valid"),
        ("planned", "reschedule", {"planned_at": "2026-05-02"}, "planned_at", "Not a valid"),
        (
            "planned",
            "prepare",
            {"time_place_confirmed": "perhaps"},
            "time_place_confirmed",
            "boolean",
        ),
    ],
)
def test_invalid_visit_data_is_reported_per_field(
    visit_wf: Workflow,
    flow: Any,
    now: datetime,
    system: Actor,
    state: str,
    trigger: str,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    instance = flow.at("visit", state)
    with pytest.raises(InvalidData) as caught:
        visit_wf.fire(instance, trigger, system, flow.data("visit", trigger, **changes), now)
    assert list(caught.value.errors) == [field]
    assert any(message in m for m in caught.value.errors[field]), caught.value.errors


@pytest.mark.parametrize(
    ("trigger", "state", "changes", "field", "message"),
    [
        ("confirm", "resolved", {"satisfaction": 6}, "satisfaction", "less than or equal to 5"),
        ("confirm", "resolved", {"satisfaction": 0}, "satisfaction", "greater than or equal to 1"),
        ("confirm", "resolved", {"satisfaction": "4"}, "satisfaction", "Not a valid integer"),
        ("confirm", "resolved", {"satisfaction": 4.5}, "satisfaction", "Not a valid integer"),
        ("assign", "raised", {"due_at": "next week"}, "due_at", "Not a valid date"),
        ("assign", "raised", {"responsible_person": ""}, "responsible_person", ""),
        ("assign", "raised", {"responsible_person": "x" * 151}, "responsible_person", "150"),
    ],
)
def test_invalid_issue_data_is_reported_per_field(
    issue_wf: Workflow,
    flow: Any,
    now: datetime,
    system: Actor,
    trigger: str,
    state: str,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    instance = flow.at("issue", state)
    with pytest.raises(InvalidData) as caught:
        issue_wf.fire(instance, trigger, system, flow.data("issue", trigger, **changes), now)
    assert list(caught.value.errors) == [field]
    assert any(message in m for m in caught.value.errors[field]), caught.value.errors


def test_every_invalid_field_is_reported_at_once(
    visit_wf: Workflow, flow: Any, now: datetime, system: Actor
) -> None:
    instance = flow.at("visit", "visited")
    data = flow.data("visit", "record", place="x" * 201, visit_content=..., extra="?")
    with pytest.raises(InvalidData) as caught:
        visit_wf.fire(instance, "record", system, data, now)
    assert set(caught.value.errors) == {"place", "visit_content", "extra"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("place", "x" * 200), ("customer_basics", "x" * 20_000), ("place", "客" * 200)],
    ids=["string 200", "text 20000", "200 CJK characters"],
)
def test_text_at_its_limit_is_accepted(
    visit_wf: Workflow, flow: Any, now: datetime, system: Actor, field: str, value: str
) -> None:
    instance = flow.at("visit", "visited")
    outcome = visit_wf.fire(
        instance, "record", system, flow.data("visit", "record", **{field: value}), now
    )
    assert outcome.data[field] == value


def test_data_that_is_not_an_object_is_invalid(
    visit_wf: Workflow, flow: Any, now: datetime, system: Actor
) -> None:
    instance = flow.at("visit", "visited")
    with pytest.raises(InvalidData) as caught:
        visit_wf.fire(instance, "record", system, ["not", "an", "object"], now)  # type: ignore[arg-type]
    assert list(caught.value.errors) == ["data"]


def test_no_data_for_a_form_with_required_fields_lists_each_of_them(
    issue_wf: Workflow, flow: Any, now: datetime, system: Actor
) -> None:
    instance = flow.at("issue", "assigned")
    with pytest.raises(InvalidData) as caught:
        issue_wf.fire(instance, "resolve", system, None, now)
    assert set(caught.value.errors) == {"root_cause", "solution", "customer_informed"}


def test_a_form_with_no_required_field_accepts_no_data(
    rectification_wf: Workflow, flow: Any, now: datetime, supervision: Actor
) -> None:
    instance = flow.at("rectification", "rectified")
    outcome = rectification_wf.fire(instance, "verify", supervision, None, now)
    assert (outcome.state, outcome.data) == ("verified", {})


# -- guards ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "delta", [timedelta(hours=-1), timedelta(minutes=-6)], ids=["past", "past-the-allowance"]
)
@pytest.mark.parametrize("state", ["planned", "prepared"])
def test_rescheduling_into_the_past_is_invalid_on_planned_at(
    visit_wf: Workflow,
    flow: Any,
    now: datetime,
    marketing_staff: Actor,
    state: str,
    delta: timedelta,
) -> None:
    instance = flow.at("visit", state)
    data = flow.data("visit", "reschedule", planned_at=(now + delta).isoformat())
    with pytest.raises(InvalidData) as caught:
        visit_wf.fire(instance, "reschedule", marketing_staff, data, now)
    assert caught.value.errors == {"planned_at": ["must not be in the past"]}


def test_assigning_with_a_due_date_in_the_past_is_invalid(
    issue_wf: Workflow, flow: Any, now: datetime, marketing_staff: Actor
) -> None:
    instance = flow.at("issue", "raised")
    yesterday = (now - timedelta(days=1)).date().isoformat()
    with pytest.raises(InvalidData) as caught:
        issue_wf.fire(
            instance, "assign", marketing_staff, flow.data("issue", "assign", due_at=yesterday), now
        )
    assert list(caught.value.errors) == ["due_at"]


def test_assigning_with_todays_date_during_working_hours_is_accepted(
    issue_wf: Workflow, flow: Any, now: datetime, marketing_staff: Actor
) -> None:
    instance = flow.at("issue", "raised")
    data = flow.data("issue", "assign", due_at=now.date().isoformat())
    assert issue_wf.fire(instance, "assign", marketing_staff, data, now).state == "assigned"


def test_assigning_with_todays_date_after_close_of_business_is_invalid(
    issue_wf: Workflow, flow: Any, now: datetime, marketing_staff: Actor
) -> None:
    evening = now.replace(hour=20)
    instance = flow.at("issue", "raised")
    data = flow.data("issue", "assign", due_at=evening.date().isoformat())
    with pytest.raises(InvalidData):
        issue_wf.fire(instance, "assign", marketing_staff, data, evening)


@pytest.mark.parametrize(
    "comment", [..., None, "", "   "], ids=["absent", "null", "empty", "blank"]
)
def test_a_low_satisfaction_without_a_comment_is_invalid(
    issue_wf: Workflow, flow: Any, now: datetime, marketing_staff: Actor, comment: Any
) -> None:
    instance = flow.at("issue", "resolved")
    data = flow.data("issue", "confirm", satisfaction=2, comment=comment)
    with pytest.raises(InvalidData) as caught:
        issue_wf.fire(instance, "confirm", marketing_staff, data, now)
    assert list(caught.value.errors) == ["comment"]


@pytest.mark.parametrize(
    ("satisfaction", "comment"), [(2, "Slow, but fixed."), (1, "Unhappy."), (3, ...)]
)
def test_a_low_satisfaction_with_a_comment_or_a_fair_one_without_is_accepted(
    issue_wf: Workflow,
    flow: Any,
    now: datetime,
    marketing_staff: Actor,
    satisfaction: int,
    comment: Any,
) -> None:
    instance = flow.at("issue", "resolved")
    data = flow.data("issue", "confirm", satisfaction=satisfaction, comment=comment)
    assert issue_wf.fire(instance, "confirm", marketing_staff, data, now).state == (
        "customer_confirmed"
    )


@pytest.mark.parametrize("box", ["customer_background_reviewed", "time_place_confirmed"])
def test_preparing_with_a_required_checklist_box_unticked_is_invalid(
    visit_wf: Workflow, flow: Any, now: datetime, technical_visitor: Actor, box: str
) -> None:
    instance = flow.at("visit", "planned")
    data = flow.data("visit", "prepare", **{box: False})
    with pytest.raises(InvalidData) as caught:
        visit_wf.fire(instance, "prepare", technical_visitor, data, now)
    assert caught.value.errors == {box: ["must be ticked"]}


def test_an_optional_checklist_box_may_stay_unticked(
    visit_wf: Workflow, flow: Any, now: datetime, technical_visitor: Actor
) -> None:
    instance = flow.at("visit", "planned")
    data = flow.data("visit", "prepare", needs_and_history_reviewed=False)
    assert visit_wf.fire(instance, "prepare", technical_visitor, data, now).state == "prepared"


def test_a_required_boolean_without_the_checklist_guard_may_be_false(
    issue_wf: Workflow, flow: Any, now: datetime, technical: Actor
) -> None:
    instance = flow.at("issue", "assigned")
    data = flow.data("issue", "resolve", customer_informed=False)
    assert issue_wf.fire(instance, "resolve", technical, data, now).state == "resolved"


# -- fire never mutates the instance -------------------------------------------------------------


def _snapshot(instance: Instance) -> tuple[Any, ...]:
    return (instance.id, instance.state, instance.version, copy.deepcopy(dict(instance.attrs)))


def test_a_successful_fire_leaves_the_instance_untouched(flow: Any) -> None:
    instance = flow.at("visit", "planned")
    attrs = instance.attrs
    before = _snapshot(instance)
    outcome = flow.fire(instance, "reschedule")
    assert outcome.attributes["planned_at"] != before[3]["planned_at"]
    assert _snapshot(instance) == before
    assert instance.attrs is attrs


@pytest.mark.parametrize(
    ("trigger", "actor_key", "changes", "expected_version", "error"),
    [
        ("teleport", "marketing_staff", {}, None, UnknownTrigger),
        ("prepare", "marketing_staff", {}, 7, VersionConflict),
        ("report", "marketing_staff", {}, None, InvalidTransition),
        ("prepare", "technical", {}, None, NotPermitted),
        ("prepare", "technical_visitor", {"bogus": 1}, None, InvalidData),
        ("prepare", "technical_visitor", {"time_place_confirmed": False}, None, InvalidData),
        (
            "reschedule",
            "marketing_staff",
            {"planned_at": "2020-01-01T00:00:00+08:00"},
            None,
            InvalidData,
        ),
    ],
    ids=["unknown", "stale", "wrong state", "forbidden", "bad data", "checklist", "past time"],
)
def test_a_refused_fire_leaves_the_instance_untouched(
    visit_wf: Workflow,
    flow: Any,
    actors: dict[str, Actor],
    now: datetime,
    trigger: str,
    actor_key: str,
    changes: dict[str, Any],
    expected_version: int | None,
    error: type[WorkflowError],
) -> None:
    instance = flow.at("visit", "planned")
    before = _snapshot(instance)
    base = flow.data("visit", trigger) if visit_wf.has_trigger(trigger) else {}
    with pytest.raises(error):
        visit_wf.fire(
            instance, trigger, actors[actor_key], {**base, **changes}, now, expected_version
        )
    assert _snapshot(instance) == before


# -- allowed_triggers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workflow", "state", "actor_key", "allowed"),
    [
        ("visit", "planned", "marketing_staff", ["prepare", "cancel", "reschedule"]),
        ("visit", "planned", "marketing_staff_outsider", ["cancel", "reschedule"]),
        ("visit", "planned", "marketing_manager", ["prepare", "cancel", "reschedule"]),
        ("visit", "planned", "technical_visitor", ["prepare"]),
        ("visit", "planned", "technical", []),
        ("visit", "planned", "management", []),
        ("visit", "planned", "admin", []),
        ("visit", "planned", "system", ["prepare", "cancel", "reschedule"]),
        ("visit", "visited", "technical_visitor", ["check_out", "record"]),
        ("visit", "visited", "marketing_manager", ["check_out"]),
        ("visit", "recorded", "marketing_staff", ["rework", "report"]),
        ("visit", "recorded", "technical_visitor", []),
        ("visit", "reported", "system", []),
        ("issue", "raised", "marketing_staff", ["assign", "answer_on_the_spot"]),
        ("issue", "raised", "technical", []),  # neither raiser nor visitor
        ("issue", "assigned", "technical", ["resolve"]),
        ("issue", "assigned", "after_sales", []),
        ("issue", "assigned", "marketing_manager", ["resolve"]),
        ("issue", "resolved", "marketing_staff", ["confirm", "reopen"]),
        ("rectification", "issued", "technical", ["acknowledge"]),
        ("rectification", "issued", "after_sales", []),
        ("rectification", "issued", "management", ["acknowledge"]),
        ("rectification", "rectified", "supervision", ["verify", "return"]),
        ("rectification", "rectified", "technical", []),
    ],
)
def test_allowed_triggers_follow_role_and_participation(
    registry: Registry,
    flow: Any,
    actors: dict[str, Actor],
    workflow: str,
    state: str,
    actor_key: str,
    allowed: list[str],
) -> None:
    instance = flow.at(workflow, state)
    assert registry.get(workflow).allowed_triggers(instance, actors[actor_key]) == allowed


# -- create ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workflow", "actor_key", "permitted"),
    [
        ("visit", "marketing_staff", True),
        ("visit", "marketing_manager", True),
        ("visit", "technical", False),
        ("visit", "management", False),
        ("visit", "supervision", False),
        ("visit", "admin", False),
        ("issue", "marketing_staff", True),
        ("issue", "technical", True),
        ("issue", "after_sales", True),
        ("issue", "management", False),
        ("issue", "admin", False),
        ("rectification", "supervision", True),
        ("rectification", "admin", False),
        ("rectification", "management", False),
        ("rectification", "marketing_manager", False),
    ],
)
def test_create_is_permitted_by_role(
    registry: Registry,
    flow: Any,
    actors: dict[str, Actor],
    now: datetime,
    workflow: str,
    actor_key: str,
    permitted: bool,
) -> None:
    wf = registry.get(workflow)
    actor = actors[actor_key]
    assert wf.may_create(actor) is permitted
    if permitted:
        assert wf.create(actor, flow.data(workflow, "create"), now).version == 1
    else:
        with pytest.raises(NotPermitted):
            wf.create(actor, flow.data(workflow, "create"), now)


@pytest.mark.parametrize(
    ("grants", "permitted"),
    [
        (frozenset({("visit", "create")}), True),
        (frozenset({("visit", "prepare")}), False),
        (frozenset({("issue", "create")}), False),
    ],
)
def test_an_integration_creates_only_with_a_create_grant(
    visit_wf: Workflow,
    flow: Any,
    now: datetime,
    grants: frozenset[tuple[str, str]],
    permitted: bool,
) -> None:
    crm = Actor.integration("crm", grants)
    if permitted:
        outcome = visit_wf.create(crm, flow.data("visit", "create"), now)
        assert outcome.attributes["created_by"] == "integration:crm"
    else:
        with pytest.raises(NotPermitted):
            visit_wf.create(crm, flow.data("visit", "create"), now)


def test_the_system_may_create(issue_wf: Workflow, flow: Any, now: datetime, system: Actor) -> None:
    assert issue_wf.create(system, flow.data("issue", "create"), now).attributes["created_by"] == (
        "system"
    )


@pytest.mark.parametrize(
    ("workflow", "actor_key", "initial"),
    [
        ("visit", "marketing_manager", "planned"),
        ("issue", "after_sales", "raised"),
        ("rectification", "supervision", "issued"),
    ],
)
def test_create_starts_in_the_initial_state_at_version_1_recording_the_creator(
    registry: Registry,
    flow: Any,
    actors: dict[str, Actor],
    now: datetime,
    workflow: str,
    actor_key: str,
    initial: str,
) -> None:
    actor = actors[actor_key]
    outcome = registry.get(workflow).create(actor, flow.data(workflow, "create"), now)
    assert (outcome.state, outcome.version, outcome.trigger) == (initial, 1, "create")
    assert outcome.attributes["created_by"] == actor.username
    assert outcome.events[0] == StateChanged(None, None, initial)


def test_create_keeps_the_creation_fields_as_attributes(
    visit_wf: Workflow, flow: Any, now: datetime, marketing_staff: Actor
) -> None:
    outcome = visit_wf.create(marketing_staff, flow.data("visit", "create"), now)
    assert outcome.attributes == {**outcome.data, "created_by": "mia"}
    assert outcome.json_data == flow.data("visit", "create")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"place": ...}, "place"),
        ({"visitors": []}, "visitors"),
        ({"customer_id": 0}, "customer_id"),
        ({"planned_at": "2026-03-05T10:00:00"}, "planned_at"),
        ({"topics": ["gossip"]}, "topics"),
    ],
)
def test_create_with_invalid_fields_is_invalid_data(
    visit_wf: Workflow,
    flow: Any,
    now: datetime,
    marketing_staff: Actor,
    changes: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(InvalidData) as caught:
        visit_wf.create(marketing_staff, flow.data("visit", "create", **changes), now)
    assert list(caught.value.errors) == [field]


def test_create_rejects_an_unknown_choice(
    issue_wf: Workflow, flow: Any, now: datetime, marketing_staff: Actor
) -> None:
    with pytest.raises(InvalidData) as caught:
        issue_wf.create(marketing_staff, flow.data("issue", "create", category="weather"), now)
    assert list(caught.value.errors) == ["category"]


def test_create_checks_data_before_permission_as_the_contract_orders(
    visit_wf: Workflow, now: datetime, admin: Actor
) -> None:
    with pytest.raises(InvalidData):
        visit_wf.create(admin, {"bogus": 1}, now)


# -- the shared machine ----------------------------------------------------------------------


def test_each_workflow_has_one_machine_shared_by_every_fire(registry: Registry, flow: Any) -> None:
    wf = registry.get("visit")
    machine = wf.machine
    instance = flow.at("visit", "reported")  # four fires
    flow.at("visit", "cancelled")
    assert instance.version == 5
    assert registry.get("visit") is wf
    assert wf.machine is machine


def test_the_machine_keeps_no_model_after_thousands_of_fires(registry: Registry, flow: Any) -> None:
    for _ in range(300):  # 7 fires a round
        assert flow.at("visit", "reported").version == 5
        rectification = flow.advance(flow.at("rectification", "rectified"), "return")
        assert (rectification.state, rectification.version) == ("acknowledged", 4)
    for wf in registry:
        assert wf.machine.models == []


def test_concurrent_fires_on_separate_instances_get_their_own_results(
    registry: Registry, flow: Any, now: datetime
) -> None:
    threads = 8
    rounds = 40
    barrier = threading.Barrier(threads)

    def run(n: int) -> list[tuple[str, int, datetime, datetime]]:
        planned_at = now + timedelta(days=5, minutes=n)  # each thread its own time
        data = flow.data("visit", "reschedule", planned_at=planned_at.isoformat())
        barrier.wait()
        results = []
        for _ in range(rounds):
            instance = flow.at("visit", "planned")
            outcome = flow.fire(instance, "reschedule", data=data)
            (started,) = [e for e in outcome.events if isinstance(e, DeadlineStarted)]
            instance = flow.apply(instance, outcome)
            for trigger in ("prepare", "visit", "record", "report"):
                instance = flow.advance(instance, trigger)
            results.append(
                (
                    instance.state,
                    instance.version,
                    started.deadline.due_at,
                    instance.attrs["planned_at"],
                )
            )
        return results

    with ThreadPoolExecutor(max_workers=threads) as pool:
        per_thread = list(pool.map(run, range(threads)))
    for n, results in enumerate(per_thread):
        planned_at = now + timedelta(days=5, minutes=n)
        assert results == [("reported", 6, planned_at, planned_at)] * rounds
    assert registry.get("visit").machine.models == []


def test_an_instance_in_a_state_the_machine_does_not_know_is_an_invalid_transition(
    visit_wf: Workflow, flow: Any, now: datetime, system: Actor
) -> None:
    instance = Instance(99, "limbo", 3, flow.at("visit", "planned").attrs)
    with pytest.raises(InvalidTransition) as caught:
        visit_wf.fire(instance, "prepare", system, flow.data("visit", "prepare"), now)
    assert (caught.value.state, caught.value.allowed) == ("limbo", [])
    assert visit_wf.allowed_triggers(instance, system) == []
