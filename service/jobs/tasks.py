"""RQ jobs: top-level functions that take ids, open an app context and call a handler.

Failures raise, so that RQ records them and retries where a retry is configured. Each job is
idempotent: the database says whether its work is done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from service.core import context
from service.core.statuses import DeadlineStatus
from service.jobs import delivery, mail, outbound, outbox, schedule
from service.reports import kpi
from service.store import repository as repo
from service.store.db import db
from service.store.models import User
from service.store.redis_conn import get_redis
from service.usecases import client_requests, deadlines, official_calendar, supervision

log = logging.getLogger(__name__)
EARLY_WAIT_LIMIT = 2.0  # seconds: RQ's scheduler may start a job up to a second early
EMAIL_MAX_ATTEMPTS = 10
_app: Flask | None = None


def bind(app: Flask) -> None:
    """The app that jobs run in when none is active: the worker's, created once per process
    by its entry point (`service.entrypoints.worker`)."""
    global _app
    _app = app


@contextmanager
def _app_context() -> Iterator[None]:
    """The worker's app unless one is active already; its business calendar brought to the
    official holidays loaded in the database."""
    if context.current_or_none() is not None:
        app_context: Any = _NullContext()
    elif _app is None:
        raise RuntimeError("jobs run in an app: the worker binds its own (tasks.bind)")
    else:
        app_context = _app.app_context()
    with app_context:
        official_calendar.sync()
        yield


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _early(second: int, func: str, kind: str) -> bool:
    """True (and the tick rescheduled) if the job runs long before its second."""
    if second - context.now().timestamp() <= EARLY_WAIT_LIMIT:
        return False
    outbox.schedule(
        outbox.queue(deadlines=True),
        func,
        datetime.fromtimestamp(second, UTC),
        f"deadline-{kind}-{second}-again-{time.time_ns()}",
        second,
    )
    return True


def _until_end_of(second: int, act: Any, next_due: Any) -> None:
    """Act on what is due now, then at each later due time within `second`; never early."""
    end = datetime.fromtimestamp(second + 1, UTC)
    while True:
        act()
        upcoming = next_due(end)
        if upcoming is None:
            return
        time.sleep(max(0.0, (upcoming - context.now()).total_seconds()))


def fire_deadlines(second: int) -> dict[str, Any]:
    """Fire every deadline due by the end of the whole second `second`, each at its due time
    (or at once if it is past), in batches."""
    with _app_context():
        if _early(second, "service.jobs.tasks.fire_deadlines", "due"):
            return {"tick": second, "status": "rescheduled"}
        fired: list[int] = []
        _until_end_of(
            second,
            lambda: fired.extend(deadlines.fire_all_due().fired),
            lambda end: deadlines.next_due(end, reminders=False),
        )
        return {"tick": second, "fired": len(fired)}


def send_reminders(second: int) -> dict[str, Any]:
    with _app_context():
        if _early(second, "service.jobs.tasks.send_reminders", "remind"):
            return {"tick": second, "status": "rescheduled"}
        sent: list[int] = []
        _until_end_of(
            second,
            lambda: sent.append(deadlines.remind_due()),
            lambda end: deadlines.next_due(end, reminders=True),
        )
        return {"tick": second, "reminders": sum(sent)}


def reconcile() -> dict[str, Any]:
    """Repair what Redis lost: send the outbox, fire what is past due, reschedule the rest."""
    with _app_context():
        app = context.current().host
        sent = outbox.dispatch_all(app)
        report = deadlines.fire_all_due()
        reminders = deadlines.remind_due()
        rescheduled = reschedule_lost()
        webhooks = outbound.repair()
        emails = resend_stale_emails()
        forgotten = client_requests.forget_old()
        return {
            "client_requests_forgotten": forgotten,
            "emails_resent": emails,
            "outbox_sent": sent,
            "fired": len(report.fired),
            "reminders": reminders,
            "rescheduled": rescheduled,
            "webhook_subscriptions_resent": webhooks,
        }


def reschedule_lost(horizon: timedelta = timedelta(hours=6)) -> int:
    """Ticks of open deadlines due soon whose RQ job no longer exists (Redis flushed)."""
    t = repo.deadlines_t
    now = context.now()
    rows = db.session.execute(
        sa.select(t.c.due_at, t.c.remind_at, t.c.reminded_at)
        .where(t.c.status == DeadlineStatus.OPEN, t.c.due_at <= now + horizon)
        .order_by(t.c.due_at)
        .limit(20_000)
    ).all()
    db.session.rollback()
    ticks = {("due", outbox.tick_of(r.due_at)) for r in rows}
    ticks |= {
        ("remind", outbox.tick_of(r.remind_at))
        for r in rows
        if r.remind_at is not None and r.reminded_at is None and r.remind_at > now
    }
    if not ticks:
        return 0
    q = outbox.queue(deadlines=True)
    ordered = sorted(ticks)
    with q.connection.pipeline() as pipe:
        for kind, second in ordered:
            pipe.exists(f"rq:job:deadline-{kind}-{second}")
        present = pipe.execute()
    missing = [tick for tick, exists in zip(ordered, present, strict=True) if not exists]
    for kind, second in missing:
        outbox.schedule_tick(q, kind, datetime.fromtimestamp(second, UTC))
    return len(missing)


def send_emails(outbox_ids: list[int]) -> dict[str, int]:
    """Deliver queued emails, each at most once: a row is claimed before it is sent (and
    released again if sending fails, for RQ's retry); SMTP never holds the database."""
    with _app_context():
        app = context.current().host
        t = repo.outbox_t
        sent = 0
        failed: list[str] = []
        for outbox_id in outbox_ids:
            with repo.writing() as conn:
                claimed = conn.execute(
                    t.update()
                    .where(t.c.id == outbox_id, t.c.delivered_at.is_(None))
                    .values(delivered_at=datetime.now(UTC), attempts=t.c.attempts + 1)
                    .returning(t.c.payload)
                ).first()
                addresses = _addresses(conn, claimed.payload["to"]) if claimed else []
            if claimed is None or not addresses:
                continue
            try:
                payload = claimed.payload
                mail.deliver(app, mail.build(app, addresses, payload["subject"], payload["body"]))
            except Exception as err:  # release the claim; the others still go out
                with repo.writing() as conn:
                    conn.execute(
                        t.update()
                        .where(t.c.id == outbox_id)
                        .values(delivered_at=None, last_error=str(err)[:2000])
                    )
                failed.append(f"{outbox_id}: {err}")
                continue
            sent += 1
        if failed:  # RQ retries the job with backoff; only the unclaimed rows are sent again
            raise RuntimeError(f"{len(failed)} of {len(outbox_ids)} emails failed: {failed[:3]}")
        return {"sent": sent}


def resend_stale_emails(
    older_than: timedelta = timedelta(seconds=30), max_attempts: int = EMAIL_MAX_ATTEMPTS
) -> int:
    """Emails handed to RQ but never delivered (their job lost with Redis, or its retries
    spent): hand them over again, up to `max_attempts` deliveries tried."""
    t = repo.outbox_t
    ids = list(
        db.session.execute(
            sa.select(t.c.id)
            .where(
                t.c.topic == "email",
                t.c.sent_at.is_not(None),
                t.c.sent_at < context.now() - older_than,
                t.c.delivered_at.is_(None),
                t.c.attempts < max_attempts,
            )
            .order_by(t.c.id)
            .limit(500)
        ).scalars()
    )
    db.session.rollback()
    if ids:
        outbox.enqueue_emails(outbox.queue(), ids, again=True)
    return len(ids)


def _addresses(conn: Any, usernames: list[str]) -> list[str]:
    users = User.__table__
    rows = conn.execute(
        sa.select(users.c.username, users.c.email).where(users.c.username.in_(usernames))
    ).all()
    return [email or f"{username}@localhost" for username, email in rows]


def deliver_events(outbox_ids: list[int]) -> dict[str, int]:
    """Outbound webhooks: the events of a dispatch round, to every matching subscription."""
    with _app_context():
        return outbound.deliver_events(outbox_ids)


def deliver_webhooks(subscription_id: int) -> dict[str, int]:
    """A subscription's due deliveries: retries after a backoff, redeliveries on request."""
    with _app_context():
        return {"delivered": delivery.deliver_due(subscription_id)}


def supervise() -> dict[str, Any]:
    """The supervision group's periodic checks (regulation 7(一)2), now."""
    with _app_context():
        return supervision.run_checks()


def supervise_when_due() -> dict[str, Any]:
    """The cron thread's tick: the supervision checks if their schedule says they are due
    (service/jobs/schedule.py); a worker's start alone never runs them."""
    with _app_context():
        conn = get_redis(context.current().host)
        last = schedule.claim(conn)
        if last is None:
            return {"due": False}
        try:
            return {"due": True, **supervision.run_checks()}
        except Exception:
            schedule.release(conn, last)
            raise


# On PostgreSQL the refresher takes this advisory lock exclusively (tried, never waited
# for), and the KPI triggers that find their days in other rows take it shared (migration
# 0006): a day is never recounted and cleared while a transaction that could not see a
# change of that day's rows is still open. It also keeps refreshers to one at a time.
KPI_REFRESH_LOCK = 0x6B7069  # "kpi"


def _kpi_lock(conn: Any, tries: int = 40) -> bool:
    """The refresher's exclusive lock, tried for about two seconds (writers hold it shared
    for a few milliseconds at a time); SQLite's writer lock already serialises everything."""
    if conn.dialect.name != "postgresql":
        return True
    for attempt in range(tries):
        if conn.execute(
            sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": KPI_REFRESH_LOCK}
        ).scalar():
            return True
        if attempt < tries - 1:
            time.sleep(0.05)
    return False


def refresh_kpi(seconds: float = 5.0) -> dict[str, int]:
    """Recount the KPI tallies of the days changed since the last round (service/reports/kpi/).

    Short write transactions (about 50 ms each, so that SQLite's writers barely wait),
    until nothing is dirty or `seconds` have passed; the next round goes on from there.
    """
    with _app_context():
        days = 0
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            with repo.writing() as conn:
                if not _kpi_lock(conn):
                    break  # busy writers or another refresher: the next round
                n = kpi.refresh(conn)
            days += n
            if n == 0:
                break
        return {"days": days}
