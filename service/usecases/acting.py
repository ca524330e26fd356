"""Who acts in a use case: the actor, the entry point they came through, the request."""

from __future__ import annotations

from dataclasses import dataclass

from workflows import Actor


@dataclass(frozen=True, slots=True)
class Context:
    """Who acts, through which entry point, in which request."""

    actor: Actor
    source: str  # web | api | webhook | job
    request_id: str | None = None
