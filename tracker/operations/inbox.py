"""The in-app inbox behind the bell: unread count, recent messages, mark as read.

In-app messages are outbox rows on the in-app channel that the dispatcher has delivered (status sent).
Their text is rendered when shown, from the task's current facts, like every other message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context

from tracker.clock import local_today, utcnow
from tracker.extensions import db
from tracker.models import Channel, DeliveryStatus, Notification, Person
from tracker.notify.render import (
    CARRIER_KINDS,
    MessageRenderer,
    RenderError,
    load_digest_items,
    load_facts,
    message_context,
)
from tracker.operations import audit
from tracker.operations.reminders import work_calendar

log = logging.getLogger("tracker.notify")


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    kind: str
    text: str
    link: str
    occurrence_id: int | None
    delivered_at: datetime | None
    read_at: datetime | None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


def _delivered_to(person: Person) -> sa.ColumnElement[bool]:
    return sa.and_(
        Notification.recipient_id == person.id,
        Notification.channel == Channel.IN_APP,
        Notification.status == DeliveryStatus.SENT,
    )


def unread_count(person: Person) -> int:
    """How many delivered in-app messages `person` has not read (the number on the bell)."""
    if person is None or getattr(person, "id", None) is None:
        return 0
    return int(db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).where(_delivered_to(person),
                                                                   Notification.read_at.is_(None))
    ) or 0)


def recent(person: Person, limit: int = 20, *, unread_only: bool = False) -> list[InboxItem]:
    """The latest in-app messages of `person`, newest first, rendered in their language (three queries)."""
    query = sa.select(Notification.id, Notification.sent_at, Notification.read_at).where(_delivered_to(person))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = db.session.execute(
        query.order_by(Notification.sent_at.desc(), Notification.id.desc()).limit(max(1, min(limit, 200)))
    ).all()
    if not rows:
        return []
    facts = load_facts(r.id for r in rows)
    config = current_app.config if has_app_context() else {}
    digests = load_digest_items(i for i, f in facts.items() if f.kind in CARRIER_KINDS)
    renderer = MessageRenderer.from_database(config)
    today = local_today()
    calendar = work_calendar(config)
    grace = int(config.get("OVERDUE_GRACE_DAYS", 0))
    base_url = str(config.get("PUBLIC_BASE_URL", ""))
    items = []
    for row in rows:
        fact = facts.get(row.id)
        if fact is None:
            continue
        context = message_context(fact, today=today, base_url=base_url, items=digests.get(row.id, []),
                                  overdue_before=today - timedelta(days=grace), calendar=calendar)
        try:
            text = renderer.render(fact.kind, Channel.IN_APP, fact.recipient_locale, context).text
        except RenderError as exc:
            # The bell must never break a page: show the task's title and log the template problem.
            log.warning("in-app message %s cannot be rendered: %s", row.id, exc)
            text = context.get("task_title") or str(fact.kind)
        items.append(InboxItem(id=row.id, kind=fact.kind, text=text, link=context["link"],
                               occurrence_id=fact.occurrence_id, delivered_at=row.sent_at, read_at=row.read_at))
    return items


def mark_read(person: Person, notification_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
    """Mark some (or, with None, all) of `person`'s own in-app messages read; return how many changed."""
    where = [_delivered_to(person), Notification.read_at.is_(None)]
    if notification_ids is not None:
        ids = [int(i) for i in notification_ids]
        if not ids:
            return 0
        where.append(Notification.id.in_(ids))
    result = db.session.execute(
        sa.update(Notification).where(*where).values(read_at=now or utcnow()).execution_options(
            synchronize_session=False)
    )
    changed = int(result.rowcount or 0)
    if changed:
        audit.record("inbox.mark_read", person, person,
                     after={"count": changed, "ids": None if notification_ids is None else ids})
    return changed


def carried_items(person: Person, notification_id: int) -> dict[str, Any] | None:
    """What a bundle or digest sent to `person` lists, still open, grouped by unit; None if it is not theirs.

    The page behind the message's link: the items are read now, so a task done since the message went out
    is no longer listed.
    """
    fact = load_facts([notification_id]).get(notification_id)
    if fact is None or fact.recipient_id != person.id or fact.kind not in CARRIER_KINDS:
        return None
    config = current_app.config if has_app_context() else {}
    today = local_today()
    grace = int(config.get("OVERDUE_GRACE_DAYS", 0))
    context = message_context(fact, today=today, base_url=str(config.get("PUBLIC_BASE_URL", "")),
                              items=load_digest_items([notification_id]).get(notification_id, []),
                              overdue_before=today - timedelta(days=grace), calendar=work_calendar(config))
    sent_at = db.session.scalar(sa.select(Notification.sent_at).where(Notification.id == notification_id))
    return {"id": notification_id, "kind": fact.kind, "channel": fact.channel, "sent_at": sent_at,
            "escalation_level": fact.escalation_level, "groups": context["groups"],
            "item_count": context["item_count"], "overdue_count": context["overdue_count"]}
