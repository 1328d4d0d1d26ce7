"""The outbox dispatcher: deliver pending rows in batches, at the speed of the provider, behind a breaker.

One run, at `now`:
1. skip (set-based) rows no longer useful: reminders whose task is done or cancelled, and reminders
   superseded by a later rule's row for the same occurrence;
2. deliver in-app rows at once (set-based: the bell reads them);
3. outside the working window, push e-mail and Zalo rows to the next window's start; inside it, loop:
   - claim a batch (PostgreSQL: candidates selected FOR UPDATE SKIP LOCKED, then a conditional UPDATE
     to "sending" with a lease, `claimed_until`), in the same transaction that records the previous
     batch's outcomes: one commit per batch;
   - load the batch's facts with one set-based query (plus one per kind that lists items, e.g. digests);
   - render each row and send the batch's e-mails on one SMTP connection (reopened if the server drops
     it), outside any transaction; the lease is renewed for the whole batch if sending it is slow;
   - record every outcome with one executemany UPDATE ... WHERE claimed_by = our token.

Circuit breaker, per channel (`ChannelState`): a systemic failure (connection refused, 421, 500-504,
our sender refused, refused credentials, a used-up quota) or a run of DISPATCH_BREAKER_THRESHOLD failures
with no success in between (a server answering 4xx/5xx to every recipient) pauses the channel: the rows
involved and the rest of its batch go back to pending without spending an attempt, and no dispatcher
claims the channel's rows until `paused_until` (exponential backoff, the reason shown to the admins).
Then the breaker half-opens: one small batch (threshold rows) is tried; a success closes the breaker.
A refusal of one recipient while others succeed (550 unknown mailbox, an invalid phone) is dead at once.

A dispatcher that dies after claiming leaves rows in "sending" until `claimed_until`; any dispatcher then
takes them over, and a dispatcher whose lease ran out skips the rows another took over. A crash between
the provider's acceptance and our commit can repeat a message: the e-mail Message-ID and the ZNS
tracking_id derive from the row id, so the provider (or the mail client) can recognise the repeat.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import time as time_module
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    ActionLink,
    Channel,
    ChannelState,
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
    ChannelSession,
    OutgoingMessage,
    PermanentSendError,
    QuotaExceeded,
    QuotaWait,
    ReauthRequired,
    SendError,
    TransientSendError,
    open_session,
)
from tracker.notify.links import link_url, new_link
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
from tracker.sqlutil import insert_ignoring_conflicts
from tracker.workcalendar import WorkCalendar

log = logging.getLogger("tracker.notify")

OUTSIDE_CHANNELS = (Channel.EMAIL, Channel.ZALO)
#: Kinds a person asked for a moment ago: they go out at any hour (a reset link expires within the hour).
ANYTIME_KINDS = frozenset({NotificationKind.PASSWORD_RESET})
#: Tries to store an outcome or renew a claim when the database connection drops.
RECORD_TRIES = 5
RECORD_PAUSE = 0.5
_T = TypeVar("_T")
_DISPATCHABLE = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value, DeliveryStatus.SENDING.value)
_WAITING = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)
ERROR_LIMIT = 2000

ItemLoader = Callable[[list[int]], dict[int, list[MessageFacts]]]
#: Kinds whose message lists items (a digest, a bundle: both carry them through the items' digest_id): how to
#: load every row's items for a batch in one query. A kind listed here with no open item left is skipped.
ITEM_LOADERS: dict[str, ItemLoader] = {kind.value: load_digest_items for kind in CARRIER_KINDS}


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    batch_size: int = 200
    max_batches: int = 100
    max_attempts: int = 6
    backoff: timedelta = timedelta(seconds=60)
    backoff_cap: timedelta = timedelta(hours=6)
    claim: timedelta = timedelta(seconds=300)
    #: Bad channel credentials: wait this long before trying again, without spending an attempt.
    reauth_delay: timedelta = timedelta(minutes=30)
    base_url: str = "http://127.0.0.1:5000"
    overdue_grace_days: int = 0
    #: Failures in a row, with no success between them, that make a channel's trouble systemic.
    breaker_threshold: int = 5
    #: The first pause of a channel; doubled with each systemic failure in a row, up to the cap.
    breaker_backoff: timedelta = timedelta(seconds=60)
    breaker_backoff_cap: timedelta = timedelta(hours=1)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DispatchSettings:
        return cls(
            batch_size=int(config.get("DISPATCH_BATCH_SIZE", 200)),
            max_batches=int(config.get("DISPATCH_MAX_BATCHES", 100)),
            max_attempts=int(config.get("DISPATCH_MAX_ATTEMPTS", 6)),
            backoff=timedelta(seconds=float(config.get("DISPATCH_BACKOFF_SECONDS", 60))),
            backoff_cap=timedelta(seconds=float(config.get("DISPATCH_BACKOFF_MAX_SECONDS", 6 * 3600))),
            claim=timedelta(seconds=float(config.get("DISPATCH_CLAIM_SECONDS", 300))),
            reauth_delay=timedelta(seconds=float(config.get("DISPATCH_REAUTH_DELAY_SECONDS", 1800))),
            base_url=str(config.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")),
            overdue_grace_days=int(config.get("OVERDUE_GRACE_DAYS", 0)),
            breaker_threshold=max(1, int(config.get("DISPATCH_BREAKER_THRESHOLD", 5))),
            breaker_backoff=timedelta(seconds=float(config.get("DISPATCH_BREAKER_BACKOFF_SECONDS", 60))),
            breaker_backoff_cap=timedelta(seconds=float(config.get("DISPATCH_BREAKER_BACKOFF_MAX_SECONDS", 3600))),
        )

    def retry_delay(self, attempts: int) -> timedelta:
        """Exponential backoff: base, 2 base, 4 base ... capped; `attempts` counts the one that just failed."""
        exponent = max(0, attempts - 1)
        if exponent > 30:
            return self.backoff_cap
        return min(self.backoff_cap, self.backoff * (2**exponent))

    def pause_for(self, failures: int) -> timedelta:
        """How long a channel pauses after its `failures`-th systemic failure in a row."""
        exponent = max(0, failures - 1)
        if exponent > 30:
            return self.breaker_backoff_cap
        return min(self.breaker_backoff_cap, self.breaker_backoff * (2**exponent))


@dataclass
class DispatchResult:
    now: datetime
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    deferred: int = 0
    #: Rows claimed in this run (a worker loops while a run finds work).
    claimed: int = 0
    batches: int = 0
    #: True when the last batch was full: more rows are probably due.
    more: bool = False
    by_channel: dict[str, int] = field(default_factory=dict)
    #: Channels this run paused, with the reason.
    paused: dict[str, str] = field(default_factory=dict)
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
            **({"paused": dict(sorted(self.paused.items()))} if self.paused else {}),
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
        """Deliver what is due at `now`; commits once per batch (each outcome is durable once recorded)."""
        self._run_now, self._run_started = now, utcnow()
        result = DispatchResult(now=now)
        result.skipped += self.skip_useless(now)
        self._ensure_channel_states()
        db.session.commit()
        result.count_sent(Channel.IN_APP.value, self.deliver_in_app(now))
        db.session.commit()
        renderer = self._renderer or MessageRenderer.from_database(current_app.config)
        done: _BatchDone | None = None
        for _ in range(self.settings.max_batches):
            # The previous batch's outcomes and this batch's claim: one transaction, one commit.
            claim = self._durably(functools.partial(self._next_batch, done, result), "claim")
            done = None
            result.claimed += len(claim)
            result.more = claim.full
            if not claim:
                break
            result.batches += 1
            done = self._send_batch(claim, renderer, result)
            if not claim.full:
                break
        if done is not None:
            finished = done
            self._durably(lambda: self._record(finished), "record")
        return result

    # --- the breaker ----------------------------------------------------------------------------------

    def _ensure_channel_states(self) -> None:
        table = ChannelState.__table__
        statement = insert_ignoring_conflicts(db.session, table, ["channel"])  # type: ignore[arg-type]
        db.session.execute(statement, [{"channel": c.value, "failures": 0} for c in OUTSIDE_CHANNELS])

    def channel_states(self) -> dict[str, _Breaker]:
        """Every outside channel's breaker as stored now."""
        table = ChannelState.__table__
        states = {c.value: _Breaker(c.value, 0, None) for c in OUTSIDE_CHANNELS}
        for row in db.session.execute(sa.select(table.c.channel, table.c.failures, table.c.paused_until)):
            states[row.channel] = _Breaker(row.channel, int(row.failures or 0), row.paused_until)
        return states

    def _open_breaker(self, channel: str, state: _Breaker, reason: str, until: datetime | None,
                      now: datetime) -> datetime:
        """Pause `channel` until `until` (or the backoff after one more failure); the time it resumes."""
        table = ChannelState.__table__
        failures = state.failures + 1
        paused_until = until or now + self.settings.pause_for(failures)
        # Only one of several dispatchers failing together counts the failure (and doubles the pause).
        db.session.execute(
            sa.update(table)
            .where(table.c.channel == channel,
                   sa.or_(table.c.paused_until.is_(None), table.c.paused_until <= now))
            .values(failures=table.c.failures + 1, paused_until=paused_until, paused_at=now,
                    reason=reason[:ERROR_LIMIT])
        )
        log.warning("channel %s paused until %s: %s", channel, paused_until.isoformat(), reason)
        return paused_until

    def _close_breaker(self, channel: str, now: datetime) -> None:
        table = ChannelState.__table__
        closed = db.session.execute(
            sa.update(table).where(table.c.channel == channel, table.c.failures > 0)
            .values(failures=0, paused_until=None, resumed_at=now)
        ).rowcount
        if closed:
            log.info("channel %s works again: resumed", channel)

    # --- claims ---------------------------------------------------------------------------------------

    def claim(self, now: datetime, limit: int | None = None) -> Claim:
        """Claim up to `limit` due rows for this dispatcher; the caller commits the claim before sending."""
        return self._claim_rows(now, [c.value for c in OUTSIDE_CHANNELS], limit or self.settings.batch_size,
                                worker_name())

    def _next_batch(self, done: _BatchDone | None, result: DispatchResult) -> Claim:
        """Record the previous batch (if any) and claim the next one, in the caller's transaction."""
        if done is not None:
            self._record(done)
        clock = self._clock()
        sending = self.calendar.is_sending_time(clock)
        if not sending:
            # Never at night: e-mail and Zalo wait for the next window (the window may close mid-run).
            result.deferred += self.defer_to_window(clock)
        return self._claim_batch(clock, anytime_only=not sending)

    def _claim_batch(self, now: datetime, *, anytime_only: bool) -> Claim:
        """Claim a batch from the channels whose breaker is closed, and a probe from the half-open ones."""
        token = worker_name()
        states = self.channel_states()
        closed = [c for c, state in states.items() if state.paused_until is None]
        # Half-open: the pause is over; a few rows (enough to tell one bad address from a broken server)
        # try the channel again.
        half_open = [c for c, state in states.items() if state.paused_until is not None and state.paused_until <= now]
        claim = Claim(token)
        if closed:
            claim.extend_from(self._claim_rows(now, closed, self.settings.batch_size, token,
                                               anytime_only=anytime_only))
            claim.full = len(claim) >= self.settings.batch_size
        for channel in half_open:
            probe = self._claim_rows(now, [channel], self.settings.breaker_threshold, token,
                                     anytime_only=anytime_only)
            claim.extend_from(probe)
            claim.full = claim.full or bool(probe)
        claim.states = states
        return claim

    def _claim_rows(self, now: datetime, channels: list[str], limit: int, token: str, *,
                    anytime_only: bool = False) -> Claim:
        n = Notification.__table__
        until = now + self.settings.claim
        where = [
            n.c.status.in_(_DISPATCHABLE),
            # A claimed row's next_attempt_at is its claimed_until: an expired claim is due again.
            n.c.next_attempt_at <= now,
            n.c.channel.in_(channels),
        ]
        if anytime_only:
            where.append(n.c.kind.in_([k.value for k in ANYTIME_KINDS]))
        # Materialised: PostgreSQL plans `id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` as a semi-join
        # that runs the subquery again for every outbox row, and the LIMIT then claims every due row.
        candidates = (
            self._lockable_ids(*where).order_by(n.c.next_attempt_at, n.c.id).limit(limit)
            .cte("claim_candidates").prefix_with("MATERIALIZED")
        )
        claimed = db.session.execute(
            sa.update(n)
            .where(n.c.id.in_(sa.select(candidates.c.id)), n.c.status.in_(_DISPATCHABLE), n.c.next_attempt_at <= now)
            .values(status=DeliveryStatus.SENDING.value, claimed_by=token, claimed_until=until,
                    next_attempt_at=until, attempts=n.c.attempts + 1)
            .returning(n.c.id, n.c.attempts)
        ).all()
        claim = Claim(token, sorted(row.id for row in claimed))
        claim.attempts = {row.id: int(row.attempts) for row in claimed}
        claim.until = until
        return claim

    def _renew(self, claim: Claim, ids: list[int], now: datetime) -> set[int]:
        """Extend the lease of a slow batch's rows; the ids still ours (others were taken over)."""
        n = Notification.__table__
        until = now + self.settings.claim

        def renew() -> set[int]:
            return set(db.session.scalars(
                sa.update(n)
                .where(n.c.id.in_(ids), n.c.claimed_by == claim.token, n.c.status == DeliveryStatus.SENDING.value)
                .values(claimed_until=until, next_attempt_at=until)
                .returning(n.c.id)
            ))

        ours = self._durably(renew, "renew")
        claim.until = until
        lost = set(ids) - ours
        if lost:
            log.info("%d claimed notifications were taken over by another dispatcher; leaving them", len(lost))
        return ours

    # --- one batch --------------------------------------------------------------------------------------

    def _send_batch(self, claim: Claim, renderer: MessageRenderer, result: DispatchResult) -> _BatchDone:
        """Send a claimed batch outside any transaction; say how to record it."""
        if self._run_now is None:  # called outside run() (benchmarks)
            self._run_now, self._run_started = utcnow(), utcnow()
        facts = load_facts(claim)
        items: dict[int, list[MessageFacts]] = {}
        for kind, loader in ITEM_LOADERS.items():
            listing = [i for i, row in facts.items() if row.kind == kind]
            if listing:
                items.update(loader(listing))
        # Render the whole batch first (a message that cannot be rendered or addressed never reaches the
        # provider); whatever rendering stores (e.g. the links a message carries) is committed with the end
        # of the read transaction, once, before anything leaves. Nothing is held open while we send.
        now = self._run_now or self._clock()
        link_rows: list[dict[str, Any]] = []
        prepared = {nid: self._prepare(row, items.get(nid, []), now, renderer, link_rows)
                    for nid, row in facts.items()}
        if link_rows:
            db.session.execute(sa.insert(ActionLink.__table__), link_rows)
        db.session.commit()
        done = _BatchDone(claim.token, states=claim.states or {})
        runs: dict[str, list[int]] = {}  # per channel: rows that failed since the last success
        down: dict[str, tuple[str, datetime]] = {}
        sessions: dict[str, ChannelSession] = {}
        renew_at = claim.until - self.settings.claim / 2 if claim.until else None
        try:
            for index, notification_id in enumerate(claim):
                clock = self._clock()
                if renew_at is not None and clock >= renew_at:
                    # A slow batch: keep its rows (the sent ones too: their outcomes are not stored yet), and
                    # leave the unsent rows another dispatcher took over after our lease ran out.
                    ours = self._renew(claim, list(claim), clock)
                    renew_at = clock + self.settings.claim / 2
                    for lost in set(claim[index:]) - ours:
                        facts.pop(lost, None)
                row = facts.get(notification_id)
                if row is None:
                    continue  # taken over by another dispatcher, or deleted with its occurrence
                now = self._run_now or clock
                if (row.kind not in ANYTIME_KINDS and not self.calendar.is_sending_time(clock)
                        and not isinstance(prepared[notification_id], _Outcome)):
                    window = self.calendar.next_sending_time(clock)
                    done.add(notification_id, row.channel, _release(window, "waiting for working hours"))
                    continue
                if row.channel in down and not isinstance(prepared[notification_id], _Outcome):
                    reason, retry_at = down[row.channel]
                    done.add(notification_id, row.channel, _release(retry_at, f"not tried: {reason}"))
                    continue
                ready = prepared[notification_id]
                if isinstance(ready, _Outcome):
                    done.add(notification_id, row.channel, ready)
                    continue
                outcome = self._send(row, ready, now, claim.attempts.get(notification_id, 1), sessions)
                channel = row.channel
                done.add(notification_id, channel, outcome)
                if outcome.status == DeliveryStatus.SENT:
                    runs.pop(channel, None)
                    done.succeeded.add(channel)
                    continue
                if outcome.channel_down is not None:
                    self._channel_down(done, channel, notification_id, outcome, runs.pop(channel, []), down, now)
                    continue
                if outcome.suspect:
                    run_ids = runs.setdefault(channel, [])
                    run_ids.append(notification_id)
                    if len(run_ids) >= self.settings.breaker_threshold:
                        # Every one of the last N failed and none went out: the provider refuses everyone.
                        reason = (f"{channel}: {len(run_ids)} messages in a row refused, none accepted; "
                                  f"last: {outcome.error}")
                        self._channel_down(done, channel, notification_id,
                                           _release(now, reason, channel_down=(reason, None), counted="failed"),
                                           runs.pop(channel)[:-1], down, now)
        finally:
            for session in sessions.values():
                try:
                    session.close()
                except Exception:  # closing must never lose the batch's outcomes
                    log.exception("closing a channel session failed")
        done.count(result)
        for channel, (reason, _retry_at) in down.items():
            result.paused[channel] = reason
        return done

    def _channel_down(self, done: _BatchDone, channel: str, failing_id: int, outcome: _Outcome,
                      run_ids: list[int], down: dict[str, tuple[str, datetime]], now: datetime) -> None:
        """Open the channel's breaker: the failed row and the run before it go back without spending attempts."""
        reason, retry_at = outcome.channel_down  # type: ignore[misc]
        failures = 0 if channel in done.succeeded else done.state(channel).failures
        resume = retry_at or now + self.settings.pause_for(failures + 1)
        done.pauses[channel] = (reason, resume)
        down[channel] = (reason, resume)
        for notification_id in run_ids:
            done.add(notification_id, channel, _release(resume, f"not counted: {reason}"))
        done.add(failing_id, channel, _release(resume, outcome.error or reason, counted=outcome.counted))

    def _prepare(self, row: MessageFacts, items: list[MessageFacts], now: datetime,
                 renderer: MessageRenderer, link_rows: list[dict[str, Any]]) -> OutgoingMessage | _Outcome:
        """The message to send for one claimed row, or the outcome that makes sending it pointless."""
        nid = row.notification_id
        if row.kind in REMINDER_KINDS and not row.is_open:
            return _Outcome(DeliveryStatus.SKIPPED, "not sent: the task is done or cancelled")
        if row.kind in REMINDER_KINDS and row.queued_due_on is not None and row.due_on is not None \
                and row.queued_due_on != row.due_on:
            return _Outcome(DeliveryStatus.SKIPPED, "not sent: the due date has moved")
        if row.kind == NotificationKind.ESCALATION and row.acknowledged_due_on is not None \
                and row.acknowledged_due_on == row.due_on:
            return _Outcome(DeliveryStatus.SKIPPED, ACKNOWLEDGED)
        if not row.recipient_active:
            return _Outcome(DeliveryStatus.SKIPPED, "not sent: the person's account is deactivated")
        if row.kind in ITEM_LOADERS and not items:
            return _Outcome(DeliveryStatus.SKIPPED, "not sent: every listed task is done or cancelled")
        sender = self.channels.get(Channel(row.channel))
        if sender is None:
            return self._dead(nid, f"the {row.channel} channel is not configured")
        today = self.calendar.local_today(now)
        # The action links are stored as they are made; _send_batch commits them before any message leaves.
        links = _LinkMaker(self.settings.base_url, nid, link_rows) if row.channel in LINKED_CHANNELS \
            and (row.kind in REMINDER_KINDS or row.kind in CARRIER_KINDS) else None
        try:
            context = message_context(row, today=today, base_url=self.settings.base_url, items=items,
                                      overdue_before=today - timedelta(days=self.settings.overdue_grace_days),
                                      calendar=self.calendar, action_link=links)
            rendered = renderer.render(row.kind, row.channel, row.recipient_locale, context)
            message = self._address(row, rendered, context)
        except RenderError as exc:
            return self._dead(nid, str(exc))
        except PermanentSendError as exc:  # no address: our data, not the provider's answer
            return self._dead(nid, f"{row.channel}: {exc}")
        return message

    def _send(self, row: MessageFacts, message: OutgoingMessage, now: datetime, attempts: int,
              sessions: dict[str, ChannelSession]) -> _Outcome:
        """Send one rendered message on its channel's session; say how to record it (and if the channel is down)."""
        nid = row.notification_id
        sender = self.channels[Channel(row.channel)]
        session = sessions.get(row.channel)
        if session is None:
            session = sessions[row.channel] = open_session(sender)
        try:
            sent = session.send(message)
        except ReauthRequired as exc:
            retry_at = now + self.settings.reauth_delay
            log.error("%s credentials refused; an administrator must renew them: %s", row.channel, exc)
            reason = f"{row.channel} credentials refused: {exc}"
            return _release(retry_at, reason, channel_down=(reason, retry_at), counted="failed")
        except QuotaExceeded as exc:
            retry_at = self._quota_retry(exc, now)
            log.warning("%s quota: %s; waiting until %s", row.channel, exc, retry_at.isoformat())
            reason = f"{row.channel}: {exc}; waiting until {self.calendar.to_local(retry_at):%d/%m/%Y %H:%M}"
            return _release(retry_at, reason, channel_down=(reason, retry_at) if exc.channel_wide else None)
        except TransientSendError as exc:
            error = f"{row.channel}: {exc}"
            if exc.systemic:
                # The provider refuses everyone (unreachable, 421, 5xx to our commands): not this row's fault.
                return _release(now, error, channel_down=(error, None), counted="failed")
            return self._failed(nid, error, attempts, now, suspect=True)
        except PermanentSendError as exc:
            # The provider refused this recipient; dead, unless the breaker finds it refuses everyone.
            outcome = self._dead(nid, f"{row.channel}: {exc}")
            return _Outcome(outcome.status, outcome.error, suspect=not exc.recipient)
        except Exception as exc:  # any failure must be recorded on the row, whatever raised it
            if not isinstance(exc, SendError):
                log.exception("unexpected failure sending notification %s", nid)
            return self._failed(nid, f"{row.channel}: {exc}", attempts, now, suspect=False)
        return _Outcome(DeliveryStatus.SENT, None, {"sent_at": now, "provider_message_id": sent.provider_message_id},
                        counted="sent", channel=row.channel)

    def _failed(self, nid: int, error: str, attempts: int, now: datetime, *, suspect: bool) -> _Outcome:
        if attempts >= self.settings.max_attempts:
            outcome = self._dead(nid, f"{error} (after {attempts} attempts)")
            return _Outcome(outcome.status, outcome.error, suspect=suspect)
        retry_at = now + self.settings.retry_delay(attempts)
        return _Outcome(DeliveryStatus.FAILED, error, {"next_attempt_at": retry_at}, suspect=suspect,
                        counted="failed")

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

    def _dead(self, notification_id: int, error: str) -> _Outcome:
        # Logged when the batch is counted: the breaker may still turn a refusal into a pause.
        return _Outcome(DeliveryStatus.DEAD, error)

    def _record(self, done: _BatchDone) -> None:
        """Store a batch's outcomes on the rows still claimed by it (one executemany), and move the breakers.

        The caller commits. A row another dispatcher took over meanwhile (our lease ran out) is left alone.
        """
        n = Notification.__table__
        if done.outcomes:
            params = [
                {
                    "o_id": notification_id,
                    "o_status": outcome.status.value,
                    "o_error": outcome.error[:ERROR_LIMIT] if outcome.error else None,
                    "o_sent_at": outcome.values.get("sent_at"),
                    "o_provider_id": outcome.values.get("provider_message_id"),
                    "o_next": outcome.values.get("next_attempt_at"),
                    # Given back without spending an attempt: not the row's fault.
                    "o_refund": 1 if outcome.release else 0,
                }
                for notification_id, outcome in done.outcomes.items()
            ]
            statement = (
                sa.update(n)
                .where(n.c.id == sa.bindparam("o_id"), n.c.claimed_by == done.token)
                .values(
                    status=sa.bindparam("o_status"),
                    last_error=sa.bindparam("o_error"),
                    claimed_by=None,
                    claimed_until=None,
                    sent_at=sa.func.coalesce(sa.bindparam("o_sent_at", type_=n.c.sent_at.type), n.c.sent_at),
                    provider_message_id=sa.func.coalesce(
                        sa.bindparam("o_provider_id", type_=n.c.provider_message_id.type), n.c.provider_message_id),
                    next_attempt_at=sa.func.coalesce(sa.bindparam("o_next", type_=n.c.next_attempt_at.type),
                                                     n.c.next_attempt_at),
                    attempts=sa.case((n.c.attempts > 0, n.c.attempts - sa.bindparam("o_refund", type_=sa.Integer)),
                                     else_=0),
                )
                .execution_options(synchronize_session=False)
            )
            stored = db.session.execute(statement, params).rowcount
            if stored is not None and 0 <= stored < len(params):
                log.warning("%d outcomes not stored: another dispatcher took the rows over while they were sent",
                            len(params) - stored)
        clock = self._clock()
        for channel in done.succeeded:
            if done.state(channel).failures or done.state(channel).paused_until is not None:
                self._close_breaker(channel, clock)
        for channel, (reason, until) in done.pauses.items():
            self._open_breaker(channel, done.state(channel), reason, until, clock)

    def _durably(self, work: Callable[[], _T], what: str) -> _T:
        """Run `work` and commit; on a dropped connection roll back and run it again on a new one.

        A message that went out but whose outcome is never stored would be sent again once the claim
        expires, so a lost connection here is worth a few tries.
        """
        for attempt in range(RECORD_TRIES):
            try:
                value = work()
                db.session.commit()
                return value
            except sa.exc.DBAPIError as exc:
                db.session.rollback()
                if attempt == RECORD_TRIES - 1:
                    raise
                log.warning("database error (%s) during %s; trying again",
                            type(exc.orig).__name__ if exc.orig is not None else exc, what)
                if attempt:
                    # The first retry reconnects at once (pre-ping); later ones give a restarting server time.
                    time_module.sleep(min(RECORD_PAUSE * 2 ** (attempt - 1), 8.0))
        raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True)
