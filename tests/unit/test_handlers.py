"""The creation and transition handlers (service/usecases/handlers.py) without Flask and
without a database: the real definitions, an explicit context, an in-memory unit of work."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from service.core import context
from service.core.context import AppContext, Clock
from service.core.errors import InvalidRequest, NotFound
from service.core.statuses import DeadlineStatus
from service.store.kinds import VISIT
from service.usecases import handlers
from service.usecases.handlers import Context
from tests.unit.conftest import AMY, MIA, NOW, TINA, valid_data
from tests.unit.fakes import FakeInstances, FakeUnitOfWork
from workflows import InvalidData, NotPermitted, Registry, UnknownTrigger, VersionConflict
from workflows.errors import InvalidTransition

CUSTOMER = 7


@pytest.fixture
def hooks() -> list[str]:
    """What ran after each commit (the outbox's wake, in the app)."""
    return []


@pytest.fixture(autouse=True)
def bound(registry: Registry, hooks: list[str]) -> Iterator[AppContext]:
    app = AppContext(registry, config={}, clock=Clock(lambda: NOW))
    app.after_commit.append(lambda: hooks.append("committed"))
    with context.bound(app):
        yield app


@pytest.fixture
def uow() -> FakeUnitOfWork:
    people = {"mia": "Mia", "tina": "Tina", "tom": "Tom"}
    return FakeUnitOfWork(FakeInstances(customers={CUSTOMER}, people=people))


def as_(actor: Any) -> Context:
    return Context(actor, "api", "req-1")


def create_visit(uow: FakeUnitOfWork, **changes: Any) -> dict[str, Any]:
    payload = {**valid_data("visit", "create", NOW), **changes}
    return handlers.create(VISIT, payload, as_(MIA), uow=uow)


def prepare(uow: FakeUnitOfWork, visit_id: int, actor: Any = TINA, **body: Any) -> dict[str, Any]:
    request = {"trigger": "prepare", "data": valid_data("visit", "prepare", NOW), **body}
    return handlers.fire(VISIT, visit_id, request, as_(actor), uow=uow)


# -- creating ----------------------------------------------------------------------------
def test_a_creation_stores_the_row_its_event_deadline_and_outbox_in_one_commit(
    uow: FakeUnitOfWork, hooks: list[str]
) -> None:
    visit = create_visit(uow)
    stored = uow.instances.rows[("visit", visit["id"])]
    assert (stored["state"], stored["version"], stored["created_by"]) == ("planned", 1, "mia")
    assert [(e["trigger"], e["from_state"], e["to_state"]) for e in uow.instances.events] == [
        (None, None, "planned")
    ]
    [deadline] = uow.instances.deadlines
    assert (deadline["state"], deadline["status"]) == ("planned", DeadlineStatus.OPEN)
    assert visit["deadlines"] == [
        {"kind": deadline["kind"], "due_at": deadline["due_at"].isoformat(), "state": "planned"}
    ]
    topics = [r["topic"] for r in uow.instances.outbox]
    assert topics == ["deadline.schedule", "transition"]
    assert [n["username"] for n in uow.instances.notifications] == ["tina"]  # not the actor
    assert uow.commits == 1 and hooks == ["committed"]


def test_a_creation_with_invalid_fields_names_each_and_writes_nothing(
    uow: FakeUnitOfWork, hooks: list[str]
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        create_visit(uow, planned_at="not a time", topics=["no_such_topic"])
    assert {"planned_at", "topics"} <= set(refused.value.errors)
    assert uow.instances.rows == {} and uow.instances.events == []
    assert uow.commits == 0 and hooks == []


def test_a_creation_naming_an_unknown_customer_is_refused_on_that_field(
    uow: FakeUnitOfWork,
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        create_visit(uow, customer_id=99)
    assert list(refused.value.errors) == ["customer_id"]
    assert uow.instances.rows == {} and uow.commits == 0


# -- firing ------------------------------------------------------------------------------
def test_a_transition_stores_state_version_event_and_moves_the_deadline(
    uow: FakeUnitOfWork, hooks: list[str]
) -> None:
    visit = create_visit(uow)
    prepared = prepare(uow, visit["id"], version=1)
    stored = uow.instances.rows[("visit", visit["id"])]
    assert (prepared["state"], prepared["version"]) == ("prepared", 2)
    assert (stored["state"], stored["version"]) == ("prepared", 2)
    assert "prepare" in stored["data"] and "create" in stored["data"]
    last = uow.instances.events[-1]
    assert (last["trigger"], last["from_state"], last["to_state"], last["version"]) == (
        "prepare",
        "planned",
        "prepared",
        2,
    )
    assert (last["actor"], last["source"], last["request_id"]) == ("tina", "api", "req-1")
    statuses = [(d["state"], d["status"]) for d in uow.instances.deadlines]
    assert statuses == [("planned", DeadlineStatus.CLOSED), ("prepared", DeadlineStatus.OPEN)]
    assert [d["state"] for d in prepared["deadlines"]] == ["prepared"]
    assert uow.instances.outbox[-1]["payload"]["to"] == "prepared"
    assert uow.commits == 2 and hooks == ["committed", "committed"]


def test_a_stale_version_is_a_conflict_and_writes_nothing(uow: FakeUnitOfWork) -> None:
    visit = create_visit(uow)
    prepare(uow, visit["id"])
    before = len(uow.instances.events)
    with pytest.raises(VersionConflict) as conflict:
        handlers.fire(
            VISIT,
            visit["id"],
            {"trigger": "cancel", "version": 1, "data": {"reason": "No longer needed."}},
            as_(MIA),
            uow=uow,
        )
    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert uow.instances.rows[("visit", visit["id"])]["state"] == "prepared"
    assert len(uow.instances.events) == before and uow.commits == 2


def test_a_concurrent_write_between_read_and_update_is_a_conflict(
    uow: FakeUnitOfWork,
) -> None:
    visit = create_visit(uow)
    row = uow.instances.rows[("visit", visit["id"])]

    def someone_else_fires() -> None:
        row["version"] = 2

    uow.instances.before_update = someone_else_fires
    with pytest.raises(VersionConflict) as conflict:
        prepare(uow, visit["id"])
    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert uow.instances.rows[("visit", visit["id"])]["state"] == "planned"
    assert uow.commits == 1  # the creation's only


def test_a_trigger_the_state_does_not_allow_is_refused(uow: FakeUnitOfWork) -> None:
    visit = create_visit(uow)
    with pytest.raises(InvalidTransition) as refused:
        handlers.fire(VISIT, visit["id"], {"trigger": "report", "data": {}}, as_(MIA), uow=uow)
    assert refused.value.state == "planned" and "prepare" in refused.value.allowed
    assert uow.commits == 1


def test_an_unknown_trigger_is_refused(uow: FakeUnitOfWork) -> None:
    visit = create_visit(uow)
    with pytest.raises(UnknownTrigger):
        handlers.fire(VISIT, visit["id"], {"trigger": "teleport"}, as_(MIA), uow=uow)
    assert uow.commits == 1


def test_a_role_the_transition_does_not_allow_is_refused(uow: FakeUnitOfWork) -> None:
    visit = create_visit(uow)
    request = {"trigger": "cancel", "data": {"reason": "Not mine to cancel."}}
    with pytest.raises(NotPermitted):
        handlers.fire(VISIT, visit["id"], request, as_(TINA), uow=uow)
    assert uow.instances.rows[("visit", visit["id"])]["state"] == "planned"
    assert uow.commits == 1


def test_someone_who_may_not_see_the_instance_gets_not_found(uow: FakeUnitOfWork) -> None:
    visit = create_visit(uow)
    uow.instances.hidden.add(("visit", visit["id"]))
    with pytest.raises(NotFound):
        prepare(uow, visit["id"], actor=AMY)
    assert uow.commits == 1


def test_a_malformed_body_names_each_bad_part(uow: FakeUnitOfWork) -> None:
    visit = create_visit(uow)
    with pytest.raises(InvalidRequest) as refused:
        handlers.fire(
            VISIT, visit["id"], {"version": "2", "data": [], "extra": 1}, as_(MIA), uow=uow
        )
    assert set(refused.value.errors) == {"trigger", "version", "data", "extra"}


def test_a_form_naming_an_unknown_person_is_invalid_data(uow: FakeUnitOfWork) -> None:
    visit = create_visit(uow)
    prepare(uow, visit["id"])
    data = {**valid_data("visit", "visit", NOW)}
    handlers.fire(VISIT, visit["id"], {"trigger": "visit", "data": data}, as_(TINA), uow=uow)
    record = {**valid_data("visit", "record", NOW), "visitors": ["mia", "nobody"]}
    with pytest.raises(InvalidData) as refused:
        handlers.fire(VISIT, visit["id"], {"trigger": "record", "data": record}, as_(TINA), uow=uow)
    assert list(refused.value.errors) == ["visitors"]
    assert uow.instances.rows[("visit", visit["id"])]["state"] == "visited"


def test_the_clock_is_the_contexts(uow: FakeUnitOfWork, bound: AppContext) -> None:
    later = datetime(2026, 3, 3, 10, 0, tzinfo=NOW.tzinfo)
    visit = create_visit(uow)
    bound.clock.set(lambda: later)
    prepare(uow, visit["id"])
    assert uow.instances.events[-1]["at"] == later
    assert uow.instances.rows[("visit", visit["id"])]["updated_at"] == later


def test_without_a_bound_context_the_handlers_say_so() -> None:
    empty = contextvars.Context()  # nothing bound: outside any app, job or test context
    payload = valid_data("visit", "create", NOW)
    with pytest.raises(RuntimeError, match="no VisitFlow context"):
        empty.run(handlers.create, VISIT, payload, as_(MIA), FakeUnitOfWork())
