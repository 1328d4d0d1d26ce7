"""An SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and can be told to fail.

server = FakeSmtpServer().start()
...  # point MAIL_SERVER / MAIL_PORT at server.host / server.port
server.messages[0].parsed["Subject"]
server.fail_next("rcpt", "550 5.1.1 Mailbox unavailable")
hold = server.hold_next_data()  # the next DATA waits: the sender is "mid-send" (after=1: the one after)
hold.wait_reached(); ...; hold.release()  # accept it now (or hold.drop(): hang up, nothing received)
server.on_every_data(callback)  # called (in a worker thread) before each DATA is accepted
server.fail_always("mail", "500 5.0.0 Broken")  # every MAIL answered so until server.recover()
server.drop_next()  # the next transaction's MAIL gets no answer: the connection is cut
server.connections  # SMTP connections accepted so far
server.refuse_recipient("x@example.org")  # an unknown mailbox: 550 for that RCPT TO, every time
server.stop()  # now the port refuses connections: "SMTP is down" (held sessions are cut off)
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.fakes.ports import free_port

Stage = Literal["mail", "rcpt", "data"]
#: A scripted "reply" that hangs up instead of answering.
DROP = "DROP"


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


class DataHold:
    """One DATA command kept waiting until the test releases it (or hangs up on the sender)."""

    def __init__(self, skip: int = 0) -> None:
        self.skip = skip  # DATA commands to let through before this one is held
        self._reached = threading.Event()
        self._decided = threading.Event()
        self._reply: str | None = None
        self.dropped = False

    def wait_reached(self, timeout: float = 30.0) -> bool:
        """Wait until a sender is inside the held DATA command."""
        return self._reached.wait(timeout)

    @property
    def reached(self) -> bool:
        return self._reached.is_set()

    def release(self, reply: str | None = None) -> None:
        """Let the held DATA finish: accepted, or answered with `reply` (e.g. "451 4.3.0 Try later")."""
        self._reply = reply
        self._decided.set()

    def drop(self) -> None:
        """Hang up on the sender without answering: the message is not received."""
        self.dropped = True
        self._decided.set()

    def _wait(self) -> str | None:
        self._reached.set()
        if not self._decided.wait(60):
            self.dropped = True
        return self._reply


@dataclass
class _Handler:
    messages: list[ReceivedMail] = field(default_factory=list)
    # Scripted replies, consumed one per transaction at the stage they name.
    faults: dict[Stage, list[str]] = field(default_factory=dict)
    holds: list[DataHold] = field(default_factory=list)
    active_holds: list[DataHold] = field(default_factory=list)
    every_data: Callable[[], None] | None = None
    # Replies given to every command of a stage until cleared (a server refusing everyone).
    always: dict[Stage, str] = field(default_factory=dict)
    connections: int = 0
    # Recipients refused whenever they are named (an unknown mailbox), with the reply.
    refused: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _fault(self, stage: Stage) -> str | None:
        with self.lock:
            if stage in self.always:
                return self.always[stage]
            queue = self.faults.get(stage)
            return queue.pop(0) if queue else None

    def _reply(self, server: Any, stage: Stage) -> str | None:
        reply = self._fault(stage)
        if reply == DROP:
            server.transport.abort()  # hang up without answering: nothing of the message was received
            return "421 4.3.0 Connection dropped"
        return reply

    def _hold(self) -> DataHold | None:
        with self.lock:
            if not self.holds:
                return None
            if self.holds[0].skip:
                self.holds[0].skip -= 1
                return None
            hold = self.holds.pop(0)
            self.active_holds.append(hold)
            return hold

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        if reply := self._reply(server, "mail"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        if reply := self._reply(server, "rcpt"):
            return reply
        with self.lock:
            refusal = self.refused.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if reply := self._reply(server, "data"):
            return reply
        loop = asyncio.get_running_loop()
        if self.every_data is not None:
            # In a worker thread: the callback may block without stopping other sessions.
            await loop.run_in_executor(None, self.every_data)
        if (hold := self._hold()) is not None:
            try:
                reply = await loop.run_in_executor(None, hold._wait)
            finally:  # also when the session is cancelled because the sender died
                with self.lock:
                    self.active_holds.remove(hold)
            if hold.dropped:
                server.transport.abort()  # like a crashed server: no reply, nothing received
                return "421 4.3.0 Connection dropped"
            if reply:
                return reply
        content = envelope.original_content or envelope.content
        with self.lock:
            self.messages.append(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(content)))
        return "250 Message accepted for delivery"


class _CountingController(Controller):
    """A controller counting the connections it accepts (one SMTP session object per connection)."""

    def __init__(self, handler: _Handler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._counted = handler

    def factory(self) -> Any:
        with self._counted.lock:
            self._counted.connections += 1
        return super().factory()


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

    def fail_always(self, stage: Stage, reply: str) -> None:
        """Answer every MAIL, RCPT or DATA command with `reply` (or DROP: hang up) until `recover`."""
        with self._handler.lock:
            self._handler.always[stage] = reply

    def answer_everything(self, reply: str) -> None:
        """A broken server: every MAIL, RCPT and DATA gets `reply` (e.g. "500 5.0.0 Broken")."""
        for stage in ("mail", "rcpt", "data"):
            self.fail_always(stage, reply)  # type: ignore[arg-type]

    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        """Refuse RCPT TO `address` every time (an unknown mailbox), accepting the others."""
        with self._handler.lock:
            self._handler.refused[address.lower()] = reply

    def recover(self) -> None:
        """Stop the failures `fail_always` set up."""
        with self._handler.lock:
            self._handler.always.clear()

    def drop_next(self, stage: Stage = "mail") -> None:
        """Hang up on the next transaction at `stage`, without answering."""
        self.fail_next(stage, DROP)

    @property
    def connections(self) -> int:
        """SMTP connections accepted so far."""
        with self._handler.lock:
            return self._handler.connections

    def hold_next_data(self, *, after: int = 0) -> DataHold:
        """Keep the next DATA command (or the one after `after` more) waiting until the hold is released."""
        hold = DataHold(after)
        with self._handler.lock:
            self._handler.holds.append(hold)
        return hold

    def on_every_data(self, callback: Callable[[], None] | None) -> None:
        """Call `callback` (in a worker thread) before each DATA is accepted, e.g. to move a test clock."""
        self._handler.every_data = callback

    def start(self) -> FakeSmtpServer:
        """Start listening in a background thread (again after `stop`, on the same port)."""
        if self._controller is None:
            auth: dict[str, Any] = {}
            if self.credentials is not None:
                auth = {"authenticator": self._authenticate, "auth_require_tls": False}
            self._controller = _CountingController(self._handler, hostname=self.host, port=self.port, **auth)
            self._controller.start()
            with self._handler.lock:
                # start() connects once itself to check that the server answers: not a client's connection.
                self._handler.connections -= 1
        return self

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self.credentials
        return AuthResult(success=ok, handled=False)

    def stop(self) -> None:
        """Stop listening; connections to the port are then refused."""
        if self._controller is not None:
            with self._handler.lock:
                held = list(self._handler.active_holds)
            for hold in held:
                hold.drop()  # a stopped server answers nobody
            deadline = time.monotonic() + 5
            while held and time.monotonic() < deadline:  # until the held sessions have hung up
                with self._handler.lock:
                    if not self._handler.active_holds:
                        break
                time.sleep(0.005)
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> FakeSmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