class _Breaker:
    """One channel's breaker as read at the start of a batch."""

    channel: str
    failures: int
    paused_until: datetime | None


ACKNOWLEDGED = "not sent: acknowledged from a reminder"
#: Channels whose reminders carry action links (in-app readers are signed in already).
LINKED_CHANNELS = frozenset({Channel.EMAIL.value, Channel.ZALO.value})


class _LinkMaker:
    """Makes the action links of one message (one per occurrence it speaks of) into the batch's `rows`.

    The batch inserts them all with one statement before any of its messages leaves.
    """

    def __init__(self, base_url: str, notification_id: int, rows: list[dict[str, Any]]) -> None:
        self.base_url, self.notification_id, self.rows = base_url, notification_id, rows

    def __call__(self, occurrence_id: int, recipient_id: int) -> str:
        token, values = new_link(occurrence_id, recipient_id, notification_id=self.notification_id)
        self.rows.append(values)
        return link_url(token, self.base_url)


class Claim(list[int]):
    """The ids of the rows one claim took, oldest first, and the token they are claimed under."""

    def __init__(self, token: str, ids: Iterable[int] = ()) -> None:
        super().__init__(ids)
        self.token = token
        #: Each row's attempts, counting this one.
        self.attempts: dict[int, int] = {}
        self.until: datetime | None = None
        #: The batch took as many rows as it could: more are probably due.
        self.full = False
        self.states: dict[str, _Breaker] | None = None

    def extend_from(self, other: Claim) -> None:
        self.extend(other)
        self.sort()
        self.attempts.update(other.attempts)
        self.until = other.until if self.until is None or (other.until and other.until < self.until) else self.until


