"""Sending deliveries: lease, POST, log the attempt, settle the subscription's circuit.

- A delivery is leased (`pending` -> `sending`) before it is POSTed, outside any database
  transaction, with the event signed like inbound webhooks (X-VisitFlow-Signature, the
  subscription's secret); every attempt is logged with its status code or error and its
  duration. Only a 2xx answer delivers; redirects are not followed.
- A failure opens the subscription's circuit: its deliveries wait until `retry_at`, with a
  backoff that doubles at each consecutive failure (WEBHOOK_RETRY_BASE_SECONDS, capped at
  WEBHOOK_RETRY_MAX_SECONDS); an RQ job per subscription and retry second sends them then,
  oldest first. A delivery gives up (`failed`) after WEBHOOK_MAX_ATTEMPTS; a subscription
  is disabled after WEBHOOK_DISABLE_AFTER consecutive failures, and every admin notified.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import sqlalchemy as sa

from service.core import context, crypto, signing
from service.core.statuses import DeliveryStatus
from service.jobs import outbox
from service.store import repository as repo
from service.usecases import notify
from service.usecases.subscriptions import attempts_t, deliveries_t, subscriptions_t
from workflows.events import Target

USER_AGENT = "VisitFlow-Webhooks/1"
BATCH = 100


def setting(name: str) -> float:
    """WEBHOOK_TIMEOUT, WEBHOOK_RETRY_BASE_SECONDS and the like (service/core/config.py)."""
    return float(context.config()[name])


def backoff(failures: int) -> float:
    """Seconds to wait after the `failures`-th consecutive failure: base, 2 base, 4 base..."""
    base, cap = setting("WEBHOOK_RETRY_BASE_SECONDS"), setting("WEBHOOK_RETRY_MAX_SECONDS")
    return float(min(cap, base * 2 ** max(0, failures - 1)))


@dataclass(frozen=True, slots=True)
class Receiver:
    id: int
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery_id: int
    attempts: int  # the delivery's attempts before this one
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.error is None


_sessions: dict[int, requests.Session] = {}


def _session() -> requests.Session:
    """One HTTP session per thread of a worker: keep-alive connections to the receivers."""
    key = threading.get_ident()
    session = _sessions.get(key)
    if session is None:
        session = _sessions[key] = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
    return session


def deliver_due(subscription_id: int) -> int:
    """Send the subscription's due deliveries, oldest first, in batches; how many arrived.

    Stops at the first failure: the subscription then backs off, and a job is scheduled for
    when it is due again.
    """
    delivered = 0
    while True:
        target, batch = _claim(subscription_id)
        if target is None or not batch:
            return delivered
        results: list[Attempt] = []
        for delivery_id, attempts, payload in batch:
            results.append(_post(target, delivery_id, attempts, payload))
            if not results[-1].ok:
                break
        delivered += sum(1 for r in results if r.ok)
        unsent = [d for d, _, _ in batch[len(results) :]]
        _record(target, results, unsent)
        if len(results) < len(batch) or len(batch) < BATCH:
            return delivered


def _claim(subscription_id: int) -> tuple[Receiver | None, list[tuple[int, int, Any]]]:
    """Lease the due pending deliveries of an active subscription that is not backing off."""
    now = context.now()
    s = subscriptions_t
    with repo.writing() as conn:
        sub = conn.execute(sa.select(s).where(s.c.id == subscription_id)).first()
        if sub is None or not sub.active:
            return None, []
        backing_off = sub.retry_at is not None and sub.retry_at > now + timedelta(seconds=1)
        due = [] if backing_off else _lease_due(conn, subscription_id, now)
    if backing_off:  # woken early, or new deliveries: they wait for the retry
        _schedule(subscription_id, sub.retry_at, now)
        return None, []
    target = Receiver(sub.id, sub.url, crypto.decrypt(sub.secret))
    return target, due


def _lease_due(conn: Any, subscription_id: int, now: datetime) -> list[tuple[int, int, Any]]:
    """Mark the due deliveries `sending` until the lease ends (the reconciler frees them then,
    if the worker died mid-send)."""
    d = deliveries_t
    candidates = (
        conn.execute(
            sa.select(d.c.id)
            .where(
                d.c.subscription_id == subscription_id,
                d.c.status == DeliveryStatus.PENDING,
                d.c.next_attempt_at <= now + timedelta(seconds=1),  # RQ may run a second early
            )
            .order_by(d.c.id)
            .limit(BATCH)
        )
        .scalars()
        .all()
    )
    if not candidates:
        return []
    # long enough for every POST of the batch to time out: no second sender meanwhile
    lease = now + timedelta(seconds=len(candidates) * setting("WEBHOOK_TIMEOUT") + 30)
    # `status == pending` again: of two workers leasing at once (PostgreSQL), one gets each
    leased = conn.execute(
        d.update()
        .where(d.c.id.in_(candidates), d.c.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SENDING, next_attempt_at=lease)
        .returning(d.c.id, d.c.attempts, d.c.payload)
    ).all()
    return sorted((r.id, r.attempts, r.payload) for r in leased)


def body_of(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _post(target: Receiver, delivery_id: int, attempts: int, payload: Any) -> Attempt:
    body = body_of(payload)
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.sign(target.secret, int(time.time()), body),
        "X-VisitFlow-Event": str(payload.get("type")),
        "X-VisitFlow-Delivery": str(delivery_id),
    }
    at = context.now()
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    try:
        response = _session().post(
            target.url,
            data=body,
            headers=headers,
            timeout=setting("WEBHOOK_TIMEOUT"),
            allow_redirects=False,
        )
        status = response.status_code
        response.close()
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except requests.RequestException as err:  # refused, reset, timed out: an attempt failed
        error = f"{type(err).__name__}: {err}"[:500]
    duration = (time.perf_counter() - started) * 1000
    return Attempt(delivery_id, attempts, at, status, error, duration)


def _record(target: Receiver, results: list[Attempt], unsent: list[int]) -> None:
    """Log the attempts, settle the deliveries and the subscription's circuit, in one go."""
    now = context.now()
    with repo.writing() as conn:
        _log_attempts(conn, results)
        _mark_delivered(conn, [r.delivery_id for r in results if r.ok], now)
        failed = next((r for r in results if not r.ok), None)
        if failed is None:
            s = subscriptions_t
            conn.execute(s.update().where(s.c.id == target.id).values(failures=0, retry_at=None))
            return
        retry_at, disabled, wake = _settle_failure(conn, target, failed, unsent, now)
    if wake:
        outbox.wake()
    elif not disabled:
        _schedule(target.id, retry_at, now)


