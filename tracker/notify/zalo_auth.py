"""Connecting the Zalo Official Account: the first token pair, by OAuth v4 authorization code with PKCE.

The refresh logic in zalo.py / zalo_tokens.py keeps a token pair alive, but someone must obtain the first
pair. An OA admin does that once (and again if the refresh token ever dies):

1. `start(redirect_uri)` makes a PKCE code_verifier, its S256 code_challenge and a random state, stores
   the verifier and state in the database, and returns the permission URL
   {ZALO_OAUTH_URL}/v4/oa/permission?app_id=..&redirect_uri=..&code_challenge=..&state=..
2. The admin opens it, signed in to Zalo as an OA administrator, and approves; Zalo redirects the browser
   to redirect_uri?code=..&oa_id=..&state=..
3. `exchange(code, state)` posts to {ZALO_OAUTH_URL}/v4/oa/access_token with header `secret_key` and form
   {app_id, grant_type: "authorization_code", code, code_verifier}; Zalo answers
   {"access_token", "refresh_token", "expires_in"} (or HTTP 200 with a negative `error`), and the pair is
   stored with SqlTokenStore.save().

Sources (looked up for this module):
- Token exchange (URL, `secret_key` header, form fields, grant_type=authorization_code, the OA callback
  URL set in the app's settings at developers.zalo.me):
  https://beehexa.com/devdocs/zalo-oa-tutorial-creating-access-token ("Zalo OA Tutorial - Creating
  Access Token"); Zalo's own page is "Xác thực và ủy quyền cho ứng dụng" under
  https://developers.zalo.me/docs/official-account/ (not retrievable from here).
- PKCE as Zalo computes it: zaloplatform/zalo-php-sdk, src/Util/PKCEUtil.php (32 random bytes,
  base64url without padding; challenge = base64url(sha256(verifier))), i.e. RFC 7636 S256; the OA
  permission URL carries only code_challenge, no code_challenge_method.

Why the database and not memory or a signed cookie: several web processes may serve the callback, and a
signed token would have to travel through the browser and Zalo, exposing the verifier PKCE must keep
secret. So the pending authorization is the `channel_credentials` row of provider "zalo_pending", read by
whichever process handles the callback. Only the latest authorization request is pending: starting
another one makes the older link fail with a state mismatch.

Like SqlTokenStore, every database call here runs in its own short transaction on its own connection
(never the caller's session), and no lock is held while Zalo is called: two processes exchanging the same
code both reach Zalo, which accepts the single-use code once and refuses the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tracker.notify.zalo import OAUTH_TOKEN_PATH, ZaloConfig
from tracker.notify.zalo_tokens import ZALO_PROVIDER, SqlTokenStore, ZaloTokens
from tracker.sqlutil import insert_ignoring_conflicts

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("tracker.notify")

PERMISSION_PATH = "/v4/oa/permission"
PENDING_PROVIDER = "zalo_pending"
#: How long an authorization request waits for its code (Zalo's codes themselves live only minutes).
PENDING_TTL = timedelta(minutes=30)
# 32 random bytes give a 43-character verifier, RFC 7636's minimum, as in Zalo's PHP SDK.
_VERIFIER_BYTES = 32


class ZaloAuthError(Exception):
    """Connecting Zalo failed; the message is Vietnamese, then English.

    `kind` is stable for callers: not_configured, bad_redirect_uri, missing_code, no_pending,
    pending_expired, state_mismatch, code_rejected, zalo_unreachable, zalo_error, store_failed, bad_token.
    `transient` says that trying the same thing again later may work.
    """

    def __init__(
        self, kind: str, vi: str, en: str, *, transient: bool = False, zalo_code: int | str | None = None
    ) -> None:
        super().__init__(f"{vi} / {en}")
        self.kind = kind
        self.vi = vi
        self.en = en
        self.transient = transient
        self.zalo_code = zalo_code


# --- PKCE and the permission URL -------------------------------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_code_verifier() -> str:
    """A fresh PKCE code_verifier: 43 characters of [A-Za-z0-9_-]."""
    return _b64url(secrets.token_bytes(_VERIFIER_BYTES))


def code_challenge(verifier: str) -> str:
    """The S256 code_challenge of `verifier`: base64url(sha256(verifier)), unpadded."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def make_state() -> str:
    """A fresh, unguessable OAuth state."""
    return secrets.token_urlsafe(24)


