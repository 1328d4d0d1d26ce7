"""The notification outbox, message templates and channel credentials."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, BigId, TimestampMixin, UTCDateTime, enum_type, json_type, utcnow
from tracker.models.people import Person
from tracker.models.reminders import Channel


class NotificationKind(enum.StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"
    DIGEST = "digest"
    #: One message carrying every reminder and escalation a sweep queued for one person on one channel.
    BUNDLE = "bundle"
    REPORT_RETURNED = "report_returned"
    REPORT_ACCEPTED = "report_accepted"
    EXTENSION_DECIDED = "extension_decided"
    PASSWORD_RESET = "password_reset"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for next_attempt_at
    HELD = "held"  # the recipient prefers a daily digest; the digest job picks it up
    SENDING = "sending"  # claimed by a dispatcher until claimed_until
    SENT = "sent"
    FAILED = "failed"  # last attempt failed; retried at next_attempt_at
    DEAD = "dead"  # gave up after the maximum attempts; an admin may retry it
    SKIPPED = "skipped"  # no longer useful (task done or cancelled before it went out)
    DIGESTED = "digested"  # carried by a digest or bundle message (digest_id): delivered when it is sent


class Notification(Base):
    """One message to one person on one channel; `dedupe_key` makes queuing idempotent."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index(
            "ix_notifications_dispatchable",
            "next_attempt_at",
            sqlite_where=sa.text("status IN ('pending', 'failed', 'sending')"),
            postgresql_where=sa.text("status IN ('pending', 'failed', 'sending')"),
        ),
        sa.Index("ix_notifications_recipient_id_channel_status", "recipient_id", "channel", "status"),
        sa.Index("ix_notifications_status_created_at", "status", "created_at"),
        # The sweep's "already queued for this occurrence, rule and due date" probe; also an occurrence's
        # reminders (the overview's "who was reminded when") and the foreign key's cascade.
        sa.Index("ix_notifications_occurrence_id_rule_id_due_on", "occurrence_id", "rule_id", "due_on"),
        # A digest's or bundle's items, read when it is rendered and shown in the outbox; also the cascade.
        sa.Index("ix_notifications_digest_id", "digest_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: (occurrence, rule, recipient, channel) for sweep rows; another stable key for other kinds.
    dedupe_key: Mapped[str] = mapped_column(sa.String(191), unique=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_type(NotificationKind))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id"))
    occurrence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("occurrences.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reminder_rules.id", ondelete="SET NULL"))
    #: The due date a reminder was about: after an approved extension the rules fire again for the new date.
    due_on: Mapped[date | None]
    escalation_level: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")
    status: Mapped[DeliveryStatus] = mapped_column(enum_type(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(128))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(255))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # in-app only
    #: The digest or bundle row that carries this one (status DIGESTED); one carrier per row by construction.
    digest_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notifications.id", ondelete="SET NULL"))
    #: Extra variables for the message (e.g. a reset link); task facts are read fresh at send time.
    payload: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recipient: Mapped[Person] = relationship()

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "kind", "channel", "status")


class MessageTemplate(TimestampMixin, Base):
    """An admin's override of a built-in message template (subject and bodies are Jinja)."""

    __tablename__ = "message_templates"
    __table_args__ = (sa.UniqueConstraint("kind", "channel", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_type(NotificationKind))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    locale: Mapped[str] = mapped_column(sa.String(8), default="vi")
    subject: Mapped[str] = mapped_column(sa.String(255), default="")
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    #: The ZNS template registered with Zalo, for the Zalo channel.
    zalo_template_id: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChannelCredential(Base):
    """Tokens of an external channel; `version` makes a token refresh compare-and-swap."""

    __tablename__ = "channel_credentials"

    provider: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(sa.Text)
    refresh_token: Mapped[str | None] = mapped_column(sa.Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChannelState(Base):
    """The circuit breaker of one outgoing channel (e-mail, Zalo), shared by every dispatcher.

    Closed (paused_until is NULL): messages go out. Open (paused_until in the future): the channel failed
    for everyone (refused connections, a server answering errors to every message, refused credentials,
    a used-up quota); no dispatcher claims its messages, and they keep their attempts. Half-open
    (paused_until passed, failures > 0): one message is tried; its success closes the breaker, a new
    systemic failure opens it again for twice as long.
    """

    __tablename__ = "channel_states"

    channel: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    #: Systemic failures in a row (0: closed); the backoff doubles with each one.
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why the channel was paused last, for the admins (kept after it resumes until the next pause).
    reason: Mapped[str | None] = mapped_column(sa.Text)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
