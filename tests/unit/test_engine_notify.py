"""Who a creation or a transition tells: declared by `notify`, checked by the loader."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workflows import Actor, Workflow
from workflows.access import ActorKind
from workflows.calendar import BusinessCalendar
from workflows.engine import Instance
from workflows.errors import DefinitionError
from workflows.events import NotificationRequested, Target
from workflows.loader import load_text

TEXT = """\
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
  roles: [marketing_staff]
  notify: [department_manager:marketing]
  fields:
    - name: owner
      type: user
      label: {zh: 人, en: Who}
transitions:
  - trigger: finish
    source: draft
    dest: done
    label: {zh: 完成, en: Finish}
    roles: [marketing_staff]
    notify: [raiser, field:owner, field:helpers, role:management, department:team]
    fields:
      - name: helpers
        type: users
        label: {zh: 人, en: Who}
        sets: true
      - name: team
        type: department
        label: {zh: 人, en: Who}
        sets: true
"""


def problems(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(DefinitionError) as err:
        load_text(text, "t.yaml")
    return [(p.line, p.path, p.message) for p in err.value.problems]


def line(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def test_a_transition_without_notify_is_refused() -> None:
    text = TEXT.replace(
        "    notify: [raiser, field:owner, field:helpers, role:management, department:team]\n", ""
    )
    assert problems(text) == [
        (
            line(text, "  - trigger: finish"),
            "transitions[0].notify",
            "is required: who is told (an empty list [] if nobody)",
        )
    ]


def test_an_empty_notify_is_allowed() -> None:
    text = TEXT.replace(
        "[raiser, field:owner, field:helpers, role:management, department:team]", "[]"
    )
    assert load_text(text).transitions[0].notify == ()


def test_a_creation_without_notify_is_refused() -> None:
    text = TEXT.replace("  notify: [department_manager:marketing]\n", "")
    assert problems(text) == [
        (
            line(text, "create:"),
            "create.notify",
            "is required: who is told (an empty list [] if nobody)",
        )
    ]


def test_an_unknown_target_kind_is_refused() -> None:
    text = TEXT.replace("[raiser, field:owner", "[boss, field:owner")
    [(at, path, message)] = problems(text)
    assert (at, path) == (line(text, "notify: [boss"), "transitions[0].notify[0]")
    assert message.startswith("unknown recipient 'boss' (known: ")


def test_an_unknown_role_is_refused() -> None:
    text = TEXT.replace("role:management", "role:chief")
    assert problems(text) == [
        (line(text, "role:chief"), "transitions[0].notify[3]", "unknown role 'chief'")
    ]


def test_a_field_target_names_an_existing_user_attribute() -> None:
    text = TEXT.replace("field:owner", "field:nobody").replace("field:helpers", "field:team")
    assert problems(text) == [
        (
            line(text, "field:nobody"),
            "transitions[0].notify[1]",
            "no creation field or transition sets 'nobody'",
        ),
        (
            line(text, "field:nobody"),
            "transitions[0].notify[2]",
            "'team' is a department, not a user or users",
        ),
    ]


def test_the_real_definitions_declare_notify_everywhere() -> None:
    from workflows.loader import check_dir

    definitions, found = check_dir("definitions")
    assert found == []
    for d in definitions:
        assert d.create.notify, d.name
        assert all(t.notify for t in d.transitions), d.name


def _workflow() -> Workflow:
    return Workflow(load_text(TEXT), BusinessCalendar())


def _actor(name: str) -> Actor:
    return Actor(name, "marketing_staff", "marketing", ActorKind.USER)


NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_create_and_fire_request_the_declared_notification() -> None:
    wf = _workflow()
    created = wf.create(_actor("mary"), {"owner": "olga"}, NOW)
    [told] = [e for e in created.events if isinstance(e, NotificationRequested)]
    assert (told.kind, told.deadline_kind, told.actor) == ("transition", "create", "mary")
    assert told.targets == (Target("department_manager", "marketing"),)

    instance = Instance(1, "draft", 1, created.attributes)
    fired = wf.fire(
        instance, "finish", _actor("mary"), {"helpers": ["hal", "olga"], "team": "tech"}, NOW
    )
    [told] = [e for e in fired.events if isinstance(e, NotificationRequested)]
    assert (told.deadline_kind, told.label.en, told.actor) == ("finish", "Finish", "mary")
    assert told.targets == (
        Target("user", "mary"),
        Target("user", "olga"),
        Target("user", "hal"),
        Target("role", "management"),
        Target("department", "tech"),
    )
