"""Signed-in sessions, kept server-side so that signing out or a new password ends them everywhere."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, BigId, UTCDateTime, utcnow


class SignInSession(Base):
    """One sign-in on one browser. The session cookie carries `selector`; a "keep me signed in" cookie carries
    the selector and a secret whose SHA-256 is `verifier_hash`. Revoking the row ends both."""

    __tablename__ = "sign_in_sessions"
    __table_args__ = (sa.Index("ix_sign_in_sessions_person_id_revoked_at", "person_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"))
    selector: Mapped[str] = mapped_column(sa.String(32), unique=True)
    verifier_hash: Mapped[str | None] = mapped_column(sa.String(64))  # only when "keep me signed in"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "person_id", "expires_at", "revoked_at")