def permission_url(config: ZaloConfig, redirect_uri: str, challenge: str, state: str) -> str:
    """The URL an OA admin opens to grant the app access to the Official Account."""
    query = urlencode(
        {"app_id": config.app_id, "redirect_uri": redirect_uri, "code_challenge": challenge, "state": state}
    )
    return f"{config.oauth_url.rstrip('/')}{PERMISSION_PATH}?{query}"


def check_redirect_uri(redirect_uri: str) -> str:
    """Return the redirect URI stripped, or raise ZaloAuthError if it is not an absolute http(s) URL."""
    uri = (redirect_uri or "").strip()
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise ZaloAuthError(
            "bad_redirect_uri",
            f"Địa chỉ chuyển hướng không hợp lệ: {uri!r}. Cần một URL http(s) đầy đủ, trùng với "
            "“Official Account Callback URL” đã khai báo cho ứng dụng trên developers.zalo.me",
            f"Invalid redirect URI {uri!r}: it must be an absolute http(s) URL, the same as the app's "
            "“Official Account Callback URL” at developers.zalo.me",
        )
    return uri


@dataclass(frozen=True, slots=True)
class CallbackParams:
    """What Zalo's redirect after approval carries."""

    code: str
    state: str | None = None
    oa_id: str | None = None


def parse_callback(text: str) -> CallbackParams:
    """Read a bare code, or the whole address Zalo redirected to (redirect_uri?code=..&oa_id=..&state=..)."""
    text = (text or "").strip()
    if "code=" in text:
        query = urlsplit(text).query if "?" in text or "://" in text else text
        params = {k: v[0] for k, v in parse_qs(query).items()}
        return CallbackParams(params.get("code", "").strip(), params.get("state"), params.get("oa_id"))
    return CallbackParams(text)


