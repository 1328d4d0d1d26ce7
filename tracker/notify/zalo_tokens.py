"""Storage of the Zalo OA token pair, refreshed once and atomically across threads and processes.

Zalo's refresh token is single use: the refresh answer carries a new pair and the old refresh token
stops working. Two processes refreshing with the same refresh token would leave one of them (and,
if its answer is the one stored, everyone) with a dead token and the OA needing a new authorization by
hand. So a refresh holds a lock, re-reads the stored pair, calls Zalo only if the access token is
still the one that failed, and stores the new pair before releasing the lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tracker.notify.base import ReauthRequired, TransientSendError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("tracker.notify")

ZALO_PROVIDER = "zalo"
#: Tries to store a freshly issued pair when the refresh transaction's connection died.
STORE_TRIES = 5


@dataclass(frozen=True, slots=True)
class ZaloTokens:
    """An OA access token, its refresh token and when the access token expires."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime | None = None
    version: int = 0

    def expires_within(self, now: datetime, margin: timedelta) -> bool:
        """Tell whether the access token is expired or will be within `margin`."""
        return self.access_expires_at is not None and self.access_expires_at <= now + margin


#: Exchanges a refresh token for a new pair (calls Zalo); raises ReauthRequired or TransientSendError.
RefreshGrant = Callable[[str], ZaloTokens]


class TokenStore(Protocol):
    """Where the current Zalo token pair lives."""

    def load(self) -> ZaloTokens:
        """Return the current pair; raise ReauthRequired if the OA was never authorized."""
        ...

    def refresh(self, failed_access_token: str, grant: RefreshGrant) -> ZaloTokens:
        """Refresh under a lock unless someone already replaced `failed_access_token`; return the pair."""
        ...


def _no_tokens() -> ReauthRequired:
    return ReauthRequired("no Zalo tokens stored: an admin must authorize the Official Account")


class MemoryTokenStore:
    """A token store for one process (tests, scripts): a lock and a variable."""

    def __init__(self, tokens: ZaloTokens | None = None) -> None:
        self._tokens = tokens
        self._lock = threading.Lock()

    def load(self) -> ZaloTokens:
        """Return the current pair."""
        with self._lock:
            if self._tokens is None:
                raise _no_tokens()
            return self._tokens

    def save(self, tokens: ZaloTokens) -> None:
        """Store a pair obtained by an admin's authorization."""
        with self._lock:
            version = self._tokens.version + 1 if self._tokens else 1
            self._tokens = replace(tokens, version=version)

    def refresh(self, failed_access_token: str, grant: RefreshGrant) -> ZaloTokens:
        """Refresh once for every caller that saw `failed_access_token` fail."""
        with self._lock:
            if self._tokens is None:
                raise _no_tokens()
            if self._tokens.access_token != failed_access_token:
                return self._tokens
            issued = grant(self._tokens.refresh_token)
            self._tokens = replace(issued, version=self._tokens.version + 1)
            return self._tokens


