"""Who is acting, and the participation rules that limit what they may fire."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ActorKind(StrEnum):
    USER = "user"
    INTEGRATION = "integration"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """A person, an integration account or the system (deadline jobs)."""

    username: str
    role: str
    department: str | None = None
    kind: ActorKind = ActorKind.USER
    grants: frozenset[tuple[str, str]] = frozenset()  # (workflow, trigger) for integrations

    @classmethod
    def system(cls) -> Actor:
        return cls(username="system", role="system", kind=ActorKind.SYSTEM)

    @classmethod
    def integration(cls, name: str, grants: frozenset[tuple[str, str]]) -> Actor:
        return cls(
            username=f"integration:{name}",
            role="integration",
            kind=ActorKind.INTEGRATION,
            grants=grants,
        )


Rule = Callable[[Actor, Mapping[str, Any]], bool]


def _visitor(actor: Actor, attrs: Mapping[str, Any]) -> bool:
    return actor.username in (attrs.get("visitors") or ())


def _raiser(actor: Actor, attrs: Mapping[str, Any]) -> bool:
    return bool(attrs.get("created_by")) and attrs.get("created_by") == actor.username


def _responsible_person(actor: Actor, attrs: Mapping[str, Any]) -> bool:
    return bool(attrs.get("responsible_person")) and (
        attrs.get("responsible_person") == actor.username
    )


def _responsible_department(actor: Actor, attrs: Mapping[str, Any]) -> bool:
    return actor.department is not None and attrs.get("responsible_department") == actor.department


def _addressed_department(actor: Actor, attrs: Mapping[str, Any]) -> bool:
    return actor.department is not None and attrs.get("department") == actor.department


PARTICIPATION: Mapping[str, Rule] = {
    "visitor": _visitor,
    "raiser": _raiser,
    "responsible_person": _responsible_person,
    "responsible_department": _responsible_department,
    "addressed_department": _addressed_department,
}

PARTICIPATION_TEXT: Mapping[str, str] = {
    "visitor": "a visitor of this visit",
    "raiser": "the person who raised it",
    "responsible_person": "its responsible person",
    "responsible_department": "a member of its responsible department",
    "addressed_department": "a member of the department it is addressed to",
}
