"""Links in reminders that open one occurrence ready to act: stored as token hashes, single-use, expiring."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, BigId, UTCDateTime, utcnow
from tracker.models.occurrences import Occurrence
from tracker.models.people import Person


class ActionLink(Base):
    """One link sent to one person about one occurrence.

    The URL carries a random secret; only its SHA-256 is stored, so a copy of the database opens nothing.
    The link is bound to `recipient_id` (anyone else signed in is refused) and to `occurrence_id`; it
    expires at `expires_at`; `used_at` is set, by a conditional UPDATE, in the transaction of the one action
    it was used for; `revoked_at` ends it early (the person deactivated, an administrator's decision).
    """

    __tablename__ = "action_links"
    __table_args__ = (
        # Revoking a person's unexpired links (a new password); an occurrence's links (and the cascade).
        sa.Index("ix_action_links_recipient_id_expires_at", "recipient_id", "expires_at"),
        sa.Index("ix_action_links_occurrence_id", "occurrence_id"),
        # The purge of links expired long ago (tracker/jobs/purge.py), in batches.
        sa.Index("ix_action_links_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    occurrence_id: Mapped[int] = mapped_column(sa.ForeignKey("occurrences.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"))
    #: The outbox row the link was rendered for (None when made elsewhere); kept for tracing only.
    notification_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: What it was used for: "done" or "acknowledge".
    used_for: Mapped[str | None] = mapped_column(sa.String(16))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    occurrence: Mapped[Occurrence] = relationship()
    recipient: Mapped[Person] = relationship()

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "occurrence_id", "recipient_id", "expires_at", "used_at")
