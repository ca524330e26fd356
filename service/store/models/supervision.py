"""Supervision: the findings of the checks, and the official calendar they count in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import db
from service.store.models.types import JSON, UTCDateTime, utcnow


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
