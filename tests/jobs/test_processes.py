"""Real `tracker dispatch` and `tracker scheduler` processes: killed with SIGKILL, started side by side.

The processes run the installed `tracker` command against the test's database and the SMTP fake on
loopback. A scheduler process travels to the test's instant with time-machine (a wrapper around the
command); `tracker dispatch` takes `--now`. The tests wait for events (a message on the SMTP server, a
log line), never for a fixed time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.fakes.smtp_server import FakeSmtpServer
from tests.jobs.conftest import at, rows, run
from tracker.extensions import db
from tracker.models import DeliveryStatus

TRACKER = str(Path(sys.executable).with_name("tracker"))
ROOT = Path(__file__).resolve().parents[2]
# `tracker <args>` with the clock travelled to argv[1] (ticking), and INFO logs on stderr.
TRAVELLING = """
import logging, sys
from datetime import datetime
import time_machine
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
time_machine.travel(datetime.fromisoformat(sys.argv[1]), tick=True).start()
from tracker.cli import main
sys.argv = ["tracker", *sys.argv[2:]]
main()
"""


@pytest.fixture
def env(app: Any, mail_server: FakeSmtpServer) -> dict[str, str]:
    """The environment of a tracker process on this test's database and SMTP server."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    values = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "MAIL_", "ZALO_"))},
        "TRACKER_ENV": "testing",
        "TRACKER_DATABASE_URL": url,
        "MAIL_SERVER": mail_server.host,
        "MAIL_PORT": str(mail_server.port),
        "TRACKER_MAIL_TIMEOUT_SECONDS": "30",
        "PYTHONPATH": str(ROOT),
    }
    return values


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes started by a test; whatever is still running at the end is killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def start(processes: list[subprocess.Popen[str]], args: list[str], env: dict[str, str],
          log: Path | None = None) -> subprocess.Popen[str]:
    err = log.open("w") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(args, env=env, stdout=err, stderr=err, text=True)
    processes.append(proc)
    return proc


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def ids_received(server: FakeSmtpServer) -> Counter[str]:
    return Counter(m.parsed["X-Tracker-Notification-Id"] for m in server.messages)


def email_tasks(make_due_task: Any, n: int) -> None:
    for k in range(n):
        make_due_task(date(2024, 9, 25), title=f"Nhiệm vụ {k}")


@pytest.mark.parametrize(("batch_size", "repeated", "unclaimed"), [(1, 0, 1), (200, 1, 0)])
def test_a_dispatch_process_killed_mid_send_loses_nothing(
        app: Any, make_due_task: Any, mail_server: FakeSmtpServer, env: dict[str, str],
        processes: list[subprocess.Popen[str]], batch_size: int, repeated: int, unclaimed: int) -> None:
    """Outcomes are stored once per batch: a crash repeats what its batch had already sent, never loses any.

    With DISPATCH_BATCH_SIZE=1 every outcome is stored before the next message: nothing is repeated. With
    a real batch the message sent before the crash goes again, with the same Message-ID (mail clients
    show one), once the dead process's lease has run out.
    """
    email_tasks(make_due_task, 3)
    run("sweep", at("2024-09-18 08:00"))
    db.session.commit()
    hold = mail_server.hold_next_data(after=1)
    proc = start(processes, [TRACKER, "dispatch", "--now", "2024-09-18T08:00:00+07:00"],
                 {**env, "TRACKER_DISPATCH_BATCH_SIZE": str(batch_size)})
    assert hold.wait_reached(60), "the dispatcher never reached its second message"
    proc.send_signal(signal.SIGKILL)  # with the second message on the wire
    proc.wait(30)
    hold.drop()
    assert len(mail_server.messages) == 1
    expected = Counter({DeliveryStatus.SENT: 1 - repeated, DeliveryStatus.SENDING: 2 + repeated - unclaimed,
                        DeliveryStatus.PENDING: unclaimed})
    assert Counter(n.status for n in rows(channel="email")) == +expected  # (+ drops the zero counts)
    db.session.rollback()
    # The dead process's claims still hold: a dispatcher now sends only what it had not claimed ...
    assert run("dispatch", at("2024-09-18 08:02"))["by_channel"].get("email", 0) == unclaimed
    # ... and once they have expired, the claimed rows go out.
    assert run("dispatch", at("2024-09-18 08:06"))["by_channel"] == {"email": 2 + repeated - unclaimed}
    assert sorted(ids_received(mail_server).values()) == sorted([1, 1, 1 + repeated])
    # A repeat carries the Message-ID of the first copy (the domain is each process's sender's).
    message_ids = Counter(m.parsed["Message-ID"].partition("@")[0] for m in mail_server.messages)
    assert len(message_ids) == 3
    assert {n.status for n in rows(channel="email")} == {DeliveryStatus.SENT}


