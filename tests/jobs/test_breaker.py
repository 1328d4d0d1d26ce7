"""The dispatcher at the speed of the mail server, and its per-channel circuit breaker.

Real components only: aiosmtpd on loopback (told to refuse everything, one recipient, or to hang up),
the Zalo fake, SQLite and PostgreSQL. Time is given to the runs (`now`), never slept through.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask.testing import FlaskClient

from tests.fakes.smtp_server import FakeSmtpServer
from tests.fakes.zalo_server import FakeZaloServer
from tests.jobs.conftest import at, rows, run
from tracker.extensions import db
from tracker.models import Channel, ChannelState, DeliveryStatus, NotificationKind
from tracker.notify.dispatcher import Dispatcher, DispatchSettings, app_channels, dispatch_once
from tracker.notify.outbox import enqueue
from tracker.operations.reminders import work_calendar

MORNING = at("2024-09-18 08:00")


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"DISPATCH_MAX_ATTEMPTS": 3, "DISPATCH_BACKOFF_SECONDS": 60, "DISPATCH_BREAKER_THRESHOLD": 3,
            "DISPATCH_BREAKER_BACKOFF_SECONDS": 60, "PUBLIC_BASE_URL": "https://tracker.example.vn"}


def queue_mail(make_person: Any, n: int, *, prefix: str = "canbo") -> list[Any]:
    """One e-mail each to `n` new people (a password reset: it needs no task, and goes at any hour)."""
    people = [make_person(f"{prefix}{k}") for k in range(n)]
    db.session.commit()
    with time_machine.travel(MORNING - timedelta(minutes=1), tick=False):
        for person in people:
            enqueue(NotificationKind.PASSWORD_RESET, [person], key=f"bench-{person.id}", channels=[Channel.EMAIL],
                    payload={"reset_url": f"https://tracker.example.vn/password/reset/{person.id}",
                             "full_name": person.full_name})
    db.session.commit()
    return people


def received(server: FakeSmtpServer) -> Counter[str]:
    return Counter(m.parsed["X-Tracker-Notification-Id"] for m in server.messages)


def state(channel: str) -> ChannelState:
    db.session.expire_all()
    return db.session.get(ChannelState, channel)


def email_statuses() -> Counter[tuple[str, int]]:
    return Counter((n.status.value, n.attempts) for n in rows(channel="email"))


# --- One connection per batch ------------------------------------------------------------------------------

def test_a_batch_goes_out_on_one_smtp_connection(app: Any, make_person: Any, mail_server: FakeSmtpServer) -> None:
    queue_mail(make_person, 12)
    app.config["DISPATCH_BATCH_SIZE"] = 50
    result = run("dispatch", MORNING)
    assert result["by_channel"] == {"email": 12}
    assert mail_server.connections == 1 and len(received(mail_server)) == 12
    assert email_statuses() == {("sent", 1): 12}


def test_each_batch_opens_one_connection_and_records_once(app: Any, make_person: Any,
                                                          mail_server: FakeSmtpServer) -> None:
    queue_mail(make_person, 12)
    app.config["DISPATCH_BATCH_SIZE"] = 5
    result = dispatch_once(MORNING)
    assert (result.sent, result.batches, result.claimed) == (12, 3, 12)
    assert mail_server.connections == 3
    assert set(received(mail_server).values()) == {1} and len(received(mail_server)) == 12


def test_a_connection_dropped_before_the_data_is_reopened_and_the_message_sent(
        app: Any, make_person: Any, mail_server: FakeSmtpServer) -> None:
    queue_mail(make_person, 6)
    mail_server.drop_next("mail")  # the first message's MAIL FROM gets no answer: the server hung up
    result = run("dispatch", MORNING)
    # Nothing of it had gone out: sent again at once on a new connection, no attempt lost.
    assert result["by_channel"] == {"email": 6} and result["failed"] == 0
    assert mail_server.connections == 2
    assert email_statuses() == {("sent", 1): 6}
    assert set(received(mail_server).values()) == {1} and len(received(mail_server)) == 6


def test_a_connection_dropped_during_the_data_fails_that_message_and_the_batch_goes_on(
        app: Any, make_person: Any, mail_server: FakeSmtpServer) -> None:
    queue_mail(make_person, 6)
    mail_server.drop_next("data")  # the first message's data went out, and no answer came back
    result = run("dispatch", MORNING)
    # The server may have it: that one waits for a retry (an attempt spent); the rest go on a new connection.
    assert result["by_channel"] == {"email": 5} and result["failed"] == 1 and result["dead"] == 0
    assert mail_server.connections == 2
    (lost,) = rows(channel="email", status=DeliveryStatus.FAILED)
    assert lost.attempts == 1 and "connection lost" in lost.last_error
    assert run("dispatch", lost.next_attempt_at)["by_channel"] == {"email": 1}
    assert set(received(mail_server).values()) == {1} and len(received(mail_server)) == 6


# --- The breaker ---------------------------------------------------------------------------------------------

def test_a_server_answering_500_to_everything_pauses_the_channel_and_kills_nothing(
        app: Any, make_person: Any, mail_server: FakeSmtpServer) -> None:
    queue_mail(make_person, 8)
    mail_server.answer_everything("500 5.0.0 Internal server error")
    result = run("dispatch", MORNING)
    assert (result["dead"], result["failed"], result["deferred"]) == (0, 1, 7)
    assert email_statuses() == {("pending", 0): 8}
    email = state("email")
    assert email.failures == 1 and email.paused_until == MORNING + timedelta(seconds=60)
    assert "500" in email.reason and "Internal server error" in email.reason
    # Paused: another run tries nothing (the server sees no connection).
    connections = mail_server.connections
    assert run("dispatch", MORNING + timedelta(seconds=30))["failed"] == 0
    assert mail_server.connections == connections
    # Half-open after the pause: still broken, so paused again for twice as long; still nothing dead.
    assert run("dispatch", MORNING + timedelta(seconds=60))["dead"] == 0
    assert state("email").paused_until == MORNING + timedelta(seconds=180)
    mail_server.recover()
    result = run("dispatch", MORNING + timedelta(seconds=180))
    assert result["by_channel"] == {"email": 8} and result["dead"] == 0
    assert set(received(mail_server).values()) == {1} and len(received(mail_server)) == 8
    assert email_statuses() == {("sent", 1): 8}
    email = state("email")
    assert (email.failures, email.paused_until) == (0, None) and email.resumed_at is not None


@pytest.mark.parametrize("reply", ["550 5.1.1 Mailbox unavailable", "450 4.2.1 Mailbox busy"])
def test_a_server_refusing_every_recipient_pauses_the_channel(app: Any, make_person: Any,
                                                              mail_server: FakeSmtpServer, reply: str) -> None:
    queue_mail(make_person, 8)
    mail_server.fail_always("rcpt", reply)
    result = run("dispatch", MORNING)
    # Three refusals in a row (the threshold) and no acceptance: the server's trouble, not the recipients'.
    assert result["dead"] == 0 and result["paused"]["email"].startswith("email: 3 messages in a row refused")
    assert email_statuses() == {("pending", 0): 8}
    assert reply[:3] in state("email").reason
    mail_server.recover()
    assert run("dispatch", MORNING + timedelta(minutes=1))["by_channel"] == {"email": 8}
    assert state("email").failures == 0


def test_an_unknown_mailbox_is_dead_at_once_while_the_others_go_out(app: Any, make_person: Any,
                                                                   mail_server: FakeSmtpServer) -> None:
    people = queue_mail(make_person, 6)
    mail_server.refuse_recipient(people[0].email, "550 5.1.1 <canbo0@example.org>: Recipient address rejected")
    result = run("dispatch", MORNING)
    assert result["by_channel"] == {"email": 5} and result["dead"] == 1 and "paused" not in result
    (dead,) = rows(channel="email", status=DeliveryStatus.DEAD)
    assert dead.recipient_id == people[0].id and dead.attempts == 1
    assert "550" in dead.last_error and "Recipient address rejected" in dead.last_error
    assert state("email").failures == 0
    assert mail_server.connections == 1  # the refusal did not cost the batch its connection


def test_a_zalo_token_error_pauses_the_zalo_channel(app: Any, active_plan: Any, commune: Any, make_due_task: Any,
                                                    zalo: FakeZaloServer, mail_server: FakeSmtpServer) -> None:
    from tracker.notify.zalo_tokens import SqlTokenStore, ZaloTokens

    make_due_task(date(2024, 9, 25), title="Nhiệm vụ thứ hai")
    commune.officer.phone = "0912345678"
    db.session.commit()
    SqlTokenStore(db.engine).save(ZaloTokens(access_token="revoked", refresh_token="revoked"))
    run("sweep", MORNING)
    result = run("dispatch", MORNING)
    assert result["by_channel"]["email"] == 2 and result["dead"] == 0  # e-mail is not held up
    assert "credentials refused" in result["paused"]["zalo"]
    zalo_state = state("zalo")
    assert zalo_state.paused_until == at("2024-09-18 08:30") and "credentials refused" in zalo_state.reason
    assert {(n.status, n.attempts) for n in rows(channel="zalo")} == {(DeliveryStatus.PENDING, 0)}
    requests = len(zalo.requests)
    assert run("dispatch", at("2024-09-18 08:10"))["sent"] == 0 and len(zalo.requests) == requests  # paused
    access, refresh = zalo.issue_tokens()  # an administrator authorises the app again
    SqlTokenStore(db.engine).save(ZaloTokens(access_token=access, refresh_token=refresh))
    assert run("dispatch", at("2024-09-18 08:30"))["by_channel"] == {"zalo": 2}
    assert state("zalo").failures == 0


def test_an_invalid_phone_is_dead_at_once_and_does_not_pause_zalo(app: Any, active_plan: Any, commune: Any,
                                                                  zalo: FakeZaloServer) -> None:
    commune.officer.phone = "0123"  # not a Vietnamese mobile number
    db.session.commit()
    run("sweep", MORNING)
    assert run("dispatch", MORNING)["dead"] == 1
    (dead,) = rows(channel="zalo")
    assert dead.status == DeliveryStatus.DEAD and "not a Vietnamese mobile number" in dead.last_error
    assert state("zalo").failures == 0 and state("zalo").paused_until is None


def test_the_admin_outbox_shows_a_paused_channel_and_why(app: Any, client: FlaskClient, commune: Any,
                                                          make_person: Any, mail_server: FakeSmtpServer) -> None:
    queue_mail(make_person, 4)
    mail_server.answer_everything("500 5.0.0 Internal server error")
    run("dispatch", MORNING)
    with time_machine.travel(MORNING + timedelta(seconds=30), tick=False):
        client.post("/login", data={"username": "quantri", "password": "secret-pass-1"})
        html = client.get("/admin/outbox").get_data(as_text=True)
    assert '<tr data-testid="channel-email" data-state="paused">' in html
    assert '<tr data-testid="channel-zalo" data-state="working">' in html
    assert "Internal server error" in html and "Tạm dừng đến 18/09/2024 08:01 sau 1 lần lỗi liên tiếp" in html
    with time_machine.travel(MORNING + timedelta(seconds=90), tick=False):
        html = client.get("/admin/outbox").get_data(as_text=True)
        channels_page = client.get("/admin/channels").get_data(as_text=True)
    assert '<tr data-testid="channel-email" data-state="half_open">' in html
    assert '<tr data-testid="channel-email" data-state="half_open">' in channels_page
    assert "Internal server error" in channels_page


def test_an_admin_resumes_a_paused_channel_once_its_cause_is_fixed(app: Any, client: FlaskClient, commune: Any,
                                                                   make_person: Any,
                                                                   mail_server: FakeSmtpServer) -> None:
    """"Gửi lại ngay" ends the pause (half-open: the next dispatch tries it); a second press, or a press by an
    administrator of a commune, changes nothing; the press is audited once."""
    from tracker.models import AuditEvent
    from tracker.operations.channels import resume_channel
    from tracker.operations.errors import Conflict, PermissionDenied

    queue_mail(make_person, 4)
    mail_server.answer_everything("500 5.0.0 Internal server error")
    run("dispatch", MORNING)
    mail_server.recover()
    pressed = MORNING + timedelta(seconds=20)  # the pause runs to 08:01
    with time_machine.travel(pressed, tick=False):
        with pytest.raises(PermissionDenied):
            resume_channel(commune.officer, "email")
        client.post("/login", data={"username": "quantri", "password": "secret-pass-1"})
        assert 'data-testid="resume-email"' in client.get("/admin/outbox").get_data(as_text=True)
        response = client.post("/admin/outbox/channels/email/resume", follow_redirects=True)
        html = response.get_data(as_text=True)
        assert "Kênh sẽ được gửi thử lại ở lần gửi tiếp theo." in html
        assert '<tr data-testid="channel-email" data-state="half_open">' in html
        again = client.post("/admin/outbox/channels/email/resume", follow_redirects=True).get_data(as_text=True)
        assert "Kênh này không (còn) tạm dừng." in again
        db.session.rollback()
        with pytest.raises(Conflict):
            resume_channel(None, "email")
        db.session.rollback()
    # Before the pause would have ended, everything goes out and the breaker closes.
    result = run("dispatch", pressed + timedelta(seconds=1))
    assert result["by_channel"] == {"email": 4} and email_statuses() == {("sent", 1): 4}
    assert state("email").failures == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "channel.resume")) == 1


# --- Parallel dispatchers ------------------------------------------------------------------------------------

def test_four_parallel_dispatchers_deliver_every_message_exactly_once(app: Any, make_person: Any,
                                                                      mail_server: FakeSmtpServer) -> None:
    queue_mail(make_person, 120)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    results: list[Any] = []
    settings = DispatchSettings(batch_size=7, max_batches=1000, base_url="http://127.0.0.1")

    def dispatcher() -> None:
        try:
            with app.app_context(), app_channels(app) as channels:
                barrier.wait(timeout=10)
                results.append(Dispatcher(channels, work_calendar(), settings).run(MORNING))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    ids = received(mail_server)
    assert len(ids) == 120 and set(ids.values()) == {1}
    assert sum(r.sent for r in results) == 120
    assert email_statuses() == {("sent", 1): 120}
