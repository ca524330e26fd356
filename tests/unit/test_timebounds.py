"""Time bounds on fields: the loader's checks of `not_before`, `not_after`, `backdate_roles`,
and the engine refusing actual times in the future and planned times in the past."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from workflows import Actor, BusinessCalendar, Instance, InvalidData, Registry, Workflow
from workflows.errors import DefinitionError, Problem
from workflows.loader import load_text
from workflows.spec import TimeBound
from workflows.timebounds import BACKDATED

SHANGHAI = ZoneInfo("Asia/Shanghai")
FILE = "t.yaml"
STAFF = Actor("mia", "marketing_staff", "marketing")
MANAGER = Actor("max", "marketing_manager", "marketing")
# 2026-11-02 23:59 in Shanghai is 15:59 UTC: the last minute of Monday there.
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)

BASE = """\
name: t
version: 1
label: {zh: 测试, en: Test}
initial: draft
states:
  draft:
    label: {zh: 草稿, en: Draft}
  done:
    label: {zh: 完成, en: Done}
    final: true
create:
  roles: [marketing_staff, marketing_manager]
  notify: []
  fields:
    - name: planned_at
      type: datetime
      not_before: now
      backdate_roles: [marketing_manager]
      label: {zh: 计划时间, en: Planned at}
transitions:
  - trigger: finish
    source: draft
    dest: done
    label: {zh: 完成, en: Finish}
    roles: [marketing_staff, marketing_manager]
    notify: []
    fields:
      - name: done_at
        type: datetime
        not_after: now
        label: {zh: 完成时间, en: Done at}
      - name: done_on
        type: date
        not_after: now
        label: {zh: 完成日期, en: Done on}
      - name: note
        type: string
        label: {zh: 备注, en: Note}
