"""The loader: every class of definition problem, located by file, line and key path."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from workflows.access import PARTICIPATION
from workflows.errors import DefinitionError, Problem
from workflows.guards import GUARDS
from workflows.loader import check_dir, load_text
from workflows.spec import ROLES

FILE = "t.yaml"

# A minimal valid definition; each test breaks one thing in it.
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
  notify: []
  roles: [marketing_staff]
  fields:
    - name: title
      type: string
      label: {zh: 标题, en: Title}
    - name: due_at
      type: datetime
      label: {zh: 期限, en: Due}
transitions:
  - trigger: finish
    source: draft
    dest: done
    label: {zh: 完成, en: Finish}
    notify: []
    roles: [marketing_staff]
  - trigger: abandon
    source: draft
    dest: done
    label: {zh: 放弃, en: Abandon}
    notify: []
    roles: [marketing_manager]
    fields:
      - name: reason
        type: text
        required: true
        label: {zh: 原因, en: Reason}
"""

DRAFT_LABEL = "    label: {zh: 草稿, en: Draft}\n"
ABANDON_ROLES = "    roles: [marketing_manager]\n"
NEW_FIELD = "transitions[1].fields[1]"  # the path of a field appended by with_field()


# -- helpers ------------------------------------------------------------------------------


def replace_once(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def lines_of(text: str, needle: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]


def line_of(text: str, needle: str) -> int:
    found = lines_of(text, needle)
    assert len(found) == 1, f"{needle!r} is on lines {found}"
    return found[0]


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        load_text(text, FILE)
    return caught.value.problems


def problem(line: int, path: str, message: str) -> Problem:
    return Problem(FILE, line, path, message)


def known(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


def with_deadline(block: str, text: str = BASE) -> str:
    """`text` with a deadline (indented 6 spaces, under `deadline:`) on state draft."""
    return replace_once(DRAFT_LABEL, DRAFT_LABEL + "    deadline:\n" + block, text)


def with_field(block: str, text: str = BASE) -> str:
    """`text` with one more field (indented 8 spaces, after `- `) on transition abandon."""
    return text + "      - " + block.lstrip()


# -- the base is valid --------------------------------------------------------------------


def test_the_base_definition_loads() -> None:
    d = load_text(BASE, FILE)
    assert d.key == ("t", 1)
    assert d.source == FILE
    assert [t.trigger for t in d.transitions] == ["finish", "abandon"]


# -- YAML level ---------------------------------------------------------------------------


def test_invalid_yaml_syntax_reports_the_line() -> None:
    text = replace_once("    final: true", "   final: true")
    (p,) = problems_of(text)
    assert (p.file, p.line, p.path) == (FILE, line_of(text, "   final: true"), "")
    assert p.message.startswith("invalid YAML: ")


def test_duplicate_key_is_reported_at_its_second_occurrence() -> None:
    text = replace_once("    final: true\n", "    final: true\n    final: false\n")
    assert problems_of(text) == [
        problem(line_of(text, "final: false"), "states.done.final", "duplicate key")
    ]


def test_unknown_top_level_key() -> None:
    text = BASE + "colour: red\n"
    assert problems_of(text) == [
        problem(
            line_of(text, "colour"),
            "colour",
            "unknown key (expected one of create, description, groups, initial, label,"
            " migrations, name, states, transitions, version)",
        )
    ]


def test_bad_version_is_refused() -> None:
    for bad in ("0", "-1", "one", "true", "1.5"):
        text = replace_once("version: 1", f"version: {bad}")
        assert problems_of(text) == [problem(2, "version", "must be an integer of at least 1")], bad


# -- labels -------------------------------------------------------------------------------


def test_label_missing_a_language() -> None:
    text = replace_once("label: {zh: 草稿, en: Draft}", "label: {zh: 草稿}")
    assert problems_of(text) == [
        problem(line_of(text, "{zh: 草稿}"), "states.draft.label.en", "must be non-empty text")
    ]


def test_label_with_an_empty_language() -> None:
    text = replace_once("label: {zh: 放弃, en: Abandon}", "label: {zh: '', en: Abandon}")
    assert problems_of(text) == [
        problem(line_of(text, "en: Abandon"), "transitions[1].label.zh", "must be non-empty text")
    ]


def test_an_empty_label_mapping_is_a_problem() -> None:
    text = replace_once("label: {zh: 测试, en: Test}", "label: {}")
    assert problems_of(text) != []


# -- states and the graph -----------------------------------------------------------------


def test_unknown_state_in_dest() -> None:
    text = replace_once(
        "  - trigger: abandon\n    source: draft\n    dest: done\n",
        "  - trigger: abandon\n    source: draft\n    dest: finished\n",
    )
    assert problems_of(text) == [
        problem(
            line_of(text, "dest: finished"),
            "transitions[1].dest",
            "unknown state 'finished' (known: done, draft)",
        )
    ]


def test_unknown_state_in_source() -> None:
    text = replace_once(
        "  - trigger: abandon\n    source: draft\n",
        "  - trigger: abandon\n    source: nowhere\n",
    )
    assert problems_of(text) == [
        problem(
            line_of(text, "source: nowhere"),
            "transitions[1].source",
            "unknown state 'nowhere' (known: done, draft)",
        )
    ]


def test_unknown_state_in_a_source_list_names_the_item() -> None:
    text = replace_once(
        "  - trigger: abandon\n    source: draft\n",
        "  - trigger: abandon\n    source:\n      - draft\n      - nowhere\n",
    )
    assert problems_of(text) == [
        problem(
            line_of(text, "- nowhere"),
            "transitions[1].source[1]",
            "unknown state 'nowhere' (known: done, draft)",
        )
    ]


def test_unknown_initial_state() -> None:
    text = replace_once("initial: draft", "initial: start")
    assert problem(4, "initial", "unknown state 'start' (known: done, draft)") in problems_of(text)


def test_unreachable_state() -> None:
    text = replace_once(
        "    final: true\n",
        "    final: true\n  archived:\n    label: {zh: 归档, en: Archived}\n    final: true\n",
    )
    assert problems_of(text) == [
        problem(
            line_of(text, "archived:"),
            "states.archived",
            "state 'archived' cannot be reached from 'draft'",
        )
    ]


def test_non_final_state_without_a_way_out() -> None:
    text = replace_once(
        "    final: true\n",
        "    final: true\n  waiting:\n    label: {zh: 等待, en: Waiting}\n",
    )
    text = replace_once(
        "  - trigger: abandon\n    source: draft\n    dest: done\n",
        "  - trigger: abandon\n    source: draft\n    dest: waiting\n",
        text,
    )
    assert problems_of(text) == [
        problem(
            line_of(text, "waiting:"),
            "states.waiting",
            "state 'waiting' is not final but has no way out",
        )
    ]


def test_transition_out_of_a_final_state() -> None:
    text = BASE + (
        "  - trigger: reopen\n"
        "    source: done\n"
        "    dest: draft\n"
        "    label: {zh: 重开, en: Reopen}\n"
        "    roles: [marketing_manager]\n"
        "    notify: []\n"
    )
    assert problems_of(text) == [
        problem(
            line_of(text, "source: done"),
            "transitions[2].source",
            "'done' is final: no transition may leave it",
        )
    ]


def test_no_final_state() -> None:
    text = replace_once("    final: true\n", "")
    text += (
        "  - trigger: restart\n"
        "    source: done\n"
        "    dest: draft\n"
        "    label: {zh: 重来, en: Restart}\n"
        "    roles: [marketing_manager]\n"
        "    notify: []\n"
    )
    assert problems_of(text) == [
        problem(line_of(text, "states:"), "states", "at least one state must be final")
    ]


def test_an_empty_initial_list_is_a_problem() -> None:
    text = replace_once("initial: draft", "initial: []")
    assert problems_of(text) != []


def test_initial_must_be_one_state() -> None:
    text = replace_once("initial: draft", "initial: [draft, done]")
    assert [p.path for p in problems_of(text)] == ["initial"]


# -- transitions --------------------------------------------------------------------------


def test_two_transitions_with_the_same_trigger_and_source() -> None:
    text = replace_once("trigger: abandon", "trigger: finish")
    assert problems_of(text) == [
        problem(
            line_of(BASE, "trigger: abandon"),
            "transitions[1].trigger",
            "trigger 'finish' from 'draft' is already defined by transitions[0]",
        )
    ]


def test_unknown_role() -> None:
    text = replace_once(ABANDON_ROLES, "    roles: [chief]\n")
    assert problems_of(text) == [
        problem(
            line_of(text, "roles: [chief]"),
            "transitions[1].roles[0]",
            f"unknown role 'chief' (known: {known(ROLES)})",
        )
    ]


def test_unknown_role_in_create() -> None:
    text = replace_once("  roles: [marketing_staff]\n  fields:", "  roles: [boss]\n  fields:")
    assert problems_of(text) == [
        problem(
            line_of(text, "roles: [boss]"),
            "create.roles[0]",
            f"unknown role 'boss' (known: {known(ROLES)})",
        )
    ]


def test_an_unknown_role_does_not_make_states_unreachable() -> None:
    # finish (draft -> done) has an unknown role; abandon no longer reaches done
    text = replace_once("[marketing_staff]\n  - trigger", "[chief]\n  - trigger")
    text = replace_once(
        "dest: done\n    label: {zh: 放弃", "dest: draft\n    label: {zh: 放弃", text
    )
    assert [p.path for p in problems_of(text)] == ["transitions[0].roles[0]"]


def test_unknown_participation_rule() -> None:
    text = replace_once(ABANDON_ROLES, ABANDON_ROLES + "    participation: [owner]\n")
    assert problems_of(text) == [
        problem(
            line_of(text, "participation:"),
            "transitions[1].participation[0]",
            f"unknown participation rule 'owner' (known: {known(PARTICIPATION)})",
        )
    ]


def test_unknown_guard() -> None:
    text = replace_once(ABANDON_ROLES, ABANDON_ROLES + "    guards: [always_ok]\n")
    assert problems_of(text) == [
        problem(
            line_of(text, "guards:"),
            "transitions[1].guards[0]",
            f"unknown guard 'always_ok' (known: {known(GUARDS)})",
        )
    ]


def test_guard_needing_a_field_the_transition_lacks() -> None:
    text = replace_once(ABANDON_ROLES, ABANDON_ROLES + "    guards: [due_in_future]\n")
    assert problems_of(text) == [
        problem(
            line_of(text, "guards:"),
            "transitions[1].guards",
            "guard 'due_in_future' needs a field 'due_at'",
        )
    ]


def test_guard_with_its_field_is_accepted() -> None:
    text = replace_once(ABANDON_ROLES, ABANDON_ROLES + "    guards: [due_in_future]\n")
    text = with_field(
        """
        name: due_at
        type: date
        label: {zh: 期限, en: Deadline}
""",
        text,
    )
    d = load_text(text, FILE)
    assert d.transitions[1].guards == ("due_in_future",)


# -- fields -------------------------------------------------------------------------------


def test_unknown_field_type() -> None:
    text = replace_once("type: text", "type: blob")
    assert problems_of(text) == [
        problem(
            line_of(text, "type: blob"),
            "transitions[1].fields[0].type",
            "unknown field type 'blob' (known: boolean, choice, date, datetime, department,"
            " geo, integer, multi_choice, number, rating, string, text, user, users)",
        )
    ]


def test_choice_field_without_choices() -> None:
    text = with_field(
        """
        name: kind
        type: choice
        label: {zh: 类别, en: Kind}
"""
    )
    assert problems_of(text) == [
        problem(line_of(text, "name: kind"), f"{NEW_FIELD}.choices", "a choice field needs choices")
    ]


def test_choices_on_a_field_that_is_not_a_choice() -> None:
    text = with_field(
        """
        name: kind
        type: string
        label: {zh: 类别, en: Kind}
        choices:
          - {value: a, label: {zh: 甲, en: A}}
"""
    )
    assert problems_of(text) == [
        problem(
            line_of(text, "choices:"),
            f"{NEW_FIELD}.choices",
            "only choice and multi_choice fields take choices",
        )
    ]


def test_duplicate_choice_value() -> None:
    text = with_field(
        """
        name: kind
        type: multi_choice
        label: {zh: 类别, en: Kind}
        choices:
          - {value: a, label: {zh: 甲, en: First}}
          - {value: a, label: {zh: 乙, en: Second}}
"""
    )
    assert problems_of(text) == [
        problem(line_of(text, "Second"), f"{NEW_FIELD}.choices[1].value", "choice 'a' listed twice")
    ]


def test_duplicate_field_name() -> None:
    text = with_field(
        """
        name: reason
        type: string
        label: {zh: 原因二, en: Reason again}
"""
    )
    assert problems_of(text) == [
        problem(
            lines_of(text, "name: reason")[1], f"{NEW_FIELD}.name", "field 'reason' declared twice"
        )
    ]


def test_max_length_on_an_integer_field() -> None:
    text = with_field(
        """
        name: count
        type: integer
        max_length: 10
        label: {zh: 数量, en: Count}
"""
    )
    assert problems_of(text) == [
        problem(
            line_of(text, "max_length"),
            f"{NEW_FIELD}.max_length",
            "only string, text fields take max_length",
        )
    ]


def test_min_greater_than_max() -> None:
    text = with_field(
        """
        name: count
        type: integer
        min: 5
        max: 1
        label: {zh: 数量, en: Count}
"""
    )
    assert problems_of(text) == [
        problem(line_of(text, "min: 5"), f"{NEW_FIELD}.min", "min is greater than max")
    ]


# -- deadlines ----------------------------------------------------------------------------


DEADLINE_HEAD = """\
      kind: work
      label: {zh: 期限, en: Work deadline}
"""


def test_a_valid_deadline_loads() -> None:
    d = load_text(with_deadline(DEADLINE_HEAD + "      at_field: due_at\n"), FILE)
    deadline = d.states["draft"].deadline
    assert deadline is not None
    assert (deadline.kind, deadline.at_field, deadline.after) == ("work", "due_at", None)


def test_bad_duration_unit() -> None:
    text = with_deadline(DEADLINE_HEAD + "      after: {weeks: 1}\n")
    assert problems_of(text) == [
        problem(
            line_of(text, "after:"),
            "states.draft.deadline.after",
            "unknown duration unit 'weeks': expected one of working_days, hours, days",
        )
    ]


def test_deadline_with_both_after_and_at_field() -> None:
    text = with_deadline(DEADLINE_HEAD + "      after: {hours: 4}\n      at_field: due_at\n")
    assert problems_of(text) == [
        problem(
            line_of(text, "deadline:"),
            "states.draft.deadline",
            "needs exactly one of after or at_field",
        )
    ]


def test_deadline_with_neither_after_nor_at_field() -> None:
    text = with_deadline(DEADLINE_HEAD)
    assert problems_of(text) == [
        problem(
            line_of(text, "deadline:"),
            "states.draft.deadline",
            "needs exactly one of after or at_field",
        )
    ]


def test_at_field_naming_an_attribute_nobody_sets() -> None:
    text = with_deadline(DEADLINE_HEAD + "      at_field: visit_at\n")
    assert problems_of(text) == [
        problem(
            line_of(text, "at_field:"),
            "states.draft.deadline.at_field",
            "no creation field or transition sets 'visit_at'",
        )
    ]


def test_at_field_may_name_an_attribute_a_transition_sets() -> None:
    text = with_field(
        """
        name: visit_at
        type: date
        sets: true
        label: {zh: 走访日期, en: Visit date}
"""
    )
    text = with_deadline(DEADLINE_HEAD + "      at_field: visit_at\n", text)
    deadline = load_text(text, FILE).states["draft"].deadline
    assert deadline is not None
    assert deadline.at_field == "visit_at"


def test_at_field_naming_an_attribute_that_is_not_a_time() -> None:
    text = with_deadline(DEADLINE_HEAD + "      at_field: title\n")
    assert problems_of(text) == [
        problem(
            line_of(text, "at_field:"),
            "states.draft.deadline.at_field",
            "'title' is a string, not a date or datetime",
        )
    ]


def test_unknown_recipient() -> None:
    text = with_deadline(
        DEADLINE_HEAD
        + "      after: {hours: 4}\n"
        + "      on_expiry:\n"
        + "        notify:\n"
        + "          - visitors\n"
        + "          - boss\n"
    )
    assert problems_of(text) == [
        problem(
            line_of(text, "- boss"),
            "states.draft.deadline.on_expiry.notify[1]",
            "unknown recipient 'boss' (known: raiser, responsible_person, visitors,"
            " or department:REF, department_manager:REF, field:REF, role:REF)",
        )
    ]


def test_rectification_department_is_checked_on_an_after_deadline() -> None:
    text = with_deadline(
        DEADLINE_HEAD
        + "      after: {hours: 4}\n"
        + "      on_expiry:\n"
        + "        rectification:\n"
        + "          department: no_such_attr\n"
        + "          findings: {zh: 逾期, en: Overdue}\n"
    )
    assert [p.path for p in problems_of(text)] == [
        "states.draft.deadline.on_expiry.rectification.department"
    ]


def test_an_empty_deadline_is_a_problem() -> None:
    text = replace_once(DRAFT_LABEL, DRAFT_LABEL + "    deadline: {}\n")
    assert problems_of(text) != []


# -- many problems, folders ---------------------------------------------------------------


def several_problems() -> str:
    text = BASE + "colour: red\n"  # top-level key, last line
    text = replace_once("label: {zh: 草稿, en: Draft}", "label: {zh: 草稿}", text)  # states
    text = replace_once("  roles: [marketing_staff]\n  fields:", "  roles: [boss]\n  fields:", text)
    return replace_once("type: text", "type: blob", text)  # transitions, after create


def test_a_file_with_several_problems_reports_them_all() -> None:
    text = several_problems()
    found = problems_of(text)
    assert len(found) >= 3
    assert {(p.line, p.path) for p in found} == {
        (line_of(text, "colour"), "colour"),
        (line_of(text, "{zh: 草稿}"), "states.draft.label.en"),
        (line_of(text, "roles: [boss]"), "create.roles[0]"),
        (line_of(text, "type: blob"), "transitions[1].fields[0].type"),
    }


def test_a_file_with_several_problems_reports_them_in_file_order() -> None:
    lines = [p.line for p in problems_of(several_problems())]
    assert len(lines) >= 3
    assert lines == sorted(lines)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_dir_returns_good_definitions_and_the_problems_of_broken_files(
    tmp_path: Path,
) -> None:
    write(tmp_path, "good.yaml", BASE)
    broken_text = replace_once("name: t\n", "name: u\n").replace("type: text", "type: blob")
    broken = write(tmp_path, "broken.yaml", broken_text)
    definitions, problems = check_dir(tmp_path)
    assert [d.key for d in definitions] == [("t", 1)]
    assert [(p.file, p.line, p.path) for p in problems] == [
        (str(broken), line_of(broken_text, "type: blob"), "transitions[1].fields[0].type")
    ]


def test_check_dir_refuses_two_files_with_the_same_name_and_version(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", BASE)
    second = write(tmp_path, "b.yaml", BASE)
    definitions, problems = check_dir(tmp_path)
    assert [d.source for d in definitions] == [str(first)]
    assert problems == [
        Problem(str(second), 2, "version", f"t version 1 is also defined in {first}")
    ]


def test_check_dir_accepts_two_versions_of_one_name(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", BASE)
    write(tmp_path, "b.yaml", replace_once("version: 1", "version: 2"))
    definitions, problems = check_dir(tmp_path)
    assert problems == []
    assert sorted(d.key for d in definitions) == [("t", 1), ("t", 2)]


def test_check_dir_on_a_folder_without_definitions(tmp_path: Path) -> None:
    definitions, problems = check_dir(tmp_path)
    assert definitions == []
    assert [p.message for p in problems] == ["no definition files (*.yaml)"]


# -- state groups -------------------------------------------------------------------------


def test_a_state_group_loads_in_declared_order() -> None:
    d = load_text(BASE + "groups:\n  settled: [done, draft]\n", FILE)
    assert d.groups == {"settled": ("done", "draft")}
    assert d.group("settled") == ("done", "draft")


def test_a_definition_without_groups_has_none() -> None:
    d = load_text(BASE, FILE)
    assert d.groups == {}
    with pytest.raises(KeyError, match="t version 1 declares no state group 'settled'"):
        d.group("settled")


def test_a_state_group_naming_an_unknown_state() -> None:
    text = BASE + "groups:\n  settled: [done, finished]\n"
    assert problems_of(text) == [
        problem(
            line_of(text, "settled"),
            "groups.settled[1]",
            f"unknown state 'finished' (known: {known(['draft', 'done'])})",
        )
    ]


def test_a_state_group_must_list_states() -> None:
    for bad in ("[]", "done", "{done: 1}"):
        text = BASE + f"groups:\n  settled: {bad}\n"
        assert problems_of(text) == [
            problem(
                line_of(text, "settled"), "groups.settled", "must be a non-empty list of states"
            )
        ], bad


def test_a_state_listed_twice_in_a_group() -> None:
    text = BASE + "groups:\n  settled: [done, done]\n"
    assert problems_of(text) == [
        problem(line_of(text, "settled"), "groups.settled[1]", "state 'done' listed twice")
    ]


def test_groups_must_be_a_mapping_of_names() -> None:
    text = BASE + "groups: [done]\n"
    assert problems_of(text) == [problem(line_of(text, "groups"), "groups", "must be a mapping")]
    text = BASE + "groups:\n  Settled: [done]\n"
    assert problems_of(text) == [
        problem(line_of(text, "Settled"), "groups.Settled", "must be a lower_snake_case name")
    ]
