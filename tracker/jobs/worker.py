"""`tracker worker`: a long-running process that drains the database queues.

Three queues, each drained by a thread of its own so that a 300-page OCR never holds up an escalation:
- "imports": uploaded plan documents (tracker.jobs.imports.run_import_once, one job at a time);
- "outbox": the notification outbox, by calling the dispatch job (tracker.jobs.dispatch.run_dispatch, the
  dispatcher's public entry point) again at once while it finds work, every WORKER_POLL_SECONDS when idle;
- "audit": the audit sequencer (tracker.jobs.audit_link), linking the events requests wrote unlinked into
  their hash chains, again at once while it finds some, every WORKER_POLL_SECONDS when idle.

Any number of workers may run, on one machine or many: the import claim and the dispatcher's claim both
give each item to exactly one of them (see tracker.operations.import_jobs and tracker.notify.dispatcher).

Each worker keeps a row in `worker_heartbeats` (name host:pid:random, last beat, current job), renewed every
WORKER_HEARTBEAT_SECONDS by a heartbeat thread that also renews the lease of the import it is reading; the
admin outbox page lists them, and the scheduler leaves dispatching to the workers while one that drains
the outbox is alive (tracker.jobs.scheduler).

SIGTERM or SIGINT stops the worker gracefully: no new item is taken; an import being read stops at its
next page and goes back to the queue untouched (a short text document simply finishes); a dispatch run
finishes its batch. The process then exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import WorkerHeartbeat

log = logging.getLogger("tracker.worker")

QUEUES = ("imports", "outbox", "audit")
#: Stopped workers' rows and rows silent this long are removed when a worker starts.
FORGET_AFTER = timedelta(days=1)


def worker_name() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def live_workers(now: datetime, *, stale_after: float, queue: str | None = None) -> list[WorkerHeartbeat]:
    """Workers that beat within `stale_after` seconds and have not stopped (optionally: draining `queue`)."""
    rows = db.session.scalars(
        sa.select(WorkerHeartbeat).where(WorkerHeartbeat.last_beat_at >= now - timedelta(seconds=stale_after),
                                         WorkerHeartbeat.state != "stopped")
        .order_by(WorkerHeartbeat.name)
    ).all()
    return [r for r in rows if queue is None or queue in r.queues.split(",")]


def worker_rows() -> list[WorkerHeartbeat]:
    """Every worker seen in the last day, for the admin page."""
    return list(db.session.scalars(sa.select(WorkerHeartbeat).order_by(WorkerHeartbeat.started_at.desc())))


def stale_seconds(config: Any) -> float:
    """A worker that has not beaten for this long is taken for dead (three missed beats)."""
    return 3 * float(config.get("WORKER_HEARTBEAT_SECONDS", 10))


@dataclass
class Worker:
    """One worker process's loops; `run()` blocks until `stop()` (or a signal), the loops can be driven by hand."""

    app: Flask
    queues: tuple[str, ...] = QUEUES
    name: str = field(default_factory=worker_name)

    def __post_init__(self) -> None:
        unknown = set(self.queues) - set(QUEUES)
        if unknown or not self.queues:
            raise ValueError(f"unknown queue(s) {sorted(unknown)}; choose from {', '.join(QUEUES)}")
        config = self.app.config
        self.poll = float(config.get("WORKER_POLL_SECONDS", 2))
        self.beat_every = float(config.get("WORKER_HEARTBEAT_SECONDS", 10))
        self.stopping = threading.Event()
        self.current_job: int | None = None
        self._lock = threading.Lock()
        self._imports_done = 0
        self._sent = 0
        self._last_dispatch: datetime | None = None

    # --- one step of each queue (tests drive these directly) ---------------------------------------

    def run_import_once(self) -> bool:
        """Process one import job if one is waiting; tell whether there was one."""
        from tracker.jobs.imports import run_import_once

        with self.app.app_context():
            job_id = run_import_once(self.name, should_stop=self.stopping.is_set, on_claim=self._set_current)
        if job_id is not None:
            with self._lock:
                self._imports_done += 1
        return job_id is not None

    def dispatch_once(self) -> bool:
        """Run the dispatcher once; tell whether it found work (so the loop calls it again at once)."""
        from tracker.jobs.runner import run_job

        outcome = run_job("dispatch", app=self.app, heartbeat=False)
        result = outcome.result or {}
        handled = sum(int(result.get(key) or 0) for key in ("sent", "failed", "dead"))
        with self._lock:
            self._sent += int(result.get("sent") or 0)
            self._last_dispatch = utcnow()
        return outcome.ok and handled > 0

    def link_audit_once(self) -> bool:
        """Link a batch or more of unlinked audit events; tell whether there were some."""
        from tracker.jobs.runner import run_job

        outcome = run_job("audit_link", app=self.app, heartbeat=False)
        return outcome.ok and int((outcome.result or {}).get("linked") or 0) > 0

    def run_once(self) -> bool:
        """One step of every queue this worker drains; tell whether any had work."""
        did = False
        if "imports" in self.queues:
            did = self.run_import_once() or did
        if "outbox" in self.queues:
            did = self.dispatch_once() or did
        if "audit" in self.queues:
            did = self.link_audit_once() or did
        return did

    def drain(self, *, limit: int = 10_000) -> int:
        """Run steps until every queue is empty (tests; `tracker worker --once`); return the steps taken."""
        steps = 0
        while steps < limit and self.run_once():
            steps += 1
        return steps

    # --- the process ----------------------------------------------------------------------------------

    def stop(self, *_args: Any) -> None:
        """Ask every loop to stop after (or, for an import being read, instead of) its current item."""
        if not self.stopping.is_set():
            log.info("worker %s stopping", self.name)
            self.stopping.set()

    def run(self, *, install_signals: bool = True) -> None:
        """Drain the queues until stopped; install SIGTERM/SIGINT handlers when run as the main thread."""
        if install_signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        self._register()
        threads = [threading.Thread(target=self._loop, args=(queue,), name=f"worker-{queue}", daemon=True)
                   for queue in self.queues]
        threads.append(threading.Thread(target=self._heartbeat_loop, name="worker-heartbeat", daemon=True))
        for thread in threads:
            thread.start()
        log.info("worker %s draining %s", self.name, ", ".join(self.queues))
        # Join with a timeout: the main thread must stay free to run the signal handlers.
        while any(t.is_alive() for t in threads[:-1]):
            for thread in threads[:-1]:
                thread.join(0.2)
        self.stopping.set()
        threads[-1].join(5)
        self._beat(state="stopped")
        log.info("worker %s stopped", self.name)

    def _loop(self, queue: str) -> None:
        step = {"imports": self.run_import_once, "outbox": self.dispatch_once, "audit": self.link_audit_once}[queue]
        while not self.stopping.is_set():
            try:
                busy = step()
            except Exception:  # a database outage: log it, wait, try again (the process must not die)
                log.exception("worker %s: the %s loop failed; retrying", self.name, queue)
                busy = False
            if not busy:
                self.stopping.wait(self.poll)

    def _heartbeat_loop(self) -> None:
        while not self.stopping.wait(self.beat_every):
            self._beat(state="running")
        self._beat(state="stopping")

    def _set_current(self, job_id: int | None) -> None:
        with self._lock:
            self.current_job = job_id
        self._beat(state="stopping" if self.stopping.is_set() else "running")

    def _register(self) -> None:
        now = utcnow()
        table = WorkerHeartbeat.__table__
        with self.app.app_context(), db.engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.last_beat_at < now - FORGET_AFTER))
            conn.execute(sa.insert(table).values(
                name=self.name, host=socket.gethostname()[:128], pid=os.getpid(), queues=",".join(self.queues),
                started_at=now, last_beat_at=now, state="running", imports_done=0, notifications_sent=0))

    def _beat(self, *, state: str) -> None:
        """Record this worker's beat, and renew the lease of the import it is reading."""
        from tracker.jobs.imports import lease_of
        from tracker.operations.import_jobs import JobLost, record_progress

        now = utcnow()
        with self._lock:
            values = {"last_beat_at": now, "state": state, "current_job_id": self.current_job,
                      "imports_done": self._imports_done, "notifications_sent": self._sent,
                      "last_dispatch_at": self._last_dispatch}
            job_id = self.current_job
        table = WorkerHeartbeat.__table__
        try:
            with self.app.app_context(), db.engine.begin() as conn:
                conn.execute(sa.update(table).where(table.c.name == self.name).values(**values))
                if job_id is not None and state != "stopped":
                    with contextlib.suppress(JobLost):  # finished meanwhile, or taken over: the import loop sees it
                        record_progress(conn, job_id, self.name, now=now, lease=lease_of(self.app.config))
        except SQLAlchemyError as error:
            # SQLite answers "database is locked" at once (no waiting) while the import's own transaction
            # is committing: the next beat, a few seconds later, goes through.
            log.warning("worker %s cannot record its heartbeat: %s", self.name, error)


def parse_queues(text: str | Iterable[str]) -> tuple[str, ...]:
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(dict.fromkeys(q.strip() for q in items if q.strip()))
