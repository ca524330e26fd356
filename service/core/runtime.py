"""Each app's context (`core.context`): built once per app, read by the entry points."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from flask import Flask

from service.core import context
from service.core.context import AppContext, Clock
from workflows import BusinessCalendar, Registry
from workflows.quotas import Quotas

CONTEXT = "visitflow.context"


def init_app(app: Flask) -> None:
    """The app's context; the app factory makes it current in each app context."""
    registry = _load(
        app.config["DEFINITIONS_DIR"],
        app.config.get("CALENDAR_FILE"),
        app.config["TIMEZONE"],
        float(app.config["CLOCK_SKEW_SECONDS"]),
    )
    app.extensions[CONTEXT] = AppContext(
        registry=registry, config=app.config, clock=Clock(), state=app.extensions, host=app
    )


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


def context_of(app: Flask) -> AppContext:
    found: AppContext = app.extensions[CONTEXT]
    return found


def registry_of(app: Flask) -> Registry:
    return context_of(app).registry


def set_clock(app: Flask, clock: Callable[[], datetime]) -> None:
    """Tests and benchmarks control time through this."""
    context_of(app).clock.set(clock)


def on_commit(app: Flask, hook: Callable[[], None]) -> None:
    """Run `hook` after each use case's commit (the jobs layer wakes the outbox with it)."""
    context_of(app).after_commit.append(hook)


# the current context's parts, for the entry points
def registry() -> Registry:
    return context.registry()


def quotas() -> Quotas:
    return context.current().quotas()


def now() -> datetime:
    return context.now()


def committed() -> None:
    context.committed()
