"""Tables: reference data, the three workflows' instances, and their audit, deadlines, outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from service.store.db import db

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times are stored with their offset")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Department(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "departments"
    code: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    manager: Mapped[str | None] = mapped_column(sa.String(150))  # a username


class User(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    role: Mapped[str] = mapped_column(sa.String(40))
    department: Mapped[str | None] = mapped_column(sa.ForeignKey("departments.code"), index=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # sha256 hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(default=False)


class Customer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    tier: Mapped[str] = mapped_column(sa.String(20), index=True)
    criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    industry: Mapped[str | None] = mapped_column(sa.String(200))
    region: Mapped[str | None] = mapped_column(sa.String(200))
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


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
    status: Mapped[str] = mapped_column(sa.String(20), default="open")  # open|closed|fired
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """What must be sent after commit: written in the transaction, delivered after it."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_pending", "sent_at", "id"),
        sa.Index("ix_outbox_undelivered", "topic", "delivered_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # handed to RQ
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the job's work done
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class Notification(db.Model):  # type: ignore[name-defined,misc]
    """An in-app notification to one user; email copies go out through the outbox."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user", "username", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(150))
    kind: Mapped[str] = mapped_column(sa.String(40))  # reminder|overdue|rectification_issued|...
    message: Mapped[str] = mapped_column(sa.Text)  # rows before 0010; "" since
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # rendered by notify_texts
    workflow: Mapped[str | None] = mapped_column(sa.String(40))
    instance_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read: Mapped[bool] = mapped_column(default=False)


class Finding(db.Model):  # type: ignore[name-defined,misc]
    """What a supervision check found; `key` makes each finding, and its notice, unique."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    workflow: Mapped[str | None] = mapped_column(sa.String(40))
    object_id: Mapped[int | None] = mapped_column()
    department: Mapped[str | None] = mapped_column(sa.String(50))
    detail: Mapped[str] = mapped_column(sa.Text)  # English; rows from before 0010: the only text
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # key and parameters
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rectification_notices.id"))


# -- webhooks -----------------------------------------------------------------------------
class Integration(db.Model):  # type: ignore[name-defined,misc]
    """Another system that fires transitions through `POST /webhooks/{name}`.

    Secrets are encrypted (Fernet, a key derived from SECRET_KEY): the service must read
    them back to compute HMACs. During a rotation the previous secret stays valid until
    `previous_valid_until`.
    """

    __tablename__ = "integrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    grants: Mapped[list[str]] = mapped_column(JSON, default=list)  # "workflow:trigger"
    mappings: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # event type -> trigger
    secret: Mapped[str] = mapped_column(sa.Text)  # encrypted
    previous_secret: Mapped[str | None] = mapped_column(sa.Text)  # encrypted
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookEvent(db.Model):  # type: ignore[name-defined,misc]
    """An accepted inbound event, written with its transition: its id is used up, and a
    repeat gets the stored response."""

    __tablename__ = "webhook_events"
    __table_args__ = (sa.UniqueConstraint("integration_id", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    event_id: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[int] = mapped_column()
    response: Mapped[str] = mapped_column(sa.Text)  # the JSON body, byte for byte
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Subscription(db.Model):  # type: ignore[name-defined,misc]
    """A URL that receives the events matching its filter, signed with its own secret."""

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # patterns: "visit.*"
    secret: Mapped[str] = mapped_column(sa.Text)  # encrypted
    active: Mapped[bool] = mapped_column(default=True)
    failures: Mapped[int] = mapped_column(default=0)  # consecutive failed attempts
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # backing off until then
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted: Mapped[bool] = mapped_column(default=False)


class Delivery(db.Model):  # type: ignore[name-defined,misc]
    """One event for one subscription: pending, sending, delivered or failed."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "event_id"),
        sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscriptions.id"))
    event_id: Mapped[str] = mapped_column(sa.String(200))
    event_type: Mapped[str] = mapped_column(sa.String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(db.Model):  # type: ignore[name-defined,misc]
    """One POST of a delivery: its status code or its error, and how long it took."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (sa.Index("ix_delivery_attempts_delivery", "delivery_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.Text)
    duration_ms: Mapped[float] = mapped_column(sa.Float)


# -- evaluation (KPIs) --------------------------------------------------------------------
class CustomerSurvey(db.Model):  # type: ignore[name-defined,misc]
    """A satisfaction survey of one customer: a score of 1 to 5."""

    __tablename__ = "customer_surveys"
    __table_args__ = (sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    surveyed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    score: Mapped[int] = mapped_column()
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CooperationVolume(db.Model):  # type: ignore[name-defined,misc]
    """Business with one customer in the period starting `period_start` (one row per both)."""

    __tablename__ = "cooperation_volumes"
    __table_args__ = (
        sa.Index("ix_cooperation_volumes_period", "period_start", "customer_id"),
        # the volumes around a visit, read from the index alone (service/reports/kpi.py)
        sa.Index("ix_cooperation_volumes_amount", "customer_id", "period_start", "amount"),
    )
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), primary_key=True)
    period_start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    projects: Mapped[int] = mapped_column(default=0)
    new_areas: Mapped[int] = mapped_column(default=0)
    updated_by: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TierReview(db.Model):  # type: ignore[name-defined,misc]
    """A yearly key-customer review: marketing proposes a tier, management decides."""

    __tablename__ = "tier_reviews"
    __table_args__ = (sa.Index("ix_tier_reviews_year_decision", "year", "decision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column()
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    current_tier: Mapped[str] = mapped_column(sa.String(20))
    proposed_tier: Mapped[str] = mapped_column(sa.String(20))
    criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    proposed_by: Mapped[str] = mapped_column(sa.String(150))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(sa.String(20))  # null | approved | rejected
    decided_by: Mapped[str | None] = mapped_column(sa.String(150))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(sa.Text)


class CustomerTierHistory(db.Model):  # type: ignore[name-defined,misc]
    """Every change of a customer's tier: the review that approved it, or (for an admin's
    direct change, the one change outside a review) the reason."""

    __tablename__ = "customer_tier_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    from_tier: Mapped[str] = mapped_column(sa.String(20))
    to_tier: Mapped[str] = mapped_column(sa.String(20))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(sa.String(150))
    review_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tier_reviews.id"))
    reason: Mapped[str | None] = mapped_column(sa.String(200))


class FeedbackMeeting(db.Model):  # type: ignore[name-defined,misc]
    """A feedback meeting after a visit: who attended, what was decided."""

    __tablename__ = "feedback_meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visits.id"), index=True)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str | None] = mapped_column(sa.String(200))
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    decisions: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedbackMeetingIssue(db.Model):  # type: ignore[name-defined,misc]
    """An issue assigned in a feedback meeting."""

    __tablename__ = "feedback_meeting_issues"
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_meetings.id"), primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("issues.id"), primary_key=True)


