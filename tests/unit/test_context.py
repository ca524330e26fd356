"""The use cases' explicit context (service/core/context.py), without Flask."""

from __future__ import annotations

import contextvars

import pytest

from service.core import context
from service.core.context import AppContext, Clock
from tests.unit.conftest import NOW
from workflows import Registry


def test_binding_nests_and_restores_the_outer_context(registry: Registry) -> None:
    outer = AppContext(registry, config={"name": "outer"})
    inner = AppContext(registry, config={"name": "inner"})
    with context.bound(outer):
        with context.bound(inner):
            assert context.config()["name"] == "inner"
        assert context.current() is outer
    assert context.current_or_none() is None


def test_outside_any_binding_current_says_what_is_missing() -> None:
    with pytest.raises(RuntimeError, match="no VisitFlow context"):
        contextvars.Context().run(context.current)


def test_the_clock_is_read_at_each_call_and_can_be_moved(registry: Registry) -> None:
    clock = Clock(lambda: NOW)
    with context.bound(AppContext(registry, config={}, clock=clock)):
        assert context.now() == NOW
        later = NOW.replace(hour=17)
        clock.set(lambda: later)
        assert context.now() == later


def test_quotas_come_from_the_policy_in_the_calendars_time_zone(registry: Registry) -> None:
    policy = {"visit_quotas": {"core": 12, "general": 2}}
    app = AppContext(registry, config={"POLICY": policy})
    quotas = app.quotas()
    assert (quotas.yearly("core"), quotas.yearly("general"), quotas.yearly("other")) == (12, 2, 0)
    assert quotas.tz == registry.calendar.tz


def test_committed_runs_every_hook_in_the_order_registered(registry: Registry) -> None:
    ran: list[str] = []
    app = AppContext(registry, config={})
    app.after_commit.extend([lambda: ran.append("outbox"), lambda: ran.append("other")])
    with context.bound(app):
        context.committed()
    assert ran == ["outbox", "other"]