_COUNTED = {DeliveryStatus.SENT: "sent", DeliveryStatus.DEAD: "dead", DeliveryStatus.SKIPPED: "skipped",
            DeliveryStatus.FAILED: "failed", DeliveryStatus.PENDING: "deferred"}


@dataclass(frozen=True, slots=True)
class _Outcome:
    """How to record one row after a send attempt."""

    status: DeliveryStatus
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    #: (reason, retry_at or None for the breaker's backoff) when the whole channel is unusable for now:
    #: the rest of the batch is not tried.
    channel_down: tuple[str, datetime | None] | None = None
    #: Give the row back without spending an attempt.
    release: bool = False
    #: A provider's refusal that may be this recipient's or everyone's: the breaker decides from the run.
    suspect: bool = False
    #: Which counter of the result it adds to (by default the one of its status).
    counted: str | None = None
    channel: str | None = None

    @property
    def counter(self) -> str:
        return self.counted or _COUNTED.get(self.status, "failed")


@dataclass
class _BatchDone:
    """A sent batch's outcomes, waiting to be recorded with the next claim."""

    token: str
    states: dict[str, _Breaker]
    outcomes: dict[int, _Outcome] = field(default_factory=dict)
    channels: dict[int, str] = field(default_factory=dict)
    succeeded: set[str] = field(default_factory=set)
    pauses: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def add(self, notification_id: int, channel: str, outcome: _Outcome) -> None:
        self.outcomes[notification_id] = outcome
        self.channels[notification_id] = channel

    def state(self, channel: str) -> _Breaker:
        return self.states.get(channel) or _Breaker(channel, 0, None)

    def count(self, result: DispatchResult) -> None:
        for notification_id, outcome in self.outcomes.items():
            counter = outcome.counter
            if counter == "dead":
                log.warning("notification %s is dead: %s", notification_id, outcome.error)
            if counter == "sent":
                result.count_sent(self.channels[notification_id])
            else:
                setattr(result, counter, getattr(result, counter) + 1)


