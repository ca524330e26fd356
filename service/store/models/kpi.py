"""The KPI tallies and the days they must recount."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import db


class KpiTally(db.Model):  # type: ignore[name-defined,misc]
    """One day's share of one KPI count (`service/reports/kpi/`), computed from the rows it
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
