"""The three workflows' instances, their audit trail and their deadlines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.core.statuses import DeadlineStatus
from service.store.db import db
from service.store.models.types import JSON, UTCDateTime, utcnow


class InstanceMixin:
    """What every workflow instance has: a definition version, a state, a version, data."""

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_version: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(sa.String(40), index=True)
    version: Mapped[int] = mapped_column(default=1)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    overdue: Mapped[bool] = mapped_column(default=False, index=True)
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Visit(InstanceMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "visits"
    # The KPIs read a period's visits, their state and customer from this index alone.
    __table_args__ = (sa.Index("ix_visits_planned_state", "planned_at", "state", "customer_id"),)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    visitors: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    place: Mapped[str | None] = mapped_column(sa.String(200))
    purpose: Mapped[str | None] = mapped_column(sa.Text)
    # a check-in was given (`geo` fields), and what was wrong with it (service.usecases.checkins)
    checked_in: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    checkin_flags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")


class VisitVisitor(db.Model):  # type: ignore[name-defined,misc]
    """One row per visitor, for filtering and confidentiality by visitor."""

    __tablename__ = "visit_visitors"
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visits.id"), primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(150), primary_key=True, index=True)


class Issue(InstanceMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "issues"
    __table_args__ = (
        sa.Index("ix_issues_created_state", "created_at", "state"),  # KPIs
        # the inbox counts a state's issues by department, person or raiser from here alone
        sa.Index(
            "ix_issues_state_people",
            "state",
            "responsible_department",
            "responsible_person",
            "created_by",
        ),
    )
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(sa.String(40))
    severity: Mapped[str] = mapped_column(sa.String(20))
    responsible_department: Mapped[str | None] = mapped_column(sa.String(50), index=True)
    responsible_person: Mapped[str | None] = mapped_column(sa.String(150), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class RectificationNotice(InstanceMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "rectification_notices"
    department: Mapped[str] = mapped_column(sa.String(50), index=True)
    findings: Mapped[str] = mapped_column(sa.Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    responsible_person: Mapped[str | None] = mapped_column(sa.String(150))
    related: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What issued it automatically (a deadline's expiry, a supervision finding): never twice.
    origin: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    # A generated notice's findings as a message key and parameters (service/core/texts.py),
    # rendered in the reader's language; `findings` keeps the English text as well.
    findings_message: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class NoticeItem(db.Model):  # type: ignore[name-defined,misc]
    """One row per visit or issue a notice relates: what its addressed department may see."""

    __tablename__ = "notice_items"
    __table_args__ = (sa.Index("ix_notice_items_seen", "workflow", "department", "item_id"),)
    notice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("rectification_notices.id"), primary_key=True
    )
    workflow: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    item_id: Mapped[int] = mapped_column(primary_key=True)
    department: Mapped[str] = mapped_column(sa.String(50))  # the notice's, which never changes


class TransitionEvent(db.Model):  # type: ignore[name-defined,misc]
    """The audit trail: append-only, one row per creation, transition or expiry."""

    __tablename__ = "transition_events"
    __table_args__ = (
        sa.Index("ix_events_instance", "workflow", "instance_id", "id"),
        # KPIs: a day's confirmations (an issue's last resolution comes from ix_events_instance)
        sa.Index("ix_events_trigger_when", "workflow", "trigger", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workflow: Mapped[str] = mapped_column(sa.String(40))
    instance_id: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(20))  # web | api | webhook | job
    trigger: Mapped[str | None] = mapped_column(sa.String(80))
    from_state: Mapped[str | None] = mapped_column(sa.String(40))
    to_state: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))


class Deadline(db.Model):  # type: ignore[name-defined,misc]
    """A deadline: the source of truth; RQ only schedules its firing."""

    __tablename__ = "deadlines"
    __table_args__ = (
        sa.Index("ix_deadlines_open_due", "status", "due_at"),
        sa.Index("ix_deadlines_instance", "workflow", "instance_id", "status"),
        # the inbox walks a workflow's running deadlines in due order
        sa.Index("ix_deadlines_walk", "workflow", "state", "due_at", "status", "instance_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workflow: Mapped[str] = mapped_column(sa.String(40))
    instance_id: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(sa.String(80))
    state: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int] = mapped_column()  # the instance version that started it
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(20), default=DeadlineStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
