"""Evaluation: surveys, cooperation volumes, feedback meetings, half-yearly evaluations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import db
from service.store.models.types import JSON, UTCDateTime, utcnow


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
        # the volumes around a visit, read from the index alone (service/reports/kpi/)
        sa.Index("ix_cooperation_volumes_amount", "customer_id", "period_start", "amount"),
    )
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), primary_key=True)
    period_start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    projects: Mapped[int] = mapped_column(default=0)
    new_areas: Mapped[int] = mapped_column(default=0)
    updated_by: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
