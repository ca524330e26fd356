"""Transitions a client sends once: a phone's offline queue, an API client's `Idempotency-Key`.

The client generates a key per step it means to take (a UUID) and sends it with the
transition. The key is used up in the transition's own transaction, with the answer: a
repeat (the queue sending again after a lost reply, two tabs, a retry) changes nothing and
gets the first answer. A key is the sender's: two people's keys never meet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa

from service.core import context
from service.core.errors import DomainError, InvalidRequest
from service.core.texts import msg
from service.store import repository as repo
from service.store.kinds import Kind
from service.store.models import ClientRequest
from service.usecases import handlers
from workflows import WorkflowError

KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{7,99}")
KEPT = timedelta(days=30)
requests_t = ClientRequest.__table__


@dataclass(frozen=True, slots=True)
class Answer:
    """What a keyed transition answered: the representation as JSON, and whether it is the
    answer to an earlier request with the same key (nothing was done this time)."""

    text: str
    replayed: bool = False


def checked_key(value: str | None, field: str = "client_id") -> str | None:
    """The key as sent, or None for none; a key that is not 8 to 100 letters, digits and
    `_.:-` is a 422 naming it."""
    if value is None or value == "":
        return None
    if not KEY.fullmatch(value):
        raise InvalidRequest(
            msg("invalid request key"),
            {field: [msg("8 to 100 letters, digits and _.:- (a UUID will do)")]},
        )
    return value


def fire_once(
    kind: Kind,
    instance_id: int,
    body: Any,
    ctx: handlers.Context,
    key: str,
    dumps: Callable[[Any], str],
) -> Answer:
    """`handlers.fire` unless `key` was used already by this actor; then the stored answer."""
    username = ctx.actor.username
    earlier = _stored(username, key)
    if earlier is not None:
        return _replay(earlier, kind, instance_id, body)
    answered: list[str] = []

    def keep(conn: Any, representation: dict[str, Any]) -> None:
        text = dumps(representation)
        trigger = body.get("trigger") if isinstance(body, dict) else None
        _use_up(conn, username, key, kind, instance_id, str(trigger), text)
        answered.append(text)

    try:
        handlers.fire(kind, instance_id, body, ctx, keep)
    except (DomainError, WorkflowError, UsedUp):
        # its concurrent twin won (on the key, or on the instance's version): its answer
        earlier = _stored(username, key)
        if earlier is None:
            raise
        return _replay(earlier, kind, instance_id, body)
    return Answer(answered[0])


def _replay(row: Any, kind: Kind, instance_id: int, body: Any) -> Answer:
    trigger = body.get("trigger") if isinstance(body, dict) else None
    if (row.workflow, row.instance_id, row.trigger) != (kind.workflow, instance_id, trigger):
        raise InvalidRequest(
            msg("this request key was used for another step"),
            {"client_id": [msg("already used for another step: send a new one")]},
        )
    return Answer(row.response, replayed=True)


def _stored(username: str, key: str) -> Any:
    with repo.reading() as conn:
        return conn.execute(
            sa.select(
                requests_t.c.workflow,
                requests_t.c.instance_id,
                requests_t.c.trigger,
                requests_t.c.response,
            ).where(requests_t.c.username == username, requests_t.c.key == key)
        ).first()


@cache
def _insert(dialect: sa.Dialect) -> repo.Prepared:
    columns = ("username", "key", "workflow", "instance_id", "trigger", "response", "created_at")
    return repo.Prepared(requests_t.insert().values({c: sa.bindparam(c) for c in columns}), dialect)


def _use_up(
    conn: Any, username: str, key: str, kind: Kind, instance_id: int, trigger: str, text: str
) -> None:
    values = {
        "username": username,
        "key": key,
        "workflow": kind.workflow,
        "instance_id": instance_id,
        "trigger": trigger,
        "response": text,
        "created_at": context.now(),
    }
    if not _insert(conn.dialect).insert_once(conn, values):
        raise UsedUp(key)


def forget_old() -> int:
    """Remove keys older than `KEPT` (a queue does not hold a step for a month)."""
    with repo.writing() as conn:
        result = conn.execute(
            requests_t.delete().where(requests_t.c.created_at < context.now() - KEPT)
        )
    return int(result.rowcount or 0)


class UsedUp(Exception):
    """A key this actor used already (by a concurrent twin of the request)."""
