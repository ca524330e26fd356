"""The one explicit context the use cases run in: registry, clock, settings, commit hooks.

An entry point makes an app's context current for a request, a job or a command
(`bound`); the app factory does it for every app context it pushes. Use cases read
`current()`, never Flask's `current_app`, so that they run without Flask in unit tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workflows import Registry
from workflows.quotas import Quotas


class Clock:
    """What time it is; tests, benchmarks and the demo's history move it (`set`)."""

    def __init__(self, source: Callable[[], datetime] | None = None) -> None:
        self.source: Callable[[], datetime] = source or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.source()

    def set(self, source: Callable[[], datetime]) -> None:
        self.source = source


@dataclass(frozen=True, eq=False)
class AppContext:
    """What one app gives its use cases. `state` is per-app mutable state (caches, the
    SQLite writers' queue, when the calendar last looked); `host` is the app itself, for
    the jobs that re-enter it from a thread or a worker (None in unit tests)."""

    registry: Registry
    config: Mapping[str, Any]
    clock: Clock = field(default_factory=Clock)
    state: dict[str, Any] = field(default_factory=dict)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    host: Any = None

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def policy(self) -> Mapping[str, Any]:
        policy: Mapping[str, Any] = self.config["POLICY"]
        return policy

    def quotas(self) -> Quotas:
        """Policy's yearly tier quotas, due by the calendar's months in its time zone: what
        every target (KPIs, supervision, compliance, customer pages) is counted from."""
        return Quotas(dict(self.policy["visit_quotas"]), self.registry.calendar.tz)

    def committed(self) -> None:
        """Called by a use case after a commit that wrote outbox rows."""
        for hook in self.after_commit:
            hook()


_current: ContextVar[AppContext] = ContextVar("visitflow_context")


def bind(context: AppContext) -> Token[AppContext]:
    """Make `context` current; `unbind` the token it returns to restore the previous one."""
    return _current.set(context)


def unbind(token: Token[AppContext]) -> None:
    _current.reset(token)


@contextmanager
def bound(context: AppContext) -> Iterator[AppContext]:
    token = bind(context)
    try:
        yield context
    finally:
        unbind(token)


def current() -> AppContext:
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError(
            "no VisitFlow context: run inside an app context or `context.bound(...)`"
        ) from None


def current_or_none() -> AppContext | None:
    return _current.get(None)


# the use cases' shorthands for the current context's parts
def now() -> datetime:
    return current().now()


def registry() -> Registry:
    return current().registry


def config() -> Mapping[str, Any]:
    return current().config


def committed() -> None:
    current().committed()
