"""The Zalo channel: ZNS template messages to phone numbers and OA messages to followers.

Endpoints (Zalo for Developers documentation, developers.zalo.me):
- ZNS: POST {ZALO_ZNS_URL}/message/template, header `access_token`, JSON
  {phone: "84xxxxxxxxx", template_id, template_data: {...}, tracking_id}; success
  {"error": 0, "message": "Success", "data": {"msg_id": ..., "sent_time": ..., "quota": {...}}}.
- OA customer-service message (Message V3): POST {ZALO_OPENAPI_URL}/v3.0/oa/message/cs, header
  `access_token`, JSON {recipient: {user_id}, message: {text}}; success
  {"error": 0, "message": "Success", "data": {"message_id": ..., "user_id": ...}}.
- Access token refresh (OA authorization v4): POST {ZALO_OAUTH_URL}/v4/oa/access_token, header
  `secret_key`, form {app_id, grant_type: "refresh_token", refresh_token}; success
  {"access_token": ..., "refresh_token": ..., "expires_in": "90000"} with a NEW single-use refresh
  token; failure {"error": <negative code>, "error_name": ..., "error_reason": ..., ...}.
Zalo answers HTTP 200 for business errors and puts the code in `error`.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tracker.notify.base import (
    OutgoingMessage,
    PermanentSendError,
    QuotaExceeded,
    QuotaWait,
    ReauthRequired,
    SendResult,
    TransientSendError,
)
from tracker.notify.zalo_tokens import TokenStore, ZaloTokens

log = logging.getLogger("tracker.notify")

ZNS_PATH = "/message/template"
OA_CS_PATH = "/v3.0/oa/message/cs"
OAUTH_TOKEN_PATH = "/v4/oa/access_token"

DEFAULT_OAUTH_URL = "https://oauth.zaloapp.com"
DEFAULT_OPENAPI_URL = "https://openapi.zalo.me"
DEFAULT_ZNS_URL = "https://business.openapi.zalo.me"
DEFAULT_TIMEOUT = 10.0

# OA customer-service text messages are limited to 2,000 characters.
OA_TEXT_LIMIT = 2000


class ZaloError(enum.Enum):
    """What a Zalo error code means for the sender."""

    ACCESS_TOKEN = "access_token"  # refresh the access token and retry once
    CREDENTIALS = "credentials"  # app id, secret or OA link broken: an admin must fix it
    TRANSIENT = "transient"  # Zalo-side failure: retry later with backoff
    QUOTA = "quota"  # quota, balance or rate limit: wait without spending attempts (see ZALO_QUOTA_WAITS)
    PERMANENT = "permanent"  # this message can never go out as is


# Sources: the ZNS error table "Cách xử lý mã lỗi" (zalo.cloud/zns/guidelines/handle-error-code, also
# developers.zalo.me/docs/zalo-notification-service/phu-luc/bang-ma-loi) for the -1xx codes, and the
# Official Account API error table (developers.zalo.me/docs/official-account/phu-luc/ma-loi) for the
# OA codes (-32, -2xx). A code missing here is treated as transient: the dispatcher retries it with
# backoff and marks the row dead after N tries, so an unknown code costs retries, never a lost message.
ZALO_ERRORS: dict[int, tuple[ZaloError, str]] = {
    # ZNS (business.openapi.zalo.me)
    -100: (ZaloError.TRANSIENT, "unknown error, try again later"),
    -101: (ZaloError.CREDENTIALS, "application invalid"),
    -102: (ZaloError.CREDENTIALS, "application does not exist"),
    -103: (ZaloError.CREDENTIALS, "application not activated"),
    -104: (ZaloError.CREDENTIALS, "application secret key invalid"),
    -105: (ZaloError.CREDENTIALS, "application not linked to an Official Account"),
    -106: (ZaloError.PERMANENT, "method unsupported"),
    -107: (ZaloError.PERMANENT, "message id invalid"),
    -108: (ZaloError.PERMANENT, "phone number invalid"),
    -109: (ZaloError.PERMANENT, "template id invalid"),
    -110: (ZaloError.PERMANENT, "recipient's Zalo version unsupported"),
    -111: (ZaloError.PERMANENT, "template data empty"),
    -112: (ZaloError.PERMANENT, "template data invalid"),
    -113: (ZaloError.PERMANENT, "button invalid"),
    -114: (ZaloError.PERMANENT, "recipient inactive, refuses ZNS or uses an outdated Zalo"),
    -115: (ZaloError.QUOTA, "ZNS balance exhausted (out of quota)"),
    -116: (ZaloError.PERMANENT, "content invalid"),
    -117: (ZaloError.PERMANENT, "OA or app may not use this template"),
    -118: (ZaloError.PERMANENT, "Zalo account does not exist or is disabled"),
    -119: (ZaloError.PERMANENT, "account cannot receive ZNS"),
    -120: (ZaloError.PERMANENT, "OA lacks permission for this feature"),
    -121: (ZaloError.PERMANENT, "body data empty"),
    -122: (ZaloError.PERMANENT, "body format invalid"),
    -124: (ZaloError.ACCESS_TOKEN, "access token invalid or expired"),
    -144: (ZaloError.QUOTA, "OA daily ZNS quota exceeded"),
    # Official Account API (openapi.zalo.me)
    -32: (ZaloError.QUOTA, "request rate limit exceeded"),
    -201: (ZaloError.PERMANENT, "parameter invalid"),
    -211: (ZaloError.QUOTA, "OA message quota exceeded"),
    -213: (ZaloError.PERMANENT, "user does not follow the OA"),
    -216: (ZaloError.ACCESS_TOKEN, "access token invalid or expired"),
    -230: (ZaloError.PERMANENT, "user has not interacted with the OA in the last 7 days"),
}

#: For the QUOTA codes: when to try again, and whether the whole channel (not only this recipient) waits.
#: A daily quota resets the next day; a prepaid ZNS balance needs someone to top it up; a rate limit
#: passes in a minute. -211 counts the OA's messages to one follower, so only that row waits.
ZALO_QUOTA_WAITS: dict[int, tuple[QuotaWait, bool]] = {
    -115: (QuotaWait.ADMIN, True),
    -144: (QuotaWait.NEXT_WORKING_DAY, True),
    -32: (QuotaWait.SHORTLY, True),
    -211: (QuotaWait.NEXT_WORKING_DAY, False),
}


#: PERMANENT codes that speak of the recipient alone (dead at once, whatever the rest of the batch does).
RECIPIENT_ERRORS = frozenset({-108, -110, -114, -118, -119, -213, -230})


class AccessTokenRejected(ReauthRequired):
    """Zalo refused the access token; a refresh may cure it."""


@dataclass(frozen=True, slots=True)
class ZaloConfig:
    """How to reach Zalo and who we are there."""

    app_id: str
    secret_key: str
    oauth_url: str = DEFAULT_OAUTH_URL
    openapi_url: str = DEFAULT_OPENAPI_URL
    zns_url: str = DEFAULT_ZNS_URL
    timeout: float = DEFAULT_TIMEOUT
    # Refresh ahead of expiry so a send never races the clock.
    refresh_margin: timedelta = timedelta(minutes=5)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> ZaloConfig:
        """Read the ZALO_* keys of the app config (ZALO_APP_ID, ZALO_SECRET_KEY, URLs, ZALO_TIMEOUT_SECONDS)."""
        app_id, secret_key = config.get("ZALO_APP_ID"), config.get("ZALO_SECRET_KEY")
        if not app_id or not secret_key:
            raise ValueError("ZALO_APP_ID and ZALO_SECRET_KEY must be set to use Zalo")
        return cls(
            app_id=str(app_id),
            secret_key=str(secret_key),
            oauth_url=config.get("ZALO_OAUTH_URL") or DEFAULT_OAUTH_URL,
            openapi_url=config.get("ZALO_OPENAPI_URL") or DEFAULT_OPENAPI_URL,
            zns_url=config.get("ZALO_ZNS_URL") or DEFAULT_ZNS_URL,
            timeout=float(config.get("ZALO_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT),
        )


_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
# Vietnamese mobile numbers: 0 + 9 digits, the first one 3, 5, 7, 8 or 9 (since the 2018 renumbering).
_MOBILE_NATIONAL = re.compile(r"[35789]\d{8}")


def normalize_phone(raw: str) -> str:
    """Return a Vietnamese mobile number as ZNS wants it (84xxxxxxxxx) or raise PermanentSendError."""
    digits = _PHONE_SEPARATORS.sub("", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("0084"):
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("84"):
        national = digits[2:]
    elif len(digits) == 10 and digits.startswith("0"):
        national = digits[1:]
    elif len(digits) == 9:
        national = digits  # a spreadsheet dropped the leading zero
    else:
        national = ""
    if not _MOBILE_NATIONAL.fullmatch(national):
        raise PermanentSendError(f"not a Vietnamese mobile number: {raw!r}", recipient=True)
    return "84" + national


class ZaloClient:
    """A synchronous client for the few Zalo endpoints we use, with token refresh built in."""

    def __init__(
        self,
        config: ZaloConfig,
        tokens: TokenStore,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._http = http or httpx.Client(timeout=config.timeout)
        self._owns_http = http is None
        self._clock = clock

    def close(self) -> None:
        """Close the HTTP connection pool if this client created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> ZaloClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- sending ----------------------------------------------------------------------------------

    def send_zns(self, phone: str, template_id: str, template_data: Mapping[str, Any], tracking_id: str) -> str:
        """Send a ZNS template message to a phone number; return Zalo's msg_id."""
        payload = {
            "phone": normalize_phone(phone),
            "template_id": template_id,
            "template_data": dict(template_data),
            "tracking_id": tracking_id,
        }
        data = self._authorized_post(self._config.zns_url + ZNS_PATH, payload)
        return str(data.get("msg_id") or "")

    def send_oa_text(self, user_id: str, text: str) -> str:
        """Send a customer-service text message to an OA follower; return Zalo's message_id."""
        if not user_id.strip():
            raise PermanentSendError("no Zalo user id", recipient=True)
        if len(text) > OA_TEXT_LIMIT:
            # Zalo refuses longer texts outright; a cut reminder still carries the link at the top.
            text = text[: OA_TEXT_LIMIT - 1] + "…"
        payload = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        data = self._authorized_post(self._config.openapi_url + OA_CS_PATH, payload)
        return str(data.get("message_id") or "")

    # --- tokens -----------------------------------------------------------------------------------

    def refresh_access_token(self, refresh_token: str) -> ZaloTokens:
        """Exchange a refresh token for a new pair (the old refresh token dies with this call)."""
        response = self._request(
            self._config.oauth_url + OAUTH_TOKEN_PATH,
            headers={"secret_key": self._config.secret_key},
            data={
                "app_id": self._config.app_id,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
        )
        body = _json_body(response)
        if body.get("access_token") and body.get("refresh_token"):
            expires_in = int(body.get("expires_in") or 0)
            return ZaloTokens(
                access_token=str(body["access_token"]),
                refresh_token=str(body["refresh_token"]),
                access_expires_at=self._clock() + timedelta(seconds=expires_in) if expires_in else None,
            )
        reason = body.get("error_reason") or body.get("error_description") or body.get("error_name") or body
        raise ReauthRequired(f"Zalo refused the refresh token: {reason}", code=body.get("error"))

    def _current_tokens(self) -> ZaloTokens:
        tokens = self._tokens.load()
        if tokens.expires_within(self._clock(), self._config.refresh_margin):
            tokens = self._tokens.refresh(tokens.access_token, self.refresh_access_token)
        return tokens

    def _authorized_post(self, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        tokens = self._current_tokens()
        try:
            return self._api_post(url, tokens.access_token, payload)
        except AccessTokenRejected:
            log.info("Zalo rejected the access token; refreshing and retrying once")
        # Zalo did not accept the message, so sending it again cannot duplicate it.
        tokens = self._tokens.refresh(tokens.access_token, self.refresh_access_token)
        return self._api_post(url, tokens.access_token, payload)

    # --- HTTP -------------------------------------------------------------------------------------

    def _api_post(self, url: str, access_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = self._request(url, headers={"access_token": access_token}, json=payload)
        body = _json_body(response)
        code = _error_code(body)
        if code == 0:
            data = body.get("data")
            return data if isinstance(data, dict) else {}
        kind, meaning = ZALO_ERRORS.get(code, (ZaloError.TRANSIENT, "unknown error code"))
        reason = f"Zalo: {meaning}: {body.get('message', '')}".rstrip(": ")
        match kind:
            case ZaloError.ACCESS_TOKEN:
                raise AccessTokenRejected(reason, code=code)
            case ZaloError.CREDENTIALS:
                raise ReauthRequired(reason, code=code)
            case ZaloError.PERMANENT:
                raise PermanentSendError(reason, code=code, recipient=code in RECIPIENT_ERRORS)
            case ZaloError.QUOTA:
                wait, channel_wide = ZALO_QUOTA_WAITS.get(code, (QuotaWait.SHORTLY, True))
                raise QuotaExceeded(reason, code=code, wait=wait, channel_wide=channel_wide)
            case _:
                raise TransientSendError(reason, code=code)

    def _request(self, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.post(url, timeout=self._config.timeout, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientSendError(f"Zalo did not answer in {self._config.timeout:g} s: {url}") from exc
        except httpx.ConnectError as exc:
            # Nothing reached Zalo: the channel is down for every message, not this one.
            raise TransientSendError(f"cannot reach Zalo: {exc!r}", connect=True) from exc
        except httpx.TransportError as exc:
            raise TransientSendError(f"cannot reach Zalo: {exc!r}") from exc


def _json_body(response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    if status == 429:
        raise QuotaExceeded("Zalo answered HTTP 429 (too many requests)", code=status, wait=QuotaWait.SHORTLY)
    if status >= 500 or status == 408:
        raise TransientSendError(f"Zalo answered HTTP {status}", code=status)
    if status >= 400:
        raise PermanentSendError(f"Zalo answered HTTP {status}: {response.text[:200]}", code=status)
    try:
        body = response.json()
    except ValueError as exc:
        raise TransientSendError(f"Zalo answered something other than JSON: {response.text[:200]!r}") from exc
    if not isinstance(body, dict):
        raise TransientSendError(f"unexpected Zalo answer: {body!r}")
    return body


def _error_code(body: dict[str, Any]) -> int:
    try:
        return int(body.get("error", -100))
    except (TypeError, ValueError):
        return -100


class ZaloChannel:
    """Deliver `OutgoingMessage`s over Zalo.

    A message with a `template_key` goes out as ZNS to the phone number in `recipient` (paid, reaches
    anyone with Zalo); one without goes out as an OA text to the Zalo user id in `recipient` (free,
    only to followers who interacted recently).
    """

    name = "zalo"

    def __init__(self, client: ZaloClient) -> None:
        self._client = client

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send one message; raise a SendError subclass on failure."""
        if not message.recipient.strip():
            raise PermanentSendError("the person has no Zalo phone number or user id", recipient=True)
        if message.template_key:
            msg_id = self._client.send_zns(
                message.recipient, message.template_key, message.template_data, message.tracking_id
            )
        else:
            text = message.text
            if message.link and message.link not in text:
                text = f"{text}\n{message.link}" if text else message.link
            if not text:
                raise PermanentSendError("empty Zalo message")
            msg_id = self._client.send_oa_text(message.recipient, text)
        return SendResult(provider_message_id=msg_id or None)
