"""Per-app singletons the handlers need: the workflow registry and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from workflows import BusinessCalendar, Registry

REGISTRY = "visitflow.registry"
CLOCK = "visitflow.clock"


def init_app(app: Flask) -> None:
    tz = ZoneInfo(app.config["TIMEZONE"])
    calendar_file = app.config.get("CALENDAR_FILE")
    calendar = (
        BusinessCalendar.from_file(calendar_file, tz=tz)
        if calendar_file
        else BusinessCalendar(tz=tz)
    )
    app.extensions[REGISTRY] = Registry.from_dir(app.config["DEFINITIONS_DIR"], calendar)
    app.extensions.setdefault(CLOCK, lambda: datetime.now(UTC))


def registry() -> Registry:
    return registry_of(current_app)


def registry_of(app: Flask) -> Registry:
    reg: Registry = app.extensions[REGISTRY]
    return reg


def now() -> datetime:
    clock: Callable[[], datetime] = current_app.extensions[CLOCK]
    return clock()


def set_clock(app: Flask, clock: Callable[[], datetime]) -> None:
    """Tests and benchmarks control time through this."""
    app.extensions[CLOCK] = clock
