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
import time as time_module
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app

from tracker.clock import utcnow
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
    QuotaExceeded,
    QuotaWait,
    ReauthRequired,
    SendError,
    TransientSendError,
)
from tracker.notify.links import action_url
from tracker.notify.render import (
    CARRIER_KINDS,
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
#: Kinds a person asked for a moment ago: they go out at any hour (a reset link expires within the hour).
ANYTIME_KINDS = frozenset({NotificationKind.PASSWORD_RESET})
#: SMTP's "service not available, closing transmission channel": the server refuses everyone for now.
SMTP_SERVICE_UNAVAILABLE = 421
#: Tries to store an outcome or renew a claim when the database connection drops.
RECORD_TRIES = 5
RECORD_PAUSE = 0.5
_T = TypeVar("_T")
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
        self._run_now: datetime | None = None
        self._run_started: datetime | None = None

    @property
    def _postgres(self) -> bool:
        return db.session.get_bind().dialect.name == "postgresql"

    def _clock(self) -> datetime:
        """The run's `now` moved on by the time the run has taken so far.

        A run may last longer than a claim (slow providers, many batches); claims, renewals and the
        working window follow this clock, never the instant the run started.
        """
        if self._run_now is None or self._run_started is None:
            return utcnow()
        return self._run_now + max(timedelta(0), utcnow() - self._run_started)

    # --- one run ------------------------------------------------------------------------------------

    def run(self, now: datetime) -> DispatchResult:
        """Deliver what is due at `now`; commits as it goes (each outcome is durable once recorded)."""
        self._run_now, self._run_started = now, utcnow()
        result = DispatchResult(now=now)
        result.skipped += self.skip_useless(now)
        db.session.commit()
        result.count_sent(Channel.IN_APP.value, self.deliver_in_app(now))
        db.session.commit()
        for _ in range(self.settings.max_batches):
            clock = self._clock()
            sending = self.calendar.is_sending_time(clock)
            if not sending:
                # Never at night: e-mail and Zalo wait for the next window (the window may close mid-run).
                result.deferred += self.defer_to_window(clock)
                db.session.commit()
            claimed = self._claim(clock, anytime_only=not sending)
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
        """Mark skipped the reminders about closed tasks or a moved due date, and those a later rule superseded."""
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
        closed = self._skip([*waiting, ~still_open], "not sent: the task is done or cancelled")
        # An approved extension moved the due date: a reminder about the old date would be wrong, and the
        # sweep queues the rules again for the new one.
        moved = sa.select(o.c.id).where(o.c.id == n.c.occurrence_id, o.c.due_on != n.c.due_on).exists()
        stale = self._skip([*waiting, n.c.due_on.is_not(None), moved], "not sent: the due date has moved")
        later_n = n.alias("later_notification")
        rules = ReminderRule.__table__
        later_rule, own_rule = rules.alias("later_rule"), rules.alias("own_rule")
        superseded = (
            sa.select(later_n.c.id)
            .select_from(later_n.join(later_rule, later_rule.c.id == later_n.c.rule_id)
                         .join(own_rule, own_rule.c.id == n.c.rule_id))
            # Only a later rule for the same due date supersedes: after an extension the rules start again.
            .where(later_n.c.occurrence_id == n.c.occurrence_id, later_n.c.due_on == n.c.due_on,
                   later_rule.c.offset_days > own_rule.c.offset_days)
            .exists()
        )
        replaced = self._skip([*waiting, n.c.rule_id.is_not(None), superseded],
                              "not sent: superseded by a later reminder")
        # Someone acted from a reminder for this due date: the escalation ladder stops (tracker/operations/
        # action_links.py); the sweep queues no more, and what was queued before is not sent.
        acked = sa.select(o.c.id).where(o.c.id == n.c.occurrence_id, o.c.acknowledged_due_on == n.c.due_on).exists()
        acknowledged = self._skip([*waiting, n.c.kind == NotificationKind.ESCALATION.value, acked], ACKNOWLEDGED)
        if closed or stale or replaced or acknowledged:
            log.info("skipped %d reminders of closed tasks, %d about a moved due date, %d superseded ones and %d "
                     "acknowledged escalations", closed, stale, replaced, acknowledged)
        return closed + stale + replaced + acknowledged

    def _skip(self, where: list[sa.ColumnElement[bool]], reason: str) -> int:
        n = Notification.__table__
        count = db.session.execute(
            sa.update(n)
            .where(n.c.id.in_(self._lockable_ids(*where)))
            .values(status=DeliveryStatus.SKIPPED.value, last_error=reason, claimed_by=None, claimed_until=None)
        ).rowcount
        return int(count or 0)

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
                                 n.c.kind.not_in([k.value for k in ANYTIME_KINDS]), n.c.next_attempt_at < window)
        return int(db.session.execute(sa.update(n).where(n.c.id.in_(due)).values(next_attempt_at=window)).rowcount
                   or 0)

    def claim(self, now: datetime, limit: int | None = None) -> Claim:
        """Claim up to `limit` due rows for this dispatcher; the caller commits the claim before sending."""
        return self._claim(now, limit)

    def _claim(self, now: datetime, limit: int | None = None, *, anytime_only: bool = False) -> Claim:
        n = Notification.__table__
        token = worker_name()
        until = now + self.settings.claim
        where = [
            n.c.status.in_(_DISPATCHABLE),
            # A claimed row's next_attempt_at is its claimed_until: an expired claim is due again.
            n.c.next_attempt_at <= now,
            n.c.channel.in_([c.value for c in OUTSIDE_CHANNELS]),
        ]
        if anytime_only:
            where.append(n.c.kind.in_([k.value for k in ANYTIME_KINDS]))
        # Materialised: PostgreSQL plans `id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` as a semi-join
        # that runs the subquery again for every outbox row, and the LIMIT then claims every due row.
        candidates = (
            self._lockable_ids(*where).order_by(n.c.next_attempt_at, n.c.id).limit(limit or self.settings.batch_size)
            .cte("claim_candidates").prefix_with("MATERIALIZED")
        )
        db.session.execute(
            sa.update(n)
            .where(n.c.id.in_(sa.select(candidates.c.id)), n.c.status.in_(_DISPATCHABLE), n.c.next_attempt_at <= now)
            .values(status=DeliveryStatus.SENDING.value, claimed_by=token, claimed_until=until,
                    next_attempt_at=until, attempts=n.c.attempts + 1)
        )
        return Claim(token, db.session.scalars(
            sa.select(n.c.id).where(n.c.claimed_by == token, n.c.status == DeliveryStatus.SENDING.value)
            .order_by(n.c.id)
        ))

    # --- one row at a time ------------------------------------------------------------------------------

    def _send_batch(self, claim: Claim, now: datetime, result: DispatchResult) -> None:
        if self._run_now is None:  # called outside run() (benchmarks)
            self._run_now, self._run_started = now, utcnow()
        token = claim.token
        renderer = self._renderer or MessageRenderer.from_database(current_app.config)
        # End the read transaction: nothing is held open while we talk to SMTP or Zalo.
        db.session.commit()
        broken: dict[str, tuple[str, datetime]] = {}
        for notification_id in claim:
            clock = self._clock()
            taken = self._take(token, notification_id, clock)
            if taken is None:
                continue  # another dispatcher took it over, or it was deleted with its occurrence
            row, items, attempts = taken
            if row.kind not in ANYTIME_KINDS and not self.calendar.is_sending_time(clock):
                window = self.calendar.next_sending_time(clock)
                self._record(token, notification_id, _release(window, "waiting for working hours"))
                result.deferred += 1
                continue
            if row.channel in broken:
                reason, retry_at = broken[row.channel]
                self._record(token, notification_id, _release(retry_at, f"not tried: {reason}"))
                result.deferred += 1
                continue
            # Retry times and sent_at count from the run's `now` (what `--now` asked for); claims and the
            # working window follow the clock.
            outcome = self._deliver(row, items, self._run_now or clock, renderer, attempts, result)
            self._record(token, notification_id, outcome)
            if outcome.channel_down is not None:
                broken[row.channel] = outcome.channel_down

    def _take(self, token: str, notification_id: int, clock: datetime
              ) -> tuple[MessageFacts, list[MessageFacts], int] | None:
        """Renew our claim on one row just before sending it and read its facts fresh; None if it is not ours.

        The claim was made for the whole batch; renewing it row by row keeps a slow batch's rows from
        being taken over while we send them, and a row another dispatcher took over meanwhile (our claim
        had expired) is left to it instead of being sent twice. The task's state is read here, after the
        previous message went out, so a task done while the batch was sending gets nothing.
        """
        n = Notification.__table__
        until = clock + self.settings.claim

        def take() -> tuple[MessageFacts, list[MessageFacts], int] | None:
            attempts = db.session.execute(
                sa.update(n)
                .where(n.c.id == notification_id, n.c.claimed_by == token, n.c.status == DeliveryStatus.SENDING.value)
                .values(claimed_until=until, next_attempt_at=until)
                .returning(n.c.attempts)
            ).scalar()
            if attempts is None:
                log.info("notification %s is no longer claimed by this dispatcher; leaving it", notification_id)
                return None
            row = load_facts([notification_id]).get(notification_id)
            if row is None:
                return None
            items = load_digest_items([notification_id]).get(notification_id, []) \
                if row.kind in CARRIER_KINDS else []
            return row, items, int(attempts)

        return self._durably(take, notification_id)

    def _deliver(
        self,
        row: MessageFacts,
        items: list[MessageFacts],
        now: datetime,
        renderer: MessageRenderer,
        attempts: int,
        result: DispatchResult,
    ) -> _Outcome:
        """Send one claimed row; say how to record it (and whether its whole channel is down)."""
        nid = row.notification_id
        if row.kind in REMINDER_KINDS and not row.is_open:
            result.skipped += 1
            return _Outcome(DeliveryStatus.SKIPPED, "not sent: the task is done or cancelled")
        if row.kind in REMINDER_KINDS and row.queued_due_on is not None and row.due_on is not None \
                and row.queued_due_on != row.due_on:
            result.skipped += 1
            return _Outcome(DeliveryStatus.SKIPPED, "not sent: the due date has moved")
        if row.kind == NotificationKind.ESCALATION and row.acknowledged_due_on is not None \
                and row.acknowledged_due_on == row.due_on:
            result.skipped += 1
            return _Outcome(DeliveryStatus.SKIPPED, ACKNOWLEDGED)
        if not row.recipient_active:
            result.skipped += 1
            return _Outcome(DeliveryStatus.SKIPPED, "not sent: the person's account is deactivated")
        if row.kind in CARRIER_KINDS and not items:
            result.skipped += 1
            return _Outcome(DeliveryStatus.SKIPPED, "not sent: every listed task is done or cancelled")
        sender = self.channels.get(Channel(row.channel))
        if sender is None:
            return self._dead(nid, f"the {row.channel} channel is not configured", result)
        today = self.calendar.local_today(now)
        links = _LinkMaker(self.settings.base_url, nid) if row.channel in LINKED_CHANNELS \
            and (row.kind in REMINDER_KINDS or row.kind in CARRIER_KINDS) else None
        try:
            context = message_context(row, today=today, base_url=self.settings.base_url, items=items,
                                      overdue_before=today - timedelta(days=self.settings.overdue_grace_days),
                                      calendar=self.calendar, action_link=links)
            rendered = renderer.render(row.kind, row.channel, row.recipient_locale, context)
            message = self._address(row, rendered, context)
            if links is not None and links.made:
                db.session.commit()  # the links exist before the message that carries them leaves
            sent = sender.send(message)
        except RenderError as exc:
            return self._dead(nid, str(exc), result)
        except PermanentSendError as exc:
            return self._dead(nid, f"{row.channel}: {exc}", result)
        except ReauthRequired as exc:
            retry_at = now + self.settings.reauth_delay
            log.error("%s credentials refused; an administrator must renew them: %s", row.channel, exc)
            result.failed += 1
            reason = f"{row.channel} credentials refused: {exc}"
            return _release(retry_at, reason, channel_down=(reason, retry_at))
        except QuotaExceeded as exc:
            retry_at = self._quota_retry(exc, now)
            log.warning("%s quota: %s; waiting until %s", row.channel, exc, retry_at.isoformat())
            result.deferred += 1
            reason = f"{row.channel}: {exc}; waiting until {self.calendar.to_local(retry_at):%d/%m/%Y %H:%M}"
            return _release(retry_at, reason, channel_down=(reason, retry_at) if exc.channel_wide else None)
        except Exception as exc:  # any failure must be recorded on the row, whatever raised it
            if not isinstance(exc, SendError):
                log.exception("unexpected failure sending notification %s", nid)
            error = f"{row.channel}: {exc}"
            down = None
            if isinstance(exc, TransientSendError) and exc.code in (None, SMTP_SERVICE_UNAVAILABLE):
                # No reply code (unreachable) or SMTP 421 (closing): the rest of the batch would only fail too.
                down = (error, now + self.settings.retry_delay(1))
            if attempts >= self.settings.max_attempts:
                outcome = self._dead(nid, f"{error} (after {attempts} attempts)", result)
                return _Outcome(outcome.status, outcome.error, channel_down=down)
            result.failed += 1
            retry_at = now + self.settings.retry_delay(attempts)
            return _Outcome(DeliveryStatus.FAILED, error, {"next_attempt_at": retry_at}, channel_down=down)
        result.count_sent(row.channel)
        return _Outcome(DeliveryStatus.SENT, None, {"sent_at": now, "provider_message_id": sent.provider_message_id})

    def _quota_retry(self, exc: QuotaExceeded, now: datetime) -> datetime:
        if exc.wait is QuotaWait.NEXT_WORKING_DAY:
            tomorrow = self.calendar.local_today(now) + timedelta(days=1)
            return self.calendar.next_sending_time(datetime.combine(tomorrow, time(0), tzinfo=self.calendar.tz))
        if exc.wait is QuotaWait.ADMIN:
            return now + self.settings.reauth_delay
        return now + self.settings.retry_delay(1)

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

    def _dead(self, notification_id: int, error: str, result: DispatchResult) -> _Outcome:
        log.warning("notification %s is dead: %s", notification_id, error)
        result.dead += 1
        return _Outcome(DeliveryStatus.DEAD, error)

    def _record(self, token: str, notification_id: int, outcome: _Outcome) -> None:
        """Store an outcome on our claimed row and commit it, retrying on a new connection if the database drops.

        A message that went out but whose outcome is never stored would be sent again once the claim
        expires, so a lost connection here is worth a few tries.
        """
        n = Notification.__table__
        values: dict[str, Any] = {"status": outcome.status.value, "claimed_by": None, "claimed_until": None,
                                  "last_error": outcome.error[:ERROR_LIMIT] if outcome.error else None,
                                  **outcome.values}
        if outcome.release:
            # Given back without spending an attempt: not the row's fault.
            values["attempts"] = sa.case((n.c.attempts > 0, n.c.attempts - 1), else_=0)

        def record() -> None:
            stored = db.session.execute(
                sa.update(n).where(n.c.id == notification_id, n.c.claimed_by == token).values(**values)
            ).rowcount
            if not stored:
                log.warning("notification %s: another dispatcher took it over while it was being sent (%s)",
                            notification_id, outcome.status.value)

        self._durably(record, notification_id)

    def _durably(self, work: Callable[[], _T], notification_id: int) -> _T:
        """Run `work` and commit; on a dropped connection roll back and run it again on a new one."""
        for attempt in range(RECORD_TRIES):
            try:
                value = work()
                db.session.commit()
                return value
            except sa.exc.DBAPIError as exc:
                db.session.rollback()
                if attempt == RECORD_TRIES - 1:
                    raise
                log.warning("database error on notification %s (%s); trying again", notification_id,
                            type(exc.orig).__name__ if exc.orig is not None else exc)
                if attempt:
                    # The first retry reconnects at once (pre-ping); later ones give a restarting server time.
                    time_module.sleep(min(RECORD_PAUSE * 2 ** (attempt - 1), 8.0))
        raise AssertionError("unreachable")


