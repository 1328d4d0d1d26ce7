"""EmailChannel against a real SMTP server on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_mail import Mail

from tests.fakes.ports import free_port
from tests.fakes.smtp_server import FakeSmtpServer
from tracker.notify.base import Channel, OutgoingMessage, PermanentSendError, ReauthRequired, TransientSendError
from tracker.notify.email import EmailChannel

SUBJECT = "Nhắc việc: báo cáo kết quả thực hiện Kế hoạch 56/KH-UBND đến hạn ngày 25/9/2024"


def reminder(**overrides: object) -> OutgoingMessage:
    fields: dict = {
        "recipient": "tram.yte@xaphuochoa.example.vn",
        "tracking_id": "4711",
        "subject": SUBJECT,
        "text": "Kính gửi Trạm Y tế xã: đề nghị gửi báo cáo trước ngày 25/9/2024.",
        "html": "<p>Kính gửi <b>Trạm Y tế xã</b>: đề nghị gửi báo cáo trước ngày 25/9/2024.</p>",
        "link": "https://tracker.example.vn/occurrences/4711",
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


def test_email_channel_is_a_channel(mail: Mail) -> None:
    assert isinstance(EmailChannel(mail), Channel)
    assert EmailChannel(mail).name == "email"


def test_sends_vietnamese_multipart_mail(mail: Mail, smtp_server: FakeSmtpServer) -> None:
    result = EmailChannel(mail).send(reminder())

    [received] = smtp_server.messages
    assert received.rcpt_tos == ("tram.yte@xaphuochoa.example.vn",)
    assert received.mail_from == "noreply@ubnd.example.vn"
    parsed = received.parsed
    assert parsed["Subject"] == SUBJECT
    # The raw header is RFC 2047 encoded: plain ASCII on the wire.
    raw_subject = received.content.split(b"\nSubject: ", 1)[1].split(b"\n", 1)[0]
    assert raw_subject.isascii() and b"=?utf-8?" in raw_subject.lower()
    assert parsed["From"].addresses[0].display_name == "Hệ thống theo dõi nhiệm vụ"
    assert parsed["Message-ID"] == result.provider_message_id == "<notification-4711@ubnd.example.vn>"
    assert parsed["X-Tracker-Notification-Id"] == "4711"
    assert parsed["Auto-Submitted"] == "auto-generated"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8"
    assert "đề nghị gửi báo cáo trước ngày 25/9/2024" in text.get_content()
    assert "https://tracker.example.vn/occurrences/4711" in text.get_content()
    assert "<b>Trạm Y tế xã</b>" in html.get_content()


def test_text_only_message_is_single_part(mail: Mail, smtp_server: FakeSmtpServer) -> None:
    EmailChannel(mail).send(reminder(html=None, link=None))

    parsed = smtp_server.messages[0].parsed
    assert not parsed.is_multipart()
    assert parsed.get_content().strip() == "Kính gửi Trạm Y tế xã: đề nghị gửi báo cáo trước ngày 25/9/2024."


def test_message_id_domain_is_configurable(mail_app: Flask, mail: Mail) -> None:
    mail_app.config["MAIL_MESSAGE_ID_DOMAIN"] = "tracker.gov.example"
    result = EmailChannel(mail).send(reminder(tracking_id="12"))
    assert result.provider_message_id == "<notification-12@tracker.gov.example>"


@pytest.mark.parametrize(
    "address", ["", "   ", "không-phải-email", "a@b", "a b@c.vn", "x@y.vn\nBcc: z@w.vn", "thư@xa.vn"]
)
def test_missing_or_invalid_address_is_permanent(mail: Mail, smtp_server: FakeSmtpServer, address: str) -> None:
    with pytest.raises(PermanentSendError):
        EmailChannel(mail).send(reminder(recipient=address))
    assert smtp_server.messages == []


def test_missing_sender_configuration_requires_admin(mail_app: Flask, mail: Mail) -> None:
    mail_app.extensions["mail"].default_sender = None
    with pytest.raises(ReauthRequired, match="MAIL_DEFAULT_SENDER"):
        EmailChannel(mail).send(reminder())


def test_smtp_down_is_transient(mail: Mail, smtp_server: FakeSmtpServer) -> None:
    smtp_server.stop()
    with pytest.raises(TransientSendError):
        EmailChannel(mail).send(reminder())


def test_closed_port_is_transient(mail_app: Flask, mail: Mail) -> None:
    mail_app.extensions["mail"].port = free_port()
    with pytest.raises(TransientSendError):
        EmailChannel(mail).send(reminder())


@pytest.mark.parametrize(
    ("stage", "reply", "expected", "systemic"),
    [
        ("rcpt", "550 5.1.1 Mailbox unavailable", PermanentSendError, False),
        ("rcpt", "451 4.3.0 Try again later", TransientSendError, False),
        ("rcpt", "421 4.3.2 Service shutting down", TransientSendError, True),
        ("mail", "421 4.3.2 Service shutting down", TransientSendError, True),
        # Our sender refused, or a server that understands none of our commands: everyone's problem.
        ("mail", "553 5.7.1 Sender rejected", TransientSendError, True),
        ("rcpt", "500 5.5.1 Command unrecognized", TransientSendError, True),
        ("data", "451 4.3.0 Local error in processing", TransientSendError, False),
        ("data", "554 5.6.0 Message rejected", PermanentSendError, False),
    ],
)
def test_smtp_replies_are_classified(
    mail: Mail, smtp_server: FakeSmtpServer, stage: str, reply: str, expected: type[Exception], systemic: bool
) -> None:
    smtp_server.fail_next(stage, reply)  # type: ignore[arg-type]
    with pytest.raises(expected) as info:
        EmailChannel(mail).send(reminder())
    assert info.value.code == int(reply[:3])
    assert getattr(info.value, "systemic", False) is systemic
    assert smtp_server.messages == []


def test_a_session_sends_many_messages_on_one_connection(mail: Mail, smtp_server: FakeSmtpServer) -> None:
    with EmailChannel(mail).session() as session:
        for k in range(5):
            session.send(reminder(tracking_id=str(k)))
        assert session.connections == 1
    assert smtp_server.connections == 1 and len(smtp_server.messages) == 5


def test_a_session_survives_a_refused_recipient_and_a_dropped_connection(mail: Mail,
                                                                         smtp_server: FakeSmtpServer) -> None:
    smtp_server.fail_next("rcpt", "550 5.1.1 Mailbox unavailable")
    with EmailChannel(mail).session() as session:
        with pytest.raises(PermanentSendError):
            session.send(reminder(tracking_id="1"))
        session.send(reminder(tracking_id="2"))  # same connection: the refusal reset the transaction
        assert session.connections == 1
        smtp_server.drop_next("data")  # hung up after the data: the server may have it
        with pytest.raises(TransientSendError) as info:
            session.send(reminder(tracking_id="3"))
        assert info.value.connection_lost and not info.value.systemic
        session.send(reminder(tracking_id="4"))  # reconnected
        assert session.connections == 2
        smtp_server.drop_next("mail")  # hung up before the data: sent again at once on a new connection
        session.send(reminder(tracking_id="5"))
        assert session.connections == 3
    assert [m.parsed["X-Tracker-Notification-Id"] for m in smtp_server.messages] == ["2", "4", "5"]


def test_a_session_that_cannot_connect_is_systemic(mail: Mail, smtp_server: FakeSmtpServer) -> None:
    smtp_server.stop()
    with EmailChannel(mail).session() as session, pytest.raises(TransientSendError) as info:
        session.send(reminder())
    assert info.value.connect and info.value.systemic


def test_retry_after_transient_reply_succeeds(mail: Mail, smtp_server: FakeSmtpServer) -> None:
    smtp_server.fail_next("rcpt", "451 4.3.0 Try again later")
    channel = EmailChannel(mail)
    with pytest.raises(TransientSendError):
        channel.send(reminder())
    first = channel.send(reminder())
    assert len(smtp_server.messages) == 1
    assert first.provider_message_id == "<notification-4711@ubnd.example.vn>"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word (no SMTP greeting)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_silent_server_times_out_as_transient(mail_app: Flask, mail: Mail, silent_server: int) -> None:
    mail_app.extensions["mail"].port = silent_server
    with pytest.raises(TransientSendError, match="timed out"):
        EmailChannel(mail, timeout=0.3).send(reminder())


@pytest.fixture
def auth_smtp_server() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer(credentials=("vanthu", "mat-khau-dung")) as server:
        yield server


def test_smtp_login_is_used(mail_app: Flask, mail: Mail, auth_smtp_server: FakeSmtpServer) -> None:
    state = mail_app.extensions["mail"]
    state.port, state.username, state.password = auth_smtp_server.port, "vanthu", "mat-khau-dung"
    EmailChannel(mail).send(reminder())
    assert len(auth_smtp_server.messages) == 1


def test_non_ascii_smtp_password_requires_reauth(mail_app: Flask, mail: Mail, auth_smtp_server: FakeSmtpServer) -> None:
    # smtplib can only send ASCII credentials; the admin must enter them again.
    state = mail_app.extensions["mail"]
    state.port, state.username, state.password = auth_smtp_server.port, "vanthu", "mật-khẩu"
    with pytest.raises(ReauthRequired):
        EmailChannel(mail).send(reminder())


def test_refused_smtp_login_requires_reauth(mail_app: Flask, mail: Mail, auth_smtp_server: FakeSmtpServer) -> None:
    state = mail_app.extensions["mail"]
    state.port, state.username, state.password = auth_smtp_server.port, "vanthu", "sai"
    with pytest.raises(ReauthRequired) as info:
        EmailChannel(mail).send(reminder())
    assert info.value.code == 535
    assert auth_smtp_server.messages == []
