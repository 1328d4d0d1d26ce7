"""Summaries the pages read instead of rescanning a subtree's occurrences and indicator values.

`unit_status_counts` holds, per lead unit and year of the due date, how many occurrences of non-draft plans are
in each status (a column each: one row per unit and year, so that a national roll-up adds up ~60,000 narrow
rows without a CASE per row) as of the day recorded in `summary_clocks` (the derived statuses overdue, due
soon and not due change at midnight without any write). The domain operations keep both summaries in the same
transaction as the change; a rebuild recomputes the counts for a new day. See `tracker.operations.summaries`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, BigId, UTCDateTime

#: The columns of `unit_status_counts`, one per OccurrenceStatus value.
STATUS_COLUMNS = ("not_due", "due_soon", "overdue", "done_on_time", "done_late", "cancelled")


class UnitStatusCount(Base):
    """How many occurrences led by a unit and due in a year are in each status, as of the summary clock's day."""

    __tablename__ = "unit_status_counts"

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    not_due: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    due_soon: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    overdue: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    done_on_time: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    done_late: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    cancelled: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")


class SummaryClock(Base):
    """The one row saying with which StatusClock `unit_status_counts` was computed (its thresholds)."""

    __tablename__ = "summary_clocks"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    as_of: Mapped[date]
    soon_until: Mapped[date]
    overdue_before: Mapped[date]
    rebuilt_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IndicatorLatest(Base):
    """The latest value a unit reported for an indicator and year (what `latest_values` ranks for)."""

    __tablename__ = "indicator_latest"

    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    value: Mapped[Decimal] = mapped_column(sa.Numeric(18, 4))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The indicator_values row it copies (the tie-breaker after reported_at, as in `latest_values`).
    value_id: Mapped[int] = mapped_column(BigId)
    report_id: Mapped[int | None] = mapped_column(BigId)
