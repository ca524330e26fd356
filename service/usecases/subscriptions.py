"""Subscriptions: which URL hears which events; their deliveries and attempts, for admins.

An event's type is `WORKFLOW.TRIGGER`, or `WORKFLOW.created` for a creation. A filter is a
list of patterns, any of which may match: `*` for every event, `visit` or `visit.*` for every
event of a workflow, `issue.assign` for one trigger, `*.cancel` for a trigger in any workflow
(`*` matches any run of characters, as in shell globs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from service.core import context, crypto
from service.core.errors import InvalidRequest, NotFound
from service.core.statuses import DeliveryStatus
from service.store import repository as repo
from service.store.models import Delivery, DeliveryAttempt, Subscription
from service.store.paging import page_rows
from service.usecases.representation import iso

subscriptions_t = Subscription.__table__
deliveries_t = Delivery.__table__
attempts_t = DeliveryAttempt.__table__
PATTERN = re.compile(r"^[A-Za-z0-9_*-]+(\.[A-Za-z0-9_:*-]+)?$")
CREATED = "created"


# -- the filter ------------------------------------------------------------------------
def matches(patterns: Iterable[str], event_type: str) -> bool:
    for pattern in patterns:
        if "." not in pattern:
            pattern += ".*"  # a workflow name alone: every event of it
        if fnmatchcase(event_type, pattern):
            return True
    return False


def check_events(events: Any) -> list[str]:
    """A non-empty list of patterns whose literal parts name workflows and triggers."""
    if events is None:
        return ["*"]
    if not isinstance(events, list) or not events:
        raise InvalidRequest("invalid events", {"events": ["a non-empty list of patterns"]})
    known = _event_types()
    errors: list[str] = []
    for i, pattern in enumerate(events):
        if not isinstance(pattern, str) or not PATTERN.match(pattern) or len(pattern) > 200:
            errors.append(f"item {i}: {pattern!r}: WORKFLOW, WORKFLOW.TRIGGER, globs with '*'")
        elif not any(matches([pattern], t) for t in known):
            errors.append(f"item {i}: {pattern!r} matches no event type (e.g. visit.record)")
    if errors:
        raise InvalidRequest("invalid events", {"events": errors})
    return list(dict.fromkeys(events))


def _event_types() -> set[str]:
    out: set[str] = set()
    for workflow in context.registry():
        out.add(f"{workflow.name}.{CREATED}")
        out.update(f"{workflow.name}.{t.trigger}" for t in workflow.definition.transitions)
    return out


def check_url(url: Any) -> str:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("invalid url", {"url": ["an http:// or https:// URL"]})
    if len(url) > 2000:
        raise InvalidRequest("invalid url", {"url": ["at most 2000 characters"]})
    return str(url)


# -- management ------------------------------------------------------------------------
def describe(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "events": list(row["events"]),
        "active": row["active"],
        "failures": row["failures"],
        "retry_at": iso(row["retry_at"]),
        "disabled_at": iso(row["disabled_at"]),
        "created_by": row["created_by"],
        "created_at": iso(row["created_at"]),
    }


def create(url: str, events: list[str], created_by: str) -> tuple[dict[str, Any], str]:
    """A new subscription and its secret (shown once); `events` as `check_events` passed them."""
    events = list(dict.fromkeys(events))
    secret = crypto.generate()
    with repo.writing() as conn:
        new_id = conn.execute(
            subscriptions_t.insert()
            .values(
                url=url,
                events=events,
                secret=crypto.encrypt(secret),
                active=True,
                failures=0,
                created_by=created_by,
                created_at=context.now(),
                deleted=False,
            )
            .returning(subscriptions_t.c.id)
        ).scalar_one()
        row = _row(conn, new_id)
    assert row is not None
    return describe(row), secret


def get(subscription_id: int) -> dict[str, Any]:
    """One subscription: its filter, whether it is active, its consecutive failures."""
    row = _row(repo.connection(), subscription_id)
    if row is None:
        raise NotFound(f"no subscription {subscription_id}")
    return describe(row)


def listing(page_no: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """Subscriptions, oldest first (no secrets)."""
    t = subscriptions_t
    query = sa.select(t).where(~t.c.deleted).order_by(t.c.id)
    rows, total = page_rows(repo.connection(), query, page_no, per_page)
    return [describe(r) for r in rows], total


def remove(subscription_id: int) -> None:
    """Stop delivering to a subscription; pending deliveries are dropped, its deliveries and
    attempts stay readable."""
    t = subscriptions_t
    with repo.writing() as conn:
        done = conn.execute(
            t.update()
            .where(t.c.id == subscription_id, ~t.c.deleted)
            .values(deleted=True, active=False)
        ).rowcount
        conn.execute(
            deliveries_t.update()
            .where(
                deliveries_t.c.subscription_id == subscription_id,
                deliveries_t.c.status == DeliveryStatus.PENDING,
            )
            .values(status=DeliveryStatus.FAILED, next_attempt_at=None)
        )
    if not done:
        raise NotFound(f"no subscription {subscription_id}")


def enable(subscription_id: int) -> dict[str, Any]:
    """Active again, failures forgotten; its pending deliveries are due at once."""
    t = subscriptions_t
    now = context.now()
    with repo.writing() as conn:
        done = conn.execute(
            t.update()
            .where(t.c.id == subscription_id, ~t.c.deleted)
            .values(active=True, failures=0, retry_at=None, disabled_at=None)
        ).rowcount
        if not done:
            raise NotFound(f"no subscription {subscription_id}")
        conn.execute(
            deliveries_t.update()
            .where(
                deliveries_t.c.subscription_id == subscription_id,
                deliveries_t.c.status == DeliveryStatus.PENDING,
            )
            .values(next_attempt_at=now)
        )
        row = _row(conn, subscription_id)
    assert row is not None
    return describe(row)


def _row(conn: Any, subscription_id: int) -> dict[str, Any] | None:
    t = subscriptions_t
    found = conn.execute(sa.select(t).where(t.c.id == subscription_id, ~t.c.deleted)).first()
    return dict(found._mapping) if found is not None else None


# -- deliveries ------------------------------------------------------------------------
def describe_delivery(
    row: Mapping[str, Any], attempts: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    return {
        "id": row["id"],
        "subscription_id": row["subscription_id"],
        "event_id": row["event_id"],
        "type": row["event_type"],
        "status": row["status"],
        "created_at": iso(row["created_at"]),
        "delivered_at": iso(row["delivered_at"]),
        "next_attempt_at": iso(row["next_attempt_at"])
        if row["status"] == DeliveryStatus.PENDING
        else None,
        "attempts": [
            {
                "at": iso(a["at"]),
                "status_code": a["status_code"],
                "error": a["error"],
                "duration_ms": round(a["duration_ms"], 1),
            }
            for a in attempts
        ],
        "event": row["payload"],
    }


def deliveries(subscription_id: int, page_no: int, per_page: int) -> tuple[list[Any], int]:
    """A subscription's deliveries, newest first, each with its attempts, oldest first."""
    get(subscription_id)
    t = deliveries_t
    conn = repo.connection()
    query = sa.select(t).where(t.c.subscription_id == subscription_id).order_by(t.c.id.desc())
    rows, total = page_rows(conn, query, page_no, per_page)
    attempts = _attempts(conn, [r["id"] for r in rows])
    return [describe_delivery(r, attempts[r["id"]]) for r in rows], total


def delivery(delivery_id: int) -> dict[str, Any]:
    conn = repo.connection()
    row = conn.execute(sa.select(deliveries_t).where(deliveries_t.c.id == delivery_id)).first()
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    return describe_delivery(dict(row._mapping), _attempts(conn, [delivery_id])[delivery_id])


def _attempts(conn: Any, delivery_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        rows = conn.execute(
            sa.select(attempts_t)
            .where(attempts_t.c.delivery_id.in_(delivery_ids))
            .order_by(attempts_t.c.id)
        ).mappings()
        for r in rows:
            out[r["delivery_id"]].append(dict(r))
    return out
