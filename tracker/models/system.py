"""Operational state: the scheduler lease, job and worker heartbeats and working-calendar exceptions."""

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


class WorkerHeartbeat(Base):
    """A `tracker worker` process: who it is, when it last beat and what it is doing, for the admin page.

    Each worker writes its own row (name = host:pid:random); the scheduler leaves dispatching to the
    workers while one that drains the outbox has beaten recently (see tracker.jobs.scheduler).
    """

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(128))
    pid: Mapped[int] = mapped_column(sa.Integer)
    queues: Mapped[str] = mapped_column(sa.String(64))  # "imports,outbox"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: "running", "stopping" (finishing or releasing its item after SIGTERM) or "stopped".
    state: Mapped[str] = mapped_column(sa.String(16))
    current_job_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    imports_done: Mapped[int] = mapped_column(default=0, server_default="0")
    notifications_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    last_dispatch_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CalendarException(Base):
    """A government-announced change to the working calendar (a swapped Saturday, an extra day off)."""

    __tablename__ = "calendar_exceptions"

    on: Mapped[date] = mapped_column(primary_key=True)
    is_working_day: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(255), default="")