ACKNOWLEDGED = "not sent: acknowledged from a reminder"
#: Channels whose reminders carry action links (in-app readers are signed in already).
LINKED_CHANNELS = frozenset({Channel.EMAIL.value, Channel.ZALO.value})


class _LinkMaker:
    """Makes the action links of one message (one per occurrence it speaks of) and counts them."""

    def __init__(self, base_url: str, notification_id: int) -> None:
        self.base_url, self.notification_id, self.made = base_url, notification_id, 0

    def __call__(self, occurrence_id: int, recipient_id: int) -> str:
        self.made += 1
        return action_url(occurrence_id, recipient_id, notification_id=self.notification_id, base=self.base_url)


class Claim(list[int]):
    """The ids of the rows one claim took, oldest first, and the token they are claimed under."""

    def __init__(self, token: str, ids: Iterable[int] = ()) -> None:
        super().__init__(ids)
        self.token = token


@dataclass(frozen=True, slots=True)
class _Outcome:
    """How to record one row after a send attempt."""

    status: DeliveryStatus
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    #: (reason, retry_at) when the whole channel is unusable for now: the rest of the batch is not tried.
    channel_down: tuple[str, datetime] | None = None
    #: Give the row back without spending an attempt.
    release: bool = False


def _release(retry_at: datetime, reason: str, *, channel_down: tuple[str, datetime] | None = None) -> _Outcome:
    return _Outcome(DeliveryStatus.PENDING, reason, {"next_attempt_at": retry_at}, channel_down=channel_down,
                    release=True)


def dispatch(now: datetime, *, calendar: WorkCalendar, app: Any = None,
             channels: Mapping[Channel, ChannelSender] | None = None) -> DispatchResult:
    """One dispatcher run with the app's channels and settings."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    settings = DispatchSettings.from_config(app.config)
    if channels is not None:
        return Dispatcher(channels, calendar, settings).run(now)
    with app_channels(app) as configured:
        return Dispatcher(configured, calendar, settings).run(now)
