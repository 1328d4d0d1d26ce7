"""The daily digest: one message per person and channel listing the reminders held for them.

People who prefer a digest get their e-mail and Zalo reminders queued as "held" by the sweep. Once a
working day, at DIGEST_LOCAL_TIME, this job drops held rows that are no longer useful, creates one digest
row per (person, channel) with key digest:<person>:<channel>:<local date>, and attaches the held rows to
it (status "digested", digest_id). The dispatcher renders the digest from the still-open tasks it lists.
Rows held after today's digest was created wait for tomorrow's; a second run on the same day adds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tracker.extensions import db
from tracker.jobs.sweep import serialise_writers
from tracker.models import DeliveryStatus, Notification, NotificationKind
from tracker.notify.dispatcher import Dispatcher
from tracker.operations.reminders import work_calendar
from tracker.sqlutil import insert_ignoring_conflicts
from tracker.workcalendar import WorkCalendar

log = logging.getLogger("tracker.jobs")

_CHUNK = 5000


@dataclass
class DigestResult:
    now: datetime
    today: date
    working_day: bool = True
    digests: int = 0
    items: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "today": self.today.isoformat(), "working_day": self.working_day,
                "digests": self.digests, "items": self.items, "skipped": self.skipped}


def _digest_key(n: Any, today: date) -> sa.ColumnElement[str]:
    as_text = sa.String()
    return (sa.literal("digest:") + sa.cast(n.c.recipient_id, as_text) + sa.literal(":")
            + sa.cast(n.c.channel, as_text) + sa.literal(":" + today.isoformat()))


def run_digest(now: datetime, *, calendar: WorkCalendar | None = None) -> DigestResult:
    """Gather held reminders into one digest per person and channel (in the caller's transaction)."""
    serialise_writers()
    calendar = calendar or work_calendar()
    today = calendar.local_today(now)
    result = DigestResult(now=now, today=today)
    if not calendar.is_working_day(today):
        result.working_day = False
        return result
    result.skipped = Dispatcher({}, calendar).skip_useless(now, statuses=(DeliveryStatus.HELD.value,), due_only=False)
    n = Notification.__table__
    held = n.c.status == DeliveryStatus.HELD.value
    digests = (
        sa.select(
            _digest_key(n, today).label("dedupe_key"),
            sa.literal(NotificationKind.DIGEST.value).label("kind"),
            n.c.channel,
            n.c.recipient_id,
            sa.func.max(n.c.escalation_level).label("escalation_level"),
            sa.literal(DeliveryStatus.PENDING.value).label("status"),
            sa.literal(0).label("attempts"),
            sa.literal(now, Notification.next_attempt_at.type).label("next_attempt_at"),
            sa.literal(now, Notification.created_at.type).label("created_at"),
        )
        .where(held)
        .group_by(n.c.recipient_id, n.c.channel)
    )
    columns = ("dedupe_key", "kind", "channel", "recipient_id", "escalation_level", "status", "attempts",
               "next_attempt_at", "created_at")
    insert = insert_ignoring_conflicts(db.session, n, ["dedupe_key"]).from_select(columns, digests)  # type: ignore[arg-type]
    # Only digests created by this run take held rows: nobody can have sent them yet (not committed).
    new_ids = list(db.session.scalars(insert.returning(n.c.id)))
    result.digests = len(new_ids)
    digest = n.alias("digest")
    digest_id = sa.select(digest.c.id).where(digest.c.dedupe_key == _digest_key(n, today)).scalar_subquery()
    for start in range(0, len(new_ids), _CHUNK):
        chunk = new_ids[start:start + _CHUNK]
        attached = db.session.execute(
            sa.update(n).where(held, digest_id.in_(chunk))
            .values(status=DeliveryStatus.DIGESTED.value, digest_id=digest_id)
        ).rowcount
        result.items += int(attached or 0)
    log.info("digest %s: %d digests listing %d reminders", today.isoformat(), result.digests, result.items)
    return result
