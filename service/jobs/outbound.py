"""Outbound events: committed transitions, from the outbox to each matching subscription.

- `deliver_events` (an RQ job per dispatch round) claims the round's "transition" outbox
  rows and, in the same transaction, writes one delivery per matching active subscription
  (unique per subscription and event); then `delivery.deliver_due` sends them.
- Redelivery on request; the reconciler's `repair` re-sends what Redis lost (due
  deliveries whose job is gone) and frees the leases of workers that died mid-send.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from service.core import context
from service.core.statuses import DeliveryStatus
from service.jobs.delivery import deliver_due, schedule_now
from service.store import repository as repo
from service.usecases.subscriptions import CREATED, deliveries_t, matches, subscriptions_t

outbox_t = repo.outbox_t


def event_of(outbox_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The event a subscriber receives for one committed creation or transition."""
    trigger = payload.get("trigger")
    return {
        "id": f"evt_{outbox_id}",
        "type": f"{payload['workflow']}.{trigger or CREATED}",
        "occurred_at": payload.get("at"),
        "object": {"workflow": payload["workflow"], "id": payload["id"]},
        "trigger": trigger,
        "from": payload.get("from"),
        "to": payload.get("to"),
        "version": payload.get("version"),
        "actor": payload.get("actor"),
        "source": payload.get("source"),
    }


# -- fan-out ---------------------------------------------------------------------------
def deliver_events(outbox_ids: Sequence[int]) -> dict[str, int]:
    """Deliveries for the events of these outbox rows (each row once), then send them."""
    now = context.now()
    t, s = outbox_t, subscriptions_t
    with repo.writing() as conn:
        claimed = conn.execute(
            t.update()
            .where(
                t.c.id.in_(list(outbox_ids)), t.c.topic == "transition", t.c.delivered_at.is_(None)
            )
            .values(delivered_at=now, attempts=t.c.attempts + 1)
            .returning(t.c.id, t.c.payload, t.c.created_at)
        ).all()
        subs = conn.execute(sa.select(s.c.id, s.c.events, s.c.created_at).where(s.c.active)).all()
        rows: list[dict[str, Any]] = []
        for outbox_id, payload, created_at in sorted(claimed):
            event = event_of(outbox_id, payload)
            for sub in subs:
                # a subscription hears what was committed after it was made
                if sub.created_at <= created_at and matches(sub.events, event["type"]):
                    rows.append(
                        {
                            "subscription_id": sub.id,
                            "event_id": event["id"],
                            "event_type": event["type"],
                            "payload": event,
                            "status": DeliveryStatus.PENDING,
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                    )
        if rows:
            conn.execute(deliveries_t.insert(), rows)
    by_subscription: dict[int, int] = {}
    for r in rows:
        by_subscription[r["subscription_id"]] = by_subscription.get(r["subscription_id"], 0) + 1
    sent = 0
    for subscription_id in by_subscription:
        sent += deliver_due(subscription_id)
    return {"events": len(claimed), "deliveries": len(rows), "delivered": sent}


# -- on request and on repair ----------------------------------------------------------
def redeliver(delivery_id: int) -> bool:
    """Send a delivery again now, whatever became of it; False if its subscription is not
    active (enable it first)."""
    now = context.now()
    d, s = deliveries_t, subscriptions_t
    with repo.writing() as conn:
        row = conn.execute(
            sa.select(d.c.subscription_id, s.c.active)
            .join(s, s.c.id == d.c.subscription_id)
            .where(d.c.id == delivery_id)
        ).first()
        if row is None or not row.active:
            return False
        conn.execute(
            d.update()
            .where(d.c.id == delivery_id)
            .values(status=DeliveryStatus.PENDING, next_attempt_at=now)
        )
        # an explicit request overrides the backoff
        conn.execute(s.update().where(s.c.id == row.subscription_id).values(retry_at=None))
    schedule_now(row.subscription_id)
    return True


def repair(grace: timedelta = timedelta(seconds=30)) -> int:
    """What Redis lost or a worker left: transition rows handed to RQ but never fanned out,
    leases of workers that died mid-send, due deliveries whose job is gone. Returns how many
    subscriptions had deliveries to send."""
    now = context.now()
    o, d, s = outbox_t, deliveries_t, subscriptions_t
    with repo.writing() as conn:
        lost_events = (
            conn.execute(
                sa.select(o.c.id)
                .where(
                    o.c.topic == "transition",
                    o.c.delivered_at.is_(None),
                    o.c.sent_at < now - grace,
                )
                .order_by(o.c.id)
                .limit(500)
            )
            .scalars()
            .all()
        )
        released = conn.execute(
            d.update()
            .where(d.c.status == DeliveryStatus.SENDING, d.c.next_attempt_at < now)
            .values(status=DeliveryStatus.PENDING, next_attempt_at=now)
            .returning(d.c.subscription_id)
        ).scalars()
        work = set(released)
        late = conn.execute(
            sa.select(d.c.subscription_id)
            .where(d.c.status == DeliveryStatus.PENDING, d.c.next_attempt_at <= now - grace)
            .distinct()
        ).scalars()
        work.update(late)
        active = set(conn.execute(sa.select(s.c.id).where(s.c.id.in_(work), s.c.active)).scalars())
    if lost_events:
        deliver_events(lost_events)  # sends the new deliveries too
    for subscription_id in sorted(active):
        deliver_due(subscription_id)
    return len(active)