class Evaluation(db.Model):  # type: ignore[name-defined,misc]
    """The half-yearly evaluation of visits (regulation section 6), with a KPI snapshot."""

    __tablename__ = "evaluations"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    summary: Mapped[str] = mapped_column(sa.Text)
    findings: Mapped[str | None] = mapped_column(sa.Text)
    measures: Mapped[str | None] = mapped_column(sa.Text)
    kpi: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(sa.String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KpiTally(db.Model):  # type: ignore[name-defined,misc]
    """One day's share of one KPI count (`service/reports/kpi.py`), computed from the rows it
    counts.

    `day` is the UTC day of the moment a count is anchored at (a visit's `planned_at`, an
    issue's `created_at`, ...), or a cooperation volume's `period_start`.
    """

    __tablename__ = "kpi_tallies"
    # Summing a period streams down the key (measure, key, day), no sort for GROUP BY; on
    # SQLite the rows live in that key (WITHOUT ROWID). A day's rows are replaced by `day`.
    __table_args__ = (sa.Index("ix_kpi_tallies_day", "day"), {"sqlite_with_rowid": False})
    measure: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(150), primary_key=True, default="")
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    value: Mapped[float] = mapped_column(sa.Numeric(24, 4, asdecimal=False))


class KpiDirty(db.Model):  # type: ignore[name-defined,misc]
    """A day whose tallies may no longer match its rows: appended by database triggers
    (migration 0006) whenever a row a KPI counts changes, removed when the day is
    recounted. Append-only, so that concurrent writers never wait on each other here."""

    __tablename__ = "kpi_dirty"
    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    day: Mapped[date] = mapped_column(sa.Date, index=True)


class OfficialCalendarYear(db.Model):  # type: ignore[name-defined,misc]
    """A year's official holidays as loaded from the State Council's notice by an admin:
    read by every process's business calendar (`service/usecases/official_calendar.py`)."""

    __tablename__ = "official_calendar_years"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    days: Mapped[dict[str, Any]] = mapped_column(JSON)  # workflows.holidays.OfficialYear
    notice: Mapped[str] = mapped_column(sa.Text)  # the text it was read from
    digest: Mapped[str] = mapped_column(sa.String(64))
    loaded_by: Mapped[str] = mapped_column(sa.String(150))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
