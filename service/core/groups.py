"""The definitions' state groups the service counts by, read from the workflow registry."""

from __future__ import annotations

from service.core import context
from workflows import Registry

TOOK_PLACE = "took_place"  # visit.yaml: the visit was made (visited, recorded, reported)
SOLVED = "solved"  # issue.yaml: the issue was resolved (resolved, customer_confirmed)


def took_place(registry: Registry | None = None) -> tuple[str, ...]:
    """The states of a visit that took place: what quotas and plan completion count."""
    return (registry or context.registry()).get("visit").group(TOOK_PLACE)


def solved(registry: Registry | None = None) -> tuple[str, ...]:
    """The states of an issue resolved, confirmed by the customer or not yet."""
    return (registry or context.registry()).get("issue").group(SOLVED)
