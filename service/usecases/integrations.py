"""Integration accounts: create, rotate, deactivate; and the inbound path's cached lookup."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa

from service.core import context, crypto
from service.core.errors import Conflict, InvalidRequest, NotFound
from service.store import repository as repo
from service.store.caches import lookups
from service.store.models import Integration, WebhookEvent
from service.store.paging import page_rows
from service.usecases.representation import iso
from workflows import Actor

integrations_t = Integration.__table__
events_t = WebhookEvent.__table__
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# -- validation ------------------------------------------------------------------------
def check_grants(grants: Any) -> list[str]:
    """`["visit:record", ...]`: each a trigger of a loaded workflow; 422 otherwise."""
    if not isinstance(grants, list) or not grants:
        raise InvalidRequest("invalid grants", {"grants": ["a non-empty list of WORKFLOW:TRIGGER"]})
    known = _triggers()
    errors: list[str] = []
    for i, grant in enumerate(grants):
        workflow, _, trigger = grant.partition(":") if isinstance(grant, str) else ("", "", "")
        if workflow not in known:
            errors.append(f"item {i}: {grant!r}: unknown workflow (one of {', '.join(known)})")
        elif trigger not in known[workflow]:
            errors.append(f"item {i}: {grant!r}: {workflow} has no trigger {trigger!r}")
    if errors:
        raise InvalidRequest("invalid grants", {"grants": errors})
    return list(dict.fromkeys(grants))


def check_mappings(mappings: Any, grants: list[str]) -> dict[str, str]:
    """`{"crm.visit.done": "visit"}`: event type -> one of the granted triggers."""
    if mappings is None:
        return {}
    granted = {g.partition(":")[2] for g in grants}
    if not isinstance(mappings, dict):
        raise InvalidRequest("invalid mappings", {"mappings": ["an object: event type -> trigger"]})
    errors: list[str] = []
    for event_type, trigger in mappings.items():
        if not event_type or len(event_type) > 200:
            errors.append(f"{event_type!r}: an event type is 1 to 200 characters")
        elif trigger not in granted:
            errors.append(f"{event_type!r}: {trigger!r} is not a granted trigger")
    if errors:
        raise InvalidRequest("invalid mappings", {"mappings": errors})
    return dict(mappings)


def _triggers() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for workflow in context.registry():
        out.setdefault(workflow.name, set()).update(
            t.trigger for t in workflow.definition.transitions
        )
    return out


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidRequest(
            "invalid integration name",
            {"name": ["1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"]},
        )
    return name


# -- management ------------------------------------------------------------------------
def describe(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "grants": list(row["grants"]),
        "mappings": dict(row["mappings"] or {}),
        "active": row["active"],
        "created_at": iso(row["created_at"]),
        "rotated_at": iso(row["rotated_at"]),
        "previous_secret_valid_until": iso(row["previous_valid_until"]),
    }


def create(name: str, grants: list[str], mappings: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """A new integration and its secret (shown once); `grants` as `check_grants` passed them."""
    grants = list(dict.fromkeys(grants))
    secret = crypto.generate()
    with repo.writing() as conn:
        if _row(conn, name) is not None:
            raise Conflict(f"integration {name!r} exists already")
        conn.execute(
            integrations_t.insert().values(
                name=name,
                grants=grants,
                mappings=dict(mappings),
                secret=crypto.encrypt(secret),
                active=True,
                created_at=context.now(),
            )
        )
        row = _row(conn, name)
    assert row is not None
    return describe(row), secret


def rotate(name: str, overlap: timedelta | None = None) -> tuple[dict[str, Any], str]:
    """A new secret; the current one stays valid for `overlap` (WEBHOOK_SECRET_OVERLAP_HOURS).

    Only two secrets are ever valid: rotating again within the overlap drops the oldest.
    """
    if overlap is None:
        overlap = timedelta(hours=float(context.config()["WEBHOOK_SECRET_OVERLAP_HOURS"]))
    secret = crypto.generate()
    now = context.now()
    with repo.writing() as conn:
        row = _row(conn, name)
        if row is None:
            raise NotFound(f"no integration {name!r}")
        conn.execute(
            integrations_t.update()
            .where(integrations_t.c.id == row["id"])
            .values(
                secret=crypto.encrypt(secret),
                previous_secret=row["secret"],
                previous_valid_until=now + overlap,
                rotated_at=now,
            )
        )
        row = _row(conn, name)
    assert row is not None
    forget(name)
    return describe(row), secret


def remove(name: str) -> None:
    """Deactivate an integration (its webhooks answer 401); its history stays."""
    with repo.writing() as conn:
        done = conn.execute(
            integrations_t.update().where(integrations_t.c.name == name).values(active=False)
        ).rowcount
    if not done:
        raise NotFound(f"no integration {name!r}")
    forget(name)


def get(name: str) -> dict[str, Any]:
    """One integration (no secret)."""
    row = _row(repo.connection(), name)
    if row is None:
        raise NotFound(f"no integration {name!r}")
    return describe(row)


def listing(page_no: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """Integrations by name (no secrets)."""
    query = sa.select(integrations_t).order_by(integrations_t.c.name)
    rows, total = page_rows(repo.connection(), query, page_no, per_page)
    return [describe(r) for r in rows], total


def reencrypt_all(conn: Any, tables: Iterable[sa.Table]) -> int:
    """Every stored secret encrypted again under the current SECRET_KEY."""
    changed = 0
    for table in tables:
        columns = [c for c in ("secret", "previous_secret") if c in table.c]
        for row in conn.execute(sa.select(table.c.id, *(table.c[c] for c in columns))).mappings():
            values = {c: crypto.reencrypt(row[c]) for c in columns if row[c]}
            conn.execute(table.update().where(table.c.id == row["id"]).values(**values))
            changed += 1
    return changed


def _row(conn: Any, name: str) -> dict[str, Any] | None:
    found = conn.execute(sa.select(integrations_t).where(integrations_t.c.name == name)).first()
    return dict(found._mapping) if found is not None else None


# -- the inbound path ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Account:
    """What a webhook request needs of its integration, decrypted once per process."""

    id: int
    name: str
    actor: Actor
    mappings: Mapping[str, str]
    secret: str
    previous: str | None
    previous_valid_until: datetime | None

    def secrets(self, now: datetime) -> list[str]:
        if self.previous and self.previous_valid_until and now < self.previous_valid_until:
            return [self.secret, self.previous]
        return [self.secret]


def account(name: str, fresh: bool = False) -> tuple[Account | None, bool]:
    """The active integration `name` (None if there is none) and whether it came from cache.

    A lookup is one query and a decryption; the app's cache (AUTH_CACHE_SECONDS, as for
    tokens) keeps them off the hot path. A signature that fails against a cached entry is
    checked again against the database, so a rotation is seen at once; a deactivation within
    AUTH_CACHE_SECONDS."""
    cache = lookups("integrations", maxsize=1000)
    if not fresh:
        hit: Account | None = cache.get(name)
        if hit is not None:
            return hit, True
    with repo.reading() as conn:
        row = conn.execute(
            sa.select(integrations_t).where(integrations_t.c.name == name, integrations_t.c.active)
        ).first()
    if row is None:
        cache.forget(name)
        return None, False
    r = row._mapping
    grants = frozenset(tuple(g.split(":", 1)) for g in r["grants"])
    found = Account(
        id=r["id"],
        name=name,
        actor=Actor.integration(name, grants),
        mappings=dict(r["mappings"] or {}),
        secret=crypto.decrypt(r["secret"]),
        previous=crypto.decrypt(r["previous_secret"]) if r["previous_secret"] else None,
        previous_valid_until=r["previous_valid_until"],
    )
    cache.put(name, found)
    return found, False


def forget(name: str) -> None:
    lookups("integrations", maxsize=1000).forget(name)


def stored_response(integration_id: int, event_id: str) -> tuple[int, str] | None:
    """The status and body answered to an accepted event, if `event_id` is used up."""
    with repo.reading() as conn:
        row = conn.execute(
            sa.select(events_t.c.status, events_t.c.response).where(
                events_t.c.integration_id == integration_id, events_t.c.event_id == event_id
            )
        ).first()
    return (row.status, row.response) if row is not None else None


@cache
def _insert_event(dialect: sa.Dialect) -> repo.Prepared:
    columns = ("integration_id", "event_id", "status", "response", "received_at")
    statement = events_t.insert().values({c: sa.bindparam(c) for c in columns})
    return repo.Prepared(statement, dialect)


def use_up(conn: Any, integration_id: int, event_id: str, status: int, body: str) -> None:
    """Record an accepted event inside its transition's transaction (unique per integration);
    a prepared statement, as the transition's own writes: this runs under the write lock.

    Raises `UsedUp` if the id is taken already (by a concurrent twin): the transaction then
    rolls back, transition and all."""
    values = {
        "integration_id": integration_id,
        "event_id": event_id,
        "status": status,
        "response": body,
        "received_at": context.now(),
    }
    if not _insert_event(conn.dialect).insert_once(conn, values):
        raise UsedUp(event_id)


class UsedUp(Exception):
    """An event id that an accepted event of the same integration has used up."""
