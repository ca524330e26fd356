"""Mermaid diagrams, several versions side by side, and migration plans between them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workflows.__main__ import main
from workflows.diagram import mermaid
from workflows.errors import DefinitionError, MigrationError, UnknownWorkflow
from workflows.loader import load_text
from workflows.registry import Blocked, Move, Registry, plan_migration
from workflows.spec import Definition

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "definitions"

V1 = """\
name: review
version: 1
label: {zh: 审核, en: Review}
initial: draft
states:
  draft:
    label: {zh: 草稿, en: Draft}
  in_review:
    label: {zh: 审核中, en: In review}
  parked:
    label: {zh: 搁置, en: Parked}
  done:
    label: {zh: 完成, en: Done}
    final: true
transitions:
  - trigger: submit
    source: draft
    dest: in_review
    label: {zh: 提交, en: Submit}
    roles: [marketing_staff]
    notify: []
  - trigger: approve
    source: in_review
    dest: done
    label: {zh: 通过, en: Approve}
    roles: [marketing_manager]
    notify: []
  - trigger: park
    source: draft
    dest: parked
    label: {zh: 搁置, en: Park}
    roles: [marketing_staff]
    notify: []
  - trigger: resume
    source: parked
    dest: draft
    label: {zh: 恢复, en: Resume}
    roles: [marketing_staff]
    notify: []
"""

# v2 renames in_review to checking (mapped) and removes parked (not mapped).
V2 = """\
name: review
version: 2
label: {zh: 审核, en: Review}
initial: draft
states:
  draft:
    label: {zh: 草稿, en: Draft}
  checking:
    label: {zh: 检查中, en: Checking}
  done:
    label: {zh: 完成, en: Done}
    final: true
transitions:
  - trigger: submit
    source: draft
    dest: checking
    label: {zh: 提交, en: Submit}
    roles: [marketing_staff]
    notify: []
  - trigger: approve
    source: checking
    dest: done
    label: {zh: 通过, en: "Approve \\"fully\\""}
    roles: [marketing_manager]
    notify: []
migrations:
  - from_version: 1
    states: {in_review: checking}
