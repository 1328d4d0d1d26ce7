"""Operational state: the scheduler lease, job heartbeats and working-calendar exceptions."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, UTCDateTime


class SchedulerLease(Base):
    """Who the active scheduler is (SQLite; PostgreSQL uses an advisory lock instead)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobHeartbeat(Base):
    """When each scheduled job last ran and how it ended, for the admin page."""

    __tablename__ = "job_heartbeats"

    job_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[str | None] = mapped_column(sa.String(16))  # "ok" | "error"
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_result: Mapped[str | None] = mapped_column(sa.Text)
    run_count: Mapped[int] = mapped_column(default=0, server_default="0")


class CalendarException(Base):
    """A government-announced change to the working calendar (a swapped Saturday, an extra day off)."""

    __tablename__ = "calendar_exceptions"

    on: Mapped[date] = mapped_column(primary_key=True)
    is_working_day: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(255), default="")
