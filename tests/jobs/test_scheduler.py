"""One active scheduler at a time, takeover when it dies, catch-up on start, and the job runner's heartbeats."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from tests.jobs.conftest import at, rows
from tracker.extensions import db
from tracker.jobs.runner import run_job
from tracker.jobs.scheduler import AdvisoryLock, LeaseLock, TrackerScheduler
from tracker.models import DeliveryStatus, JobHeartbeat

LEASE = timedelta(seconds=90)


def test_a_second_scheduler_waits_and_takes_over_when_the_lease_expires(app: Any, active_plan: Any,
                                                                        mail_server: Any) -> None:
    with time_machine.travel(at("2024-09-26 08:00"), tick=False) as clock:
        first = TrackerScheduler(app, background=True, lock=LeaseLock(db.engine, lease=LEASE, holder="first"))
        second = TrackerScheduler(app, background=True, lock=LeaseLock(db.engine, lease=LEASE, holder="second"))
        assert first.check_lock() and not second.check_lock()
        assert second.run("sweep") is None and rows() == []  # the standby runs nothing
        assert first.run("sweep").result["inserted"] == 4

        clock.shift(timedelta(seconds=60))
        assert first.check_lock() and not second.check_lock()  # renewed: still the first's

        clock.shift(timedelta(seconds=91))  # the first stopped renewing (killed)
        assert second.check_lock() and not first.check_lock()
        assert first.run("dispatch") is None
        assert second.run("dispatch").result["by_channel"] == {"email": 2, "in_app": 2}


def test_a_scheduler_that_lost_its_lease_runs_no_job_before_its_next_lock_check(app: Any, active_plan: Any) -> None:
    """A stalled active scheduler wakes up after a standby took over: it must not run a job alongside it."""
    with time_machine.travel(at("2024-09-26 08:00"), tick=False) as clock:
        first = TrackerScheduler(app, background=True, lock=LeaseLock(db.engine, lease=LEASE, holder="first"))
        second = TrackerScheduler(app, background=True, lock=LeaseLock(db.engine, lease=LEASE, holder="second"))
        assert first.check_lock() and not second.check_lock()
        clock.shift(timedelta(seconds=91))  # the first stalls past its lease; the second takes over
        assert second.check_lock()
        assert first.active  # it has not looked at the lock since
        assert first.run("sweep") is None and not first.active
        assert rows() == []
        assert second.run("sweep").result["inserted"] == 4


def test_a_stopped_scheduler_hands_over_at_once(app: Any) -> None:
    first = LeaseLock(db.engine, lease=LEASE, holder="first")
    second = LeaseLock(db.engine, lease=LEASE, holder="second")
    now = at("2024-09-26 08:00")
    assert first.acquire(now) and not second.acquire(now)
    first.release()
    assert second.acquire(now + timedelta(seconds=1))


def test_the_advisory_lock_follows_the_holding_connection(app: Any, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL advisory locks")
    first, second = AdvisoryLock(db.engine.url), AdvisoryLock(db.engine.url)
    now = at("2024-09-26 08:00")
    try:
        assert first.acquire(now) and not second.acquire(now)
        assert first.acquire(now)  # still connected, still holding
        # The first scheduler's process dies: its session ends and the server drops the lock.
        pid = db.session.scalar(sa.text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :k"),
                                {"k": first.key})
        db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        db.session.commit()
        assert second.acquire(now)
        assert not first.acquire(now)  # it notices the lost connection and finds the lock taken
    finally:
        first.release()
        second.release()


def test_the_scheduler_catches_up_as_soon_as_it_starts(app: Any, active_plan: Any) -> None:
    """Started after a downtime, the active scheduler sweeps and dispatches at once, not after an interval."""
    done = {"sweep": threading.Event(), "dispatch": threading.Event()}
    failures: list[BaseException] = []

    def listener(event: JobExecutionEvent) -> None:
        if event.exception is not None:
            failures.append(event.exception)
        if event.job_id in done:
            done[event.job_id].set()

    with time_machine.travel(at("2024-09-26 08:00"), tick=True):
        scheduler = TrackerScheduler(app, background=True, lock=LeaseLock(db.engine, lease=LEASE))
        scheduler.scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start()
        try:
            assert done["sweep"].wait(10) and done["dispatch"].wait(10)
            jobs = {j.id for j in scheduler.scheduler.get_jobs()}
            assert jobs == {"sweep", "dispatch", "digest", "audit_link", "summaries", "purge", "scheduler_lock"}
        finally:
            scheduler.shutdown()
    assert not failures
    assert len(rows(kind="escalation")) == 4  # the +1 rules, missed -5/-2/0 superseded
    beats = {b.job_id: b for b in db.session.scalars(sa.select(JobHeartbeat))}
    assert beats["sweep"].last_status == "ok" and beats["sweep"].run_count >= 1


def test_a_scheduler_started_after_the_digest_time_sends_the_days_digest(app: Any, active_plan: Any,
                                                                         commune: Any) -> None:
    """APScheduler's memory store forgets a missed 07:45 run: a scheduler restarted at 09:00 still digests."""
    commune.officer.prefers_digest = True
    db.session.commit()
    done = threading.Event()
    failures: list[BaseException] = []

    def listener(event: JobExecutionEvent) -> None:
        if event.exception is not None:
            failures.append(event.exception)
        if event.job_id == "digest":
            done.set()

    with time_machine.travel(at("2024-09-18 09:00"), tick=True):
        run_job("sweep")  # the officer's e-mail reminder is held for the digest
        scheduler = TrackerScheduler(app, background=True, lock=LeaseLock(db.engine, lease=LEASE))
        assert scheduler.catch_up_jobs(at("2024-09-18 07:44")) == ("sweep", "dispatch")
        assert scheduler.catch_up_jobs() == ("sweep", "dispatch", "digest")
        scheduler.scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start()
        try:
            assert done.wait(10)
        finally:
            scheduler.shutdown()
    assert not failures
    (digest,) = rows(kind="digest")
    assert digest.recipient_id == commune.officer.id and digest.dedupe_key.endswith(":2024-09-18")
    assert [n.status for n in rows(channel="email", kind="reminder")] == [DeliveryStatus.DIGESTED]


def test_the_runner_records_success_and_failure(app: Any, active_plan: Any) -> None:
    outcome = run_job("sweep", now=at("2024-09-18 08:00"))
    beat = db.session.get(JobHeartbeat, "sweep")
    assert outcome.ok and beat.last_status == "ok" and beat.run_count == 1
    assert json.loads(beat.last_result)["inserted"] == 2

    def broken(now: Any) -> None:
        db.session.execute(sa.text("UPDATE notifications SET status = 'sent'"))
        raise RuntimeError("boom")

    failed = run_job("sweep", broken, now=at("2024-09-18 08:05"))
    db.session.expire_all()
    beat = db.session.get(JobHeartbeat, "sweep")
    assert not failed.ok and beat.last_status == "error" and beat.last_error == "RuntimeError: boom"
    assert beat.run_count == 2
    assert {n.status for n in rows()} == {DeliveryStatus.PENDING}  # rolled back
