"""APScheduler running the sweep, the dispatcher and the digest, with one active scheduler at a time.

Several schedulers may be started (two machines, a restart overlapping the old process): each checks a
database lock every third of SCHEDULER_LEASE_SECONDS and runs jobs only while it holds it. PostgreSQL:
a session-level advisory lock held on a dedicated connection (released by the server the moment that
process or connection dies). SQLite: a lease row in `scheduler_leases` renewed by the holder; another
scheduler takes over once it has expired. A scheduler that becomes active runs the sweep and the
dispatcher at once, so a rule that came due during the downtime goes out now (catch-up), and the digest
too when today's digest time has passed (APScheduler's memory job store forgets a missed cron run, so a
scheduler restarted every morning after DIGEST_LOCAL_TIME would otherwise never send a digest).

The scheduler keeps the schedule; `tracker worker` processes drain the queues. While a worker that drains
the outbox is alive (it beat within three WORKER_HEARTBEAT_SECONDS), the scheduler's dispatch job does
nothing: the workers call the dispatcher continuously. With no live worker (one machine, `tracker serve`
alone, or every worker down) the scheduler dispatches as before, so nothing waits for a worker that is not
there. DISPATCH_IN_SCHEDULER = "always" or "never" overrides the rule.

Jobs (id = name, replace_existing, max_instances=1, coalesce=True):
- scheduler_lock: IntervalTrigger(SCHEDULER_LEASE_SECONDS / 3), always runs;
- sweep: IntervalTrigger(SWEEP_INTERVAL_SECONDS);
- dispatch: IntervalTrigger(DISPATCH_INTERVAL_SECONDS);
- digest: CronTrigger at DIGEST_LOCAL_TIME in TIMEZONE (6 hours' grace if the scheduler was down);
- audit_link: IntervalTrigger(AUDIT_LINK_INTERVAL_SECONDS), the audit sequencer (workers run it too: linkers
  take turns, so running it in both places only shortens the wait).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import uuid
import zlib
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.jobs.runner import JobOutcome, run_job
from tracker.models import SchedulerLease

log = logging.getLogger("tracker.jobs")

LOCK_NAME = "tracker-scheduler"
#: The advisory lock key: a stable 31-bit number derived from the lock name.
ADVISORY_KEY = zlib.crc32(LOCK_NAME.encode()) & 0x7FFFFFFF
SCHEDULED_JOBS = ("sweep", "dispatch", "digest", "audit_link", "summaries", "purge")


def holder_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SchedulerLock(Protocol):
    """Which of several schedulers is the active one."""

    holder: str

    def acquire(self, now: datetime) -> bool:
        """Take or keep the lock; tell whether this scheduler holds it now."""
        ...

    def release(self) -> None:
        """Give the lock up (on shutdown) so a standby takes over at once."""
        ...


class AdvisoryLock:
    """A PostgreSQL session advisory lock on a connection of its own, outside any pool."""

    def __init__(self, url: sa.URL | str, *, key: int = ADVISORY_KEY, holder: str | None = None) -> None:
        self._engine: Engine = sa.create_engine(url, poolclass=NullPool)
        self.key = key
        self.holder = holder or holder_name()
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def acquire(self, now: datetime) -> bool:
        with self._lock:
            if self._conn is not None:
                try:
                    # Still connected means still holding: the server drops the lock with the session.
                    self._conn.exec_driver_sql("SELECT 1")
                    return True
                except SQLAlchemyError:
                    log.warning("scheduler lock connection lost; trying to take the lock again")
                    self._close()
            try:
                conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            except SQLAlchemyError:
                log.exception("cannot connect to take the scheduler lock")
                return False
            try:
                got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())
            except SQLAlchemyError:
                log.exception("cannot take the scheduler lock")
                conn.close()
                return False
            if got:
                self._conn = conn
                return True
            conn.close()
            return False

    def release(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(SQLAlchemyError):
                    self._conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                self._close()
            self._engine.dispose()

    def _close(self) -> None:
        try:
            if self._conn is not None:
                self._conn.close()
        except SQLAlchemyError:
            pass
        self._conn = None


class LeaseLock:
    """A lease row renewed by its holder and taken over by anyone once it has expired."""

    def __init__(self, engine: Engine, *, lease: timedelta, name: str = LOCK_NAME, holder: str | None = None) -> None:
        self._engine = engine
        self.lease = lease
        self.name = name
        self.holder = holder or holder_name()

    def acquire(self, now: datetime) -> bool:
        table = SchedulerLease.__table__
        expires = now + self.lease
        try:
            with self._engine.begin() as conn:
                renewed = conn.execute(
                    sa.update(table)
                    .where(table.c.name == self.name, sa.or_(table.c.holder == self.holder, table.c.expires_at <= now))
                    .values(holder=self.holder, expires_at=expires)
                ).rowcount
                if renewed:
                    return True
                dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
                # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING.
                created = conn.execute(
                    dialect.insert(table).values(name=self.name, holder=self.holder, expires_at=expires)
                    .on_conflict_do_nothing(index_elements=["name"]).returning(table.c.name)
                ).first()
                return created is not None
        except SQLAlchemyError:
            log.exception("cannot renew the scheduler lease")
            return False

    def release(self) -> None:
        table = SchedulerLease.__table__
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.update(table).where(table.c.name == self.name, table.c.holder == self.holder)
                             .values(expires_at=datetime(2000, 1, 1, tzinfo=UTC)))
        except SQLAlchemyError:
            log.exception("cannot release the scheduler lease")


def make_lock(app: Flask) -> SchedulerLock:
    """The advisory lock on PostgreSQL, the lease row elsewhere."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine.url)
    return LeaseLock(engine, lease=timedelta(seconds=float(app.config.get("SCHEDULER_LEASE_SECONDS", 90))))


