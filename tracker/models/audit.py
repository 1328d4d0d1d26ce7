"""The audit trail: one row per state change, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, BigId, UTCDateTime, json_type, utcnow
from tracker.models.people import Person


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_object_type_object_id", "object_type", "object_id"),
        sa.Index("ix_audit_events_occurred_at", "occurred_at"),
        sa.Index("ix_audit_events_unit_id_occurred_at", "unit_id", "occurred_at"),
        sa.UniqueConstraint("chain", "chain_seq"),
        # The sequencer's queue: events written but not yet linked into their chain, oldest first.
        sa.Index("ix_audit_events_unlinked", "id", sqlite_where=sa.text("hash IS NULL"),
                 postgresql_where=sa.text("hash IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: None when the system acted (scheduler, import job).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64))  # "occurrence.complete", "report.return" ...
    object_type: Mapped[str] = mapped_column(sa.String(32))
    object_id: Mapped[int] = mapped_column(sa.BigInteger)
    #: The unit whose scope the event belongs to, so each level sees its own history.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))
    before: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    after: Mapped[dict[str, Any] | None] = mapped_column(json_type())

    #: The hash chain the event is linked into (one per top-level unit, "system" without a unit), its place
    #: in that chain, the previous event's hash and its own: sha256(prev_hash + canonical content). NULL until
    #: the sequencer links the event, seconds after its commit (tracker/operations/audit_chain.py).
    chain: Mapped[str | None] = mapped_column(sa.String(32))
    chain_seq: Mapped[int | None] = mapped_column(sa.BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64))

    actor: Mapped[Person | None] = relationship()

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "action", "object_type", "object_id")


class AuditChainHead(Base):
    """The last link of each audit chain. Writers lock this row to append, so concurrent transactions link
    their events one after the other; a deleted last event no longer matches it."""

    __tablename__ = "audit_chain_heads"

    chain: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_event_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    last_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def _repr_fields(self) -> tuple[str, ...]:
        return ("chain", "seq", "last_event_id")
