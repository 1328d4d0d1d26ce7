"""Outgoing channels (email, Zalo) behind one interface, and the dispatcher that drives them."""

from tracker.notify.base import (
    Channel,
    OutgoingMessage,
    PermanentSendError,
    QuotaExceeded,
    QuotaWait,
    ReauthRequired,
    SendError,
    SendResult,
    TransientSendError,
)

__all__ = [
    "Channel",
    "OutgoingMessage",
    "PermanentSendError",
    "QuotaExceeded",
    "QuotaWait",
    "ReauthRequired",
    "SendError",
    "SendResult",
    "TransientSendError",
]