def _local_time(text: str) -> tuple[int, int]:
    hour, _, minute = str(text).partition(":")
    return int(hour), int(minute or 0)


class TrackerScheduler:
    """An APScheduler instance running the tracker's jobs while it holds the scheduler lock."""

    def __init__(self, app: Flask, *, background: bool, lock: SchedulerLock | None = None) -> None:
        self.app = app
        self.lock = lock or make_lock(app)
        self.active = False
        self.scheduler: BaseScheduler = (BackgroundScheduler if background else BlockingScheduler)(timezone=UTC)
        self._register()

    def _register(self) -> None:
        config = self.app.config
        lease = float(config.get("SCHEDULER_LEASE_SECONDS", 90))
        common: dict[str, Any] = {"replace_existing": True, "max_instances": 1, "coalesce": True}
        self.scheduler.add_job(self.check_lock, IntervalTrigger(seconds=max(1.0, lease / 3)), id="scheduler_lock",
                               misfire_grace_time=None, **common)
        self.scheduler.add_job(self.run, IntervalTrigger(seconds=int(config.get("SWEEP_INTERVAL_SECONDS", 300))),
                               id="sweep", args=("sweep",), misfire_grace_time=None, **common)
        self.scheduler.add_job(self.run, IntervalTrigger(seconds=int(config.get("DISPATCH_INTERVAL_SECONDS", 60))),
                               id="dispatch", args=("dispatch",), misfire_grace_time=None, **common)
        self.scheduler.add_job(self.run, IntervalTrigger(seconds=float(config.get("AUDIT_LINK_INTERVAL_SECONDS", 10))),
                               id="audit_link", args=("audit_link",), misfire_grace_time=None, **common)
        hour, minute = _local_time(config.get("DIGEST_LOCAL_TIME", "07:45"))
        self.scheduler.add_job(self.run, CronTrigger(hour=hour, minute=minute,
                                                     timezone=config.get("TIMEZONE", "Asia/Ho_Chi_Minh")),
                               id="digest", args=("digest",), misfire_grace_time=6 * 3600, **common)
        # A no-op SELECT except at its first run after local midnight, when the status counts are recounted.
        self.scheduler.add_job(self.run, IntervalTrigger(seconds=int(config.get("SUMMARY_CHECK_SECONDS", 300))),
                               id="summaries", args=("summaries",), misfire_grace_time=None, **common)
        hour, minute = _local_time(config.get("PURGE_LOCAL_TIME", "03:30"))
        self.scheduler.add_job(self.run, CronTrigger(hour=hour, minute=minute,
                                                     timezone=config.get("TIMEZONE", "Asia/Ho_Chi_Minh")),
                               id="purge", args=("purge",), misfire_grace_time=12 * 3600, **common)

    # --- what the jobs do ---------------------------------------------------------------------------

    def check_lock(self) -> bool:
        """Take or renew the lock; on becoming active, run the sweep and the dispatcher at once (catch-up)."""
        with self.app.app_context():
            held = self.lock.acquire(utcnow())
        if held and not self.active:
            log.info("scheduler %s is now the active scheduler", self.lock.holder)
            if self.scheduler.running:
                self._catch_up()
        elif self.active and not held:
            log.warning("scheduler %s lost the lock; standing by", self.lock.holder)
        self.active = held
        return held

    def run(self, name: str) -> JobOutcome | None:
        """Run job `name` if this scheduler is the active one (asked again now, not at the last lock check)."""
        # The lock may have been lost since the last check (a lease that expired while this process was
        # stalled, a dropped lock connection): checking right before each job keeps two schedulers from
        # running jobs side by side until the next check.
        if not self.active or not self.check_lock():
            log.debug("standby scheduler %s skips %s", self.lock.holder, name)
            return None
        if name == "dispatch" and not self.should_dispatch():
            log.debug("scheduler %s leaves dispatching to the workers", self.lock.holder)
            return None
        return run_job(name, app=self.app)

    def should_dispatch(self, now: datetime | None = None) -> bool:
        """Whether the scheduler runs the dispatcher itself (DISPATCH_IN_SCHEDULER; "auto": no live worker)."""
        setting = self.app.config.get("DISPATCH_IN_SCHEDULER", "auto")
        if setting is True or str(setting).lower() in ("always", "true", "1", "on"):
            return True
        if setting is False or str(setting).lower() in ("never", "false", "0", "off"):
            return False
        from tracker.jobs.worker import live_workers, stale_seconds

        with self.app.app_context():
            try:
                return not live_workers(now or utcnow(), stale_after=stale_seconds(self.app.config), queue="outbox")
            except SQLAlchemyError:
                log.exception("cannot read the worker heartbeats; the scheduler dispatches")
                return True

    def catch_up_jobs(self, now: datetime | None = None) -> tuple[str, ...]:
        """The jobs to run at once on becoming active: sweep, dispatch, and the digest once its time has passed."""
        now = now or utcnow()
        config = self.app.config
        zone = ZoneInfo(config.get("TIMEZONE", "Asia/Ho_Chi_Minh"))
        hour, minute = _local_time(config.get("DIGEST_LOCAL_TIME", "07:45"))
        # The digest job is idempotent per day and skips days off; before its time it would run too early.
        late = now.astimezone(zone).time() >= time(hour, minute)
        return ("sweep", "dispatch", "digest") if late else ("sweep", "dispatch")

    def _catch_up(self) -> None:
        for job_id in self.catch_up_jobs():
            self.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start (blocks for the blocking scheduler)."""
        self.check_lock()
        if self.active:
            # Catch up at once on what came due while no scheduler ran.
            self._catch_up()
        else:
            log.info("scheduler %s waits: another scheduler holds the lock", self.lock.holder)
        self.scheduler.start()

    def shutdown(self, wait: bool = True) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        self.lock.release()
        self.active = False


def run_scheduler(app: Flask) -> None:
    """Run the scheduler in this process until SIGTERM or SIGINT (`tracker scheduler`)."""
    scheduler = TrackerScheduler(app, background=False)

    def stop(signum: int, _frame: Any) -> None:
        log.info("scheduler stopping on signal %s", signum)
        # Shut down from another thread: BlockingScheduler.shutdown(wait=True) would wait on this one.
        threading.Thread(target=scheduler.shutdown, name="scheduler-stop", daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        scheduler.start()
    finally:
        scheduler.lock.release()


def start_background_scheduler(app: Flask) -> TrackerScheduler:
    """Run the scheduler in threads of this process (`tracker run` / `serve` on one machine); idempotent."""
    existing = app.extensions.get("tracker_scheduler")
    if existing is not None:
        return existing
    scheduler = TrackerScheduler(app, background=True)
    scheduler.start()
    app.extensions["tracker_scheduler"] = scheduler
    import atexit

    atexit.register(scheduler.shutdown, False)
    return scheduler
