"""The one interface every outgoing channel (email, Zalo, in-app) implements.

The dispatcher renders an outbox row into an `OutgoingMessage`, hands it to a `Channel`, and reacts to
the outcome: a `SendResult` marks the row sent; `TransientSendError` schedules a retry with backoff;
`PermanentSendError` marks it failed at once; `ReauthRequired` keeps it pending and tells the admins
that the channel's credentials must be refreshed or re-entered; `QuotaExceeded` keeps it (and the rest of
the channel's batch) pending, without spending an attempt, until the provider accepts messages again.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMessage:
    """A rendered message addressed to one recipient on one channel."""

    # Email address, phone number (ZNS) or Zalo user id (OA message), depending on the channel.
    recipient: str
    # Our outbox row id: the idempotency key, sent as ZNS tracking_id and in the email headers.
    tracking_id: str
    subject: str = ""
    text: str = ""
    html: str | None = None
    # Zalo ZNS: the approved template id and the values of its parameters.
    template_key: str | None = None
    template_data: Mapping[str, str] = field(default_factory=dict)
    link: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider acknowledged; its message id when it gives one."""

    provider_message_id: str | None


class SendError(Exception):
    """A message could not be sent; subclasses say what the dispatcher should do."""

    def __init__(self, reason: str, *, code: str | int | None = None) -> None:
        super().__init__(reason if code is None else f"{reason} (code {code})")
        self.reason = reason
        self.code = code


class TransientSendError(SendError):
    """The provider or the network failed for now: retry later with backoff.

    `systemic`: the failure says nothing about this message (the server refuses everyone, our sender
    address is refused); `connect`: the channel could not even be reached, so nothing was sent;
    `connection_lost`: the connection dropped during this message (the next one reconnects). The
    dispatcher's circuit breaker pauses the channel on the first two without spending attempts.
    """

    def __init__(self, reason: str, *, code: str | int | None = None, systemic: bool = False,
                 connect: bool = False, connection_lost: bool = False) -> None:
        super().__init__(reason, code=code)
        self.systemic = systemic or connect
        self.connect = connect
        self.connection_lost = connection_lost


class QuotaWait(enum.Enum):
    """When a channel whose quota ran out may be tried again."""

    SHORTLY = "shortly"  # a rate limit: after the base backoff
    NEXT_WORKING_DAY = "next_working_day"  # a daily quota: when the next working day's window opens
    ADMIN = "admin"  # a prepaid balance is used up: someone must top it up; try again after a while


class QuotaExceeded(TransientSendError):
    """The provider refuses every message for a while (quota, balance, rate limit): not this message's fault.

    The dispatcher keeps the row pending without spending an attempt and does not try the rest of the
    channel's batch, so a used-up daily quota never turns a day's reminders into dead rows.
    """

    def __init__(self, reason: str, *, code: str | int | None = None, wait: QuotaWait = QuotaWait.SHORTLY,
                 channel_wide: bool = True) -> None:
        super().__init__(reason, code=code)
        self.wait = wait
        #: False when only this recipient's quota is used up (the rest of the batch may still go out).
        self.channel_wide = channel_wide


class PermanentSendError(SendError):
    """This message can never be sent as is (bad address, invalid template, no Zalo id): do not retry.

    `recipient`: certainly this recipient's trouble (an invalid phone, a user who does not follow the OA),
    dead at once; otherwise (an SMTP 5xx) the dispatcher's breaker first checks that the provider does not
    refuse everyone.
    """

    def __init__(self, reason: str, *, code: str | int | None = None, recipient: bool = False) -> None:
        super().__init__(reason, code=code)
        self.recipient = recipient


class ReauthRequired(SendError):
    """The channel's credentials are invalid: refresh them or have an admin re-enter them."""


@runtime_checkable
class Channel(Protocol):
    """A way to deliver an `OutgoingMessage`."""

    name: str

    def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver one message or raise a `SendError` subclass."""
        ...


class ChannelSession(Protocol):
    """Many messages in a row over one provider connection (a channel may offer `session()` for this)."""

    def send(self, message: OutgoingMessage) -> SendResult: ...

    def close(self) -> None: ...


class SingleSendSession:
    """The session of a channel without one: each message on its own (HTTP clients keep their connections)."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    def send(self, message: OutgoingMessage) -> SendResult:
        return self._channel.send(message)

    def close(self) -> None:
        return None


def open_session(channel: Channel) -> ChannelSession:
    """The channel's batch session when it has one (e-mail: one SMTP connection), else one send at a time."""
    session = getattr(channel, "session", None)
    return session() if callable(session) else SingleSendSession(channel)
