"""The audit trail is tamper-evident (`tracker audit verify` names the first broken event after an SQL UPDATE
or DELETE), requests write their events unlinked and the sequencer (`tracker audit link`, the worker, the
scheduler) links them into one unbroken chain even when several sequencers run at once, verify tells events
waiting to be linked from events no sequencer linked in time, and `tracker backup` / `tracker restore`
round-trip the demo with identical counts and a passing verify, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from tests.conftest import pg_server_url
from tracker import create_app
from tracker.backup import rows_in
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AuditChainHead, AuditEvent, Occurrence, Person
from tracker.operations import occurrences as ops
from tracker.operations.audit_chain import verify


def _verify(app: Flask) -> Any:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def _link(app: Flask) -> int:
    """Run the sequencer once (what a worker or the scheduler does every few seconds)."""
    result = app.test_cli_runner().invoke(args=["audit", "link"])
    assert result.exit_code == 0, result.output
    return int(result.output.split()[0])


def _complete_event_id() -> int:
    return db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "occurrence.complete"))


def test_verify_passes_then_names_the_row_an_update_forged(app: Flask, commune: Any, active_plan: Any) -> None:
    ops.submit_report(commune.officer, active_plan.occurrence, body="Đã xong")
    ops.add_comment(commune.chair, active_plan.occurrence, "Cảm ơn")
    db.session.commit()
    assert _link(app) >= 2
    code, output = _verify(app)
    assert code == 0 and "OK:" in output, output

    forged = _complete_event_id()
    with db.engine.begin() as connection:  # what an intruder with SQL access does: a new actor on the event
        connection.execute(sa.update(AuditEvent).where(AuditEvent.id == forged).values(actor_id=commune.chair.id))
    code, output = _verify(app)
    assert code == 1
    assert f"event #{forged}" in output and "no longer matches its hash" in output, output


def test_verify_names_the_row_after_a_deleted_event(app: Flask, commune: Any, active_plan: Any) -> None:
    ops.submit_report(commune.officer, active_plan.occurrence, body="Đã xong")
    ops.add_comment(commune.chair, active_plan.occurrence, "Cảm ơn")
    db.session.commit()
    _link(app)
    removed = _complete_event_id()
    chain, seq = db.session.execute(sa.select(AuditEvent.chain, AuditEvent.chain_seq)
                                    .where(AuditEvent.id == removed)).one()
    following = db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.chain == chain,
                                                                 AuditEvent.chain_seq == seq + 1))
    with db.engine.begin() as connection:
        connection.execute(sa.delete(AuditEvent).where(AuditEvent.id == removed))
    code, output = _verify(app)
    assert code == 1
    assert f"event #{following}" in output and "is missing" in output, output


def test_verify_sees_the_last_events_removed(app: Flask, commune: Any, active_plan: Any) -> None:
    ops.add_comment(commune.chair, active_plan.occurrence, "Cảm ơn")
    db.session.commit()
    _link(app)
    last = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    with db.engine.begin() as connection:
        connection.execute(sa.delete(AuditEvent).where(AuditEvent.id == last))
    code, output = _verify(app)
    assert code == 1 and f"#{last}" in output and "last events were removed" in output, output


def test_a_commit_writes_its_events_unlinked_and_verify_waits_for_the_sequencer(
        app: Flask, commune: Any, active_plan: Any) -> None:
    """The request's commit touches no chain head; verify passes while the events are young, names them as
    waiting, fails once they are older than AUDIT_LINK_GRACE_SECONDS, and passes again once linked."""
    heads_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditChainHead))
    ops.add_comment(commune.chair, active_plan.occurrence, "Cảm ơn")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditChainHead)) == heads_before
    unlinked = db.session.scalars(sa.select(AuditEvent.id).where(AuditEvent.hash.is_(None))).all()
    assert unlinked

    code, output = _verify(app)
    assert code == 0 and f"{len(unlinked)} events written in the last 300 seconds wait to be linked" in output, output

    grace = app.config["AUDIT_LINK_GRACE_SECONDS"]
    with time_machine.travel(utcnow() + timedelta(seconds=grace + 1), tick=False):
        code, output = _verify(app)
    assert code == 1 and "NOT LINKED" in output and f"#{min(unlinked)}" in output, output

    assert _link(app) == len(unlinked)
    with time_machine.travel(utcnow() + timedelta(seconds=grace + 1), tick=False):
        code, output = _verify(app)
    assert code == 0 and "OK:" in output and "wait to be linked" not in output, output
    assert _link(app) == 0


def test_concurrent_writers_and_sequencers_keep_one_unbroken_chain(
        app: Flask, commune: Any, active_plan: Any) -> None:
    """Twelve transactions write audit events into the same chain at once, then three sequencers link them at
    once in batches of two (on PostgreSQL they really overlap): each event gets one place, in id order, and
    the chain verifies."""
    from tracker.jobs.audit_link import run_audit_link

    _link(app)  # the fixtures' own events
    occurrence_id, person_ids = active_plan.occurrence.id, [commune.chair.id, commune.focal.id, commune.officer.id]
    failures: list[BaseException] = []

    def in_threads(n: int, work: Any) -> None:
        barrier = threading.Barrier(n)

        def run(i: int) -> None:
            with app.app_context():
                try:
                    work(i, barrier)
                except BaseException as error:  # reported below
                    failures.append(error)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not failures, failures

    def write(i: int, barrier: threading.Barrier) -> None:
        person = db.session.get(Person, person_ids[i % 3])
        occurrence = db.session.get(Occurrence, occurrence_id)
        barrier.wait()
        ops.add_comment(person, occurrence, f"Ý kiến số {i}")
        db.session.commit()

    def sequence(i: int, barrier: threading.Barrier) -> None:
        app.config["AUDIT_LINK_BATCH"] = 2
        barrier.wait()
        run_audit_link(utcnow())

    in_threads(12, write)
    in_threads(3, sequence)
    app.config["AUDIT_LINK_BATCH"] = 500
    _link(app)  # a sequencer stopped by its batch limit: nothing may be left behind
    db.session.expire_all()
    chain = db.session.scalar(sa.select(AuditEvent.chain).where(AuditEvent.action == "comment.create").limit(1))
    rows = db.session.execute(sa.select(AuditEvent.chain_seq, AuditEvent.id).where(AuditEvent.chain == chain)
                              .order_by(AuditEvent.chain_seq)).all()
    assert [seq for seq, _id in rows] == list(range(1, len(rows) + 1))
    assert [i for _seq, i in rows] == sorted(i for _seq, i in rows)  # all committed before linking: id order
    comments = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "comment.create",
                                                                 AuditEvent.chain == chain))
    assert comments == 12
    assert db.session.get(AuditChainHead, chain).seq == len(rows)
    result = verify(db.session())
    assert result.ok and result.unlinked == 0, result.first_break


# --- Backup and restore ------------------------------------------------------------------------------------

@pytest.fixture
def empty_target(backend: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind to restore into."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    server = pg_server_url()
    assert server is not None
    name = f"tracker_restore_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(sa.engine.make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_backup_then_restore_round_trips_the_demo(app: Flask, empty_target: str, tmp_path: Path) -> None:
    from tracker.demo import build_demo

    build_demo("demo-pass-1234")
    db.session.commit()
    _link(app)
    source_counts = rows_in(db.engine)
    code, output = _verify(app)
    assert code == 0 and "OK:" in output, output  # the demo's own trail verifies
    assert source_counts["attachments"] + source_counts["plan_documents"] > 0  # files travel inside the backup

    archive = tmp_path / "backups" / "tracker.backup"
    done = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert done.exit_code == 0, done.output
    assert archive.stat().st_size > 0

    target = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_target})
    with target.app_context():
        restored = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert restored.exit_code == 0, restored.output
        assert "OK:" in restored.output
        assert rows_in(db.engine) == source_counts
        # Byte for byte: the files came back.
        from tracker.models import PlanDocument

        document = db.session.scalars(sa.select(PlanDocument).order_by(PlanDocument.id)).first()
        assert document is not None and len(document.content) > 0
        again = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert again.exit_code == 1 and "not empty" in again.output  # never over live data
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(app: Flask, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup")
    result = app.test_cli_runner().invoke(args=["restore", str(bogus)])
    assert result.exit_code == 1 and "not a tracker backup" in result.output
