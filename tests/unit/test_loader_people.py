"""Whom a user or users field may name (`roles`, `departments`): read and checked on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_loader import BASE
from workflows.errors import DefinitionError
from workflows.loader import load_text
from workflows.spec import FieldType


def with_people(options: str, ftype: str = "users") -> str:
    field = (
        f"    - name: people\n      type: {ftype}\n      label: {{zh: 人员, en: People}}\n{options}"
    )
    return BASE.replace("  fields:\n", "  fields:\n" + field, 1)


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as err:
        load_text(text, "t.yaml")
    return [f"{p.path}: {p.message}" for p in err.value.problems]


def test_roles_and_departments_are_read() -> None:
    d = load_text(
        with_people("      roles: [technical, after_sales]\n      departments: [technical]\n")
    )
    spec = next(f for f in d.create.fields if f.name == "people")
    assert spec.type is FieldType.USERS
    assert spec.roles == {"technical", "after_sales"} and spec.departments == ("technical",)
    assert spec.eligible("technical", "technical")
    assert not spec.eligible("technical", "marketing")
    assert not spec.eligible("admin", "technical")


def test_a_field_without_them_names_anyone() -> None:
    spec = next(f for f in load_text(with_people("")).create.fields if f.name == "people")
    assert spec.eligible("admin", None) and spec.eligible("management", "management")


def test_an_unknown_role_is_named_with_its_path() -> None:
    [problem] = problems(with_people("      roles: [technical, boss]\n"))
    assert problem.startswith("create.fields[0].roles[1]: unknown role 'boss'")


def test_integration_accounts_are_never_eligible() -> None:
    [problem] = problems(with_people("      roles: [integration]\n"))
    assert "unknown role 'integration'" in problem


def test_only_people_fields_take_them() -> None:
    [problem] = problems(with_people("      roles: [technical]\n", ftype="string"))
    assert problem == "create.fields[0].roles: only user and users fields take roles"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("      roles: []\n", "roles: must be a non-empty list of roles"),
        ("      departments: technical\n", "departments: must be a non-empty list"),
        ("      departments: [Tech Dept]\n", "departments[0]: must be a lower_snake_case name"),
    ],
)
def test_malformed_lists_are_refused(options: str, message: str) -> None:
    [problem] = problems(with_people(options))
    assert message in problem


def test_the_shipped_definitions_bar_admin_and_management_from_visits() -> None:
    from workflows.loader import load_dir

    folder = Path(__file__).resolve().parents[2] / "definitions"
    visit = next(d for d in load_dir(folder) if d.name == "visit")
    visitors = next(f for f in visit.create.fields if f.name == "visitors")
    assert not visitors.eligible("admin", "it")
    assert not visitors.eligible("management", "management")
    assert visitors.eligible("technical", "technical")