"""

BLOCKED_PARKED = "version 2 has no state 'parked' and the migration maps none"


@pytest.fixture(scope="module")
def visit() -> Definition:
    path = DEFINITIONS / "visit.yaml"
    return load_text(path.read_text(encoding="utf-8"), str(path))


def versions_dir(folder: Path, v2: str = V2) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "review_v1.yaml").write_text(V1, encoding="utf-8")
    (folder / "review_v2.yaml").write_text(v2, encoding="utf-8")
    return folder


@pytest.fixture
def two_versions(tmp_path: Path) -> Registry:
    return Registry.from_dir(versions_dir(tmp_path))


# -- diagrams -----------------------------------------------------------------------------


def test_diagram_starts_at_the_initial_state(visit: Definition) -> None:
    lines = mermaid(visit).splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    [*] --> planned" in lines


def test_diagram_has_an_edge_for_every_transition_source(visit: Definition) -> None:
    lines = mermaid(visit).splitlines()
    edges = [f"    {s} --> {t.dest}: {t.label.en}" for t in visit.transitions for s in t.sources]
    assert len(edges) > len(visit.transitions)  # cancel and reschedule have two sources
    for edge in edges:
        assert edge in lines
    assert "    prepared --> planned: Reschedule visit" in lines


def test_diagram_ends_every_final_state(visit: Definition) -> None:
    lines = mermaid(visit).splitlines()
    ends = {line.split(" --> ")[0].strip() for line in lines if line.endswith("--> [*]")}
    assert ends == {"reported", "cancelled"}


def test_diagram_in_chinese(visit: Definition) -> None:
    out = mermaid(visit, lang="zh")
    assert '    state "已计划" as planned' in out
    assert "    planned --> prepared: 完成走访准备" in out
    assert "Planned" not in out
    assert "Mark prepared" not in out


def test_diagram_in_english_by_default(visit: Definition) -> None:
    assert '    state "Planned" as planned' in mermaid(visit)


def test_diagram_of_an_unknown_current_state_is_refused(visit: Definition) -> None:
    with pytest.raises(ValueError, match="nowhere"):
        mermaid(visit, current="nowhere")


def test_diagram_quotes_in_labels_cannot_break_the_diagram(two_versions: Registry) -> None:
    out = mermaid(two_versions.get("review").definition)
    assert "    checking --> done: Approve 'fully'" in out
    assert '"fully"' not in out


# -- several versions side by side --------------------------------------------------------


def test_get_without_version_is_the_latest(two_versions: Registry) -> None:
    assert two_versions.get("review").definition.version == 2


def test_an_older_version_is_still_available(two_versions: Registry) -> None:
    old = two_versions.get("review", 1).definition
    assert old.version == 1
    assert "parked" in old.states


def test_versions_lists_every_loaded_version(two_versions: Registry) -> None:
    assert two_versions.versions("review") == [1, 2]
    assert two_versions.names() == ["review"]


def test_an_unloaded_version_is_unknown(two_versions: Registry) -> None:
    with pytest.raises(UnknownWorkflow):
        two_versions.get("review", 3)


# -- migration plans ----------------------------------------------------------------------


def test_plan_moves_mapped_and_same_name_states_and_blocks_removed_ones(
    two_versions: Registry,
) -> None:
    plan = plan_migration(
        two_versions,
        "review",
        1,
        2,
        [(1, "draft"), (2, "in_review"), (3, "parked"), (4, "done")],
    )
    assert plan.moves == [
        Move(1, "draft", "draft"),
        Move(2, "in_review", "checking"),
        Move(4, "done", "done"),
    ]
    assert plan.blocked == [Blocked(3, "parked", BLOCKED_PARKED)]


def test_plan_blocks_a_state_unknown_to_the_old_version(two_versions: Registry) -> None:
    plan = plan_migration(two_versions, "review", 1, 2, [(7, "checking")])
    assert plan.moves == []
    assert plan.blocked == [Blocked(7, "checking", "not a state of version 1")]


def test_plan_needs_a_declared_migration(two_versions: Registry) -> None:
    with pytest.raises(MigrationError, match="no migration from version 2"):
        plan_migration(two_versions, "review", 2, 1, [(1, "draft")])


def test_migration_to_an_unknown_state_is_refused(tmp_path: Path) -> None:
    folder = versions_dir(tmp_path, V2.replace("{in_review: checking}", "{in_review: nowhere}"))
    with pytest.raises(DefinitionError) as caught:
        Registry.from_dir(folder)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("migrations[0].states.in_review", "'nowhere' is not a state of version 2")
    ]
    assert caught.value.problems[0].file == str(folder / "review_v2.yaml")


def test_migration_from_an_unknown_old_state_is_refused(tmp_path: Path) -> None:
    folder = versions_dir(tmp_path, V2.replace("{in_review: checking}", "{reviewing: checking}"))
    with pytest.raises(DefinitionError) as caught:
        Registry.from_dir(folder)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("migrations[0].states.reviewing", "'reviewing' is not a state of version 1")
    ]


def test_migration_from_a_version_not_loaded_is_refused(tmp_path: Path) -> None:
    (tmp_path / "review_v2.yaml").write_text(V2, encoding="utf-8")
    with pytest.raises(DefinitionError, match="no review version 1 loaded"):
        Registry.from_dir(tmp_path)


def test_check_reports_a_migration_to_an_unknown_state(tmp_path: Path) -> None:
    folder = versions_dir(tmp_path, V2.replace("{in_review: checking}", "{in_review: nowhere}"))
    assert main(["check", str(folder)]) == 1


# -- the migrate command ------------------------------------------------------------------


def write_instances(folder: Path, rows: list[dict[str, object]]) -> Path:
    path = folder / "instances.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_migrate_prints_the_plan_and_fails_when_something_is_blocked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = versions_dir(tmp_path / "defs")
    rows: list[dict[str, object]] = [
        {"id": 1, "state": "in_review"},
        {"id": 2, "state": "parked"},
    ]
    instances = write_instances(tmp_path, rows)
    code = main(
        ["migrate", "review", "1", "2", "--instances", str(instances), "--dir", str(folder)]
    )
    assert code == 1
    assert capsys.readouterr().out.splitlines() == [
        "review 1 -> 2: 1 move, 1 cannot",
        "  move 1: in_review -> checking",
        f"  cannot move 2 (parked): {BLOCKED_PARKED}",
    ]


def test_migrate_succeeds_when_every_instance_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = versions_dir(tmp_path / "defs")
    instances = write_instances(tmp_path, [{"id": "a", "state": "draft"}])
    code = main(
        ["migrate", "review", "1", "2", "--instances", str(instances), "--dir", str(folder)]
    )
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        "review 1 -> 2: 1 move, 0 cannot",
        "  move a: draft -> draft",
    ]


def test_migrate_with_a_missing_instances_file_is_an_error(tmp_path: Path) -> None:
    folder = versions_dir(tmp_path / "defs")
    missing = str(tmp_path / "missing.jsonl")
    code = main(["migrate", "review", "1", "2", "--instances", missing, "--dir", str(folder)])
    assert code == 2
