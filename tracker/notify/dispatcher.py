"""The outbox dispatcher: deliver pending rows, retry with backoff, give up as "dead" after N attempts.

One run, at `now`:
1. skip (set-based) rows no longer useful: reminders whose task is done or cancelled, and reminders
   superseded by a later rule's row for the same occurrence;
2. deliver in-app rows at once (set-based: the bell reads them);
3. outside the working window, push e-mail and Zalo rows to the next window's start; inside it, claim
   a batch with a conditional UPDATE (PostgreSQL: candidates selected FOR UPDATE SKIP LOCKED, so several
   dispatchers share the work) and commit the claim; render each row from fresh facts; send it outside
   any transaction; record the outcome and commit it at once.

A dispatcher that dies after claiming leaves rows in "sending" until `claimed_until`; any dispatcher then
takes them over. A crash between the provider's acceptance and our commit can repeat a message: the
e-mail Message-ID and the ZNS tracking_id derive from the row id, so the provider (or the mail client)
can recognise the repeat; on our side each row is claimed by one dispatcher at a time.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from tracker.extensions import db
from tracker.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationKind,
    Occurrence,
    Plan,
    PlanStatus,
    ReminderRule,
    Task,
    TaskStatus,
)
from tracker.notify.base import (
    Channel as ChannelSender,
)
from tracker.notify.base import (
    OutgoingMessage,
    PermanentSendError,
    ReauthRequired,
    SendError,
    TransientSendError,
)
from tracker.notify.render import (
    REMINDER_KINDS,
    MessageFacts,
    MessageRenderer,
    RenderedMessage,
    RenderError,
    load_digest_items,
    load_facts,
    message_context,
)
from tracker.workcalendar import WorkCalendar

log = logging.getLogger("tracker.notify")

OUTSIDE_CHANNELS = (Channel.EMAIL, Channel.ZALO)
_DISPATCHABLE = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value, DeliveryStatus.SENDING.value)
_WAITING = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)
ERROR_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    batch_size: int = 200
    max_batches: int = 10
    max_attempts: int = 6
    backoff: timedelta = timedelta(seconds=60)
    backoff_cap: timedelta = timedelta(hours=6)
    claim: timedelta = timedelta(seconds=300)
    #: Bad channel credentials: wait this long before trying again, without spending an attempt.
    reauth_delay: timedelta = timedelta(minutes=30)
    base_url: str = "http://127.0.0.1:5000"
    overdue_grace_days: int = 0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DispatchSettings:
        return cls(
            batch_size=int(config.get("DISPATCH_BATCH_SIZE", 200)),
            max_batches=int(config.get("DISPATCH_MAX_BATCHES", 10)),
            max_attempts=int(config.get("DISPATCH_MAX_ATTEMPTS", 6)),
            backoff=timedelta(seconds=float(config.get("DISPATCH_BACKOFF_SECONDS", 60))),
            backoff_cap=timedelta(seconds=float(config.get("DISPATCH_BACKOFF_MAX_SECONDS", 6 * 3600))),
            claim=timedelta(seconds=float(config.get("DISPATCH_CLAIM_SECONDS", 300))),
            reauth_delay=timedelta(seconds=float(config.get("DISPATCH_REAUTH_DELAY_SECONDS", 1800))),
            base_url=str(config.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")),
            overdue_grace_days=int(config.get("OVERDUE_GRACE_DAYS", 0)),
        )

    def retry_delay(self, attempts: int) -> timedelta:
        """Exponential backoff: base, 2 base, 4 base ... capped; `attempts` counts the one that just failed."""
        exponent = max(0, attempts - 1)
        if exponent > 30:
            return self.backoff_cap
        return min(self.backoff_cap, self.backoff * (2**exponent))


@dataclass
class DispatchResult:
    now: datetime
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    deferred: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def count_sent(self, channel: str, n: int = 1) -> None:
        if n:
            self.sent += n
            self.by_channel[channel] = self.by_channel.get(channel, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "skipped": self.skipped,
            "deferred": self.deferred,
            "by_channel": dict(sorted(self.by_channel.items())),
        }


def worker_name() -> str:
    """Who claims rows: host, process and a random suffix (unique per claim batch)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@contextmanager
def app_channels(app: Any = None) -> Iterator[dict[Channel, ChannelSender]]:
    """The configured outgoing channels of the app, closed afterwards."""
    from tracker.extensions import mail
    from tracker.notify.email import EmailChannel

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    channels: dict[Channel, ChannelSender] = {Channel.EMAIL: EmailChannel(mail)}
    client = None
    if config.get("ZALO_ENABLED") and config.get("ZALO_APP_ID") and config.get("ZALO_SECRET_KEY"):
        from tracker.notify.zalo import ZaloChannel, ZaloClient, ZaloConfig
        from tracker.notify.zalo_tokens import SqlTokenStore

        client = ZaloClient(ZaloConfig.from_mapping(config), SqlTokenStore.from_app())
        channels[Channel.ZALO] = ZaloChannel(client)
    try:
        yield channels
    finally:
        if client is not None:
            client.close()