"""


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        load_text(text, FILE)
    return caught.value.problems


def line_of(text: str, needle: str) -> int:
    (line,) = [n for n, s in enumerate(text.splitlines(), start=1) if needle in s]
    return line


def changed(old: str, new: str) -> str:
    assert BASE.count(old) == 1
    return BASE.replace(old, new)


@pytest.fixture(scope="module")
def wf() -> Workflow:
    return Workflow(load_text(BASE, FILE), BusinessCalendar(tz=SHANGHAI))


def create(wf: Workflow, actor: Actor, planned_at: datetime | str, now: datetime = NOW) -> Any:
    value = planned_at if isinstance(planned_at, str) else planned_at.isoformat()
    return wf.create(actor, {"planned_at": value}, now)


def finish(wf: Workflow, data: dict[str, Any], now: datetime = NOW) -> Any:
    return wf.fire(Instance(1, "draft", 1, {}), "finish", STAFF, data, now)


def refusal(call: Any, *args: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(InvalidData) as caught:
        call(*args, **kwargs)
    return caught.value.errors


# -- the loader ------------------------------------------------------------------------------


def test_the_bounds_load_onto_the_field_specs() -> None:
    d = load_text(BASE, FILE)
    planned_at = d.create.fields[0]
    assert (planned_at.not_before, planned_at.not_after) == (TimeBound.NOW, None)
    assert planned_at.backdate_roles == {"marketing_manager"}
    done_at = d.transitions[0].fields[0]
    assert (done_at.not_before, done_at.not_after, done_at.backdate_roles) == (
        None,
        TimeBound.NOW,
        frozenset(),
    )


def test_a_bound_on_a_field_that_is_no_time_is_a_problem() -> None:
    text = changed("        type: string\n", "        type: string\n        not_after: now\n")
    assert problems_of(text) == [
        Problem(
            FILE,
            line_of(text, "type: string") + 1,
            "transitions[0].fields[2].not_after",
            "only date, datetime fields take not_after",
        )
    ]


def test_an_unknown_bound_value_is_a_problem() -> None:
    text = changed(
        "type: datetime\n        not_after: now", "type: datetime\n        not_after: tomorrow"
    )
    assert problems_of(text) == [
        Problem(
            FILE,
            line_of(text, "not_after: tomorrow"),
            "transitions[0].fields[0].not_after",
            "unknown time bound 'tomorrow' (known: now)",
        )
    ]


def test_an_unknown_backdate_role_is_a_problem() -> None:
    text = changed("backdate_roles: [marketing_manager]", "backdate_roles: [boss]")
    (p,) = problems_of(text)
    assert (p.line, p.path) == (
        line_of(text, "backdate_roles"),
        "create.fields[0].backdate_roles[0]",
    )
    assert p.message.startswith("unknown role 'boss' (known: ")


def test_backdate_roles_without_not_before_is_a_problem() -> None:
    text = changed("      not_before: now\n", "")
    assert problems_of(text) == [
        Problem(
            FILE,
            line_of(text, "backdate_roles"),
            "create.fields[0].backdate_roles",
            "backdate_roles needs not_before: only a lower bound can be back-dated",
        )
    ]


def test_backdate_roles_must_be_a_list() -> None:
    text = changed("backdate_roles: [marketing_manager]", "backdate_roles: marketing_manager")
    (p,) = problems_of(text)
    assert (p.path, p.message) == (
        "create.fields[0].backdate_roles",
        "must be a non-empty list of roles",
    )


def test_a_field_bounded_both_ways_by_now_is_a_problem() -> None:
    text = changed("      not_before: now\n", "      not_before: now\n      not_after: now\n")
    (p,) = problems_of(text)
    assert (p.path, p.message) == (
        "create.fields[0].not_after",
        "a field cannot be both not_before and not_after the same bound",
    )


# -- actual times: not after now -------------------------------------------------------------


def test_an_actual_time_in_the_future_is_refused_naming_the_field(wf: Workflow) -> None:
    errors = refusal(finish, wf, {"done_at": "2030-01-01T00:00:00+08:00"})
    assert errors == {"done_at": ["must not be in the future"]}


@pytest.mark.parametrize(
    "delta", [timedelta(0), timedelta(hours=-3), timedelta(minutes=4, seconds=59)]
)
def test_an_actual_time_up_to_now_and_the_allowance_is_accepted(
    wf: Workflow, delta: timedelta
) -> None:
    outcome = finish(wf, {"done_at": (NOW + delta).isoformat()})
    assert outcome.data["done_at"] == NOW + delta


def test_the_allowance_is_the_workflows_clock_skew(wf: Workflow) -> None:
    just_past = {"done_at": (NOW + timedelta(minutes=5, seconds=1)).isoformat()}
    assert refusal(finish, wf, just_past) == {"done_at": ["must not be in the future"]}
    lenient = Workflow(wf.definition, wf.calendar, clock_skew=timedelta(minutes=10))
    assert (
        lenient.fire(Instance(1, "draft", 1, {}), "finish", STAFF, just_past, NOW).state == "done"
    )


def test_a_time_with_another_offset_is_compared_as_the_same_instant(wf: Workflow) -> None:
    # 10:00 in Shanghai is 02:00 UTC and 03:00 in Berlin (CET, UTC+1, in November)
    assert finish(wf, {"done_at": "2026-11-02T03:04:00+01:00"}).state == "done"
    errors = refusal(finish, wf, {"done_at": "2026-11-02T03:06:00+01:00"})
    assert errors == {"done_at": ["must not be in the future"]}


def test_an_actual_date_may_be_today_in_shanghai_not_tomorrow(wf: Workflow) -> None:
    late = datetime(2026, 11, 2, 15, 50, tzinfo=UTC)  # 23:50 in Shanghai
    assert finish(wf, {"done_on": "2026-11-02"}, late).state == "done"
    errors = refusal(finish, wf, {"done_on": "2026-11-03"}, late)
    assert errors == {"done_on": ["must not be after today"]}


def test_past_midnight_in_shanghai_the_new_day_is_today_while_utc_is_still_yesterday(
    wf: Workflow,
) -> None:
    after_midnight = datetime(2026, 11, 2, 16, 1, tzinfo=UTC)  # 00:01 on the 3rd in Shanghai
    assert finish(wf, {"done_on": "2026-11-03"}, after_midnight).state == "done"


def test_the_allowance_reaches_a_date_only_across_midnight(wf: Workflow) -> None:
    # 23:57 in Shanghai: five minutes on, it is the next day there
    almost = datetime(2026, 11, 2, 15, 57, tzinfo=UTC)
    assert finish(wf, {"done_on": "2026-11-03"}, almost).state == "done"
    earlier = datetime(2026, 11, 2, 15, 54, tzinfo=UTC)
    assert refusal(finish, wf, {"done_on": "2026-11-03"}, earlier) == {
        "done_on": ["must not be after today"]
    }


def test_every_field_out_of_bounds_is_named_at_once(wf: Workflow) -> None:
    errors = refusal(finish, wf, {"done_at": "2026-11-20T10:00:00+08:00", "done_on": "2026-11-20"})
    assert set(errors) == {"done_at", "done_on"}


def test_an_empty_optional_bounded_field_passes(wf: Workflow) -> None:
    assert finish(wf, {"note": "x"}).state == "done"


# -- planned times: not before now, unless the role may back-date -----------------------------


def test_a_planned_time_in_the_past_is_refused_for_a_role_that_may_not_back_date(
    wf: Workflow,
) -> None:
    errors = refusal(create, wf, STAFF, NOW - timedelta(days=1))
    assert errors == {"planned_at": ["must not be in the past"]}


def test_a_planned_time_within_the_allowance_is_not_back_dated(wf: Workflow) -> None:
    outcome = create(wf, STAFF, NOW - timedelta(minutes=4))
    assert BACKDATED not in outcome.json_data


def test_a_back_dating_role_may_plan_in_the_past_and_the_data_says_so(wf: Workflow) -> None:
    outcome = create(wf, MANAGER, NOW - timedelta(days=1))
    assert outcome.state == "draft"
    assert outcome.json_data[BACKDATED] == ["planned_at"]


def test_a_future_planned_time_by_a_back_dating_role_is_not_marked(wf: Workflow) -> None:
    outcome = create(wf, MANAGER, NOW + timedelta(days=1))
    assert BACKDATED not in outcome.json_data


def test_check_creation_applies_the_bounds_too(wf: Workflow) -> None:
    past = {"planned_at": (NOW - timedelta(hours=1)).isoformat()}
    assert refusal(wf.check_creation, STAFF, past, NOW) == {
        "planned_at": ["must not be in the past"]
    }
    assert wf.check_creation(MANAGER, past, NOW)["planned_at"] == NOW - timedelta(hours=1)


def test_a_system_actor_is_held_to_the_bounds(wf: Workflow) -> None:
    errors = refusal(create, wf, Actor.system(), NOW - timedelta(days=1))
    assert errors == {"planned_at": ["must not be in the past"]}


def test_a_date_bound_below_is_today_in_shanghai() -> None:
    text = BASE.replace(
        "      type: datetime\n      not_before: now", "      type: date\n      not_before: now"
    )
    wf = Workflow(load_text(text, FILE), BusinessCalendar(tz=SHANGHAI))
    at_0001 = datetime(2026, 11, 2, 16, 10, tzinfo=UTC)  # 00:10 on the 3rd in Shanghai
    assert wf.create(STAFF, {"planned_at": "2026-11-03"}, at_0001).data["planned_at"] == date(
        2026, 11, 3
    )
    with pytest.raises(InvalidData) as caught:
        wf.create(STAFF, {"planned_at": "2026-11-02"}, at_0001)
    assert caught.value.errors == {"planned_at": ["must not be before today"]}


def test_a_bare_date_in_a_datetime_field_compares_by_day(registry: Registry) -> None:
    notices = registry.get("rectification")
    sue = Actor("sue", "supervision", "management")
    data = {"department": "technical", "findings": "Late records."}
    late = datetime(2026, 11, 2, 20, 0, tzinfo=SHANGHAI)  # after closing time, still the 2nd
    assert notices.create(sue, {**data, "due_at": "2026-11-02"}, late).state == "issued"
    with pytest.raises(InvalidData) as caught:
        notices.create(sue, {**data, "due_at": "2026-11-01"}, late)
    assert caught.value.errors == {"due_at": ["must not be before today"]}
    with pytest.raises(InvalidData) as caught:
        notices.create(sue, {**data, "due_at": "2026-11-02T19:00:00+08:00"}, late)
    assert caught.value.errors == {"due_at": ["must not be in the past"]}
