"""A fake of Zalo's OAuth v4, OA Message V3 and ZNS endpoints on 127.0.0.1.

It follows the documented request and response shapes (see tracker/notify/zalo.py and
tracker/notify/zalo_auth.py): the access token travels in the `access_token` header, business errors
come back as HTTP 200 with a negative `error`, each refresh token works once, and so does each
authorization code, which also needs the PKCE code_verifier of the code_challenge it was issued for.
Point ZALO_OAUTH_URL, ZALO_OPENAPI_URL and ZALO_ZNS_URL all at `server.url`.

    server = FakeZaloServer().start()
    tokens = server.issue_tokens()            # what an admin's authorization would store
    code = server.issue_code(challenge)       # what an admin's approval of a permission URL would return
    httpx.get(permission_url)                 # the same through HTTP: 302 to redirect_uri?code=..&oa_id=..&state=..
    server.expire_codes()                     # every authorization code issued so far stops working
    server.expire_access_tokens()             # every issued access token now fails with -124/-216
    server.fail_next("zns", error=ZNS_OUT_OF_QUOTA)
    server.fail_next("cs", status=500)
    server.fail_next("oauth", delay=2.0)      # answer late, to trip a client timeout
    server.requests                           # everything received, in order
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from tests.fakes.ports import free_port

Endpoint = Literal["oauth", "cs", "zns", "permission"]
PATHS: dict[str, Endpoint] = {
    "/v4/oa/access_token": "oauth",
    "/v3.0/oa/message/cs": "cs",
    "/message/template": "zns",
}
# The page where an OA admin approves the app (a GET the admin's browser makes; the fake approves at once).
GET_PATHS: dict[str, Endpoint] = {"/v4/oa/permission": "permission"}

# Codes from Zalo's error tables, as the fake returns them.
ZNS_UNKNOWN_ERROR = -100
ZNS_PHONE_INVALID = -108
ZNS_TEMPLATE_INVALID = -109
ZNS_TEMPLATE_DATA_INVALID = -112
ZNS_OUT_OF_QUOTA = -115
ZNS_ACCESS_TOKEN_INVALID = -124
ZNS_DAILY_QUOTA_EXCEEDED = -144
OA_RATE_LIMIT = -32
OA_PARAMETER_INVALID = -201
OA_NOT_FOLLOWER = -213
OA_ACCESS_TOKEN_INVALID = -216
OAUTH_REFRESH_TOKEN_INVALID = -14014
# Zalo's published table for the v4 OAuth codes was not at hand; -14003 "Invalid parameter" is what
# integrators report for a bad code exchange. tracker/notify/zalo_auth.py does not depend on the value.
OAUTH_INVALID_PARAMETER = -14003
OA_ID = "1032900368756539024"

ACCESS_TOKEN_TTL = 90_000  # seconds; Zalo's OA access tokens last 25 hours


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it."""

    endpoint: Endpoint | None
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class _Fault:
    error: int | None = None
    status: int | None = None
    delay: float = 0.0