class SqlTokenStore:
    """The token pair in the `channel_credentials` row of one provider.

    Every call runs in its own short transaction on its own connection, never in the caller's
    session: a refresh must be committed even if the caller's work later rolls back, because Zalo has
    already invalidated the old refresh token.
    """

    def __init__(self, engine: Engine, provider: str = ZALO_PROVIDER) -> None:
        self._engine = engine
        self._provider = provider

    @classmethod
    def from_app(cls, provider: str = ZALO_PROVIDER) -> SqlTokenStore:
        """Build a store on the Flask-SQLAlchemy engine of the current app."""
        from tracker.extensions import db

        return cls(db.engine, provider)

    def load(self) -> ZaloTokens:
        """Read the current pair."""
        from tracker.models.notifications import ChannelCredential

        try:
            with Session(self._engine) as session:
                row = session.get(ChannelCredential, self._provider)
                return self._tokens_of(row)
        except SQLAlchemyError as exc:
            raise TransientSendError(f"cannot read {self._provider} tokens: {exc}") from exc

    def save(self, tokens: ZaloTokens) -> ZaloTokens:
        """Store a pair obtained by an admin's authorization, replacing whatever was there."""
        from tracker.models.notifications import ChannelCredential

        with Session(self._engine) as session, session.begin():
            row = session.get(ChannelCredential, self._provider, with_for_update=True)
            if row is None:
                row = ChannelCredential(provider=self._provider, version=0)
                session.add(row)
            row.access_token = tokens.access_token
            row.refresh_token = tokens.refresh_token
            row.access_expires_at = tokens.access_expires_at
            row.version = (row.version or 0) + 1
            row.updated_at = datetime.now(UTC)
            session.flush()
            return self._tokens_of(row)

    def refresh(self, failed_access_token: str, grant: RefreshGrant) -> ZaloTokens:
        """Refresh under the row lock, only if nobody replaced `failed_access_token` meanwhile."""
        from tracker.models.notifications import ChannelCredential

        table = ChannelCredential.__table__
        issued: ZaloTokens | None = None
        try:
            with Session(self._engine) as session, session.begin():
                if self._engine.dialect.name != "postgresql":
                    # SQLite has no row locks; its first write takes the database write lock until commit,
                    # which serialises refreshers across threads and processes the same way. A waiter gives
                    # up after the driver's busy timeout (5 s) and retries later as a transient failure.
                    session.execute(
                        sa.update(table).where(table.c.provider == self._provider).values(version=table.c.version)
                    )
                # SELECT ... FOR UPDATE on PostgreSQL: the row lock serialises refreshers across processes.
                # (SQLite's compiler drops FOR UPDATE; the write above already holds its lock.)
                row = session.execute(
                    sa.select(table).where(table.c.provider == self._provider).with_for_update()
                ).one_or_none()
                if row is None or not row.refresh_token:
                    raise _no_tokens()
                current = self._tokens_of(row)
                if current.access_token != failed_access_token:
                    log.info("%s token already refreshed by another worker", self._provider)
                    return current
                issued = grant(current.refresh_token)
                # The lock makes this a formality; the version check still guarantees that a writer who
                # bypassed the lock is never overwritten.
                result = session.execute(
                    sa.update(table)
                    .where(table.c.provider == self._provider, table.c.version == current.version)
                    .values(
                        access_token=issued.access_token,
                        refresh_token=issued.refresh_token,
                        access_expires_at=issued.access_expires_at,
                        version=current.version + 1,
                        updated_at=datetime.now(UTC),
                    )
                )
                if result.rowcount != 1:
                    # Someone stored a newer pair (an admin's new authorization): keep theirs, retry with it.
                    raise TransientSendError(f"{self._provider} tokens were replaced during the refresh")
        except SQLAlchemyError as exc:
            if issued is None:
                # Lock wait timeouts, "database is locked", a dropped connection: try again later.
                raise TransientSendError(f"cannot refresh {self._provider} tokens: {exc}") from exc
            # Zalo has already spent the old refresh token: the new pair exists only in this process now.
            # Store it on a fresh connection rather than lose it (the connection, not the database, died).
            log.warning("%s tokens refreshed but the store failed (%s); storing them again", self._provider, exc)
            return self._store_issued(issued, current.version)
        log.info("%s access token refreshed (version %d)", self._provider, current.version + 1)
        return replace(issued, version=current.version + 1)

    def _store_issued(self, issued: ZaloTokens, version: int) -> ZaloTokens:
        """Store a pair Zalo issued after the refresh transaction failed; several tries, version-checked."""
        from tracker.models.notifications import ChannelCredential

        table = ChannelCredential.__table__
        error: Exception | None = None
        for attempt in range(STORE_TRIES):
            if attempt:
                time.sleep(min(0.5 * 2 ** (attempt - 1), 4.0))  # a restarting server needs a moment
            try:
                with self._engine.begin() as conn:
                    stored = conn.execute(
                        sa.update(table)
                        .where(table.c.provider == self._provider, table.c.version == version)
                        .values(access_token=issued.access_token, refresh_token=issued.refresh_token,
                                access_expires_at=issued.access_expires_at, version=version + 1,
                                updated_at=datetime.now(UTC))
                    ).rowcount
                if stored != 1:
                    # An admin stored a new authorization meanwhile: theirs is newer than ours.
                    raise TransientSendError(f"{self._provider} tokens were replaced during the refresh")
                log.info("%s access token refreshed (version %d) on a second connection", self._provider,
                         version + 1)
                return replace(issued, version=version + 1)
            except SQLAlchemyError as exc:
                error = exc
        log.error("%s tokens refreshed but not stored; re-authorize the Official Account (tracker zalo authorize)",
                  self._provider)
        raise TransientSendError(f"cannot store the refreshed {self._provider} tokens: {error}") from error

    def _tokens_of(self, row: object | None) -> ZaloTokens:
        if row is None or not getattr(row, "access_token", None) or not getattr(row, "refresh_token", None):
            raise _no_tokens()
        expires_at = row.access_expires_at  # type: ignore[attr-defined]
        if expires_at is not None and expires_at.tzinfo is None:
            # The model's UTC type makes values aware; a naive one can only be UTC from our own writes.
            expires_at = expires_at.replace(tzinfo=UTC)
        return ZaloTokens(
            access_token=row.access_token,  # type: ignore[attr-defined]
            refresh_token=row.refresh_token,  # type: ignore[attr-defined]
            access_expires_at=expires_at,
            version=row.version,  # type: ignore[attr-defined]
        )
