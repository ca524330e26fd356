"""The outbox: rows written in a transition's transaction, handed to RQ after commit.

A dispatcher thread in the worker polls for unsent rows (or, with OUTBOX_DISPATCH =
"inline", `wake()` sends them at once, as tests do). Whatever it misses (Redis down, the
process killed) stays unsent in the database and the reconciler sends it later. RQ job ids
are derived from the rows, so sending twice schedules nothing twice.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import UTC, datetime
from typing import Any

import redis
import sqlalchemy as sa
from flask import Flask
from rq import Queue, Retry

from service.core import context, runtime
from service.store import repository as repo
from service.store.db import db
from service.store.models import Subscription
from service.store.redis_conn import get_redis

log = logging.getLogger(__name__)
outbox_t = repo.outbox_t


def queue(app: Flask | None = None, deadlines: bool = False) -> Queue:
    """The default queue, or the deadlines queue that workers take first."""
    app = app or context.current().host
    name = app.config["RQ_QUEUE"] + ("-deadlines" if deadlines else "")
    return Queue(name, connection=get_redis(app))


def schedule(q: Queue, func: str, when: datetime, job_id: str, *args: Any) -> None:
    """Run `func` at `when` (at once if it is past), under a deterministic job id."""
    options: dict[str, Any] = {"job_id": job_id, "result_ttl": 600, "failure_ttl": 7 * 86400}
    if when <= datetime.now(UTC):
        q.enqueue(func, *args, **options)
    else:
        q.enqueue_at(when, func, *args, **options)


def tick_of(when: datetime) -> int:
    """The whole second `when` falls in. RQ's scheduler counts whole seconds: the tick's job
    reaches its queue during that second, and fires each deadline of it at its due time."""
    return math.floor(when.timestamp())


def schedule_tick(q: Queue, kind: str, when: datetime) -> str:
    """One job per second fires (or reminds) every deadline due by then, in batches:
    thousands of deadlines falling due together cost a job a second, not a job each."""
    second = tick_of(when)
    func = (
        "service.jobs.tasks.fire_deadlines"
        if kind == "due"
        else "service.jobs.tasks.send_reminders"
    )
    job_id = f"deadline-{kind}-{second}"
    schedule(q, func, datetime.fromtimestamp(second, UTC), job_id, second)
    return job_id


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def dispatch_pending(limit: int = 500) -> int:
    """Hand unsent rows to RQ, oldest first; return how many were sent."""
    rows = db.session.execute(
        sa.select(outbox_t.c.id, outbox_t.c.topic, outbox_t.c.payload)
        .where(outbox_t.c.sent_at.is_(None))
        .order_by(outbox_t.c.id)
        .limit(limit)
    ).all()
    db.session.rollback()  # end the read transaction before talking to Redis
    if not rows:
        return 0
    deadlines_q, default_q = queue(deadlines=True), queue()
    ticks: set[tuple[str, int]] = set()
    emails: list[int] = []
    events: list[int] = []
    for row in rows:
        if row.topic == "deadline.schedule":
            for kind, key in (("due", "due_at"), ("remind", "remind_at")):
                when = _parse(row.payload.get(key))
                if when is not None:
                    ticks.add((kind, tick_of(when)))
        elif row.topic == "email":
            emails.append(row.id)
        elif row.topic == "transition":
            events.append(row.id)
    unheard: list[int] = []
    if events and not _any_subscription():
        events, unheard = [], events  # nobody listens: no job, and nothing left to do
    try:
        for kind, second in sorted(ticks):
            schedule_tick(deadlines_q, kind, datetime.fromtimestamp(second, UTC))
        if emails:  # one job per round of mail, not one per message
            enqueue_emails(default_q, emails)
        if events:  # one job per round of events: it fans them out to the subscriptions
            default_q.enqueue(
                "service.jobs.tasks.deliver_events",
                events,
                job_id=f"events-{events[0]}-{events[-1]}",
                result_ttl=600,
                failure_ttl=7 * 86400,
            )
    except redis.RedisError as err:  # Redis down: the reconciler sends them later
        log.warning("outbox: Redis unavailable, %d rows wait: %s", len(rows), err)
        return 0
    with repo.writing() as conn:
        conn.execute(
            outbox_t.update()
            .where(outbox_t.c.id.in_([r.id for r in rows]))
            .values(sent_at=context.now())
        )
        if unheard:  # an undelivered transition row is one whose job may have been lost
            conn.execute(
                outbox_t.update()
                .where(outbox_t.c.id.in_(unheard))
                .values(delivered_at=context.now())
            )
    return len(rows)


def _any_subscription() -> bool:
    t = Subscription.__table__
    with repo.reading() as conn:
        return conn.execute(sa.select(t.c.id).where(t.c.active).limit(1)).first() is not None


EMAIL_RETRY = Retry(max=5, interval=[10, 60, 300, 900, 3600])  # seconds, growing


def enqueue_emails(q: Queue, ids: list[int], again: bool = False) -> None:
    """One job delivers a round of mail; RQ retries a failed one with backoff."""
    suffix = f"-again-{time.time_ns()}" if again else ""
    q.enqueue(
        "service.jobs.tasks.send_emails",
        ids,
        job_id=f"emails-{ids[0]}-{ids[-1]}{suffix}",
        result_ttl=600,
        failure_ttl=7 * 86400,
        retry=EMAIL_RETRY,
    )


DISPATCH_LOCK_MS = 10_000


def dispatch_lock(app: Flask) -> Any:
    """A Redis lock so that one process at a time sends the outbox."""
    return get_redis(app).lock(
        f"{app.config['RQ_QUEUE']}:outbox-dispatcher",
        timeout=DISPATCH_LOCK_MS / 1000,
        blocking=False,
    )


def init_app(app: Flask) -> None:
    runtime.on_commit(app, wake)


def wake() -> None:
    """Called after a commit that wrote outbox rows.

    By default the worker's dispatcher polls the outbox, so that web requests never wait on
    Redis; with OUTBOX_DISPATCH = "inline" (tests, scripts) the rows are sent at once.
    """
    if context.config()["OUTBOX_DISPATCH"] == "inline":
        dispatch_all(context.current().host, wait=True)


def dispatch_all(app: Flask, wait: bool = False) -> int:
    """Send every unsent row, if no other process is sending (or once it is done, with
    `wait`); return how many. One sender at a time: two would mark rows sent in different
    orders, which PostgreSQL can find to be a deadlock."""
    lock = dispatch_lock(app)
    try:
        if not lock.acquire(blocking=wait, blocking_timeout=DISPATCH_LOCK_MS / 1000):
            return 0
    except redis.RedisError as err:  # Redis down: the rows wait for the reconciler
        log.warning("outbox: Redis unavailable, nothing sent: %s", err)
        return 0
    sent = 0
    try:
        with app.app_context():
            while (batch := dispatch_pending()) > 0:
                sent += batch
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:  # expired meanwhile: nothing to release
            pass
    return sent


def dispatch_loop(app: Flask, stop: threading.Event, interval: float) -> None:
    """The worker's dispatcher thread."""
    while not stop.wait(interval):
        try:
            dispatch_all(app)
        except Exception:  # Redis or the database away: try again at the next tick
            log.exception("outbox dispatcher failed")
