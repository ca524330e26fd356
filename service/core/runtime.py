"""Per-app singletons the handlers need: the workflow registry and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from workflows import BusinessCalendar, Registry
from workflows.quotas import Quotas

REGISTRY = "visitflow.registry"
CLOCK = "visitflow.clock"
COMMITTED = "visitflow.committed"


def init_app(app: Flask) -> None:
    app.extensions[REGISTRY] = _load(
        app.config["DEFINITIONS_DIR"],
        app.config.get("CALENDAR_FILE"),
        app.config["TIMEZONE"],
        float(app.config["CLOCK_SKEW_SECONDS"]),
    )
    app.extensions.setdefault(CLOCK, lambda: datetime.now(UTC))


@cache
def _load(
    definitions_dir: str, calendar_file: str | None, tz: str, skew_seconds: float
) -> Registry:
    """Definitions are frozen once loaded: apps of one process with one setup share them."""
    zone = ZoneInfo(tz)
    if calendar_file:
        calendar = BusinessCalendar.from_file(calendar_file, tz=zone)
    else:
        calendar = BusinessCalendar(tz=zone)
    return Registry.from_dir(definitions_dir, calendar, timedelta(seconds=skew_seconds))


def registry() -> Registry:
    return registry_of(current_app)


def registry_of(app: Flask) -> Registry:
    reg: Registry = app.extensions[REGISTRY]
    return reg


def quotas() -> Quotas:
    """Policy's yearly tier quotas, due by the calendar's months in its time zone: what
    every target (KPIs, supervision, compliance, customer pages) is counted from."""
    return Quotas(dict(current_app.config["POLICY"]["visit_quotas"]), registry().calendar.tz)


def now() -> datetime:
    clock: Callable[[], datetime] = current_app.extensions[CLOCK]
    return clock()


def set_clock(app: Flask, clock: Callable[[], datetime]) -> None:
    """Tests and benchmarks control time through this."""
    app.extensions[CLOCK] = clock


def on_commit(app: Flask, hook: Callable[[], None]) -> None:
    """Run `hook` after each use case's commit (the jobs layer wakes the outbox with it)."""
    app.extensions.setdefault(COMMITTED, []).append(hook)


def committed() -> None:
    """Called by a use case after a commit that wrote outbox rows."""
    for hook in current_app.extensions.get(COMMITTED, ()):
        hook()
