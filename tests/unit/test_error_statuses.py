"""Domain errors carry no HTTP: the entry points map them (service/entrypoints/errors.py)."""

from __future__ import annotations

import pytest

from service.core import errors
from service.entrypoints.errors import status_of


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (errors.Unauthorized, 401, "unauthorized"),
        (errors.BadRequest, 400, "bad_request"),
        (errors.Forbidden, 403, "forbidden"),
        (errors.NotFound, 404, "not_found"),
        (errors.InvalidRequest, 422, "invalid_request"),
        (errors.Conflict, 409, "conflict"),
    ],
)
def test_each_refusal_has_its_status(
    error: type[errors.DomainError], status: int, code: str
) -> None:
    assert status_of(error("no")) == (status, code)
    assert not hasattr(error("no"), "status")


def test_a_refinement_answers_as_its_nearest_mapped_class() -> None:
    class Taken(errors.Conflict):
        pass

    assert status_of(Taken("the name is taken")) == (409, "conflict")
