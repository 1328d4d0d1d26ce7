"""An SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and can be told to fail.

server = FakeSmtpServer().start()
...  # point MAIL_SERVER / MAIL_PORT at server.host / server.port
server.messages[0].parsed["Subject"]
server.fail_next("rcpt", "550 5.1.1 Mailbox unavailable")
server.stop()  # now the port refuses connections: "SMTP is down"
"""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.fakes.ports import free_port

Stage = Literal["mail", "rcpt", "data"]


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted SMTP transaction."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def parsed(self) -> EmailMessage:
        """Parse the raw message with the modern email policy (decodes RFC 2047 headers)."""
        return email.message_from_bytes(self.content, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class _Handler:
    messages: list[ReceivedMail] = field(default_factory=list)
    # Scripted replies, consumed one per transaction at the stage they name.
    faults: dict[Stage, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _fault(self, stage: Stage) -> str | None:
        with self.lock:
            queue = self.faults.get(stage)
            return queue.pop(0) if queue else None

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        if reply := self._fault("mail"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        if reply := self._fault("rcpt"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if reply := self._fault("data"):
            return reply
        content = envelope.original_content or envelope.content
        with self.lock:
            self.messages.append(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(content)))
        return "250 Message accepted for delivery"


class FakeSmtpServer:
    """A recording SMTP server on an ephemeral loopback port."""

    host = "127.0.0.1"

    def __init__(self, port: int | None = None, *, credentials: tuple[str, str] | None = None) -> None:
        self.port = port or free_port()
        # With credentials the server offers AUTH over plain text (loopback only) and checks them.
        self.credentials = credentials
        self._handler = _Handler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        """Messages accepted so far, oldest first."""
        with self._handler.lock:
            return list(self._handler.messages)

    @property
    def is_running(self) -> bool:
        """Tell whether the server is accepting connections."""
        return self._controller is not None

    def fail_next(self, stage: Stage, reply: str) -> None:
        """Answer the next MAIL, RCPT or DATA command with `reply` (e.g. "451 4.3.0 Try later")."""
        with self._handler.lock:
            self._handler.faults.setdefault(stage, []).append(reply)

    def start(self) -> FakeSmtpServer:
        """Start listening in a background thread (again after `stop`, on the same port)."""
        if self._controller is None:
            auth: dict[str, Any] = {}
            if self.credentials is not None:
                auth = {"authenticator": self._authenticate, "auth_require_tls": False}
            self._controller = Controller(self._handler, hostname=self.host, port=self.port, **auth)
            self._controller.start()
        return self

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self.credentials
        return AuthResult(success=ok, handled=False)

    def stop(self) -> None:
        """Stop listening; connections to the port are then refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> FakeSmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
