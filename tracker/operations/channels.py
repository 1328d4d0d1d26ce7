"""The message channels an administrator looks after: what the e-mail settings are, and Zalo's connection.

E-mail is configured from the environment (secrets never live in the database), so it is only shown here.
Zalo's Official Account is connected by an OA admin approving our app in the browser (OAuth with PKCE,
`tracker.notify.zalo_auth`); the tokens are stored in the database and never shown. Both concern the
whole installation, so only an administrator of a top-level unit may manage them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Channel, ChannelState, DeliveryStatus, Notification, Person
from tracker.notify.zalo_auth import ZaloAuthError, ZaloAuthorizer, ZaloStatus, status
from tracker.operations import audit
from tracker.operations.errors import Conflict, PermissionDenied, ValidationFailed
from tracker.operations.reminders import is_root_admin


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """What a person needs to know about the SMTP settings, without the password."""

    enabled: bool
    server: str
    port: int
    security: str  # "STARTTLS", "SSL/TLS" or "" (none)
    sender: str
    authenticated: bool  # a username is set (the password is never shown)
    suppressed: bool  # MAIL_SUPPRESS_SEND: nothing actually leaves


@dataclass(frozen=True, slots=True)
class ChannelsOverview:
    email: EmailSettings
    zalo_enabled: bool
    zalo: ZaloStatus
    zalo_redirect_uri: str | None  # the configured one; None: the callback URL of this site


def require_channel_admin(actor: Person | None) -> None:
    if not is_root_admin(actor):
        raise PermissionDenied(_l("Only an administrator of a top-level unit may manage the message channels."))


def email_settings(config: Mapping[str, Any]) -> EmailSettings:
    security = "SSL/TLS" if config.get("MAIL_USE_SSL") else ("STARTTLS" if config.get("MAIL_USE_TLS") else "")
    sender = config.get("MAIL_DEFAULT_SENDER") or ""
    if isinstance(sender, (tuple, list)):  # Flask-Mail accepts ("Name", "address")
        sender = f"{sender[0]} <{sender[1]}>"
    return EmailSettings(
        enabled=bool(config.get("NOTIFY_EMAIL_ENABLED", True)), server=str(config.get("MAIL_SERVER") or ""),
        port=int(config.get("MAIL_PORT") or 25), security=security, sender=str(sender),
        authenticated=bool(config.get("MAIL_USERNAME")), suppressed=bool(config.get("MAIL_SUPPRESS_SEND")),
    )


def configured_redirect_uri() -> str | None:
    """ZALO_REDIRECT_URI, if set; None: the callback URL of this site."""
    return current_app.config.get("ZALO_REDIRECT_URI") or None


def overview(actor: Person | None) -> ChannelsOverview:
    require_channel_admin(actor)
    config = current_app.config
    return ChannelsOverview(
        email=email_settings(config), zalo_enabled=bool(config.get("ZALO_ENABLED")),
        zalo=status(db.engine, config), zalo_redirect_uri=configured_redirect_uri(),
    )


def _failed(error: ZaloAuthError) -> ValidationFailed:
    """Zalo's errors carry both languages; show the one of the person's page."""
    from flask_babel import get_locale

    locale = get_locale()
    return ValidationFailed(error.en if locale is not None and locale.language == "en" else error.vi)


def start_zalo_connection(actor: Person | None, redirect_uri: str) -> str:
    """Begin connecting the OA: the permission URL the admin's browser goes to (audited)."""
    require_channel_admin(actor)
    try:
        request = ZaloAuthorizer.from_app().start(redirect_uri)
    except ZaloAuthError as error:
        raise _failed(error) from error
    audit.record_about("channel.zalo_authorize", "channel_credentials", 0, actor,
                       after={"redirect_uri": redirect_uri, "expires_at": request.expires_at})
    return request.url


def finish_zalo_connection(actor: Person | None, code: str, state: str | None) -> int:
    """Exchange the code Zalo sent back for the token pair and store it; returns the pair's version (audited)."""
    require_channel_admin(actor)
    if state is None:
        # A browser callback always carries the state; without it anyone could hand an admin a code.
        raise ValidationFailed(_l("The address Zalo sent back has no state; start the connection again."))
    try:
        tokens = ZaloAuthorizer.from_app().exchange(code, state)
    except ZaloAuthError as error:
        raise _failed(error) from error
    audit.record_about("channel.zalo_connect", "channel_credentials", tokens.version, actor,
                       after={"token_version": tokens.version, "access_expires_at": tokens.access_expires_at})
    return tokens.version


#: The channels with a circuit breaker an administrator may resume (in-app messages never leave the database).
BREAKER_CHANNELS = (Channel.EMAIL, Channel.ZALO)


def resume_channel(actor: Person | None, channel: Channel | str, now: datetime | None = None) -> None:
    """End a channel's pause now, after its cause was fixed (the mail server is back, Zalo reconnected).

    The breaker becomes half-open rather than closed: the next dispatch tries a few messages and only an
    accepted one resumes the channel for everybody, so a press while the server is still down costs one
    message's try, not a flood of failures. Guarded: of two administrators pressing at once, one resumes it
    and the other is told it is no longer paused (one audit event).
    """
    require_channel_admin(actor)
    try:
        channel = Channel(channel)
    except ValueError:
        raise ValidationFailed(_l("Unknown channel."), field="channel") from None
    if channel not in BREAKER_CHANNELS:
        raise ValidationFailed(_l("Unknown channel."), field="channel")
    now = now or utcnow()
    table = ChannelState.__table__
    before = db.session.execute(sa.select(table.c.failures, table.c.paused_until, table.c.reason)
                                .where(table.c.channel == channel.value)).first()
    resumed = db.session.execute(
        sa.update(table).where(table.c.channel == channel.value, table.c.paused_until > now)
        .values(paused_until=now)
    ).rowcount
    if resumed != 1:
        raise Conflict(_l("The channel is not paused (anymore)."))
    # The messages the pause held back (released until it ends, or retrying a failure it caused) are due
    # now; the sending window still applies when they are claimed, so nothing goes out at night.
    notifications = Notification.__table__
    db.session.execute(
        sa.update(notifications)
        .where(notifications.c.channel == channel.value,
               notifications.c.status.in_((DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)),
               notifications.c.next_attempt_at > now, notifications.c.next_attempt_at <= before.paused_until)
        .values(next_attempt_at=now)
    )
    audit.record_about("channel.resume", "channel_states", 0, actor,
                       before={"channel": channel.value, "failures": before.failures,
                               "paused_until": before.paused_until.isoformat(), "reason": before.reason},
                       after={"channel": channel.value, "paused_until": now.isoformat()})
