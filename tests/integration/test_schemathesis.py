"""schemathesis over the generated OpenAPI document: a bounded run against the app itself
(WSGI, the real SQLite and Redis of the suite), with a token, answering no 5xx and only
what the document declares (status codes and reply schemas)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import World, visit_payload

MAX_EXAMPLES = 10  # per operation: the whole run stays well under a minute on two cores
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def run_operation(operation: Any, headers: dict[str, str]) -> str | None:
    """The first failure of a bounded run over one operation, or None."""
    failure: list[str] = []

    @given(case=operation.as_strategy(), data=st.data())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, do not minimise
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, data: Any) -> None:
        if failure:
            return
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except Exception as err:  # noqa: BLE001 - every failure is reported, with its case
            failure.append(f"{type(err).__name__}: {err}"[:2000])

    run()
    return failure[0] if failure else None


def test_the_api_answers_as_its_document_says(world: World) -> None:
    # something to read: a visit the token's user may see, with its history
    created = world.post("/api/v1/visits", "mary", visit_payload(world))
    assert created.status_code == 201, created.get_json()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 45  # the whole API
    failures = {op.label: run_operation(op, world.auth("mary")) for op in operations}
    assert {label: f for label, f in failures.items() if f} == {}
