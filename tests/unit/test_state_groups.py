"""The service's state groups are read from the definitions, not written in its code."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.core import groups
from workflows import Registry
from workflows.loader import load_dir, load_text

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"


def test_the_groups_come_from_the_definitions_folder() -> None:
    registry = Registry.from_dir(DEFINITIONS)
    assert groups.took_place(registry) == ("visited", "recorded", "reported")
    assert groups.solved(registry) == ("resolved", "customer_confirmed")


def registry_with(name: str, old: str, new: str) -> Registry:
    """The repository's definitions, with `old` replaced by `new` in `name`'s file."""
    others = [d for d in load_dir(DEFINITIONS) if d.name != name]
    text = (DEFINITIONS / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    return Registry([load_text(text.replace(old, new), f"{name}.yaml"), *others])


def test_a_changed_definition_changes_the_group() -> None:
    # visit.yaml with its took_place group narrowed: the service counts what it declares
    old = "took_place: [visited, recorded, reported]"
    registry = registry_with("visit", old, "took_place: [reported]")
    assert groups.took_place(registry) == ("reported",)


def test_a_definition_without_the_group_is_a_clear_error() -> None:
    registry = registry_with("issue", "groups:\n  solved: [resolved, customer_confirmed]\n", "")
    with pytest.raises(KeyError, match="issue version 1 declares no state group 'solved'"):
        groups.solved(registry)
