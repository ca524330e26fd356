"""Customers and the yearly reviews that change their tier."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import db
from service.store.models.types import JSON, UTCDateTime, utcnow


class Customer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    tier: Mapped[str] = mapped_column(sa.String(20), index=True)
    criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    industry: Mapped[str | None] = mapped_column(sa.String(200))
    region: Mapped[str | None] = mapped_column(sa.String(200))
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # where the customer is visited: {id, name, address, latitude, longitude, radius_m}
    sites: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


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
