"""The email channel: Flask-Mail over SMTP, with timeouts and a clear failure classification."""

from __future__ import annotations

import base64
import contextlib
import logging
import smtplib
import uuid
from email.header import Header
from email.utils import formatdate, parseaddr
from typing import Any

from flask import Flask, current_app
from flask_mail import Connection, Mail, sanitize_address

from tracker.notify.base import (
    OutgoingMessage,
    PermanentSendError,
    ReauthRequired,
    SendResult,
    TransientSendError,
)

log = logging.getLogger("tracker.notify")

DEFAULT_TIMEOUT = 10.0
#: "Service not available, closing transmission channel": the server refuses everyone for now.
SMTP_CLOSING = 421


class _Connection(Connection):
    """A Flask-Mail connection with a socket timeout and a quiet QUIT."""

    def __init__(self, state: Any, timeout: float) -> None:
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        # Flask-Mail opens smtplib without a timeout: a silent server would hang the dispatcher.
        smtp_class = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp_class(self.mail.server, self.mail.port, timeout=self.timeout)
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def __exit__(self, *exc_info: object) -> None:
        # A failing QUIT after the server accepted DATA must not turn a sent message into an error
        # (the retry would send it twice); after a failure the server may already have hung up.
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()


class EmailChannel:
    """Send `OutgoingMessage`s as multipart (text + HTML) UTF-8 email."""

    name = "email"

    def __init__(self, mail: Mail, *, timeout: float | None = None, message_id_domain: str | None = None) -> None:
        self._mail = mail
        self._timeout = timeout
        self._message_id_domain = message_id_domain

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send one message on a connection of its own; raise Transient/Permanent/ReauthRequired on failure."""
        with self.session() as session:
            return session.send(message)

    def session(self) -> EmailSession:
        """A session sending many messages on one SMTP connection (opened at the first message)."""
        app: Flask = self._mail.app or current_app._get_current_object()  # type: ignore[attr-defined]
        timeout = self._timeout or float(app.config.get("MAIL_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT)
        return EmailSession(self, app, timeout)

    def _domain(self, app: Flask, sender: str | tuple[str, str]) -> str:
        configured = self._message_id_domain or app.config.get("MAIL_MESSAGE_ID_DOMAIN")
        if configured:
            return configured
        address = parseaddr(sender if isinstance(sender, str) else sender[1])[1]
        # Never fall back to make_msgid's default: it resolves the host's FQDN, which can block.
        return address.rpartition("@")[2] or "tracker.invalid"


class EmailSession:
    """Messages sent one after another on one SMTP connection, reopened when the server drops it.

    The connection is opened at the first message and after a failure that leaves it unusable; a
    failure to open it is a `TransientSendError` with `connect=True` (nothing of the message was sent:
    the whole channel is down, not this message). Per-message refusals (a bad mailbox) leave the
    connection open: smtplib resets the transaction (RSET) and the next message goes on it.
    """

    def __init__(self, channel: EmailChannel, app: Flask, timeout: float) -> None:
        self._channel = channel
        self._app = app
        self._state = app.extensions["mail"]
        self._timeout = timeout
        self._connection: _Connection | None = None
        self._from: tuple[str, str, str] | None = None
        #: Connections opened so far (one per batch unless the server dropped one).
        self.connections = 0

    def __enter__(self) -> EmailSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.__exit__(None, None, None)

    def _drop(self) -> None:
        # After a dropped or confused connection QUIT would fail too: just close the socket.
        if self._connection is not None:
            if self._connection.host is not None:
                self._connection.host.close()
            self._connection = None

    def _connect(self) -> _Connection:
        if self._connection is None:
            connection = _Connection(self._state, self._timeout)
            try:
                connection.__enter__()
            except smtplib.SMTPAuthenticationError as exc:
                raise ReauthRequired(f"SMTP login refused: {_text(exc.smtp_error)}", code=exc.smtp_code) from exc
            except UnicodeError as exc:
                # Addresses are checked to be ASCII, so this is smtplib refusing non-ASCII credentials.
                raise ReauthRequired(f"SMTP credentials must be ASCII: {exc}") from exc
            except smtplib.SMTPResponseException as exc:
                # Refused at the greeting, EHLO or STARTTLS: the server refuses everyone, not this message.
                raise TransientSendError(f"SMTP unavailable: {exc.smtp_code} {_text(exc.smtp_error)}",
                                         code=exc.smtp_code, connect=True) from exc
            except (smtplib.SMTPException, OSError) as exc:
                raise TransientSendError(f"SMTP unavailable: {exc!r}", connect=True) from exc
            self._connection = connection
            self.connections += 1
        return self._connection

    def _sender(self) -> tuple[str, str, str]:
        """(From header, envelope sender, Message-ID domain): the same for every message of the session."""
        if self._from is None:
            sender = self._state.default_sender
            if not sender:
                # A configuration gap, not this message's fault: keep it pending until an admin fixes it.
                raise ReauthRequired("MAIL_DEFAULT_SENDER is not configured")
            if any(_has_newline(part) for part in (sender if isinstance(sender, tuple) else (sender,))):
                raise ReauthRequired("MAIL_DEFAULT_SENDER contains a newline")
            header = sanitize_address(sender, "utf-8")
            self._from = (header, header if isinstance(sender, str) else sanitize_address(sender[1]),
                          self._channel._domain(self._app, sender))
        return self._from

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send one message on the session's connection; raise a `SendError` subclass on failure."""
        recipient = _valid_address(message.recipient)
        if _has_newline(message.subject):
            raise PermanentSendError("header contains a newline", recipient=True)
        from_header, envelope_from, domain = self._sender()
        # Derived from the outbox row so a retried row keeps its Message-ID: mail clients then
        # collapse a duplicate delivered after an ambiguous failure.
        message_id = f"<notification-{message.tracking_id}@{domain}>"
        data = mime_bytes(message, recipient=recipient, from_header=from_header, message_id=message_id)
        for reconnected in (False, True):
            connection = self._connect()
            if connection.host is None:  # MAIL_SUPPRESS_SEND
                break
            delivering = _Stage()
            try:
                _transaction(connection.host, envelope_from, recipient, data, delivering)
                break
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()), (None, b""))
                raise _by_code(code, f"recipient refused: {_text(reply)}", stage="rcpt") from exc
            except smtplib.SMTPSenderRefused as exc:
                # Our own sender address is refused: the same for every message.
                raise TransientSendError(f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                                         code=exc.smtp_code, systemic=True) from exc
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code in (SMTP_CLOSING, -1):
                    self._drop()
                raise _by_code(exc.smtp_code, _text(exc.smtp_error), stage="data") from exc
            except (smtplib.SMTPException, OSError) as exc:
                # Dropped or reset connections, timeouts: the next message opens a new connection.
                self._drop()
                if not delivering.data and not reconnected:
                    # Lost before the message's data went out: the server cannot have it; once more, now.
                    log.info("SMTP connection lost before email %s; reconnecting", message.tracking_id)
                    continue
                raise TransientSendError(f"SMTP connection lost: {exc!r}", connection_lost=True) from exc
        log.debug("email %s sent to %s as %s", message.tracking_id, recipient, message_id)
        return SendResult(provider_message_id=message_id)