def test_two_dispatch_processes_at_once_send_each_row_once(
        app: Any, backend: str, make_due_task: Any, mail_server: FakeSmtpServer, env: dict[str, str],
        processes: list[subprocess.Popen[str]], tmp_path: Path) -> None:
    if backend != "postgresql":
        pytest.skip("several dispatchers at once is the PostgreSQL deployment (FOR UPDATE SKIP LOCKED)")
    email_tasks(make_due_task, 12)
    run("sweep", at("2024-09-18 08:00"))
    db.session.commit()
    # Each process is held on its first message until both are: they are then sending side by side.
    first, second = mail_server.hold_next_data(), mail_server.hold_next_data()
    small_batches = {**env, "TRACKER_DISPATCH_BATCH_SIZE": "2", "TRACKER_DISPATCH_MAX_BATCHES": "100"}
    logs = [tmp_path / "dispatch-1.log", tmp_path / "dispatch-2.log"]
    procs = [start(processes, [TRACKER, "dispatch", "--now", "2024-09-18T08:00:00+07:00"], small_batches, log)
             for log in logs]
    overlapped = first.wait_reached(60) and second.wait_reached(60)
    assert overlapped, [(p.poll(), x.read_text()) for p, x in zip(procs, logs, strict=True)]
    claimers = db.session.scalar(sa.select(sa.func.count(sa.distinct(sa.text("claimed_by")))).select_from(
        sa.text("notifications")).where(sa.text("status = 'sending'")))
    db.session.rollback()
    first.release()
    second.release()
    assert [p.wait(60) for p in procs] == [0, 0]
    assert claimers == 2
    assert sorted(ids_received(mail_server).values()) == [1] * 12
    assert {n.status for n in rows(channel="email")} == {DeliveryStatus.SENT}


def test_two_schedulers_one_active_and_a_killed_one_is_replaced_without_double_sends(
        app: Any, active_plan: Any, mail_server: FakeSmtpServer, env: dict[str, str], tmp_path: Path,
        processes: list[subprocess.Popen[str]]) -> None:
    fast = {**env, "TRACKER_SCHEDULER_LEASE_SECONDS": "2", "TRACKER_SWEEP_INTERVAL_SECONDS": "1",
            "TRACKER_DISPATCH_INTERVAL_SECONDS": "1", "TRACKER_DISPATCH_CLAIM_SECONDS": "2"}
    hold = mail_server.hold_next_data()
    logs = [tmp_path / "scheduler-1.log", tmp_path / "scheduler-2.log"]
    command = [sys.executable, "-c", TRAVELLING, "2024-09-18T08:00:00+07:00", "scheduler"]
    procs = [start(processes, command, fast, log) for log in logs]
    assert hold.wait_reached(90), "no scheduler reached the e-mail"

    def said(log: Path, text: str) -> bool:
        return text in log.read_text()

    # Exactly one is active; the other stands by.
    active = [i for i, log in enumerate(logs) if said(log, "is now the active scheduler")]
    assert len(active) == 1, [log.read_text()[-2000:] for log in logs]
    (killed,) = active
    survivor = 1 - killed
    wait_for(lambda: said(logs[survivor], "another scheduler holds the lock"), "the standby's log line")
    procs[killed].send_signal(signal.SIGKILL)  # mid-dispatch
    procs[killed].wait(30)
    hold.drop()
    wait_for(lambda: len(mail_server.messages) == 1, "the survivor to send the e-mail")
    assert said(logs[survivor], "is now the active scheduler")
    procs[survivor].send_signal(signal.SIGTERM)
    assert procs[survivor].wait(30) == 0
    (email,) = rows(channel="email")
    assert email.status == DeliveryStatus.SENT and email.attempts == 2  # once on the wire, once delivered
    assert len(rows()) == 2 and len(mail_server.messages) == 1
