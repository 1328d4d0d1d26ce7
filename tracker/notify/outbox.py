"""Queue notifications in the outbox; they leave the process only after the caller commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Channel, DeliveryStatus, Notification, NotificationKind, Person
from tracker.sqlutil import insert_ignoring_conflicts

#: Channels used for event messages (report returned, extension decided) when none are given.
EVENT_CHANNELS = (Channel.IN_APP, Channel.EMAIL)


def enqueue(
    kind: NotificationKind,
    recipients: Iterable[Person],
    *,
    key: str,
    occurrence_id: int | None = None,
    channels: Iterable[Channel] = EVENT_CHANNELS,
    payload: dict[str, Any] | None = None,
) -> int:
    """Queue one message per recipient and channel; `key` identifies the event, so re-queuing is a no-op."""
    now = utcnow()
    rows = [
        {
            "dedupe_key": f"{kind.value}:{key}:{person.id}:{channel.value}"[:191],
            "kind": kind.value,
            "channel": channel.value,
            "recipient_id": person.id,
            "occurrence_id": occurrence_id,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "payload": payload,
            "created_at": now,
            "escalation_level": 0,
        }
        for person in {p.id: p for p in recipients}.values()
        for channel in channels
    ]
    if not rows:
        return 0
    table = Notification.__table__
    statement = insert_ignoring_conflicts(db.session, table, ["dedupe_key"])  # type: ignore[arg-type]
    # Count what RETURNING gives back: psycopg reports rowcount -1 for INSERT ... ON CONFLICT.
    inserted = db.session.execute(statement.returning(table.c.id), rows).all()  # type: ignore[attr-defined]
    return len(inserted)