class Dispatcher:
    """Send what the outbox holds, with the given channels and calendar."""

    def __init__(
        self,
        channels: Mapping[Channel, ChannelSender],
        calendar: WorkCalendar,
        settings: DispatchSettings | None = None,
        *,
        renderer: MessageRenderer | None = None,
    ) -> None:
        self.channels = dict(channels)
        self.calendar = calendar
        self.settings = settings or DispatchSettings()
        self._renderer = renderer

    @property
    def _postgres(self) -> bool:
        return db.session.get_bind().dialect.name == "postgresql"

    # --- one run ------------------------------------------------------------------------------------

    def run(self, now: datetime) -> DispatchResult:
        """Deliver what is due at `now`; commits as it goes (each outcome is durable once recorded)."""
        result = DispatchResult(now=now)
        result.skipped += self.skip_useless(now)
        db.session.commit()
        result.count_sent(Channel.IN_APP.value, self.deliver_in_app(now))
        db.session.commit()
        if not self.calendar.is_sending_time(now):
            result.deferred += self.defer_to_window(now)
            db.session.commit()
            return result
        for _ in range(self.settings.max_batches):
            claimed = self.claim(now)
            db.session.commit()
            if not claimed:
                break
            self._send_batch(claimed, now, result)
            if len(claimed) < self.settings.batch_size:
                break
        return result

    # --- set-based steps ------------------------------------------------------------------------------

    def _lockable_ids(self, *where: sa.ColumnElement[bool]) -> sa.Select[Any]:
        n = Notification.__table__
        # PostgreSQL: skip rows another dispatcher holds; SQLite serialises writers and ignores FOR UPDATE.
        return sa.select(n.c.id).where(*where).with_for_update(skip_locked=True)

    def skip_useless(self, now: datetime, *, statuses: tuple[str, ...] = _WAITING, due_only: bool = True) -> int:
        """Mark skipped the reminders about closed tasks and those a later rule superseded."""
        n = Notification.__table__
        o, t, p = Occurrence.__table__, Task.__table__, Plan.__table__
        waiting = [n.c.status.in_(statuses), n.c.kind.in_([k.value for k in REMINDER_KINDS])]
        if due_only:
            waiting.append(n.c.next_attempt_at <= now)
        still_open = (
            sa.select(o.c.id)
            .select_from(o.join(t, t.c.id == o.c.task_id).join(p, p.c.id == t.c.plan_id))
            .where(o.c.id == n.c.occurrence_id, o.c.completed_at.is_(None), o.c.cancelled_at.is_(None),
                   t.c.status == TaskStatus.ACTIVE.value, p.c.status == PlanStatus.ACTIVE.value)
            .exists()
        )
        closed = db.session.execute(
            sa.update(n)
            .where(n.c.id.in_(self._lockable_ids(*waiting, ~still_open)))
            .values(status=DeliveryStatus.SKIPPED.value, last_error="not sent: the task is done or cancelled",
                    claimed_by=None, claimed_until=None)
        ).rowcount
        later_n = n.alias("later_notification")
        rules = ReminderRule.__table__
        later_rule, own_rule = rules.alias("later_rule"), rules.alias("own_rule")
        superseded = (
            sa.select(later_n.c.id)
            .select_from(later_n.join(later_rule, later_rule.c.id == later_n.c.rule_id)
                         .join(own_rule, own_rule.c.id == n.c.rule_id))
            .where(later_n.c.occurrence_id == n.c.occurrence_id, later_rule.c.offset_days > own_rule.c.offset_days)
            .exists()
        )
        replaced = db.session.execute(
            sa.update(n)
            .where(n.c.id.in_(self._lockable_ids(*waiting, n.c.rule_id.is_not(None), superseded)))
            .values(status=DeliveryStatus.SKIPPED.value, last_error="not sent: superseded by a later reminder",
                    claimed_by=None, claimed_until=None)
        ).rowcount
        if closed or replaced:
            log.info("skipped %d reminders of closed tasks and %d superseded ones", closed, replaced)
        return int(closed or 0) + int(replaced or 0)

    def deliver_in_app(self, now: datetime) -> int:
        """In-app messages need no provider: they are delivered the moment they are due."""
        n = Notification.__table__
        due = self._lockable_ids(n.c.channel == Channel.IN_APP.value, n.c.status.in_(_DISPATCHABLE),
                                 n.c.next_attempt_at <= now)
        count = db.session.execute(
            sa.update(n).where(n.c.id.in_(due)).values(
                status=DeliveryStatus.SENT.value, sent_at=now, attempts=n.c.attempts + 1, last_error=None,
                claimed_by=None, claimed_until=None,
            )
        ).rowcount
        return int(count or 0)

    def defer_to_window(self, now: datetime) -> int:
        """Outside working hours: e-mail and Zalo rows wait for the next window (never at night)."""
        n = Notification.__table__
        window = self.calendar.next_sending_time(now)
        due = self._lockable_ids(n.c.channel.in_([c.value for c in OUTSIDE_CHANNELS]), n.c.status.in_(_WAITING),
                                 n.c.next_attempt_at < window)
        return int(db.session.execute(sa.update(n).where(n.c.id.in_(due)).values(next_attempt_at=window)).rowcount
                   or 0)

    def claim(self, now: datetime, limit: int | None = None) -> list[int]:
        """Claim up to `limit` due rows for this dispatcher; the caller commits the claim before sending."""
        n = Notification.__table__
        token = worker_name()
        until = now + self.settings.claim
        candidates = (
            self._lockable_ids(
                n.c.status.in_(_DISPATCHABLE),
                # A claimed row's next_attempt_at is its claimed_until: an expired claim is due again.
                n.c.next_attempt_at <= now,
                n.c.channel.in_([c.value for c in OUTSIDE_CHANNELS]),
            )
            .order_by(n.c.next_attempt_at, n.c.id)
            .limit(limit or self.settings.batch_size)
        )
        db.session.execute(
            sa.update(n)
            .where(n.c.id.in_(candidates), n.c.status.in_(_DISPATCHABLE), n.c.next_attempt_at <= now)
            .values(status=DeliveryStatus.SENDING.value, claimed_by=token, claimed_until=until,
                    next_attempt_at=until, attempts=n.c.attempts + 1)
        )
        return list(db.session.scalars(
            sa.select(n.c.id).where(n.c.claimed_by == token, n.c.status == DeliveryStatus.SENDING.value)
            .order_by(n.c.id)
        ))

    # --- one row at a time ------------------------------------------------------------------------------

    def _send_batch(self, ids: list[int], now: datetime, result: DispatchResult) -> None:
        facts = load_facts(ids)
        digests = load_digest_items(i for i, f in facts.items() if f.kind == NotificationKind.DIGEST)
        attempts = dict(db.session.execute(
            sa.select(Notification.id, Notification.attempts).where(Notification.id.in_(ids))).all())
        renderer = self._renderer or MessageRenderer.from_database(current_app.config)
        # End the read transaction: nothing is held open while we talk to SMTP or Zalo.
        db.session.commit()
        broken: dict[str, tuple[str, datetime]] = {}
        for notification_id in ids:
            row = facts.get(notification_id)
            if row is None:
                continue  # deleted with its occurrence meanwhile
            if row.channel in broken:
                reason, retry_at = broken[row.channel]
                self._release(notification_id, retry_at, f"not tried: {reason}")
                result.deferred += 1
                continue
            outcome = self._send_one(row, digests.get(notification_id, []), now, renderer,
                                     attempts.get(notification_id, 1), result)
            if outcome is not None:
                broken[row.channel] = outcome
            db.session.commit()

    def _send_one(
        self,
        row: MessageFacts,
        items: list[MessageFacts],
        now: datetime,
        renderer: MessageRenderer,
        attempts: int,
        result: DispatchResult,
    ) -> tuple[str, datetime] | None:
        """Send one claimed row and record the outcome; return (reason, retry_at) if its whole channel is down."""
        nid = row.notification_id
        if row.kind in REMINDER_KINDS and not row.is_open:
            self._finish(nid, DeliveryStatus.SKIPPED, error="not sent: the task is done or cancelled")
            result.skipped += 1
            return None
        if not row.recipient_active:
            self._finish(nid, DeliveryStatus.SKIPPED, error="not sent: the person's account is deactivated")
            result.skipped += 1
            return None
        if row.kind == NotificationKind.DIGEST and not items:
            self._finish(nid, DeliveryStatus.SKIPPED, error="not sent: every listed task is done or cancelled")
            result.skipped += 1
            return None
        sender = self.channels.get(Channel(row.channel))
        if sender is None:
            self._dead(nid, f"the {row.channel} channel is not configured", result)
            return None
        today = self.calendar.local_today(now)
        try:
            context = message_context(row, today=today, base_url=self.settings.base_url, items=items,
                                      overdue_before=today - timedelta(days=self.settings.overdue_grace_days),
                                      calendar=self.calendar)
            rendered = renderer.render(row.kind, row.channel, row.recipient_locale, context)
            message = self._address(row, rendered, context)
            sent = sender.send(message)
        except RenderError as exc:
            self._dead(nid, str(exc), result)
        except PermanentSendError as exc:
            self._dead(nid, f"{row.channel}: {exc}", result)
        except ReauthRequired as exc:
            retry_at = now + self.settings.reauth_delay
            self._release(nid, retry_at, f"{row.channel} credentials refused: {exc}")
            log.error("%s credentials refused; an administrator must renew them: %s", row.channel, exc)
            result.failed += 1
            return (f"{row.channel} credentials refused: {exc}", retry_at)
        except Exception as exc:  # any failure must be recorded on the row, whatever raised it
            if not isinstance(exc, SendError):
                log.exception("unexpected failure sending notification %s", nid)
            error = f"{row.channel}: {exc}"
            if attempts >= self.settings.max_attempts:
                self._dead(nid, f"{error} (after {attempts} attempts)", result)
            else:
                retry_at = now + self.settings.retry_delay(attempts)
                self._finish(nid, DeliveryStatus.FAILED, error=error, next_attempt_at=retry_at)
                result.failed += 1
            if isinstance(exc, TransientSendError) and exc.code is None:
                # No reply code: the provider itself is unreachable; the rest of the batch would only wait.
                return (error, now + self.settings.retry_delay(1))
        else:
            self._finish(nid, DeliveryStatus.SENT, sent_at=now, provider_message_id=sent.provider_message_id)
            result.count_sent(row.channel)
        return None

    def _address(self, row: MessageFacts, rendered: RenderedMessage, context: Mapping[str, Any]) -> OutgoingMessage:
        link = context.get("link")
        common = {"tracking_id": str(row.notification_id), "subject": rendered.subject, "text": rendered.text,
                  "html": rendered.html, "link": link}
        if row.channel == Channel.EMAIL:
            if not (row.recipient_email or "").strip():
                raise PermanentSendError(f"{row.recipient_username} has no email address")
            return OutgoingMessage(recipient=row.recipient_email.strip(), **common)  # type: ignore[union-attr]
        if row.channel == Channel.ZALO:
            if rendered.zalo_template_id and (row.recipient_phone or "").strip():
                return OutgoingMessage(recipient=row.recipient_phone.strip(),  # type: ignore[union-attr]
                                       template_key=rendered.zalo_template_id,
                                       template_data=dict(rendered.zalo_data or {}), **common)
            if (row.recipient_zalo_id or "").strip():
                return OutgoingMessage(recipient=row.recipient_zalo_id.strip(), **common)  # type: ignore[union-attr]
            wanted = "Zalo user id or phone number (for ZNS)" if rendered.zalo_template_id else "Zalo user id"
            raise PermanentSendError(f"{row.recipient_username} has no {wanted}")
        raise PermanentSendError(f"cannot address channel {row.channel}")

    # --- recording outcomes -----------------------------------------------------------------------------

    def _finish(self, notification_id: int, status: DeliveryStatus, *, error: str | None = None,
                **values: Any) -> None:
        db.session.execute(
            sa.update(Notification.__table__)
            .where(Notification.__table__.c.id == notification_id)
            .values(status=status.value, last_error=(error or None) and error[:ERROR_LIMIT], claimed_by=None,
                    claimed_until=None, **values)
        )

    def _dead(self, notification_id: int, error: str, result: DispatchResult) -> None:
        log.warning("notification %s is dead: %s", notification_id, error)
        self._finish(notification_id, DeliveryStatus.DEAD, error=error)
        result.dead += 1

    def _release(self, notification_id: int, retry_at: datetime, error: str) -> None:
        """Give a claimed row back without spending an attempt on it."""
        n = Notification.__table__
        db.session.execute(
            sa.update(n).where(n.c.id == notification_id).values(
                status=DeliveryStatus.PENDING.value, attempts=sa.case((n.c.attempts > 0, n.c.attempts - 1), else_=0),
                next_attempt_at=retry_at, last_error=error[:ERROR_LIMIT], claimed_by=None, claimed_until=None,
            )
        )


def dispatch(now: datetime, *, calendar: WorkCalendar, app: Any = None,
             channels: Mapping[Channel, ChannelSender] | None = None) -> DispatchResult:
    """One dispatcher run with the app's channels and settings."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    settings = DispatchSettings.from_config(app.config)
    if channels is not None:
        return Dispatcher(channels, calendar, settings).run(now)
    with app_channels(app) as configured:
        return Dispatcher(configured, calendar, settings).run(now)
