"""RQ jobs: top-level functions that take ids, open an app context and call a handler.

Failures raise, so that RQ records them and retries where a retry is configured. Each job is
idempotent: the database says whether its work is done.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context

from service import deadlines, mail, outbox, runtime, supervision
from service import repository as repo
from service.extensions import db
from service.models import User

log = logging.getLogger(__name__)
EARLY_WAIT_LIMIT = 2.0  # seconds: RQ's scheduler may start a job up to a second early
_app: Flask | None = None


def _app_context() -> Any:
    """The worker's app (created once per process) unless one is active already."""
    global _app
    if has_app_context():
        return _NullContext()
    if _app is None:
        from service import create_app

        _app = create_app()
    return _app.app_context()


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def fire_deadline(deadline_id: int) -> dict[str, Any]:
    """Fire deadline `deadline_id` (and every other one past due, in one batch)."""
    with _app_context():
        now = runtime.now()
        wait = deadlines.seconds_until_due(deadline_id, now)
        db.session.rollback()
        if wait is None:
            return {"deadline": deadline_id, "status": "not open"}
        if wait > EARLY_WAIT_LIMIT:  # woken early (a clock jump or a re-enqueue): reschedule
            due = now + timedelta(seconds=wait)
            outbox.schedule(
                outbox.queue(),
                "service.jobs.fire_deadline",
                due,
                f"deadline-{deadline_id}-due-{int(time.time())}",
                deadline_id,
            )
            return {"deadline": deadline_id, "status": "rescheduled"}
        if wait > 0:  # never fire before the due time
            time.sleep(wait)
        report = deadlines.fire_due()
        return {"deadline": deadline_id, "fired": len(report.fired), "notices": report.notices}


def remind_deadline(deadline_id: int) -> dict[str, Any]:
    with _app_context():
        return {"deadline": deadline_id, "reminders": deadlines.remind_due()}


def reconcile() -> dict[str, Any]:
    """Repair what Redis lost: send the outbox, fire what is past due, reschedule the rest."""
    with _app_context():
        sent = outbox.dispatch_pending()
        report = deadlines.fire_all_due()
        reminders = deadlines.remind_due()
        rescheduled = reschedule_lost()
        return {
            "outbox_sent": sent,
            "fired": len(report.fired),
            "reminders": reminders,
            "rescheduled": rescheduled,
        }


def reschedule_lost(horizon: timedelta = timedelta(hours=6)) -> int:
    """Open deadlines due soon whose RQ job no longer exists (Redis flushed or restarted)."""
    t = repo.deadlines_t
    now = runtime.now()
    rows = db.session.execute(
        sa.select(t.c.id, t.c.due_at, t.c.remind_at, t.c.reminded_at)
        .where(t.c.status == "open", t.c.due_at <= now + horizon)
        .order_by(t.c.due_at)
        .limit(5000)
    ).all()
    db.session.rollback()
    if not rows:
        return 0
    q = outbox.queue()
    conn = q.connection
    with conn.pipeline() as pipe:
        for row in rows:
            pipe.exists(f"rq:job:deadline-{row.id}-due")
        present = pipe.execute()
    missing = 0
    for row, exists in zip(rows, present, strict=True):
        if exists:
            continue
        missing += 1
        outbox.schedule(
            q, "service.jobs.fire_deadline", row.due_at, f"deadline-{row.id}-due", row.id
        )
        if row.remind_at is not None and row.reminded_at is None:
            outbox.schedule(
                q,
                "service.jobs.remind_deadline",
                row.remind_at,
                f"deadline-{row.id}-remind",
                row.id,
            )
    return missing


def send_email(outbox_id: int) -> str:
    """Deliver one queued email, once."""
    with _app_context():
        t = repo.outbox_t
        row = db.session.execute(
            sa.select(t.c.payload, t.c.delivered_at).where(t.c.id == outbox_id)
        ).first()
        db.session.rollback()
        if row is None or row.delivered_at is not None:
            return "nothing to do"
        users = User.__table__
        payload = row.payload
        addresses = [
            email or f"{username}@localhost"
            for username, email in db.session.execute(
                sa.select(users.c.username, users.c.email).where(
                    users.c.username.in_(payload["to"])
                )
            ).all()
        ]
        db.session.rollback()
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        with repo.writing() as conn:
            claimed = conn.execute(
                t.update()
                .where(t.c.id == outbox_id, t.c.delivered_at.is_(None))
                .values(delivered_at=datetime.now(UTC), attempts=t.c.attempts + 1)
            ).rowcount
            if claimed and addresses:
                # inside the transaction: if delivery fails, the claim rolls back and RQ retries
                mail.deliver(app, mail.build(app, addresses, payload["subject"], payload["body"]))
        return "sent" if claimed else "sent before"


def supervise() -> dict[str, Any]:
    """The supervision group's periodic checks (regulation 7(一)2)."""
    with _app_context():
        return supervision.run_checks()
