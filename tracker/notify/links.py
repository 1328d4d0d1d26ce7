"""Action links: the URL in a reminder that opens one occurrence ready to act (mark done, report, more time).

A link is a random secret (256 bits) in the path, `/r/<token>`; the database keeps only its SHA-256 in
`action_links`, with the occurrence and the person it was sent to, an expiry (ACTION_LINK_DAYS) and, once
used, when and for what. The link proves nothing by itself: the landing page still needs the recipient
signed in (Flask-Login sends anyone else to the sign-in page and back), so a forwarded or leaked link
never writes without a password. Being single-use and bound to one person and one occurrence limits what a
leaked link reveals; `revoke_links` ends links early.

`action_url` is what a template context calls per item, so a message that bundles several tasks calls it
once per task. It adds a row to the caller's session (flushed, not committed): the caller commits before
the message leaves, so that no message carries a link the database does not know.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ActionLink

#: The landing route's path prefix (tracker/blueprints/reminder_links.py serves it).
PATH_PREFIX = "/r/"
DEFAULT_DAYS = 14
_TOKEN_BYTES = 32


class LinkState(enum.StrEnum):
    USABLE = "usable"
    UNKNOWN = "unknown"  # never issued, mistyped or tampered with
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _setting(key: str, default: object) -> object:
    return current_app.config.get(key, default) if has_app_context() else default


def link_lifetime() -> timedelta:
    """How long a new link stays usable (ACTION_LINK_DAYS, default 14 days)."""
    return timedelta(days=float(_setting("ACTION_LINK_DAYS", DEFAULT_DAYS)))  # type: ignore[arg-type]


def base_url() -> str:
    """The external address the links start with (PUBLIC_BASE_URL)."""
    return str(_setting("PUBLIC_BASE_URL", "http://127.0.0.1:5000")).rstrip("/")


def new_link(occurrence_id: int, recipient_id: int, *, now: datetime | None = None,
             notification_id: int | None = None) -> tuple[str, dict[str, object]]:
    """A new link's secret token and the values of its row, not stored yet (a batch inserts many at once)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    return token, {"token_hash": hash_token(token), "occurrence_id": occurrence_id, "recipient_id": recipient_id,
                   "notification_id": notification_id, "created_at": now, "expires_at": now + link_lifetime()}


def link_url(token: str, base: str | None = None) -> str:
    """The absolute URL of a link's token."""
    return f"{(base or base_url()).rstrip('/')}{PATH_PREFIX}{token}"


def issue_link(occurrence_id: int, recipient_id: int, *, now: datetime | None = None,
               notification_id: int | None = None) -> tuple[str, ActionLink]:
    """Store a new link for (occurrence, recipient) in the session; return its secret token and its row."""
    token, values = new_link(occurrence_id, recipient_id, now=now, notification_id=notification_id)
    link = ActionLink(**values)
    db.session.add(link)
    db.session.flush()
    return token, link


def action_url(occurrence_id: int, recipient_id: int, *, now: datetime | None = None,
               notification_id: int | None = None, base: str | None = None) -> str:
    """An absolute URL that opens `occurrence_id` ready to act, for `recipient_id` only (see the module doc)."""
    token, _ = issue_link(occurrence_id, recipient_id, now=now, notification_id=notification_id)
    return link_url(token, base)


def find_link(token: str) -> ActionLink | None:
    """The link a token names, or None when no such link was ever issued."""
    if not token or len(token) > 128:
        return None
    return db.session.scalar(sa.select(ActionLink).where(ActionLink.token_hash == hash_token(token)))


def state_of(link: ActionLink | None, now: datetime | None = None) -> LinkState:
    """Whether a link may still be used, and if not why."""
    if link is None:
        return LinkState.UNKNOWN
    if link.revoked_at is not None:
        return LinkState.REVOKED
    if link.used_at is not None:
        return LinkState.USED
    if (now or utcnow()) >= link.expires_at:
        return LinkState.EXPIRED
    return LinkState.USABLE


def consume(link: ActionLink, used_for: str, now: datetime | None = None) -> bool:
    """Mark the link used for `used_for`, only if it still is usable; True when this call won.

    One conditional UPDATE, in the caller's transaction (the action's): two taps at once, or two devices,
    leave exactly one use; if the action then fails, the rollback gives the link back.
    """
    now = now or utcnow()
    al = ActionLink.__table__
    db.session.flush()
    won = db.session.execute(
        sa.update(al)
        .where(al.c.id == link.id, al.c.used_at.is_(None), al.c.revoked_at.is_(None), al.c.expires_at > now)
        .values(used_at=now, used_for=used_for)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(link)
    return won


def revoke_links(*, recipient_id: int | None = None, occurrence_id: int | None = None,
                 now: datetime | None = None) -> int:
    """End every unused, unexpired link of a person and/or an occurrence; return how many."""
    if recipient_id is None and occurrence_id is None:
        raise ValueError("say whose links to revoke")
    now = now or utcnow()
    al = ActionLink.__table__
    statement = sa.update(al).where(al.c.used_at.is_(None), al.c.revoked_at.is_(None), al.c.expires_at > now)
    if recipient_id is not None:
        statement = statement.where(al.c.recipient_id == recipient_id)
    if occurrence_id is not None:
        statement = statement.where(al.c.occurrence_id == occurrence_id)
    return db.session.execute(statement.values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
