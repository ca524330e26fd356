"""The real definitions in definitions/*.yaml: they load, and they encode the regulation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from workflows.loader import check_dir, load_text
from workflows.registry import Registry
from workflows.spec import Definition, FieldSpec, FieldType, Label, TimeBound, TransitionSpec

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "definitions"
FILES = sorted(DEFINITIONS.glob("*.yaml"))


@pytest.fixture(scope="module")
def repo_registry() -> Registry:
    return Registry.from_dir(DEFINITIONS)


@pytest.fixture(scope="module")
def visit(repo_registry: Registry) -> Definition:
    return repo_registry.get("visit").definition


@pytest.fixture(scope="module")
def issue(repo_registry: Registry) -> Definition:
    return repo_registry.get("issue").definition


@pytest.fixture(scope="module")
def rectification(repo_registry: Registry) -> Definition:
    return repo_registry.get("rectification").definition


def only_transition(d: Definition, trigger: str, source: str) -> TransitionSpec:
    t = d.transition(trigger, source)
    assert t is not None, f"{d.name} has no {trigger!r} from {source!r}"
    return t


def field(t: TransitionSpec, name: str) -> FieldSpec:
    by_name = {f.name: f for f in t.fields}
    assert name in by_name, f"{t.trigger} has no field {name!r}"
    return by_name[name]


def labels(d: Definition) -> Iterator[tuple[str, Label]]:
    """Every label of a definition, each with where it is."""
    yield "label", d.label
    if d.description is not None:
        yield "description", d.description

    def of_fields(where: str, fields: tuple[FieldSpec, ...]) -> Iterator[tuple[str, Label]]:
        for f in fields:
            yield f"{where}.{f.name}.label", f.label
            if f.help is not None:
                yield f"{where}.{f.name}.help", f.help
            for c in f.choices:
                yield f"{where}.{f.name}.choices.{c.value}", c.label

    for s in d.states.values():
        yield f"states.{s.name}.label", s.label
        if s.deadline is not None:
            yield f"states.{s.name}.deadline.label", s.deadline.label
            rect = s.deadline.on_expiry.rectification
            if rect is not None:
                yield f"states.{s.name}.deadline.rectification.findings", rect.findings
    yield from of_fields("create", d.create.fields)
    for t in d.transitions:
        yield f"transitions.{t.trigger}.label", t.label
        yield from of_fields(f"transitions.{t.trigger}", t.fields)


# -- loading ------------------------------------------------------------------------------


def test_there_are_definition_files() -> None:
    assert {p.name for p in FILES} >= {"visit.yaml", "issue.yaml", "rectification.yaml"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_definition_file_loads_on_its_own(path: Path) -> None:
    d = load_text(path.read_text(encoding="utf-8"), str(path))
    assert d.name == path.stem
    assert d.source == str(path)


def test_the_definitions_folder_has_no_problem() -> None:
    definitions, problems = check_dir(DEFINITIONS)
    assert problems == []
    assert {d.key for d in definitions} >= {("issue", 1), ("rectification", 1), ("visit", 1)}


def test_registry_loads_the_three_workflows(repo_registry: Registry) -> None:
    assert set(repo_registry.names()) >= {"issue", "rectification", "visit"}
    for name in ("issue", "rectification", "visit"):
        assert repo_registry.get(name).definition.name == name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_label_has_zh_and_en(path: Path) -> None:
    d = load_text(path.read_text(encoding="utf-8"), str(path))
    found = list(labels(d))
    assert len(found) > len(d.states)
    for where, label in found:
        assert label.zh.strip(), f"{where} has no zh text"
        assert label.en.strip(), f"{where} has no en text"
    for s in d.states.values():
        # the loader falls back to Label(name, name) when a state's label is unusable
        assert s.label != Label(s.name, s.name), f"states.{s.name} has no real label"


# -- visit --------------------------------------------------------------------------------


def test_visit_main_path_runs_planned_to_reported(visit: Definition) -> None:
    assert visit.initial == "planned"
    state = visit.initial
    path = [state]
    for trigger in ("prepare", "visit", "record", "report"):
        state = only_transition(visit, trigger, state).dest
        path.append(state)
    assert path == ["planned", "prepared", "visited", "recorded", "reported"]


def test_a_visit_took_place_once_visited_until_reported(visit: Definition) -> None:
    assert visit.group("took_place") == ("visited", "recorded", "reported")


def test_an_issue_is_solved_once_resolved_confirmed_or_not(issue: Definition) -> None:
    assert issue.group("solved") == ("resolved", "customer_confirmed")


def test_visit_ends_only_in_reported_or_cancelled(visit: Definition) -> None:
    assert {s.name for s in visit.states.values() if s.final} == {"reported", "cancelled"}


def test_visit_can_be_cancelled_from_planned_and_prepared_with_a_reason(
    visit: Definition,
) -> None:
    (cancel,) = visit.transitions_named("cancel")
    assert set(cancel.sources) == {"planned", "prepared"}
    assert cancel.dest == "cancelled"
    reason = field(cancel, "reason")
    assert reason.required
    assert reason.type in (FieldType.TEXT, FieldType.STRING)


def test_visit_cannot_be_cancelled_once_visited(visit: Definition) -> None:
    for state in ("visited", "recorded", "reported"):
        assert visit.transition("cancel", state) is None


def test_visit_reschedule_goes_back_to_planned_and_sets_planned_at(visit: Definition) -> None:
    for source in ("planned", "prepared"):
        reschedule = only_transition(visit, "reschedule", source)
        assert reschedule.dest == "planned"
        planned_at = field(reschedule, "planned_at")
        assert planned_at.required
        assert planned_at.type is FieldType.DATETIME
        assert planned_at.sets == "planned_at"
        assert planned_at.not_before is TimeBound.NOW
        assert planned_at.backdate_roles == {"marketing_manager"}


def test_visit_record_can_be_sent_back_for_rework(visit: Definition) -> None:
    rework = only_transition(visit, "rework", "recorded")
    assert rework.dest == "visited"
    assert field(rework, "reason").required


def test_visit_transitions_require_a_visitor_up_to_the_record(visit: Definition) -> None:
    for trigger, source in (("prepare", "planned"), ("visit", "prepared"), ("record", "visited")):
        assert "visitor" in only_transition(visit, trigger, source).participation
    # 四(三)1: only a visitor fills in the record; the manager is not exempt there
    assert only_transition(visit, "record", "visited").exempt_roles == frozenset()


# -- issue --------------------------------------------------------------------------------


def test_issue_assign_sets_department_person_and_due_date(issue: Definition) -> None:
    assign = only_transition(issue, "assign", "raised")
    assert assign.dest == "assigned"
    expected = {
        "responsible_department": FieldType.DEPARTMENT,
        "responsible_person": FieldType.USER,
        "due_at": FieldType.DATE,
    }
    for name, ftype in expected.items():
        f = field(assign, name)
        assert f.type is ftype, name
        assert f.required, name
        assert f.sets == name, name


def test_issue_resolution_deadline_runs_on_due_at_and_issues_a_rectification(
    issue: Definition,
) -> None:
    deadline = issue.states["assigned"].deadline
    assert deadline is not None
    assert deadline.at_field == "due_at"
    rect = deadline.on_expiry.rectification
    assert rect is not None
    assert rect.department == "responsible_department"


def test_issue_confirm_requires_a_satisfaction_rating(issue: Definition) -> None:
    confirm = only_transition(issue, "confirm", "resolved")
    assert confirm.dest == "customer_confirmed"
    satisfaction = field(confirm, "satisfaction")
    assert satisfaction.type is FieldType.RATING
    assert satisfaction.required


def test_issue_can_be_answered_on_the_spot(issue: Definition) -> None:
    answer = only_transition(issue, "answer_on_the_spot", "raised")
    assert answer.dest == "customer_confirmed"
    assert issue.states["customer_confirmed"].final


# -- rectification ------------------------------------------------------------------------


def test_rectification_return_sends_back_to_acknowledged_with_a_reason(
    rectification: Definition,
) -> None:
    back = only_transition(rectification, "return", "rectified")
    assert back.dest == "acknowledged"
    reason = field(back, "reason")
    assert reason.required
    assert back.roles == frozenset({"supervision"})


def test_rectification_is_issued_by_supervision_only(rectification: Definition) -> None:
    assert rectification.initial == "issued"
    assert rectification.create.roles == frozenset({"supervision"})
