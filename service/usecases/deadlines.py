"""Firing deadlines: idempotent, in batches, each firing in the transaction that claims it.

A deadline fires once: the transaction that flips it from open to fired does everything its
expiry causes (overdue mark, audit event, notifications, rectification notice) or nothing.
It acts only while the instance is still in the state, at the version, that started it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.core import context
from service.core.statuses import DeadlineStatus
from service.core.texts import Text, msg
from service.store import repository as repo
from service.store.kinds import KINDS, RECTIFICATION, Kind
from service.usecases import handlers, notify
from service.usecases.representation import InstanceView
from workflows import Actor, Duration
from workflows.calendar import DurationUnit
from workflows.events import (
    Event,
    MarkedOverdue,
    NotificationRequested,
    RectificationRequested,
)

log = logging.getLogger(__name__)
deadlines_t = repo.deadlines_t
SYSTEM = handlers.Context(Actor.system(), "job")


@dataclass
class Report:
    fired: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # moved on, or fired elsewhere
    notices: list[int] = field(default_factory=list)


def _due_query(conn: Connection, now: datetime, limit: int, reminders: bool) -> sa.Select[Any]:
    column = deadlines_t.c.remind_at if reminders else deadlines_t.c.due_at
    query = (
        sa.select(deadlines_t)
        .where(deadlines_t.c.status == DeadlineStatus.OPEN, column <= now)
        .order_by(column)
        .limit(limit)
    )
    if reminders:
        query = query.where(deadlines_t.c.reminded_at.is_(None))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # workers split a batch, never share it
    return query


def fire_due(now: datetime | None = None, limit: int | None = None) -> Report:
    """Fire up to `limit` open deadlines past due, oldest first, in one transaction."""
    now = now or context.now()
    limit = limit or context.config()["DEADLINE_BATCH"]
    report = Report()
    with repo.writing() as conn:
        for d in conn.execute(_due_query(conn, now, limit, reminders=False)).mappings().all():
            _fire_one(conn, dict(d), now, report)
    if report.fired:
        context.committed()
    return report


def fire_all_due(now: datetime | None = None) -> Report:
    """Fire batch after batch until nothing is past due."""
    total = Report()
    limit = context.config()["DEADLINE_BATCH"]
    while True:
        report = fire_due(now, limit)
        total.fired += report.fired
        total.skipped += report.skipped
        total.notices += report.notices
        if len(report.fired) + len(report.skipped) < limit:
            return total


def _claim(conn: Connection, deadline_id: int, values: Mapping[str, Any]) -> bool:
    result = conn.execute(
        deadlines_t.update()
        .where(deadlines_t.c.id == deadline_id, deadlines_t.c.status == DeadlineStatus.OPEN)
        .values(**values)
    )
    return result.rowcount == 1


def _fire_one(conn: Connection, d: Mapping[str, Any], now: datetime, report: Report) -> None:
    kind = KINDS[d["workflow"]]
    row = repo.load(kind, d["instance_id"], conn)
    if row is None or row["state"] != d["state"] or row["version"] != d["version"]:
        # The transition that left the state should have closed it: close it now.
        _claim(conn, d["id"], {"status": DeadlineStatus.CLOSED, "closed_at": now})
        report.skipped.append(d["id"])
        return
    if not _claim(conn, d["id"], {"status": DeadlineStatus.FIRED, "fired_at": now}):
        report.skipped.append(d["id"])
        return
    workflow = context.registry().get(kind.workflow, row["definition_version"])
    events = workflow.expire(InstanceView(kind, row), d["kind"])
    _apply(conn, kind, row, d, events, now, report)
    report.fired.append(d["id"])


def _apply(
    conn: Connection,
    kind: Kind,
    row: dict[str, Any],
    d: Mapping[str, Any],
    events: tuple[Event, ...],
    now: datetime,
    report: Report,
) -> None:
    t = kind.table
    if any(isinstance(e, MarkedOverdue) for e in events):
        conn.execute(t.update().where(t.c.id == row["id"]).values(overdue=True))
    repo.insert_event(
        conn,
        workflow=kind.workflow,
        instance_id=row["id"],
        at=now,
        actor="system",
        source="job",
        trigger=f"expire:{d['kind']}",
        from_state=row["state"],
        to_state=row["state"],
        version=row["version"],
        data={"deadline_id": d["id"], "due_at": d["due_at"].isoformat()},
        request_id=None,
    )
    for event in events:
        if isinstance(event, NotificationRequested):
            names = notify.usernames(conn, event.targets)
            params = _params(kind, row, event, d)
            notify.send(conn, names, event.kind, params, kind.workflow, row["id"], now)
        elif isinstance(event, RectificationRequested):
            notice = _issue_notice(conn, kind, row, event, d, now)
            if notice is not None:
                report.notices.append(notice)


def _params(
    kind: Kind, row: Mapping[str, Any], event: NotificationRequested, d: Mapping[str, Any]
) -> dict[str, Any]:
    """What a reminder, overdue or escalation notification says, rendered when read."""
    due = d["due_at"].astimezone(context.registry().calendar.tz).strftime("%Y-%m-%d %H:%M")
    workflow = context.registry().get(kind.workflow, row["definition_version"]).definition.label
    return {
        "workflow": {"zh": workflow.zh, "en": workflow.en},
        "id": row["id"],
        "deadline": event.deadline_kind,
        "label": {"zh": event.label.zh, "en": event.label.en},
        "due": due,
    }


def _issue_notice(
    conn: Connection,
    kind: Kind,
    row: Mapping[str, Any],
    event: RectificationRequested,
    d: Mapping[str, Any],
    now: datetime,
) -> int | None:
    """The automatic rectification notice of an expiry: once per deadline, if policy says so."""
    policy = context.config()["POLICY"]
    if not policy["auto_rectification"].get("deadlines", True):
        return None
    if event.department is None:
        log.warning(
            "%s %s: no department to address a rectification notice to", kind.workflow, row["id"]
        )
        return None
    findings = msg(
        "%(findings)s (%(kind)s #%(id)s, due %(due)s)",
        findings=event.findings,
        kind=kind.title,
        id=row["id"],
        due=d["due_at"].astimezone(context.registry().calendar.tz).date(),
    )
    return issue_notice(
        conn,
        event.department,
        findings,
        [{"workflow": kind.workflow, "id": row["id"]}],
        overdue_origin(kind.workflow, row["id"], d["version"], d["kind"]),
        now,
    )


def overdue_origin(workflow: str, instance_id: int, version: int, deadline_kind: str) -> str:
    """One key per overdue episode: the expiry and a supervision finding share its notice."""
    return f"overdue:{workflow}:{instance_id}:v{version}:{deadline_kind}"


def notice_of(conn: Connection, origin: str) -> int | None:
    found = conn.execute(
        sa.select(RECTIFICATION.table.c.id).where(RECTIFICATION.table.c.origin == origin)
    ).scalar()
    return int(found) if found is not None else None


def issue_notice(
    conn: Connection,
    department: str,
    findings: Text,
    related: list[dict[str, Any]],
    origin: str,
    now: datetime,
) -> int | None:
    """Issue a rectification notice as the system, unless `origin` issued one already.

    The notice keeps its findings as a message key and parameters, shown in the reader's
    language (service/core/texts.py); its `findings` field holds the English text as well."""
    if notice_of(conn, origin) is not None:
        return None
    registry = context.registry()
    days = context.config()["POLICY"]["rectification_due_working_days"]
    due = registry.calendar.add(now, Duration(int(days), DurationUnit.WORKING_DAYS))
    workflow = registry.get(RECTIFICATION.workflow)
    outcome = workflow.create(
        SYSTEM.actor, {"department": department, "findings": findings, "due_at": due}, now
    )
    columns = {
        **handlers.columns_of(RECTIFICATION, outcome.attributes, workflow),
        "related": related,
        "findings_message": findings.as_json(),
    }
    creation = handlers.Creation(workflow, outcome, columns)
    return handlers.insert_created(conn, RECTIFICATION, creation, SYSTEM, now, origin=origin)


def remind_due(now: datetime | None = None, limit: int | None = None) -> int:
    """Send the reminders that are due, each once."""
    now = now or context.now()
    limit = limit or context.config()["DEADLINE_BATCH"]
    sent = 0
    with repo.writing() as conn:
        due = conn.execute(_due_query(conn, now, limit, reminders=True)).mappings().all()
        for d in map(dict, due):
            kind = KINDS[d["workflow"]]
            row = repo.load(kind, d["instance_id"], conn)
            claimed = conn.execute(
                deadlines_t.update()
                .where(deadlines_t.c.id == d["id"], deadlines_t.c.reminded_at.is_(None))
                .values(reminded_at=now)
            ).rowcount
            if not claimed or row is None or row["state"] != d["state"]:
                continue
            workflow = context.registry().get(kind.workflow, row["definition_version"])
            for event in workflow.remind(InstanceView(kind, row), d["kind"]):
                if isinstance(event, NotificationRequested):
                    names = notify.usernames(conn, event.targets)
                    params = _params(kind, row, event, d)
                    sent += notify.send(
                        conn, names, "reminder", params, kind.workflow, row["id"], now
                    )
    if sent:
        context.committed()
    return sent


def next_due(before: datetime, reminders: bool) -> datetime | None:
    """The soonest open deadline (or reminder) due before `before`, if any."""
    column = deadlines_t.c.remind_at if reminders else deadlines_t.c.due_at
    query = sa.select(sa.func.min(column)).where(
        deadlines_t.c.status == DeadlineStatus.OPEN, column < before
    )
    if reminders:
        query = query.where(deadlines_t.c.reminded_at.is_(None))
    with repo.reading() as conn:
        found: datetime | None = conn.execute(query).scalar()
    return found
