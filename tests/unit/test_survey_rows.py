"""`usecases.surveys.as_rows`: what a body of surveys or volumes may be, without I/O."""

from __future__ import annotations

from typing import Any

import pytest

from service.core.errors import InvalidRequest
from service.usecases import surveys


def test_one_object_is_a_list_of_one() -> None:
    assert surveys.as_rows({"score": 4}) == [{"score": 4}]


def test_a_list_is_kept_as_it_is() -> None:
    rows = [{"score": 4}, {"score": 5}]
    assert surveys.as_rows(rows) is rows


@pytest.mark.parametrize("body", [[], "x", 3, None])
def test_no_rows_is_422_on_schema(body: Any) -> None:
    with pytest.raises(InvalidRequest) as refused:
        surveys.as_rows(body)
    assert refused.value.errors == {"_schema": ["a list"]}


def test_more_than_max_rows_is_422(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(surveys, "MAX_ROWS", 2)
    with pytest.raises(InvalidRequest) as refused:
        surveys.as_rows([{}, {}, {}])
    assert refused.value.errors == {"_schema": ["too many rows"]}
    assert surveys.as_rows([{}, {}]) == [{}, {}]