# --- the pending authorization ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    """An authorization request waiting for its code.

    Stored in the channel_credentials row of provider "zalo_pending": access_token = state,
    refresh_token = code_verifier, access_expires_at = when the request expires, updated_at = when made.
    """

    state: str
    code_verifier: str
    expires_at: datetime
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """What `start` hands back: the URL to open and until when the answer is awaited."""

    url: str
    state: str
    expires_at: datetime


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _not_configured() -> ZaloAuthError:
    return ZaloAuthError(
        "not_configured",
        "Chưa cấu hình Zalo: đặt ZALO_APP_ID và ZALO_SECRET_KEY (ID và khóa bí mật của ứng dụng trên "
        "developers.zalo.me)",
        "Zalo is not configured: set ZALO_APP_ID and ZALO_SECRET_KEY (the app's ID and secret key at "
        "developers.zalo.me)",
    )


def _table() -> sa.Table:
    from tracker.models.notifications import ChannelCredential

    return ChannelCredential.__table__  # type: ignore[return-value]


class ZaloAuthorizer:
    """Runs the OA authorization: start a request, exchange the code Zalo returns, store the pair."""

    def __init__(
        self,
        config: ZaloConfig,
        engine: Engine,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pending_ttl: timedelta = PENDING_TTL,
    ) -> None:
        self._config = config
        self._engine = engine
        self._http = http
        self._clock = clock
        self._pending_ttl = pending_ttl

    @classmethod
    def from_app(cls, **kwargs: Any) -> ZaloAuthorizer:
        """Build one from the current app's ZALO_* settings and database engine."""
        from flask import current_app

        from tracker.extensions import db

        return cls(load_config(current_app.config), db.engine, **kwargs)

    # --- step 1 -----------------------------------------------------------------------------------

    def start(self, redirect_uri: str) -> AuthorizationRequest:
        """Make a new authorization request (replacing any pending one) and return its permission URL."""
        redirect_uri = check_redirect_uri(redirect_uri)
        verifier, state = make_code_verifier(), make_state()
        now = self._clock()
        expires_at = now + self._pending_ttl
        table = _table()
        with Session(self._engine) as session, session.begin():
            # Create the row if missing (concurrent starts: one inserts, both update; the last one wins).
            session.execute(
                insert_ignoring_conflicts(session, table, ["provider"]).values(provider=PENDING_PROVIDER, version=0)
            )
            session.execute(
                sa.update(table)
                .where(table.c.provider == PENDING_PROVIDER)
                .values(
                    access_token=state,
                    refresh_token=verifier,
                    access_expires_at=expires_at,
                    version=table.c.version + 1,
                    updated_at=now,
                )
            )
        log.info("Zalo OA authorization started (expires %s)", expires_at.isoformat())
        url = permission_url(self._config, redirect_uri, code_challenge(verifier), state)
        return AuthorizationRequest(url=url, state=state, expires_at=expires_at)

    def pending(self) -> PendingAuthorization | None:
        """The authorization request awaiting its code, expired or not; None if there is none."""
        return read_pending(self._engine)

    # --- step 3 -----------------------------------------------------------------------------------

    def exchange(self, code: str, state: str | None = None) -> ZaloTokens:
        """Exchange the code Zalo returned for a token pair, store it and return it.

        `state` is the one on Zalo's redirect; a web callback must pass it. An admin pasting only the code
        may leave it out: the code is still bound to the pending request by its code_verifier.
        """
        code = (code or "").strip()
        if not code:
            raise ZaloAuthError(
                "missing_code",
                "Thiếu mã cấp quyền (tham số code trên địa chỉ Zalo chuyển về)",
                "The authorization code is missing (the code parameter of the address Zalo redirected to)",
            )
        pending = self.pending()
        if pending is None:
            raise ZaloAuthError(
                "no_pending",
                "Không có yêu cầu cấp quyền nào đang chờ; hãy chạy `tracker zalo authorize` trước",
                "No authorization request is pending; run `tracker zalo authorize` first",
            )
        if state is not None and not hmac.compare_digest(state.strip().encode(), pending.state.encode()):
            raise ZaloAuthError(
                "state_mismatch",
                "Mã state không khớp với yêu cầu cấp quyền gần nhất (liên kết cũ, hoặc không do hệ thống này "
                "tạo). Hãy chạy lại `tracker zalo authorize` và mở liên kết mới",
                "The state does not match the latest authorization request (an old link, or one this system "
                "did not make). Run `tracker zalo authorize` again and open the new link",
            )
        if pending.expires_at <= self._clock():
            raise ZaloAuthError(
                "pending_expired",
                "Yêu cầu cấp quyền đã quá hạn; hãy chạy lại `tracker zalo authorize`",
                "The authorization request has expired; run `tracker zalo authorize` again",
            )
        tokens = self._request_tokens(code, pending.code_verifier)
        try:
            saved = SqlTokenStore(self._engine, ZALO_PROVIDER).save(tokens)
        except SQLAlchemyError as exc:
            # Zalo has spent the code; nothing but a new authorization gets another pair.
            log.error("Zalo granted tokens for the authorization code but the database could not store them")
            raise ZaloAuthError(
                "store_failed",
                "Zalo đã cấp mã truy cập nhưng không lưu được vào cơ sở dữ liệu; hãy kiểm tra cơ sở dữ liệu "
                "rồi chạy lại `tracker zalo authorize`",
                "Zalo granted the tokens but the database could not store them; check the database, then run "
                "`tracker zalo authorize` again",
            ) from exc
        self._clear_pending(pending.state)
        log.info("Zalo OA connected (token version %d)", saved.version)
        return saved

    def _clear_pending(self, state: str) -> None:
        table = _table()
        try:
            with Session(self._engine) as session, session.begin():
                # Only the request this exchange used: an admin may have started a newer one meanwhile.
                session.execute(
                    sa.delete(table).where(table.c.provider == PENDING_PROVIDER, table.c.access_token == state)
                )
        except SQLAlchemyError:
            # Harmless: the tokens are stored, and the request expires on its own.
            log.warning("could not delete the used Zalo authorization request", exc_info=True)

    def _request_tokens(self, code: str, verifier: str) -> ZaloTokens:
        url = self._config.oauth_url.rstrip("/") + OAUTH_TOKEN_PATH
        form = {
            "app_id": self._config.app_id,
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
        }
        headers = {"secret_key": self._config.secret_key}
        timeout = self._config.timeout
        try:
            if self._http is not None:
                response = self._http.post(url, headers=headers, data=form, timeout=timeout)
            else:
                with httpx.Client(timeout=timeout) as http:
                    response = http.post(url, headers=headers, data=form)
        except httpx.TimeoutException as exc:
            vi, en = f"Zalo không trả lời trong {timeout:g} giây", f"Zalo did not answer in {timeout:g} s"
            raise _unreachable(vi, en, url) from exc
        except httpx.TransportError as exc:
            vi, en = "Không kết nối được tới Zalo", f"Cannot reach Zalo ({type(exc).__name__})"
            raise _unreachable(vi, en, url) from exc
        return self._tokens_of(response)

    def _tokens_of(self, response: httpx.Response) -> ZaloTokens:
        status = response.status_code
        if status >= 400:
            if status >= 500 or status in (408, 429):
                vi, en = _RETRY_VI, _RETRY_EN
            else:
                vi, en = "kiểm tra ZALO_OAUTH_URL", "check ZALO_OAUTH_URL"
            raise ZaloAuthError(
                "zalo_error",
                f"Zalo trả lời lỗi HTTP {status}; {vi}",
                f"Zalo answered HTTP {status}; {en}",
                transient=vi is _RETRY_VI,
                zalo_code=status,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ZaloAuthError(
                "zalo_error",
                "Zalo trả lời không đúng định dạng mong đợi; hãy thử lại sau",
                f"Zalo answered something unexpected: {response.text[:120]!r}; try again later",
                transient=True,
            )
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if access and refresh:
            try:
                expires_in = int(body.get("expires_in") or 0)
            except (TypeError, ValueError):
                expires_in = 0
            expires_at = self._clock() + timedelta(seconds=expires_in) if expires_in > 0 else None
            return ZaloTokens(access_token=str(access), refresh_token=str(refresh), access_expires_at=expires_at)
        zalo_code = body.get("error")
        reason = body.get("error_reason") or body.get("error_description") or body.get("error_name") or "no reason"
        # Zalo answers HTTP 200 with a negative `error`. Its codes for this grant are not documented where we
        # could read them, so Zalo's own reason is passed on rather than guessed at.
        raise ZaloAuthError(
            "code_rejected",
            f"Zalo từ chối mã cấp quyền (mã lỗi {zalo_code}: {reason}). Thường do mã đã dùng, hết hạn, hoặc thuộc "
            "một lần cấp quyền khác; cũng có thể ZALO_APP_ID/ZALO_SECRET_KEY sai. Hãy chạy lại "
            "`tracker zalo authorize` và dùng mã mới",
            f"Zalo refused the authorization code (error {zalo_code}: {reason}). Usually the code was already "
            "used, has expired, or belongs to another authorization request; ZALO_APP_ID/ZALO_SECRET_KEY may "
            "also be wrong. Run `tracker zalo authorize` again and use the new code",
            zalo_code=zalo_code,
        )


_RETRY_VI = "hãy thử lại sau với cùng mã nếu mã chưa hết hạn"
_RETRY_EN = "try again later with the same code if it has not expired"


def _unreachable(vi: str, en: str, url: str) -> ZaloAuthError:
    return ZaloAuthError("zalo_unreachable", f"{vi} ({url}); {_RETRY_VI}", f"{en} ({url}); {_RETRY_EN}", transient=True)


def load_config(config: Mapping[str, Any]) -> ZaloConfig:
    """ZaloConfig from the app config, or ZaloAuthError(not_configured)."""
    try:
        return ZaloConfig.from_mapping(config)
    except ValueError as exc:
        raise _not_configured() from exc


def read_pending(engine: Engine) -> PendingAuthorization | None:
    """The stored authorization request, expired or not; None if there is none."""
    table = _table()
    with Session(engine) as session:
        row = session.execute(sa.select(table).where(table.c.provider == PENDING_PROVIDER)).one_or_none()
    if row is None or not row.access_token or not row.refresh_token or row.access_expires_at is None:
        return None
    return PendingAuthorization(
        state=row.access_token,
        code_verifier=row.refresh_token,
        expires_at=_aware(row.access_expires_at),  # type: ignore[arg-type]
        created_at=_aware(row.updated_at),
    )


# --- tokens an admin obtained elsewhere ------------------------------------------------------------


def check_token(value: str, what: str) -> str:
    """A token as pasted or read from a file: stripped, one word, not empty."""
    token = (value or "").strip()
    if not token or any(ch.isspace() for ch in token):
        raise ZaloAuthError(
            "bad_token",
            f"{what.capitalize()} trống hoặc có khoảng trắng bên trong; mỗi tệp chỉ chứa đúng một mã",
            f"The {what} is empty or contains whitespace; each file must hold exactly one token",
        )
    return token


def store_tokens(
    engine: Engine,
    access_token: str,
    refresh_token: str,
    *,
    expires_in: int | None = None,
    now: datetime | None = None,
) -> ZaloTokens:
    """Store a pair an admin obtained by hand (Zalo's API explorer), replacing the current one.

    `expires_in` is the access token's remaining lifetime in seconds, if known; without it the client
    refreshes the first time Zalo rejects the access token.
    """
    access = check_token(access_token, "access token")
    refresh = check_token(refresh_token, "refresh token")
    if access == refresh:
        raise ZaloAuthError(
            "bad_token",
            "Access token và refresh token giống nhau; hãy kiểm tra lại hai tệp",
            "The access token and the refresh token are the same; check the two files",
        )
    moment = now or datetime.now(UTC)
    expires_at = moment + timedelta(seconds=expires_in) if expires_in else None
    return SqlTokenStore(engine, ZALO_PROVIDER).save(ZaloTokens(access, refresh, expires_at))


# --- status ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZaloStatus:
    """Whether Zalo is usable, without any token in it."""

    configured: bool
    connected: bool
    access_expires_at: datetime | None
    token_version: int | None
    tokens_updated_at: datetime | None
    pending_expires_at: datetime | None  # an authorization request still awaiting its code
    now: datetime

    @property
    def access_expired(self) -> bool:
        """The access token has expired (the next send refreshes it with the refresh token)."""
        return self.access_expires_at is not None and self.access_expires_at <= self.now

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (ISO-8601 UTC times)."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "configured": self.configured,
            "connected": self.connected,
            "access_expires_at": iso(self.access_expires_at),
            "access_expired": self.access_expired,
            "token_version": self.token_version,
            "tokens_updated_at": iso(self.tokens_updated_at),
            "authorization_pending_until": iso(self.pending_expires_at),
        }

    def lines(self, fmt: Callable[[datetime], str]) -> list[str]:
        """Human-readable lines, Vietnamese / English; `fmt` renders a time (local dd/mm/yyyy HH:MM)."""
        out = []
        if not self.configured:
            out.append("Cấu hình: thiếu ZALO_APP_ID hoặc ZALO_SECRET_KEY / Config: ZALO_APP_ID or ZALO_SECRET_KEY "
                       "not set")
        if not self.connected:
            out.append("Zalo: CHƯA kết nối / NOT connected (tracker zalo authorize, tracker zalo set-tokens)")
        else:
            out.append(f"Zalo: đã kết nối / connected (phiên bản mã / token version {self.token_version})")
            if self.access_expires_at is None:
                out.append("Access token: không rõ hạn / expiry unknown")
            elif self.access_expired:
                out.append(
                    f"Access token: đã hết hạn lúc {fmt(self.access_expires_at)}, sẽ tự làm mới khi gửi tin / "
                    f"expired at {fmt(self.access_expires_at)}, renewed automatically on the next send"
                )
            else:
                out.append(f"Access token: còn hạn đến / valid until {fmt(self.access_expires_at)}")
            if self.tokens_updated_at is not None:
                out.append(f"Cập nhật lần cuối / last updated: {fmt(self.tokens_updated_at)}")
        if self.pending_expires_at is not None:
            out.append(
                f"Đang chờ mã cấp quyền đến / authorization awaiting its code until {fmt(self.pending_expires_at)}"
            )
        return out


def status(engine: Engine, config: Mapping[str, Any], now: datetime | None = None) -> ZaloStatus:
    """Summarise the Zalo connection: configured, connected, when the access token expires."""
    moment = now or datetime.now(UTC)
    table = _table()
    with Session(engine) as session:
        rows = {
            row.provider: row
            for row in session.execute(
                sa.select(table).where(table.c.provider.in_([ZALO_PROVIDER, PENDING_PROVIDER]))
            )
        }
    tokens = rows.get(ZALO_PROVIDER)
    connected = bool(tokens is not None and tokens.access_token and tokens.refresh_token)
    pending = rows.get(PENDING_PROVIDER)
    pending_until = _aware(pending.access_expires_at) if pending is not None else None
    return ZaloStatus(
        configured=bool(config.get("ZALO_APP_ID") and config.get("ZALO_SECRET_KEY")),
        connected=connected,
        access_expires_at=_aware(tokens.access_expires_at) if connected else None,
        token_version=tokens.version if connected else None,
        tokens_updated_at=_aware(tokens.updated_at) if connected else None,
        pending_expires_at=pending_until if pending_until is not None and pending_until > moment else None,
        now=moment,
    )
