"""Requests a client sends once: a key it generated, used up with the transition it fired."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import db
from service.store.models.types import UTCDateTime, utcnow


class ClientRequest(db.Model):  # type: ignore[name-defined,misc]
    """A transition fired with a client's key (a phone's offline queue, `Idempotency-Key`):
    written in the transition's transaction; a repeat of the key gets the stored answer."""

    __tablename__ = "client_requests"
    __table_args__ = (sa.UniqueConstraint("username", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(150))
    key: Mapped[str] = mapped_column(sa.String(100))
    workflow: Mapped[str] = mapped_column(sa.String(40))
    instance_id: Mapped[int] = mapped_column()
    trigger: Mapped[str] = mapped_column(sa.String(64))
    response: Mapped[str] = mapped_column(sa.Text)  # the JSON representation, byte for byte
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
