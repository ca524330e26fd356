"""What goes out after commit: the outbox and in-app notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import db
from service.store.models.types import JSON, UTCDateTime, utcnow


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