@dataclass
class _State:
    app_id: str
    secret_key: str
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    used_refresh_tokens: set[str] = field(default_factory=set)
    codes: dict[str, str] = field(default_factory=dict)  # authorization code -> its code_challenge
    used_codes: set[str] = field(default_factory=set)
    templates: dict[str, set[str]] = field(default_factory=dict)
    followers: set[str] = field(default_factory=set)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: dict[Endpoint, list[_Fault]] = field(default_factory=dict)
    refresh_count: int = 0
    code_exchange_count: int = 0
    refresh_delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeZaloServer:
    """Zalo's three endpoints on an ephemeral loopback port, with scripted faults."""

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        app_id: str = "4321098765432109876",
        secret_key: str = "fake-secret-key",
        templates: dict[str, set[str]] | None = None,
        followers: set[str] | None = None,
    ) -> None:
        self.port = free_port()
        self.state = _State(
            app_id=app_id,
            secret_key=secret_key,
            templates=templates if templates is not None else {"285714": {"officer_name", "task_title", "due_on"}},
            followers=followers if followers is not None else {"8451239876543210987"},
        )
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to use for every Zalo host."""
        return f"http://{self.host}:{self.port}"

    @property
    def app_id(self) -> str:
        return self.state.app_id

    @property
    def secret_key(self) -> str:
        return self.state.secret_key

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests received so far, oldest first."""
        with self.state.lock:
            return list(self.state.requests)

    def requests_to(self, endpoint: Endpoint) -> list[RecordedRequest]:
        """Requests received on one endpoint."""
        return [r for r in self.requests if r.endpoint == endpoint]

    @property
    def refresh_count(self) -> int:
        """How many refreshes succeeded."""
        with self.state.lock:
            return self.state.refresh_count

    @property
    def code_exchange_count(self) -> int:
        """How many authorization codes were exchanged for tokens."""
        with self.state.lock:
            return self.state.code_exchange_count

    # --- scripting --------------------------------------------------------------------------------

    def issue_tokens(self) -> tuple[str, str]:
        """Issue a valid (access token, refresh token) pair, as an OA authorization would."""
        with self.state.lock:
            return self._issue_locked()

    def issue_code(self, code_challenge: str) -> str:
        """Issue an authorization code bound to `code_challenge`, as an admin's approval would."""
        code = f"code-{secrets.token_urlsafe(24)}"
        with self.state.lock:
            self.state.codes[code] = code_challenge
        return code

    def expire_codes(self) -> None:
        """Make every unused authorization code issued so far invalid (Zalo's codes are short-lived)."""
        with self.state.lock:
            self.state.codes.clear()

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far invalid."""
        with self.state.lock:
            self.state.access_tokens.clear()

    def fail_next(
        self, endpoint: Endpoint, *, error: int | None = None, status: int | None = None, delay: float = 0.0
    ) -> None:
        """Make the next request to `endpoint` answer Zalo error `error`, HTTP `status`, or late."""
        with self.state.lock:
            self.state.faults.setdefault(endpoint, []).append(_Fault(error, status, delay))

    def slow_refreshes(self, seconds: float) -> None:
        """Delay every successful refresh, so concurrent refreshers overlap."""
        with self.state.lock:
            self.state.refresh_delay = seconds

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> FakeZaloServer:
        """Serve in a background thread."""
        if self._httpd is None:
            self._stopping.clear()
            handler = type("_BoundHandler", (_Handler,), {"fake": self})
            self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
            self._httpd.daemon_threads = True
            # A short poll interval keeps shutdown() (and so every test teardown) fast.
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-zalo", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wake any handler still sleeping on a delay."""
        if self._httpd is not None:
            self._stopping.set()
            self._httpd.shutdown()
            self._httpd.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._httpd = None
            self._thread = None

    def __enter__(self) -> FakeZaloServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- behaviour (called from handler threads) --------------------------------------------------

    def _issue_locked(self) -> tuple[str, str]:
        access, refresh = f"at-{secrets.token_urlsafe(16)}", f"rt-{secrets.token_urlsafe(16)}"
        self.state.access_tokens.add(access)
        self.state.refresh_tokens.add(refresh)
        return access, refresh

    def _sleep(self, seconds: float) -> None:
        if seconds:
            self._stopping.wait(seconds)

    def _take_fault(self, endpoint: Endpoint) -> _Fault | None:
        with self.state.lock:
            queue = self.state.faults.get(endpoint)
            return queue.pop(0) if queue else None

    def handle(self, endpoint: Endpoint, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        if fault := self._take_fault(endpoint):
            self._sleep(fault.delay)
            if fault.status is not None:
                return fault.status, "Internal Server Error"
            if fault.error is not None:
                return 200, {"error": fault.error, "message": f"scripted error {fault.error}"}
        if endpoint == "permission":
            return self._permission(body)
        if endpoint == "oauth":
            if body.get("grant_type") == "authorization_code":
                return 200, self._authorization_code(headers, body)
            return 200, self._refresh(headers, body)
        token = headers.get("access_token", "")
        with self.state.lock:
            token_ok = token in self.state.access_tokens
        if endpoint == "zns":
            return 200, self._zns(token_ok, body)
        return 200, self._cs(token_ok, body)

    def _refresh(self, headers: dict[str, str], form: dict[str, str]) -> dict[str, Any]:
        def refused(reason: str) -> dict[str, Any]:
            return {
                "error": OAUTH_REFRESH_TOKEN_INVALID,
                "error_name": "Invalid parameter",
                "error_reason": reason,
                "error_description": reason,
            }

        if headers.get("secret_key") != self.state.secret_key or form.get("app_id") != self.state.app_id:
            return refused("invalid app_id or secret_key")
        if form.get("grant_type") != "refresh_token":
            return refused("unsupported grant_type")
        refresh_token = form.get("refresh_token", "")
        with self.state.lock:
            if refresh_token in self.state.used_refresh_tokens:
                return refused("refresh token was already used")
            if refresh_token not in self.state.refresh_tokens:
                return refused("invalid refresh token")
            # Single use: the old refresh token dies the moment it is presented.
            self.state.refresh_tokens.discard(refresh_token)
            self.state.used_refresh_tokens.add(refresh_token)
            access, refresh = self._issue_locked()
            self.state.refresh_count += 1
            delay = self.state.refresh_delay
        self._sleep(delay)
        return {"access_token": access, "refresh_token": refresh, "expires_in": str(ACCESS_TOKEN_TTL)}

    def _permission(self, query: dict[str, str]) -> tuple[int, Any]:
        """The admin approves at once: redirect to redirect_uri with code, oa_id and the state echoed."""
        redirect_uri = query.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        challenge = query.get("code_challenge", "")
        if query.get("app_id") != self.state.app_id:
            reason = "invalid app_id"
        elif parts.scheme not in ("http", "https") or not parts.netloc:
            reason = "invalid redirect_uri"
        elif len(challenge) != 43:  # base64url of a SHA-256 digest, unpadded
            reason = "invalid code_challenge"
        else:
            reason = ""
        if reason:
            # Zalo shows an error page to the admin; a JSON body is enough for tests.
            return 400, {"error": OAUTH_INVALID_PARAMETER, "error_name": "Invalid parameter", "error_reason": reason}
        params = {"code": self.issue_code(challenge), "oa_id": OA_ID}
        if query.get("state"):
            params["state"] = query["state"]
        query_string = "&".join(filter(None, [parts.query, urlencode(params)]))
        return 302, {"location": urlunsplit(parts._replace(query=query_string))}

    def _authorization_code(self, headers: dict[str, str], form: dict[str, str]) -> dict[str, Any]:
        def refused(reason: str) -> dict[str, Any]:
            return {
                "error": OAUTH_INVALID_PARAMETER,
                "error_name": "Invalid parameter",
                "error_reason": reason,
                "error_description": reason,
            }

        if headers.get("secret_key") != self.state.secret_key or form.get("app_id") != self.state.app_id:
            return refused("invalid app_id or secret_key")
        code, verifier = form.get("code", ""), form.get("code_verifier", "")
        with self.state.lock:
            if code in self.state.used_codes:
                return refused("authorization code was already used")
            challenge = self.state.codes.get(code)
            if challenge is None:
                return refused("invalid or expired authorization code")
            if not verifier or s256_challenge(verifier) != challenge:
                return refused("code_verifier does not match the code_challenge")
            # Single use, like a refresh token.
            del self.state.codes[code]
            self.state.used_codes.add(code)
            access, refresh = self._issue_locked()
            self.state.code_exchange_count += 1
        return {"access_token": access, "refresh_token": refresh, "expires_in": str(ACCESS_TOKEN_TTL)}

    def _zns(self, token_ok: bool, body: dict[str, Any]) -> dict[str, Any]:
        if not token_ok:
            return {"error": ZNS_ACCESS_TOKEN_INVALID, "message": "Access token is invalid"}
        phone = str(body.get("phone", ""))
        if not (phone.startswith("84") and len(phone) == 11 and phone.isdigit()):
            return {"error": ZNS_PHONE_INVALID, "message": "Phone number is invalid"}
        params = self.state.templates.get(str(body.get("template_id")))
        if params is None:
            return {"error": ZNS_TEMPLATE_INVALID, "message": "Template is invalid"}
        data = body.get("template_data")
        if not isinstance(data, dict) or set(data) != params:
            return {"error": ZNS_TEMPLATE_DATA_INVALID, "message": "Template data is invalid"}
        return {
            "error": 0,
            "message": "Success",
            "data": {
                "msg_id": uuid.uuid4().hex,
                "sent_time": str(int(time.time() * 1000)),
                "quota": {"dailyQuota": "500", "remainingQuota": "499"},
            },
        }

    def _cs(self, token_ok: bool, body: dict[str, Any]) -> dict[str, Any]:
        if not token_ok:
            return {"error": OA_ACCESS_TOKEN_INVALID, "message": "Access token is invalid"}
        user_id = str((body.get("recipient") or {}).get("user_id", ""))
        text = (body.get("message") or {}).get("text")
        if not user_id or not isinstance(text, str) or not text:
            return {"error": OA_PARAMETER_INVALID, "message": "Parameters are invalid"}
        if user_id not in self.state.followers:
            return {"error": OA_NOT_FOLLOWER, "message": "User has not followed the OA"}
        return {"error": 0, "message": "Success", "data": {"message_id": uuid.uuid4().hex, "user_id": user_id}}


def s256_challenge(verifier: str) -> str:
    """PKCE S256 (RFC 7636 section 4.2): BASE64URL(SHA256(ASCII(code_verifier))), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeZaloServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        endpoint = GET_PATHS.get(path)
        params = {k: v[0] for k, v in parse_qs(query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.fake.state.lock:
            self.fake.state.requests.append(RecordedRequest(endpoint, path, headers, params))
        if endpoint is None:
            self._reply(HTTPStatus.NOT_FOUND, {"error": 404, "message": "empty api"})
            return
        status, payload = self.fake.handle(endpoint, headers, params)
        if status == HTTPStatus.FOUND:
            self._reply(status, "", location=payload["location"])
        else:
            self._reply(status, payload)

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        endpoint = PATHS.get(path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = self.headers.get("Content-Type", "")
        body: Any
        if "application/x-www-form-urlencoded" in content_type:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        else:
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.fake.state.lock:
            self.fake.state.requests.append(RecordedRequest(endpoint, path, headers, body))
        if endpoint is None:
            self._reply(HTTPStatus.NOT_FOUND, {"error": 404, "message": "empty api"})
            return
        if not isinstance(body, dict):
            self._reply(HTTPStatus.OK, {"error": OA_PARAMETER_INVALID, "message": "Body is not JSON"})
            return
        status, payload = self.fake.handle(endpoint, headers, body)
        self._reply(status, payload)

    def _reply(self, status: int, payload: Any, *, location: str | None = None) -> None:
        if isinstance(payload, str):
            data, content_type = payload.encode(), "text/plain; charset=utf-8"
        else:
            data, content_type = json.dumps(payload).encode(), "application/json; charset=utf-8"
        try:
            self.send_response(status)
            if location is not None:
                self.send_header("Location", location)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean
