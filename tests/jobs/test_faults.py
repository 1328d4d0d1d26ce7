"""Faults against the reminder pipeline, each reproduced with real components.

The SMTP server is aiosmtpd on loopback, held in the middle of a DATA command to stand for "the
dispatcher is sending right now"; Zalo is the fake HTTP server; the database is SQLite or PostgreSQL.
Time is travelled with time-machine, never slept through.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy import event

from tests.fakes.smtp_server import FakeSmtpServer
from tests.fakes.zalo_server import ZNS_DAILY_QUOTA_EXCEEDED, ZNS_OUT_OF_QUOTA, FakeZaloServer
from tests.jobs.conftest import at, rows, run
from tracker.extensions import db
from tracker.models import Channel, DeliveryStatus, NotificationKind, Occurrence
from tracker.notify.dispatcher import Dispatcher, DispatchSettings, app_channels
from tracker.notify.outbox import enqueue
from tracker.operations.occurrences import decide_extension, mark_done, request_extension
from tracker.operations.reminders import work_calendar


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"DISPATCH_MAX_ATTEMPTS": 3, "DISPATCH_BACKOFF_SECONDS": 60, "PUBLIC_BASE_URL": "https://tracker.example.vn"}


@pytest.fixture
def slow_mail(app: Any, mail_server: FakeSmtpServer) -> FakeSmtpServer:
    """The SMTP fake with a client timeout comfortably longer than any hold in these tests."""
    app.config["MAIL_TIMEOUT_SECONDS"] = 20.0
    return mail_server


def ids_received(server: FakeSmtpServer) -> Counter[str]:
    return Counter(m.parsed["X-Tracker-Notification-Id"] for m in server.messages)


def in_thread(app: Any, work: Callable[[], Any]) -> tuple[threading.Thread, list[Any], list[BaseException]]:
    """Run `work` in its own app context (its own session), as another worker would."""
    results: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            with app.app_context():
                results.append(work())
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, results, errors


def dispatcher(app: Any, **settings: Any) -> Callable[[Any], Any]:
    """A function running one dispatcher pass with the app's real channels."""
    def run_at(now: Any) -> Any:
        with app_channels(app) as channels:
            return Dispatcher(channels, work_calendar(), DispatchSettings(**settings)).run(now)

    return run_at


def email_tasks(make_due_task: Any, n: int) -> None:
    for k in range(n):
        make_due_task(date(2024, 9, 25), title=f"Nhiệm vụ {k}")


# --- Extensions -----------------------------------------------------------------------------------------

def test_reminders_for_an_extended_date_go_out_after_the_old_escalation(active_plan: Any, commune: Any,
                                                                         mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-26 08:00"))
    assert run("dispatch", at("2024-09-26 08:01"))["by_channel"]["email"] == 2  # +1: the head, the focal
    request = request_extension(commune.officer, active_plan.occurrence, new_due_on=date(2024, 10, 15),
                                reason="Chờ số liệu")
    decide_extension(commune.chair, request, approve=True)
    db.session.commit()
    assert run("sweep", at("2024-10-08 08:00"))["by_rule"] == {"-5:lead_officers": 2}
    result = run("dispatch", at("2024-10-08 08:01"))
    # The -5 rows of the new date are not "superseded" by the +1 rows of the old one.
    assert result["skipped"] == 0
    reminder = [m.parsed for m in mail_server.messages if m.parsed["Subject"].startswith("[Nhắc việc]")]
    assert len(reminder) == 1 and "15/10/2024" in reminder[0]["Subject"]
    assert {n.status for n in rows(due_on=date(2024, 10, 15))} == {DeliveryStatus.SENT}


def test_an_escalation_queued_for_the_old_date_is_skipped_after_an_extension(active_plan: Any, commune: Any,
                                                                              mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-26 06:00"))  # +1 queued before the window opens
    with time_machine.travel(at("2024-09-26 06:30"), tick=False):
        request = request_extension(commune.officer, active_plan.occurrence, new_due_on=date(2024, 10, 15),
                                    reason="Chờ số liệu")
        decide_extension(commune.chair, request, approve=True)
        db.session.commit()
    result = run("dispatch", at("2024-09-26 08:00"))
    assert result["skipped"] == 4  # e-mail and in-app to the head and the focal officer
    escalations = rows(kind=NotificationKind.ESCALATION)
    assert {(n.status, n.last_error) for n in escalations} == {
        (DeliveryStatus.SKIPPED, "not sent: the due date has moved")}
    # Only the requester hears of the decision; nobody is told the task is a day late.
    assert [m.rcpt_tos for m in mail_server.messages] == [("yte@example.org",)]


# --- A task done while the dispatcher is sending ----------------------------------------------------------

def test_a_task_done_while_a_batch_is_sending_gets_nothing_from_the_next(app: Any, active_plan: Any, commune: Any,
                                                                        make_due_task: Any,
                                                                        slow_mail: FakeSmtpServer) -> None:
    """A batch's facts are read once when it is claimed: the next batch reads the task's state afresh."""
    other = make_due_task(date(2024, 9, 25), title="Nhiệm vụ thứ hai")
    run("sweep", at("2024-09-18 08:00"))
    app.config["DISPATCH_BATCH_SIZE"] = 1
    hold = slow_mail.hold_next_data()
    thread, results, errors = in_thread(app, lambda: run_dispatch_job(at("2024-09-18 08:00")))
    assert hold.wait_reached()
    # While the first message is on the wire, the officer marks the second task done.
    mark_done(commune.officer, db.session.get(Occurrence, other.occurrence.id), "Xong", now=at("2024-09-18 08:00"))
    db.session.commit()
    hold.release()
    thread.join(30)
    assert not errors, errors
    assert (results[0]["sent"], results[0]["skipped"]) == (3, 1)  # 2 in-app, 1 e-mail; the done one skipped
    (received,) = slow_mail.messages
    (skipped,) = rows(status=DeliveryStatus.SKIPPED)
    assert skipped.occurrence_id == other.occurrence.id and skipped.channel == Channel.EMAIL
    assert received.parsed["X-Tracker-Notification-Id"] != str(skipped.id)


def run_dispatch_job(now: Any) -> dict[str, Any]:
    return run("dispatch", now)


# --- Slow batches and concurrent dispatchers ----------------------------------------------------------------

def test_a_slow_dispatcher_keeps_its_claims_and_no_row_goes_twice(app: Any, make_due_task: Any,
                                                                  slow_mail: FakeSmtpServer) -> None:
    """A batch outlasting its lease renews it for all its rows: a second dispatcher takes none over."""
    email_tasks(make_due_task, 3)
    run("sweep", at("2024-09-18 08:00"))
    start = at("2024-09-18 08:00")
    first, second = slow_mail.hold_next_data(), slow_mail.hold_next_data()
    with time_machine.travel(start, tick=False) as clock:
        thread, _results, errors = in_thread(app, lambda: dispatcher(app)(start))
        assert first.wait_reached()
        clock.shift(timedelta(seconds=250))  # the first message took 250 s
        first.release()
        assert second.wait_reached()
        clock.shift(timedelta(seconds=250))  # so did the second: the batch's claim (300 s) has run out
        other = dispatcher(app)(start + timedelta(seconds=500))
        second.release()
        thread.join(30)
    assert not errors, errors
    # Before the second message the lease (300 s) was half gone: renewed for the batch, the sent row too.
    assert other.by_channel == {} and other.claimed == 0
    assert sorted(ids_received(slow_mail).values()) == [1, 1, 1]
    assert {n.status for n in rows(channel="email")} == {DeliveryStatus.SENT}


def test_a_claim_takes_no_more_than_the_batch_size(app: Any, make_due_task: Any) -> None:
    """On PostgreSQL an `IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` claim used to take every due row."""
    email_tasks(make_due_task, 7)
    run("sweep", at("2024-09-18 08:00"))
    first = Dispatcher({}, work_calendar(), DispatchSettings(batch_size=2)).claim(at("2024-09-18 08:00"))
    db.session.commit()
    second = Dispatcher({}, work_calendar(), DispatchSettings(batch_size=2)).claim(at("2024-09-18 08:00"))
    db.session.commit()
    assert len(first) == len(second) == 2 and not set(first) & set(second)
    assert len(rows(status=DeliveryStatus.PENDING, channel="email")) == 3


def test_smtp_stopping_mid_batch_loses_nothing_and_sends_each_once(app: Any, make_due_task: Any,
                                                                    slow_mail: FakeSmtpServer) -> None:
    email_tasks(make_due_task, 4)
    run("sweep", at("2024-09-18 08:00"))
    hold = slow_mail.hold_next_data(after=1)  # the first message goes through, the second is held
    thread, results, errors = in_thread(app, lambda: run_dispatch_job(at("2024-09-18 08:00")))
    assert hold.wait_reached()
    # The server dies with the second message on the wire. It turns everyone away first: the dispatcher
    # reconnects at once, and may do so before the port is closed.
    slow_mail.answer_everything("421 4.3.2 Service shutting down")
    slow_mail.stop()
    thread.join(30)
    assert not errors, errors
    # The second lost its connection; the third could not reconnect: the channel is down, and neither
    # they nor the untried fourth spent an attempt.
    assert (results[0]["by_channel"].get("email"), results[0]["failed"], results[0]["deferred"]) == (1, 1, 2)
    statuses = Counter((n.status, n.attempts) for n in rows(channel="email"))
    assert statuses == {(DeliveryStatus.SENT, 1): 1, (DeliveryStatus.PENDING, 0): 3}
    slow_mail.recover()
    slow_mail.start()
    assert run("dispatch", at("2024-09-18 08:01"))["by_channel"] == {"email": 3}
    assert sorted(ids_received(slow_mail).values()) == [1, 1, 1, 1]


def test_an_smtp_421_stops_the_batch_without_spending_the_other_rows_attempts(
        app: Any, make_due_task: Any, mail_server: FakeSmtpServer) -> None:
    email_tasks(make_due_task, 3)
    run("sweep", at("2024-09-18 08:00"))
    mail_server.fail_next("mail", "421 4.3.2 Service shutting down")
    result = run("dispatch", at("2024-09-18 08:00"))
    assert (result["failed"], result["deferred"]) == (1, 2)
    assert sorted(n.attempts for n in rows(channel="email")) == [0, 0, 0]  # 421 is the server's trouble
    assert run("dispatch", at("2024-09-18 08:01"))["by_channel"] == {"email": 3}
    assert sorted(ids_received(mail_server).values()) == [1, 1, 1]


def test_a_database_error_while_recording_an_outcome_is_retried(app: Any, active_plan: Any, backend: str,
                                                                mail_server: FakeSmtpServer) -> None:
    """The message went out; the connection dies as its outcome is stored: stored again, never re-sent."""
    run("sweep", at("2024-09-18 08:00"))
    engine = db.engine
    dropped: list[str] = []

    def drop_on_record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        # The statement storing a "sent" outcome is the one setting provider_message_id.
        if statement.startswith("UPDATE notifications SET") and "provider_message_id" in statement and not dropped:
            dropped.append(statement)
            if backend == "postgresql":
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                with sa.create_engine(engine.url).connect() as killer:
                    killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            else:
                # A SQLite file cannot drop off the network; closing the connection under the statement can.
                cursor.connection.close()

    event.listen(engine, "before_cursor_execute", drop_on_record)
    try:
        result = run("dispatch", at("2024-09-18 08:00"))
    finally:
        event.remove(engine, "before_cursor_execute", drop_on_record)
    assert dropped and result["by_channel"] == {"email": 1, "in_app": 1}
    (row,) = rows(channel="email")
    assert row.status == DeliveryStatus.SENT and row.claimed_by is None
    assert run("dispatch", at("2024-09-18 08:10"))["sent"] == 0
    assert len(mail_server.messages) == 1


def test_a_connection_killed_while_sending_loses_nothing(app: Any, active_plan: Any, backend: str,
                                                         slow_mail: FakeSmtpServer) -> None:
    """pg_terminate_backend on every connection of the dispatcher while its message is on the wire."""
    if backend != "postgresql":
        pytest.skip("pg_terminate_backend")
    run("sweep", at("2024-09-18 08:00"))
    hold = slow_mail.hold_next_data()
    thread, results, errors = in_thread(app, lambda: run_dispatch_job(at("2024-09-18 08:00")))
    assert hold.wait_reached()
    killed = db.session.execute(sa.text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    db.session.commit()
    hold.release()
    thread.join(30)
    assert killed and not errors, errors
    assert results[0]["by_channel"]["email"] == 1
    assert [n.status for n in rows(channel="email")] == [DeliveryStatus.SENT]
    assert run("dispatch", at("2024-09-18 08:10"))["sent"] == 0 and len(slow_mail.messages) == 1


# --- Working hours --------------------------------------------------------------------------------------------

def test_the_window_closing_mid_run_defers_the_rest_to_the_morning(app: Any, make_due_task: Any,
                                                                   mail_server: FakeSmtpServer) -> None:
    email_tasks(make_due_task, 3)
    run("sweep", at("2024-09-20 16:00"))
    with time_machine.travel(at("2024-09-20 16:30"), tick=False) as clock:
        mail_server.on_every_data(lambda: clock.shift(timedelta(minutes=20)))  # each message takes 20 min
        result = dispatcher(app)(at("2024-09-20 16:30"))
    assert result.by_channel["email"] == 2 and result.deferred == 1  # 16:30, 16:50; at 17:10 the window is shut
    (waiting,) = rows(channel="email", status=DeliveryStatus.PENDING)
    assert waiting.next_attempt_at == at("2024-09-23 07:30") and waiting.attempts == 0  # Friday: Monday morning


def test_a_password_reset_goes_out_at_night_but_reminders_wait(app: Any, active_plan: Any, commune: Any,
                                                               mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-18 22:00"))
    with time_machine.travel(at("2024-09-18 22:00"), tick=False):
        enqueue(NotificationKind.PASSWORD_RESET, [commune.officer], key="night", channels=[Channel.EMAIL],
                payload={"reset_url": "https://tracker.example.vn/password/reset/x", "full_name": "Nguyễn Văn Y"})
        db.session.commit()
    result = run("dispatch", at("2024-09-18 22:00"))
    assert result["by_channel"] == {"email": 1, "in_app": 1}  # the reset link, and the bell
    (reset,) = mail_server.messages
    assert "https://tracker.example.vn/password/reset/x" in reset.parsed.get_body(("plain",)).get_content()
    (reminder,) = rows(channel="email", kind=NotificationKind.REMINDER)
    assert reminder.status == DeliveryStatus.PENDING and reminder.next_attempt_at == at("2024-09-19 07:30")


# --- Zalo quotas ----------------------------------------------------------------------------------------------

@pytest.fixture
def zalo_rows(active_plan: Any, commune: Any, make_due_task: Any, zalo: FakeZaloServer,
              mail_server: FakeSmtpServer) -> Iterator[FakeZaloServer]:
    make_due_task(date(2024, 9, 25), title="Nhiệm vụ thứ hai")
    commune.officer.phone = "0912345678"
    db.session.commit()
    run("sweep", at("2024-09-20 08:00"))  # Friday: the -5 rules
    yield zalo


@pytest.mark.parametrize(("code", "retry_at"), [
    (ZNS_DAILY_QUOTA_EXCEEDED, "2024-09-23 07:30"),  # the daily quota resets: Monday morning
    (ZNS_OUT_OF_QUOTA, "2024-09-20 08:30"),  # the prepaid balance needs someone: try again in 30 min
])
def test_a_zalo_quota_keeps_the_rows_waiting_without_spending_attempts(zalo_rows: FakeZaloServer, code: int,
                                                                       retry_at: str) -> None:
    zalo_rows.fail_next("zns", error=code)
    result = run("dispatch", at("2024-09-20 08:00"))
    assert result["by_channel"]["email"] == 2 and result["dead"] == 0 and result["deferred"] == 2
    assert len(zalo_rows.requests_to("zns")) == 1  # the rest of the batch is not tried against a full quota
    waiting = rows(channel="zalo")
    assert {(n.status, n.attempts, n.next_attempt_at) for n in waiting} == {
        (DeliveryStatus.PENDING, 0, at(retry_at))}
    assert "quota" in waiting[0].last_error
    assert run("dispatch", at(retry_at))["by_channel"] == {"zalo": 2}


def test_zns_parameters_follow_the_documented_mapping(app: Any, zalo_rows: FakeZaloServer) -> None:
    # config/default.py: {"reminder": {"ten_nhiem_vu": "task_title", "han": "due_on"}}, ZNS names first.
    zalo_rows.state.templates["777"] = {"ten_can_bo", "ten_nhiem_vu", "han"}
    app.config.update(ZALO_TEMPLATE_IDS={"reminder": "777"}, ZALO_TEMPLATE_PARAMS={
        "reminder": {"ten_can_bo": "officer_name", "ten_nhiem_vu": "task_title", "han": "due_on"}})
    assert run("dispatch", at("2024-09-20 08:00"))["by_channel"]["zalo"] == 2
    bodies = [r.body["template_data"] for r in zalo_rows.requests_to("zns")]
    assert {"ten_can_bo": "Nguyễn Văn Y", "ten_nhiem_vu": "Nhiệm vụ thứ hai", "han": "25/09/2024"} in bodies
