"""Webhooks: inbound integrations and their events, outbound subscriptions and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.core.statuses import DeliveryStatus
from service.store.db import db
from service.store.models.types import JSON, UTCDateTime, utcnow


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
    status: Mapped[str] = mapped_column(sa.String(20), default=DeliveryStatus.PENDING)
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
