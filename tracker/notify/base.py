"""The one interface every outgoing channel (email, Zalo, in-app) implements.

The dispatcher renders an outbox row into an `OutgoingMessage`, hands it to a `Channel`, and reacts to
the outcome: a `SendResult` marks the row sent; `TransientSendError` schedules a retry with backoff;
`PermanentSendError` marks it failed at once; `ReauthRequired` keeps it pending and tells the admins
that the channel's credentials must be refreshed or re-entered.
"""

from __future__ import annotations

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
    """The provider or the network failed for now: retry later with backoff."""


class PermanentSendError(SendError):
    """This message can never be sent as is (bad address, invalid template, no Zalo id): do not retry."""


class ReauthRequired(SendError):
    """The channel's credentials are invalid: refresh them or have an admin re-enter them."""


@runtime_checkable
class Channel(Protocol):
    """A way to deliver an `OutgoingMessage`."""

    name: str

    def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver one message or raise a `SendError` subclass."""
        ...