class _Stage:
    """How far one SMTP transaction went: past `data`, the server may have the message."""

    data = False


def _transaction(host: smtplib.SMTP, sender: str, recipient: str, data: bytes, stage: _Stage) -> None:
    """MAIL, RCPT, DATA for one recipient (smtplib's sendmail, noting when the data starts to go out)."""
    host.ehlo_or_helo_if_needed()
    code, reply = host.mail(sender)
    if code != 250:
        _reset(host, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = host.rcpt(recipient)
    if code not in (250, 251):
        _reset(host, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    stage.data = True
    try:
        code, reply = host.data(data)
    except smtplib.SMTPDataError as exc:  # DATA itself refused: end the transaction too
        _reset(host, exc.smtp_code)
        raise
    if code != 250:
        _reset(host, code)
        raise smtplib.SMTPDataError(code, reply)


def _reset(host: smtplib.SMTP, code: int) -> None:
    # RSET ends the refused transaction so the next message can use the connection (as sendmail does);
    # after 421 the server is closing it anyway.
    if code == SMTP_CLOSING:
        host.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        host.rset()


def mime_bytes(message: OutgoingMessage, *, recipient: str, from_header: str, message_id: str) -> bytes:
    """The message as sent: text, or text and HTML alternatives, UTF-8 in base64 (what email.mime makes).

    Written out directly: the headers are ASCII (the subject RFC 2047-encoded, the sender encoded once per
    session), so there is nothing to fold, and the email package's generators re-parsed and refolded
    every header, which made MIME serialisation the largest cost of an e-mail after the network.
    """
    subject = message.subject
    if not subject.isascii():
        subject = Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")
    headers = [
        "MIME-Version: 1.0",
        f"Subject: {subject}" if subject else "",
        f"From: {from_header}",
        f"To: {recipient}",
        f"Date: {formatdate(localtime=True)}",
        f"Message-ID: {message_id}",
        # RFC 3834: keeps out-of-office robots from answering reminders.
        "Auto-Submitted: auto-generated",
        f"X-Tracker-Notification-Id: {message.tracking_id}",
    ]
    text = _part("plain", _with_link(message.text, message.link))
    if not message.html:
        return "\r\n".join(h for h in headers if h).encode("ascii") + b"\r\n" + text
    # "_" never occurs in base64, so the boundary cannot collide with the parts.
    boundary = f"=_tracker_{message.tracking_id}_{uuid.uuid4().hex}"
    headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    marker = f"--{boundary}\r\n".encode("ascii")
    return b"".join((
        "\r\n".join(h for h in headers if h).encode("ascii"), b"\r\n\r\n",
        marker, text, b"\r\n", marker, _part("html", message.html), b"\r\n",
        f"--{boundary}--\r\n".encode("ascii"),
    ))


def _part(subtype: str, body: str) -> bytes:
    """Content headers and the base64 body (76-character lines) of one UTF-8 text part."""
    encoded = base64.encodebytes(body.encode("utf-8")).replace(b"\n", b"\r\n")
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            .encode("ascii") + encoded)


def _has_newline(value: str) -> bool:
    return "\r" in value or "\n" in value


def _valid_address(recipient: str) -> str:
    address = recipient.strip()
    local, at, domain = address.rpartition("@")
    # ASCII only: SMTPUTF8 mailboxes are not used by the administration and smtplib needs the
    # server's support for them.
    if not (at and local and "." in domain and address.isascii()) or any(c.isspace() for c in address):
        raise PermanentSendError(f"no valid email address: {recipient!r}", recipient=True)
    return address


def _with_link(text: str, link: str | None) -> str:
    if link and link not in text:
        return f"{text}\n\n{link}" if text else link
    return text


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int | None, reason: str, *, stage: str) -> TransientSendError | PermanentSendError:
    # RFC 5321: 4yz is a transient negative reply, 5yz a permanent one. 421 closes the connection for
    # everyone, and 500-504 (syntax, command not recognised or not implemented) say the server cannot
    # talk with us at all: systemic, whatever the recipient. The rest may be this recipient's; the
    # dispatcher's breaker decides from the batch (a refusal of every recipient is systemic too).
    systemic = code == SMTP_CLOSING or (code is not None and 500 <= code <= 504)
    if code is not None and 500 <= code < 600 and not systemic:
        return PermanentSendError(reason, code=code)
    return TransientSendError(reason, code=code, systemic=systemic)
