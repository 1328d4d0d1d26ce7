"""`tracker worker`: claims that give each import job to one worker, takeover after a crash, the outbox
drained, the scheduler leaving dispatch to live workers, and a real worker process stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from tests.fakes.smtp_server import FakeSmtpServer
from tests.jobs.conftest import at, rows, run
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.jobs.scheduler import LeaseLock, TrackerScheduler
from tracker.jobs.worker import Worker
from tracker.models import DeliveryStatus, ImportJob, ImportJobStatus, WorkerHeartbeat
from tracker.operations import import_jobs

TRACKER = str(Path(sys.executable).with_name("tracker"))
ROOT = Path(__file__).resolve().parents[2]
LEASE = timedelta(seconds=120)


def queue_jobs(commune: Any, n: int, data: bytes = b"KE HOACH\n") -> list[int]:
    ids = [import_jobs.enqueue_import(None, filename=f"kh-{k}.txt", data=data, issuing_unit=commune.xa,
                                      max_bytes=1 << 20).id for k in range(n)]
    db.session.commit()
    return ids


def job(job_id: int) -> ImportJob:
    db.session.expire_all()
    found = db.session.get(ImportJob, job_id)
    assert found is not None
    return found


# --- Claims --------------------------------------------------------------------------------------------------

def test_two_workers_never_take_the_same_job(app: Any, commune: Any) -> None:
    queued = queue_jobs(commune, 24)
    taken: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def claim_all(worker: str) -> None:
        mine: list[int] = []
        with app.app_context():
            start.wait()
            while (job_id := import_jobs.claim_next(worker, utcnow(), lease=LEASE)) is not None:
                db.session.commit()
                mine.append(job_id)
            db.session.commit()
        taken[worker] = mine

    threads = [threading.Thread(target=claim_all, args=(f"worker-{k}",)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    claimed = [job_id for mine in taken.values() for job_id in mine]
    assert Counter(claimed).most_common(1)[0][1] == 1  # no job claimed twice
    assert sorted(claimed) == sorted(queued)
    owners = dict(db.session.execute(sa.select(ImportJob.id, ImportJob.claimed_by)).all())
    assert all(owners[job_id] == worker for worker, mine in taken.items() for job_id in mine)
    assert {j.attempts for j in db.session.scalars(sa.select(ImportJob))} == {1}


def test_a_crashed_workers_job_is_taken_over_then_failed_after_its_attempts(app: Any, commune: Any) -> None:
    (job_id,) = queue_jobs(commune, 1)
    now = utcnow()
    assert import_jobs.claim_next("dead-1", now, lease=LEASE) == job_id
    db.session.commit()
    assert import_jobs.claim_next("other", now + timedelta(seconds=60), lease=LEASE) is None  # the lease holds
    later = now + LEASE + timedelta(seconds=1)
    assert import_jobs.claim_next("dead-2", later, lease=LEASE) == job_id  # expired: taken over
    db.session.commit()
    assert (job(job_id).claimed_by, job(job_id).attempts) == ("dead-2", 2)
    # The first worker wakes up: it may neither renew the lease nor record an outcome.
    with pytest.raises(import_jobs.JobLost), db.engine.begin() as connection:
        import_jobs.record_progress(connection, job_id, "dead-1", now=later, lease=LEASE, phase="ocr", done=1,
                                    total=2)
    with pytest.raises(import_jobs.JobLost):
        import_jobs.finish_job(job_id, "dead-1", later, plan_id=None, tasks_created=0)
    db.session.rollback()
    even_later = later + LEASE + timedelta(seconds=1)
    assert import_jobs.claim_next("dead-3", even_later, lease=LEASE) == job_id
    db.session.commit()
    assert import_jobs.fail_abandoned(even_later + LEASE + timedelta(seconds=1), max_attempts=3) == 1
    db.session.commit()
    failed = job(job_id)
    assert failed.status == ImportJobStatus.FAILED and failed.claimed_by is None and failed.content is None
    assert "dừng giữa chừng 3 lần" in (failed.error or "")


def test_a_released_job_goes_back_to_the_queue_without_using_an_attempt(app: Any, commune: Any) -> None:
    (job_id,) = queue_jobs(commune, 1)
    assert import_jobs.claim_next("w", utcnow(), lease=LEASE) == job_id
    assert import_jobs.release_job(job_id, "w")
    db.session.commit()
    released = job(job_id)
    assert (released.status, released.claimed_by, released.attempts) == (ImportJobStatus.QUEUED, None, 0)


# --- The outbox ------------------------------------------------------------------------------------------------

def test_the_worker_drains_the_outbox(app: Any, make_due_task: Any, mail_server: FakeSmtpServer) -> None:
    for k in range(5):
        make_due_task(date(2024, 9, 25), title=f"Nhiệm vụ {k}")
    run("sweep", at("2024-09-18 08:00"))
    db.session.commit()
    assert {n.status for n in rows(channel="email")} == {DeliveryStatus.PENDING}
    worker = Worker(app, queues=("outbox",))
    with time_machine.travel(at("2024-09-18 08:01"), tick=True):
        steps = worker.drain()
    assert steps >= 1
    assert {n.status for n in rows(channel="email")} == {DeliveryStatus.SENT}
    assert len(mail_server.messages) == 5
    assert worker.dispatch_once() is False  # nothing left: the loop would now sleep


def test_the_worker_links_the_audit_events_requests_wrote_unlinked(app: Any, commune: Any, active_plan: Any) -> None:
    from tracker.models import AuditEvent
    from tracker.operations.audit_chain import verify
    from tracker.operations.occurrences import add_comment

    for k in range(3):
        add_comment(commune.chair, active_plan.occurrence, f"Ý kiến {k}")
        db.session.commit()
    app.config["AUDIT_LINK_BATCH"] = 2  # several batches, each committed on its own
    unlinked = sa.select(sa.func.count()).where(AuditEvent.hash.is_(None))
    assert db.session.scalar(unlinked) >= 3
    worker = Worker(app, queues=("audit",))
    assert worker.drain() >= 1
    db.session.expire_all()
    assert db.session.scalar(unlinked) == 0
    assert verify(db.session(), grace_seconds=0).ok
    assert worker.link_audit_once() is False  # nothing left: the loop would now sleep


# --- The scheduler keeps the schedule -------------------------------------------------------------------------

def _beat(name: str, *, ago: float, queues: str = "imports,outbox", state: str = "running") -> None:
    now = utcnow()
    db.session.add(WorkerHeartbeat(name=name, host="h", pid=1, queues=queues, started_at=now - timedelta(hours=1),
                                   last_beat_at=now - timedelta(seconds=ago), state=state))
    db.session.commit()


def test_the_scheduler_dispatches_only_while_no_worker_drains_the_outbox(app: Any) -> None:
    scheduler = TrackerScheduler(app, background=True, lock=LeaseLock(db.engine, lease=timedelta(seconds=90)))
    assert scheduler.should_dispatch()  # one machine, no worker: the scheduler dispatches as before
    _beat("imports-only", ago=1, queues="imports")
    assert scheduler.should_dispatch()
    _beat("silent", ago=600)
    _beat("stopped", ago=1, state="stopped")
    assert scheduler.should_dispatch()  # a dead or stopped worker drains nothing
    _beat("alive", ago=1)
    assert not scheduler.should_dispatch()
    app.config["DISPATCH_IN_SCHEDULER"] = "always"
    assert scheduler.should_dispatch()
    app.config["DISPATCH_IN_SCHEDULER"] = "never"
    db.session.execute(sa.delete(WorkerHeartbeat))
    db.session.commit()
    assert not scheduler.should_dispatch()


def test_the_admin_page_lists_the_workers_beside_the_scheduler(app: Any, client: Any, commune: Any) -> None:
    _beat("a", ago=1)
    db.session.execute(sa.update(WorkerHeartbeat).where(WorkerHeartbeat.name == "a")
                       .values(current_job_id=42, imports_done=3, notifications_sent=120, host="may-1", pid=4321,
                               last_dispatch_at=utcnow()))
    _beat("b", ago=3600, queues="outbox")
    db.session.commit()
    assert client.post("/login", data={"username": "quantri", "password": "secret-pass-1"}).status_code == 302
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert html.count('data-testid="worker-row"') == 2
    assert "may-1 · pid 4321" in html and "#42" in html and "Đang chạy" in html and "lần gửi gần nhất" in html
    assert "Không phản hồi" in html  # b has been silent for an hour


# --- Real worker processes -----------------------------------------------------------------------------------

@pytest.fixture
def worker_env(app: Any) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "MAIL_", "ZALO_"))},
        "TRACKER_ENV": "testing",
        "TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACKER_WORKER_POLL_SECONDS": "0.2",
        "TRACKER_WORKER_HEARTBEAT_SECONDS": "0.5",
        "TRACKER_IMPORT_PROGRESS_INTERVAL_SECONDS": "0",
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the worker exited ({proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _ocr_available() -> bool:
    from tracker.importer.readers.ocr import ocr_available

    return ocr_available()


def test_sigterm_stops_a_worker_mid_scan_and_releases_the_job(
        app: Any, commune: Any, worker_env: dict[str, str], processes: list[subprocess.Popen[str]],
        tmp_path: Path) -> None:
    from tests.importer_web.scans import scanned_pdf

    if not _ocr_available():
        pytest.skip("tesseract with its Vietnamese model is not installed")
    (job_id,) = queue_jobs(commune, 1, data=scanned_pdf([f"Trang {k}" for k in range(1, 61)]))
    log = tmp_path / "worker.log"
    proc = subprocess.Popen([TRACKER, "worker", "--queues", "imports"], env=worker_env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, text=True)
    processes.append(proc)

    def reading() -> bool:
        db.session.rollback()
        current = job(job_id)
        return current.phase == "ocr" and current.pages_done >= 2

    wait_for(reading, "the worker to OCR two pages", proc)
    live = db.session.scalars(sa.select(WorkerHeartbeat)).all()
    assert [(w.pid, w.current_job_id) for w in live] == [(proc.pid, job_id)]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, log.read_text()
    db.session.rollback()
    released = job(job_id)
    assert (released.status, released.claimed_by, released.attempts, released.pages_done) == \
        (ImportJobStatus.QUEUED, None, 0, 0), log.read_text()
    assert released.content is not None  # the next worker reads it from the start
    (stopped,) = db.session.scalars(sa.select(WorkerHeartbeat)).all()
    assert stopped.state == "stopped" and stopped.current_job_id is None


def test_sigint_stops_an_idle_worker_with_exit_code_zero(
        app: Any, worker_env: dict[str, str], processes: list[subprocess.Popen[str]], tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    proc = subprocess.Popen([TRACKER, "worker"], env=worker_env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            text=True)
    processes.append(proc)

    def registered() -> bool:
        db.session.rollback()
        return db.session.scalar(sa.select(sa.func.count()).select_from(WorkerHeartbeat)) == 1

    wait_for(registered, "the worker to register", proc)
    proc.send_signal(signal.SIGINT)  # Ctrl+C, as under `make run`
    assert proc.wait(60) == 0, log.read_text()
    db.session.rollback()
    assert db.session.scalar(sa.select(WorkerHeartbeat.state)) == "stopped"


def test_two_worker_processes_read_each_upload_once(
        app: Any, commune: Any, worker_env: dict[str, str], processes: list[subprocess.Popen[str]],
        tmp_path: Path) -> None:
    from tests.importer_web.plans import COMMUNE_PLAN
    from tracker.models import AuditEvent, Plan

    queued = [import_jobs.enqueue_import(
        None, filename=f"kh-{k}.txt", data=COMMUNE_PLAN.replace("Số: 12/KH-UBND", f"Số: {k + 1}/KH-UBND").encode(),
        issuing_unit=commune.xa, max_bytes=1 << 20).id for k in range(8)]
    db.session.commit()
    logs = [tmp_path / f"worker-{k}.log" for k in range(2)]
    procs = [subprocess.Popen([TRACKER, "worker", "--queues", "imports"], env=worker_env, stdout=log.open("w"),
                              stderr=subprocess.STDOUT, text=True) for log in logs]
    processes.extend(procs)

    def all_done() -> bool:
        db.session.rollback()
        return db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob).where(
            ImportJob.status == ImportJobStatus.DONE)) == len(queued)

    wait_for(all_done, "both workers to read every upload", procs[0])
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    assert [proc.wait(60) for proc in procs] == [0, 0], [log.read_text() for log in logs]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == len(queued)  # one draft per upload
    imports = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "plan.import"))
    assert imports == len(queued)
    assert {j.attempts for j in db.session.scalars(sa.select(ImportJob))} == {1}
