"""The dispatcher against a real SMTP server and the Zalo fake: delivery, windows, retries, dead rows, crashes."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from tests.fakes.smtp_server import FakeSmtpServer
from tests.fakes.zalo_server import ZNS_UNKNOWN_ERROR, FakeZaloServer
from tests.jobs.conftest import FOLLOWER_ID, ZNS_TEMPLATE, at, rows, run, sqlite_only
from tracker.extensions import db
from tracker.models import (
    ActionLink,
    Channel,
    ChannelState,
    DeliveryStatus,
    MessageTemplate,
    NotificationKind,
    Occurrence,
)
from tracker.notify.dispatcher import Dispatcher, DispatchSettings, app_channels
from tracker.notify.links import hash_token
from tracker.operations.inbox import mark_read, recent, unread_count
from tracker.operations.occurrences import mark_done
from tracker.operations.reminders import retry_dead, work_calendar


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"DISPATCH_MAX_ATTEMPTS": 3, "DISPATCH_BACKOFF_SECONDS": 60, "PUBLIC_BASE_URL": "https://tracker.example.vn"}


def statuses(channel: str | None = None) -> list[str]:
    return [n.status.value for n in rows() if channel is None or n.channel == channel]


def test_demo_dispatch_delivers_vietnamese_mail_and_zalo(active_plan: Any, commune: Any, mail_server: FakeSmtpServer,
                                                         zalo: FakeZaloServer) -> None:
    commune.officer.phone = "0912 345 678"  # ZNS to the officer's phone
    commune.focal.zalo_user_id = FOLLOWER_ID  # OA text to a follower with no phone
    commune.head.email = None  # no e-mail: that row dies with a clear error
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    assert run("dispatch", at("2024-09-18 08:01")) | {"now": None} == {
        "now": None, "sent": 3, "failed": 0, "dead": 0, "skipped": 0, "deferred": 0,
        "by_channel": {"email": 1, "in_app": 1, "zalo": 1}}

    (received,) = mail_server.messages
    mail = received.parsed
    assert received.rcpt_tos == ("yte@example.org",)
    assert mail["Subject"] == "[Nhắc việc] Còn 5 ngày làm việc: Báo cáo kết quả tiếp cận dịch vụ y tế (hạn 25/09/2024)"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    link = f"https://tracker.example.vn/occurrences/{active_plan.occurrence.id}"
    assert "Kính gửi đồng chí Nguyễn Văn Y" in text and "Hạn hoàn thành: 25/09/2024" in text and link in text
    assert f'href="{link}"' in html and "Trạm Y tế" in html
    # The reminder's button is its action link, for this officer and this occurrence only (one per message:
    # the e-mail's and the Zalo message's; none for the in-app row).
    (action,) = set(re.findall(r"https://tracker\.example\.vn/r/[\w-]+", text))
    assert f'href="{action}"' in html
    stored = {n.token_hash: n for n in db.session.scalars(sa.select(ActionLink))}
    assert len(stored) == 2 and {(s.recipient_id, s.occurrence_id) for s in stored.values()} == {
        (commune.officer.id, active_plan.occurrence.id)}
    assert stored[hash_token(action.rsplit("/", 1)[1])].used_at is None
    email_row = rows(channel="email")[0]
    assert mail["Message-ID"] == f"<notification-{email_row.id}@ubnd.vn>" == email_row.provider_message_id

    (zns,) = zalo.requests_to("zns")
    assert zns.body["phone"] == "84912345678" and zns.body["template_id"] == ZNS_TEMPLATE
    assert zns.body["template_data"] == {"officer_name": "Nguyễn Văn Y",
                                         "task_title": "Báo cáo kết quả tiếp cận dịch vụ y tế", "due_on": "25/09/2024"}
    assert zns.body["tracking_id"] == str(rows(channel="zalo")[0].id)
    assert rows(channel="zalo")[0].provider_message_id

    run("sweep", at("2024-09-26 08:00"))
    result = run("dispatch", at("2024-09-26 08:01"))
    assert (result["sent"], result["dead"]) == (4, 2)  # focal: in-app, e-mail, OA; head: in-app (no e-mail, no Zalo)
    (cs,) = zalo.requests_to("cs")
    assert cs.body["recipient"] == {"user_id": FOLLOWER_ID} and "Đôn đốc" in cs.body["message"]["text"]
    assert "Xem và xác nhận: https://tracker.example.vn/r/" in cs.body["message"]["text"]
    dead = {(n.recipient.username, n.channel): n.last_error for n in rows(status=DeliveryStatus.DEAD)}
    assert dead == {("truongtram", "email"): "email: truongtram has no email address",
                    ("truongtram", "zalo"): "zalo: truongtram has no Zalo user id or phone number (for ZNS)"}
    assert [m.parsed["Subject"] for m in mail_server.messages][1].startswith("[Đôn đốc] Quá hạn 1 ngày")
    assert run("dispatch", at("2024-09-26 08:05"))["sent"] == 0


@sqlite_only
def test_english_speakers_get_english_mail(active_plan: Any, commune: Any, mail_server: FakeSmtpServer) -> None:
    commune.officer.locale = "en"
    db.session.commit()
    run("sweep", at("2024-09-25 08:00"))
    run("dispatch", at("2024-09-25 08:00"))
    assert mail_server.messages[0].parsed["Subject"].startswith("[Due today] Báo cáo kết quả")


def test_in_app_messages_reach_the_bell(active_plan: Any, commune: Any) -> None:
    run("sweep", at("2024-09-18 08:00"))
    assert unread_count(commune.officer) == 0  # queued, not yet delivered
    run("dispatch", at("2024-09-18 08:00"))
    assert unread_count(commune.officer) == 1 and unread_count(commune.head) == 0
    with time_machine.travel(at("2024-09-19 10:00"), tick=False):
        (item,) = recent(commune.officer)
    assert item.text == "Còn 4 ngày làm việc: Báo cáo kết quả tiếp cận dịch vụ y tế (Trạm Y tế, hạn 25/09/2024)"
    assert item.link.endswith(f"/occurrences/{active_plan.occurrence.id}") and not item.is_read
    assert mark_read(commune.head, [item.id]) == 0  # not theirs
    assert mark_read(commune.officer) == 1
    db.session.commit()
    assert unread_count(commune.officer) == 0 and recent(commune.officer)[0].is_read


def test_mail_waits_for_working_hours_but_in_app_does_not(active_plan: Any, mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-20 18:30"))  # Friday evening: the -5 rule (due 25/9 fired 18/9)
    result = run("dispatch", at("2024-09-20 18:31"))
    assert result["by_channel"] == {"in_app": 1} and result["deferred"] == 0  # already queued for Monday
    assert rows(channel="email")[0].next_attempt_at == at("2024-09-23 07:30")
    assert run("dispatch", at("2024-09-21 10:00"))["sent"] == 0  # Saturday
    assert run("dispatch", at("2024-09-23 07:29"))["sent"] == 0
    assert run("dispatch", at("2024-09-23 07:31"))["by_channel"] == {"email": 1}
    assert len(mail_server.messages) == 1


@sqlite_only
def test_a_retry_due_at_night_is_deferred_to_the_morning(active_plan: Any, smtp_server: FakeSmtpServer,
                                                         mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-24 16:58"))
    smtp_server.stop()
    assert run("dispatch", at("2024-09-24 16:59"))["failed"] == 1
    assert run("dispatch", at("2024-09-24 22:00"))["deferred"] == 1
    assert rows(channel="email")[0].next_attempt_at == at("2024-09-25 07:30")


def test_smtp_down_pauses_the_channel_without_spending_attempts_then_sends(
        active_plan: Any, make_due_task: Any, smtp_server: FakeSmtpServer, mail_server: FakeSmtpServer) -> None:
    make_due_task(date(2024, 9, 25), title="Nhiệm vụ thứ hai")
    run("sweep", at("2024-09-18 08:00"))
    smtp_server.stop()
    result = run("dispatch", at("2024-09-18 08:00"))
    assert (result["sent"], result["failed"], result["deferred"]) == (2, 1, 1)  # 2 in-app; 1 tried, 1 not tried
    assert result["paused"]["email"].startswith("email: SMTP unavailable")
    tried, untouched = rows(channel="email")
    # Refused connections are the server's trouble, not the rows': no attempt spent.
    assert tried.status == DeliveryStatus.PENDING and tried.attempts == 0 and "SMTP unavailable" in tried.last_error
    assert tried.next_attempt_at == at("2024-09-18 08:01")
    assert untouched.status == DeliveryStatus.PENDING and untouched.attempts == 0
    assert untouched.last_error.startswith("not tried: email: SMTP unavailable")
    state = channel_state("email")
    assert (state.failures, state.paused_until) == (1, at("2024-09-18 08:01"))

    assert run("dispatch", at("2024-09-18 08:00:30"))["failed"] == 0  # paused: nothing claimed
    assert run("dispatch", at("2024-09-18 08:01"))["failed"] == 1  # half-open: tried again, still down
    assert channel_state("email").paused_until == at("2024-09-18 08:03")  # 60 s, then 120 s
    assert {(n.status, n.attempts) for n in rows(channel="email")} == {(DeliveryStatus.PENDING, 0)}
    smtp_server.start()
    assert run("dispatch", at("2024-09-18 08:03"))["sent"] == 2
    assert len(mail_server.messages) == 2 and set(statuses("email")) == {"sent"}
    state = channel_state("email")
    assert (state.failures, state.paused_until) == (0, None) and state.resumed_at >= at("2024-09-18 08:03")


def channel_state(channel: str) -> ChannelState:
    db.session.expire_all()
    return db.session.get(ChannelState, channel)


def test_a_row_is_dead_after_the_maximum_attempts(active_plan: Any, mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-18 08:00"))
    when = at("2024-09-18 08:00")
    for expected in ("failed", "failed", "dead"):
        mail_server.fail_next("data", "451 4.3.0 Try again later")  # this message's trouble, three times
        run("dispatch", when)
        (row,) = rows(channel="email")
        assert row.status.value == expected
        when = row.next_attempt_at if expected != "dead" else when
    assert row.attempts == 3 and "after 3 attempts" in row.last_error and "Try again later" in row.last_error
    assert run("dispatch", when + timedelta(hours=1))["sent"] == 0  # dead stays dead ...
    retry_dead(None, row, now=when + timedelta(hours=1))  # ... until an admin retries it
    db.session.commit()
    assert run("dispatch", when + timedelta(hours=1))["sent"] == 1 and len(mail_server.messages) == 1


@sqlite_only
def test_a_permanent_smtp_refusal_is_dead_at_once(active_plan: Any, mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-18 08:00"))
    mail_server.fail_next("rcpt", "550 5.1.1 Mailbox unavailable")
    assert run("dispatch", at("2024-09-18 08:00"))["dead"] == 1
    (row,) = rows(channel="email")
    assert row.attempts == 1 and "Mailbox unavailable" in row.last_error and "550" in row.last_error


@sqlite_only
def test_a_transient_smtp_refusal_is_retried(active_plan: Any, mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-18 08:00"))
    mail_server.fail_next("data", "451 4.3.0 Try again later")
    assert run("dispatch", at("2024-09-18 08:00"))["failed"] == 1
    assert run("dispatch", at("2024-09-18 08:05"))["sent"] == 1 and len(mail_server.messages) == 1


@sqlite_only
def test_a_template_with_a_missing_variable_sends_nothing(active_plan: Any, mail_server: FakeSmtpServer) -> None:
    # Saved before a variable disappeared (save_template itself refuses this template).
    db.session.add(MessageTemplate(kind=NotificationKind.REMINDER, channel=Channel.EMAIL, locale="vi",
                                   subject="Nhắc việc {{ task_title }}", body_text="Hạn {{ deadline_text }}"))
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    assert run("dispatch", at("2024-09-18 08:00"))["dead"] == 1
    (row,) = rows(channel="email")
    assert "reminder/email/vi" in row.last_error and "'deadline_text' is undefined" in row.last_error
    assert mail_server.messages == []


def test_reminders_of_a_done_task_are_skipped(active_plan: Any, commune: Any, mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-20 18:00"))  # e-mail waits for Monday
    mark_done(commune.officer, db.session.get(Occurrence, active_plan.occurrence.id), now=at("2024-09-21 09:00"))
    db.session.commit()
    assert run("dispatch", at("2024-09-23 08:00"))["skipped"] == 2  # e-mail and the undelivered in-app
    assert rows(channel="email")[0].last_error == "not sent: the task is done or cancelled"
    assert mail_server.messages == []


def test_a_pending_reminder_superseded_by_a_later_rule_is_skipped(active_plan: Any,
                                                                  mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-21 10:00"))  # Saturday: -5 queued for Monday
    run("sweep", at("2024-09-23 06:00"))  # Monday: -2 due, before the window opens
    result = run("dispatch", at("2024-09-23 07:30"))
    assert result["skipped"] == 2 and result["by_channel"] == {"email": 1, "in_app": 1}  # -5 skipped, -2 sent
    assert "Còn 2 ngày làm việc" in mail_server.messages[0].parsed["Subject"]


@sqlite_only
def test_event_messages_go_out_although_the_task_is_done(active_plan: Any, commune: Any,
                                                         mail_server: FakeSmtpServer) -> None:
    from tracker.operations.occurrences import review_report

    occurrence = db.session.get(Occurrence, active_plan.occurrence.id)
    with time_machine.travel(at("2024-09-24 09:00"), tick=False):
        report = mark_done(commune.officer, occurrence, "Xong")
        review_report(commune.focal, report, accept=True, comment="Đạt yêu cầu")
        db.session.commit()
    assert run("dispatch", at("2024-09-24 10:00"))["sent"] == 2
    assert mail_server.messages[0].parsed["Subject"].startswith("[Đã tiếp nhận báo cáo]")
    assert "Đạt yêu cầu" in mail_server.messages[0].parsed.get_body(("plain",)).get_content()


def test_zalo_expired_token_is_refreshed_and_the_message_sent(active_plan: Any, commune: Any,
                                                              zalo: FakeZaloServer) -> None:
    commune.officer.phone = "0912345678"
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    zalo.expire_access_tokens()
    result = run("dispatch", at("2024-09-18 08:00"))
    assert result["by_channel"]["zalo"] == 1 and zalo.refresh_count == 1
    assert [r.endpoint for r in zalo.requests] == ["zns", "oauth", "zns"]


@sqlite_only
def test_zalo_errors_and_timeouts_are_retried(active_plan: Any, commune: Any, zalo: FakeZaloServer,
                                              mail_server: FakeSmtpServer) -> None:
    commune.officer.phone = "0912345678"
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    zalo.fail_next("zns", error=ZNS_UNKNOWN_ERROR)
    first = run("dispatch", at("2024-09-18 08:00"))
    assert first["failed"] == 1 and first["by_channel"]["email"] == 1
    assert "unknown error" in rows(channel="zalo")[0].last_error
    zalo.fail_next("zns", delay=1.5)  # longer than ZALO_TIMEOUT_SECONDS
    assert run("dispatch", at("2024-09-18 08:01"))["failed"] == 1
    assert "did not answer" in rows(channel="zalo")[0].last_error
    assert run("dispatch", at("2024-09-18 08:03"))["by_channel"] == {"zalo": 1}
    assert rows(channel="zalo")[0].attempts == 3 and len(zalo.requests_to("zns")) == 3


@sqlite_only
def test_refused_zalo_credentials_keep_the_rows_waiting(active_plan: Any, commune: Any, make_due_task: Any,
                                                      zalo: FakeZaloServer, mail_server: FakeSmtpServer) -> None:
    from tracker.notify.zalo_tokens import SqlTokenStore, ZaloTokens

    make_due_task(date(2024, 9, 25), title="Nhiệm vụ thứ hai")
    commune.officer.phone = "0912345678"
    db.session.commit()
    SqlTokenStore(db.engine).save(ZaloTokens(access_token="revoked", refresh_token="revoked"))
    run("sweep", at("2024-09-18 08:00"))
    result = run("dispatch", at("2024-09-18 08:00"))
    assert result["failed"] == 1 and result["deferred"] == 1 and result["dead"] == 0
    for row in rows(channel="zalo"):
        assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 0)  # no attempt spent: not the row's fault
        assert row.next_attempt_at == at("2024-09-18 08:30")
    assert "credentials refused" in rows(channel="zalo")[0].last_error
    assert len(zalo.requests_to("oauth")) == 1  # one refresh try, not one per row


@sqlite_only
def test_no_zalo_id_is_dead_with_a_clear_error(active_plan: Any, zalo: FakeZaloServer) -> None:
    run("sweep", at("2024-09-18 08:00"))
    assert run("dispatch", at("2024-09-18 08:00"))["dead"] == 1
    assert rows(channel="zalo")[0].last_error == "zalo: yte has no Zalo user id or phone number (for ZNS)"


def test_a_dispatcher_killed_mid_batch_loses_nothing_and_sends_once(active_plan: Any, app: Any,
                                                                    mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-09-18 08:00"))
    # A dispatcher claims the row, commits the claim, and dies before sending.
    with app.app_context():
        claimed = Dispatcher({}, work_calendar(), DispatchSettings()).claim(at("2024-09-18 08:00"))
        db.session.commit()
    assert len(claimed) == 1 and statuses("email") == ["sending"]
    assert "email" not in run("dispatch", at("2024-09-18 08:02"))["by_channel"]  # the claim still holds
    assert run("dispatch", at("2024-09-18 08:05"))["by_channel"] == {"email": 1}  # expired: taken over
    assert len(mail_server.messages) == 1
    (row,) = rows(channel="email")
    assert row.status == DeliveryStatus.SENT and row.attempts == 2


def test_concurrent_dispatchers_send_each_row_once(app: Any, commune: Any, make_due_task: Any,
                                                   mail_server: FakeSmtpServer, backend: str) -> None:
    for n in range(12):
        make_due_task(date(2024, 9, 25), title=f"Nhiệm vụ {n}")
    run("sweep", at("2024-09-18 08:00"))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    settings = DispatchSettings(batch_size=3, max_batches=100, base_url="http://127.0.0.1")

    def dispatcher() -> None:
        try:
            with app.app_context(), app_channels(app) as channels:
                barrier.wait(timeout=10)
                Dispatcher(channels, work_calendar(), settings).run(at("2024-09-18 08:00"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    ids = Counter(m.parsed["X-Tracker-Notification-Id"] for m in mail_server.messages)
    assert len(ids) == 12 and set(ids.values()) == {1}
    assert set(statuses()) == {"sent"}
