"""The outbox: rows written in a transition's transaction, handed to RQ after commit.

A dispatcher thread in the worker polls for unsent rows (or, with OUTBOX_DISPATCH =
"inline", `wake()` sends them at once, as tests do). Whatever it misses (Redis down, the
process killed) stays unsent in the database and the reconciler sends it later. RQ job ids
are derived from the rows, so sending twice schedules nothing twice.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from typing import Any

import redis
import sqlalchemy as sa
from flask import Flask, current_app
from rq import Queue

from service import repository as repo
from service.extensions import db
from service.redis_conn import get_redis

log = logging.getLogger(__name__)
outbox_t = repo.outbox_t


def queue(app: Flask | None = None) -> Queue:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return Queue(app.config["RQ_QUEUE"], connection=get_redis(app))


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def schedule(q: Queue, func: str, when: datetime, job_id: str, *args: Any) -> None:
    """Run `func` at `when` (at once if it is past), under a deterministic job id."""
    options: dict[str, Any] = {"job_id": job_id, "result_ttl": 600, "failure_ttl": 7 * 86400}
    if when <= datetime.now(UTC):
        q.enqueue(func, *args, **options)
    else:
        q.enqueue_at(when, func, *args, **options)


def _send(q: Queue, row: Any) -> None:
    payload = row.payload
    if row.topic == "deadline.schedule":
        deadline_id = payload["deadline_id"]
        due = _parse(payload["due_at"])
        assert due is not None
        schedule(q, "service.jobs.fire_deadline", due, f"deadline-{deadline_id}-due", deadline_id)
        remind = _parse(payload.get("remind_at"))
        if remind is not None:
            schedule(
                q,
                "service.jobs.remind_deadline",
                remind,
                f"deadline-{deadline_id}-remind",
                deadline_id,
            )
    elif row.topic == "email":
        q.enqueue("service.jobs.send_email", row.id, job_id=f"email-{row.id}", result_ttl=600)
    # "transition" rows are kept for the outbound webhooks; nothing to hand over yet.


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
    q = queue()
    sent: list[int] = []
    try:
        for row in rows:
            _send(q, row)
            sent.append(row.id)
    except redis.RedisError as err:  # Redis down: the reconciler sends the rest later
        log.warning("outbox: Redis unavailable after %d of %d rows: %s", len(sent), len(rows), err)
    if sent:
        with repo.writing() as conn:
            conn.execute(
                outbox_t.update().where(outbox_t.c.id.in_(sent)).values(sent_at=datetime.now(UTC))
            )
    return len(sent)


def wake() -> None:
    """Called after a commit that wrote outbox rows.

    By default the worker's dispatcher polls the outbox, so that web requests never wait on
    Redis; with OUTBOX_DISPATCH = "inline" (tests, scripts) the rows are sent at once.
    """
    if current_app.config.get("OUTBOX_DISPATCH", "worker") == "inline":
        dispatch_pending()


def dispatch_loop(app: Flask, stop: threading.Event, interval: float) -> None:
    """The worker's dispatcher: one process at a time (a Redis lock) sends the outbox."""
    conn = get_redis(app)
    lock_key = f"{app.config['RQ_QUEUE']}:outbox-dispatcher"
    me = f"{os.getpid()}-{threading.get_native_id()}"
    while not stop.wait(interval):
        try:
            if conn.set(lock_key, me, nx=True, px=10_000) or conn.get(lock_key) == me.encode():
                conn.pexpire(lock_key, 10_000)
                with app.app_context():
                    while dispatch_pending() == 500:
                        pass
        except Exception:  # Redis or the database away: try again at the next tick
            log.exception("outbox dispatcher failed")