def _release(retry_at: datetime, reason: str, *, channel_down: tuple[str, datetime | None] | None = None,
             counted: str | None = None) -> _Outcome:
    return _Outcome(DeliveryStatus.PENDING, reason, {"next_attempt_at": retry_at}, channel_down=channel_down,
                    release=True, counted=counted)


def dispatch(now: datetime, *, calendar: WorkCalendar, app: Any = None,
             channels: Mapping[Channel, ChannelSender] | None = None,
             settings: DispatchSettings | None = None) -> DispatchResult:
    """One dispatcher run with the app's channels and settings."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    settings = settings or DispatchSettings.from_config(app.config)
    if channels is not None:
        return Dispatcher(channels, calendar, settings).run(now)
    with app_channels(app) as configured:
        return Dispatcher(configured, calendar, settings).run(now)


def dispatch_once(now: datetime | None = None, *, calendar: WorkCalendar | None = None, app: Any = None,
                  channels: Mapping[Channel, ChannelSender] | None = None,
                  max_batches: int | None = None) -> DispatchResult:
    """One pass for a loop (a worker): at most `max_batches` batches; `result.more` says more rows are due.

    Safe to call from many processes or threads at once: each row is claimed by one dispatcher at a
    time, and a paused channel's rows are claimed by none until its breaker half-opens.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if calendar is None:
        from tracker.operations.reminders import work_calendar

        calendar = work_calendar()
    settings = DispatchSettings.from_config(app.config)
    if max_batches is not None:
        settings = replace(settings, max_batches=max_batches)
    return dispatch(now or utcnow(), calendar=calendar, app=app, channels=channels, settings=settings)
