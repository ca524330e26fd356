"""`python -m workflows check` and `diagram`: exit codes and what they print."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from workflows.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "definitions"

GOOD = """\
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
transitions:
  - trigger: finish
    source: draft
    dest: done
    label: {zh: 完成, en: Finish}
    roles: [marketing_staff]
    notify: []
"""
# dest on line 14 and a role on line 16 are broken
BROKEN = GOOD.replace("dest: done", "dest: finished").replace("[marketing_staff]", "[chief]")

PROBLEM_LINE = re.compile(r"^(?P<file>.+\.yaml):(?P<line>\d+): (?P<path>[^:]*): (?P<message>.+)$")


def test_check_on_the_definitions_folder_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(DEFINITIONS)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert all(line.startswith("ok ") for line in lines)
    assert any(line.startswith("ok visit v1") for line in lines)
    assert any(line.startswith("ok issue v1") for line in lines)
    assert any(line.startswith("ok rectification v1") for line in lines)


def test_check_reports_each_problem_as_file_line_path_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    assert main(["check", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    printed = captured.out.splitlines()
    assert printed, "no problem printed"
    matches = [PROBLEM_LINE.match(line) for line in printed]
    assert all(matches), printed
    assert {m.group("file") for m in matches if m} == {str(broken)}
    located = {(int(m.group("line")), m.group("path")) for m in matches if m}
    assert (14, "transitions[0].dest") in located
    assert (16, "transitions[0].roles[0]") in located
    assert not any(line.startswith("ok ") for line in printed)
    assert f"{len(printed)} problem(s)" in captured.err


def test_check_names_the_unknown_state_in_its_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    main(["check", str(tmp_path)])
    out = capsys.readouterr().out
    assert f"{tmp_path / 'broken.yaml'}:14: transitions[0].dest: unknown state 'finished'" in out


def test_check_on_a_missing_folder_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path / "nope")]) == 1
    assert "not a folder" in capsys.readouterr().out


def test_diagram_highlights_the_current_state(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", "visit", "--state", "prepared", "--dir", str(DEFINITIONS)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    class prepared current" in lines
    assert not any(line.strip() == "class planned current" for line in lines)


def test_diagram_without_state_highlights_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", "issue", "--dir", str(DEFINITIONS)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("stateDiagram-v2\n")
    assert " current" not in out


def test_diagram_of_an_unknown_state_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diagram", "visit", "--state", "nowhere", "--dir", str(DEFINITIONS)])
    assert code != 0
    captured = capsys.readouterr()
    assert "nowhere" in captured.err
    assert captured.out == ""


def test_diagram_of_an_unknown_workflow_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", "holiday", "--dir", str(DEFINITIONS)]) != 0
    assert "holiday" in capsys.readouterr().err


def test_module_runs_as_a_program() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workflows", "check", "definitions"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok visit v1" in result.stdout