def _log_attempts(conn: Any, results: list[Attempt]) -> None:
    if results:
        conn.execute(
            attempts_t.insert(),
            [
                {
                    "delivery_id": r.delivery_id,
                    "at": r.at,
                    "status_code": r.status_code,
                    "error": r.error,
                    "duration_ms": r.duration_ms,
                }
                for r in results
            ],
        )


def _mark_delivered(conn: Any, delivery_ids: list[int], now: datetime) -> None:
    if delivery_ids:
        d = deliveries_t
        conn.execute(
            d.update()
            .where(d.c.id.in_(delivery_ids))
            .values(
                status=DeliveryStatus.DELIVERED,
                attempts=d.c.attempts + 1,
                delivered_at=now,
                next_attempt_at=None,
            )
        )


def _settle_failure(
    conn: Any, target: Receiver, failed: Attempt, unsent: list[int], now: datetime
) -> tuple[datetime, bool, bool]:
    """One more failure of the subscription: the failed delivery retried later (or given up),
    the unsent ones released, the circuit opened past its limit. Returns when to retry,
    whether the subscription is now disabled, and whether its owners were told so."""
    s, d = subscriptions_t, deliveries_t
    failures = conn.execute(
        s.update()
        .where(s.c.id == target.id)
        .values(failures=s.c.failures + 1)
        .returning(s.c.failures)
    ).scalar_one()
    retry_at = now + timedelta(seconds=backoff(failures))
    own_retry = now + timedelta(seconds=backoff(failed.attempts + 1))
    gave_up = failed.attempts + 1 >= int(setting("WEBHOOK_MAX_ATTEMPTS"))
    conn.execute(
        d.update()
        .where(d.c.id == failed.delivery_id)
        .values(
            status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
            attempts=d.c.attempts + 1,
            next_attempt_at=None if gave_up else max(own_retry, retry_at),
        )
    )
    _release(conn, unsent, retry_at)
    if failures < int(setting("WEBHOOK_DISABLE_AFTER")):
        conn.execute(s.update().where(s.c.id == target.id).values(retry_at=retry_at))
        return retry_at, False, False
    conn.execute(s.update().where(s.c.id == target.id).values(active=False, disabled_at=now))
    return retry_at, True, _notify_disabled(conn, target, failures, failed, now) > 0


def _release(conn: Any, delivery_ids: list[int], when: datetime) -> None:
    if delivery_ids:
        d = deliveries_t
        conn.execute(
            d.update()
            .where(d.c.id.in_(delivery_ids), d.c.status == DeliveryStatus.SENDING)
            .values(status=DeliveryStatus.PENDING, next_attempt_at=when)
        )


def _notify_disabled(
    conn: Any, target: Receiver, failures: int, last: Attempt, now: datetime
) -> int:
    admins = notify.usernames(conn, [Target("role", "admin")])
    params = {
        "subscription": target.id,
        "failures": failures,
        "url": target.url,
        "error": last.error,
    }
    return notify.send(conn, admins, "webhook_disabled", params, None, None, now)


def _schedule(subscription_id: int, when: datetime, now: datetime) -> None:
    """An RQ job sends the subscription's deliveries at `when` (one job per second)."""
    delay = max(0.0, (when - now).total_seconds())
    second = int(time.time() + delay + 0.999)
    q = outbox.queue()
    outbox.schedule(
        q,
        "service.jobs.tasks.deliver_webhooks",
        datetime.fromtimestamp(second, UTC),
        f"webhooks-sub-{subscription_id}-{second}",
        subscription_id,
    )


def schedule_now(subscription_id: int) -> None:
    """A job that sends the subscription's due deliveries at once."""
    outbox.queue().enqueue(
        "service.jobs.tasks.deliver_webhooks",
        subscription_id,
        job_id=f"webhooks-sub-{subscription_id}-now-{time.time_ns()}",
        result_ttl=600,
        failure_ttl=7 * 86400,
    )
