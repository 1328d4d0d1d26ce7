"""Connecting the Zalo OA: PKCE authorization against the fake Zalo on loopback, on SQLite and PostgreSQL.

Every test that touches the database takes the `app` fixture, so it runs once per backend; the app's
ZALO_OAUTH_URL points at the fake (`app_config` below), and every call to Zalo is real HTTP.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from tests.fakes.zalo_server import ACCESS_TOKEN_TTL, OA_ID, FakeZaloServer, s256_challenge
from tracker.extensions import db
from tracker.models.notifications import ChannelCredential
from tracker.notify.base import ReauthRequired
from tracker.notify.zalo import ZaloClient
from tracker.notify.zalo_auth import (
    PENDING_PROVIDER,
    PENDING_TTL,
    CallbackParams,
    ZaloAuthError,
    ZaloAuthorizer,
    code_challenge,
    load_config,
    make_code_verifier,
    parse_callback,
    status,
)
from tracker.notify.zalo_tokens import SqlTokenStore

REDIRECT = "https://tracker.example.vn/zalo/callback"
FOLLOWER = "8451239876543210987"
# 08:00 in Hà Nội (UTC+7)
NOW = datetime(2024, 9, 24, 1, 0, tzinfo=UTC)


@pytest.fixture
def app_config(zalo_server: FakeZaloServer) -> dict[str, Any]:
    return {
        "ZALO_APP_ID": zalo_server.app_id,
        "ZALO_SECRET_KEY": zalo_server.secret_key,
        "ZALO_OAUTH_URL": zalo_server.url,
        "ZALO_OPENAPI_URL": zalo_server.url,
        "ZALO_ZNS_URL": zalo_server.url,
        "ZALO_TIMEOUT_SECONDS": 0.5,
    }


@pytest.fixture
def authorizer(app: Flask) -> ZaloAuthorizer:
    return ZaloAuthorizer.from_app()


def approve(url: str) -> CallbackParams:
    """What the OA admin's browser does: open the permission URL and land on the redirect URI."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_callback(location)


def credential_rows() -> dict[str, ChannelCredential]:
    db.session.expire_all()
    return {row.provider: row for row in db.session.scalars(sa.select(ChannelCredential))}


def assert_not_connected() -> None:
    with pytest.raises(ReauthRequired):
        SqlTokenStore(db.engine).load()


# --- PKCE and the URL ------------------------------------------------------------------------------


def test_s256_challenge_is_rfc_7636_appendix_b() -> None:
    verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert code_challenge(verifier) == challenge


def test_verifiers_are_fresh_43_character_base64url() -> None:
    verifiers = {make_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    for verifier in verifiers:
        assert len(verifier) == 43
        assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert code_challenge(verifier) == s256_challenge(verifier)


def test_parse_callback_reads_a_bare_code_or_the_whole_address() -> None:
    assert parse_callback("  abc123 \n") == CallbackParams("abc123")
    assert parse_callback(f"{REDIRECT}?code=abc&oa_id=42&state=s1") == CallbackParams("abc", "s1", "42")
    assert parse_callback("code=abc&state=s1") == CallbackParams("abc", "s1", None)


def test_permission_url_carries_app_id_redirect_challenge_and_state(
    authorizer: ZaloAuthorizer, zalo_server: FakeZaloServer
) -> None:
    request = authorizer.start(REDIRECT)

    parts = urlsplit(request.url)
    assert f"{parts.scheme}://{parts.netloc}" == zalo_server.url
    assert parts.path == "/v4/oa/permission"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    pending = authorizer.pending()
    assert pending is not None
    assert query == {
        "app_id": zalo_server.app_id,
        "redirect_uri": REDIRECT,
        "code_challenge": code_challenge(pending.code_verifier),
        "state": request.state,
    }
    assert pending.state == request.state
    assert pending.code_verifier not in request.url
    assert zalo_server.requests == []  # building the URL calls nobody


def test_pending_request_lives_in_the_database_for_any_process(app: Flask, authorizer: ZaloAuthorizer) -> None:
    with time_machine.travel(NOW, tick=False):
        request = authorizer.start(REDIRECT)
    row = credential_rows()[PENDING_PROVIDER]
    assert row.access_token == request.state
    assert row.access_expires_at == NOW + PENDING_TTL == request.expires_at
    # Another process: its own engine on the same database.
    other = sa.create_engine(db.engine.url)
    try:
        assert ZaloAuthorizer(load_config(app.config), other).pending() == authorizer.pending()
    finally:
        other.dispose()


def test_a_new_request_replaces_the_pending_one(authorizer: ZaloAuthorizer) -> None:
    first = authorizer.start(REDIRECT)
    second = authorizer.start(REDIRECT)
    pending = authorizer.pending()
    assert pending is not None and pending.state == second.state != first.state
    assert list(credential_rows()) == [PENDING_PROVIDER]


@pytest.mark.parametrize("uri", ["", "tracker.example.vn/cb", "/zalo/callback", "ftp://x.vn/cb", f"{REDIRECT}#x"])
def test_redirect_uri_must_be_an_absolute_http_url(authorizer: ZaloAuthorizer, uri: str) -> None:
    with pytest.raises(ZaloAuthError) as caught:
        authorizer.start(uri)
    assert caught.value.kind == "bad_redirect_uri"
    assert authorizer.pending() is None


def test_without_app_id_or_secret_nothing_starts(app: Flask) -> None:
    app.config["ZALO_SECRET_KEY"] = None
    with pytest.raises(ZaloAuthError) as caught:
        ZaloAuthorizer.from_app()
    assert caught.value.kind == "not_configured"
    assert "ZALO_SECRET_KEY" in caught.value.vi and "ZALO_SECRET_KEY" in caught.value.en


# --- the exchange ----------------------------------------------------------------------------------


def test_full_authorization_stores_a_working_pair(
    app: Flask, authorizer: ZaloAuthorizer, zalo_server: FakeZaloServer
) -> None:
    with time_machine.travel(NOW, tick=False):
        request = authorizer.start(REDIRECT)
        callback = approve(request.url)
        verifier = authorizer.pending().code_verifier  # type: ignore[union-attr]
        tokens = authorizer.exchange(callback.code, callback.state)

    assert callback.state == request.state and callback.oa_id == OA_ID
    assert tokens.version == 1
    assert tokens.access_expires_at == NOW + timedelta(seconds=ACCESS_TOKEN_TTL)
    assert SqlTokenStore(db.engine).load() == tokens
    assert authorizer.pending() is None  # used once, gone
    [exchange] = zalo_server.requests_to("oauth")
    assert exchange.path == "/v4/oa/access_token"
    assert exchange.headers["secret_key"] == zalo_server.secret_key
    assert exchange.body == {
        "app_id": zalo_server.app_id,
        "grant_type": "authorization_code",
        "code": callback.code,
        "code_verifier": verifier,
    }
    # The stored pair is the real thing: the channel sends with it.
    with ZaloClient(load_config(app.config), SqlTokenStore(db.engine)) as client:
        assert client.send_oa_text(FOLLOWER, "Kết nối Zalo thành công")


def test_wrong_verifier_is_refused_by_zalo(authorizer: ZaloAuthorizer, zalo_server: FakeZaloServer) -> None:
    first = authorizer.start(REDIRECT)
    code = approve(first.url).code
    authorizer.start(REDIRECT)  # a second request replaced the verifier the code was issued for

    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange(code)  # no state given: only the verifier can tell

    error = caught.value
    assert error.kind == "code_rejected" and not error.transient
    assert "code_verifier does not match" in error.en and "tracker zalo authorize" in error.vi
    assert len(zalo_server.requests_to("oauth")) == 1
    assert_not_connected()
    assert authorizer.pending() is not None  # the newer request still awaits its own code


def test_state_mismatch_is_refused_without_calling_zalo(
    authorizer: ZaloAuthorizer, zalo_server: FakeZaloServer
) -> None:
    callback = approve(authorizer.start(REDIRECT).url)

    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange(callback.code, "forged-state")

    assert caught.value.kind == "state_mismatch"
    assert zalo_server.requests_to("oauth") == []
    assert_not_connected()
    # The genuine callback still goes through.
    assert authorizer.exchange(callback.code, callback.state).version == 1


def test_a_link_from_an_older_request_is_a_state_mismatch(
    authorizer: ZaloAuthorizer, zalo_server: FakeZaloServer
) -> None:
    old = approve(authorizer.start(REDIRECT).url)
    authorizer.start(REDIRECT)
    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange(old.code, old.state)
    assert caught.value.kind == "state_mismatch"
    assert zalo_server.requests_to("oauth") == []


def test_a_code_works_once(authorizer: ZaloAuthorizer, zalo_server: FakeZaloServer) -> None:
    callback = approve(authorizer.start(REDIRECT).url)
    stored = authorizer.exchange(callback.code, callback.state)

    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange(callback.code, callback.state)  # our side: the request was used up
    assert caught.value.kind == "no_pending"

    authorizer.start(REDIRECT)
    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange(callback.code)  # Zalo's side: the code itself was used up
    assert caught.value.kind == "code_rejected"
    assert "already used" in caught.value.en

    assert zalo_server.code_exchange_count == 1
    assert SqlTokenStore(db.engine).load() == stored  # the pair from the first exchange is untouched


def test_two_processes_exchanging_one_code_store_one_pair(
    app: Flask, authorizer: ZaloAuthorizer, zalo_server: FakeZaloServer
) -> None:
    """A callback served twice (a reload, two web processes): Zalo accepts the code once."""
    callback = approve(authorizer.start(REDIRECT).url)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []
    url, config = db.engine.url, load_config(app.config)

    def worker() -> None:
        engine = sa.create_engine(url)  # a process of its own
        try:
            process = ZaloAuthorizer(config, engine)
            barrier.wait(timeout=5)
            outcomes.append(process.exchange(callback.code, callback.state))
        except ZaloAuthError as error:
            outcomes.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    errors = [o for o in outcomes if isinstance(o, ZaloAuthError)]
    stored = [o for o in outcomes if not isinstance(o, ZaloAuthError)]
    assert len(stored) == 1 and len(errors) == 1
    assert errors[0].kind in {"code_rejected", "no_pending"}
    assert zalo_server.code_exchange_count == 1
    assert SqlTokenStore(db.engine).load() == stored[0]


def test_zalo_down_keeps_the_request_for_a_retry(authorizer: ZaloAuthorizer, zalo_server: FakeZaloServer) -> None:
    callback = approve(authorizer.start(REDIRECT).url)
    zalo_server.stop()

    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange(callback.code, callback.state)

    error = caught.value
    assert error.kind == "zalo_unreachable" and error.transient
    assert "thử lại" in error.vi and "try again" in error.en
    assert_not_connected()
    assert authorizer.pending() is not None

    zalo_server.start()  # Zalo is back: the same code still works
    assert authorizer.exchange(callback.code, callback.state).version == 1


@pytest.mark.parametrize(
    ("fault", "kind"),
    [({"status": 500}, "zalo_error"), ({"status": 503}, "zalo_error"), ({"delay": 2.0}, "zalo_unreachable")],
)
def test_zalo_failing_or_slow_is_transient(
    authorizer: ZaloAuthorizer, zalo_server: FakeZaloServer, fault: dict[str, Any], kind: str
) -> None:
    callback = approve(authorizer.start(REDIRECT).url)
    zalo_server.fail_next("oauth", **fault)

    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange(callback.code, callback.state)

    assert caught.value.kind == kind and caught.value.transient
    assert_not_connected()
    assert authorizer.exchange(callback.code, callback.state).version == 1


def test_wrong_oauth_url_is_not_transient(app: Flask, zalo_server: FakeZaloServer) -> None:
    app.config["ZALO_OAUTH_URL"] = zalo_server.url + "/not-zalo"
    authorizer = ZaloAuthorizer.from_app()
    authorizer.start(REDIRECT)
    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange("some-code")
    assert caught.value.kind == "zalo_error" and not caught.value.transient
    assert "ZALO_OAUTH_URL" in caught.value.en


def test_wrong_secret_key_is_refused(app: Flask, zalo_server: FakeZaloServer) -> None:
    app.config["ZALO_SECRET_KEY"] = "not-the-secret"
    authorizer = ZaloAuthorizer.from_app()
    callback = approve(authorizer.start(REDIRECT).url)
    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange(callback.code, callback.state)
    assert caught.value.kind == "code_rejected"
    assert "ZALO_SECRET_KEY" in caught.value.en
    assert_not_connected()


def test_an_expired_request_is_refused_without_calling_zalo(
    authorizer: ZaloAuthorizer, zalo_server: FakeZaloServer
) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        callback = approve(authorizer.start(REDIRECT).url)
        traveller.shift(PENDING_TTL)
        with pytest.raises(ZaloAuthError) as caught:
            authorizer.exchange(callback.code, callback.state)
    assert caught.value.kind == "pending_expired"
    assert zalo_server.requests_to("oauth") == []


def test_exchange_needs_a_request_and_a_code(authorizer: ZaloAuthorizer) -> None:
    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange("some-code")
    assert caught.value.kind == "no_pending"
    authorizer.start(REDIRECT)
    with pytest.raises(ZaloAuthError) as caught:
        authorizer.exchange("  ")
    assert caught.value.kind == "missing_code"


def test_errors_read_in_vietnamese_then_english() -> None:
    error = ZaloAuthError("x", "Lỗi tiếng Việt", "English error")
    assert str(error) == "Lỗi tiếng Việt / English error"


# --- status ----------------------------------------------------------------------------------------


def test_status_follows_the_connection(app: Flask, authorizer: ZaloAuthorizer) -> None:
    before = status(db.engine, app.config, NOW)
    assert before.configured and not before.connected and before.pending_expires_at is None

    with time_machine.travel(NOW, tick=False):
        callback = approve(authorizer.start(REDIRECT).url)
        assert status(db.engine, app.config).pending_expires_at == NOW + PENDING_TTL
        tokens = authorizer.exchange(callback.code, callback.state)

    after = status(db.engine, app.config, NOW)
    assert after.connected and not after.access_expired
    assert after.access_expires_at == NOW + timedelta(seconds=ACCESS_TOKEN_TTL)
    assert after.token_version == 1 and after.pending_expires_at is None
    later = status(db.engine, app.config, NOW + timedelta(days=2))
    assert later.connected and later.access_expired
    rendered = json.dumps(after.as_dict()) + "\n".join(after.lines(str))
    assert tokens.access_token not in rendered and tokens.refresh_token not in rendered


# --- the CLI ---------------------------------------------------------------------------------------


def run(app: Flask, *args: str, input: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=["zalo", *args], input=input)


def test_cli_connects_zalo_and_never_prints_a_token(app: Flask, zalo_server: FakeZaloServer) -> None:
    with time_machine.travel(NOW, tick=False):
        started = run(app, "status")
        assert started.exit_code == 3 and "CHƯA kết nối / NOT connected" in started.stdout

        authorized = run(app, "authorize", "--redirect-uri", REDIRECT)
        assert authorized.exit_code == 0, authorized.output
        url = authorized.stdout.strip()
        assert url.startswith(zalo_server.url + "/v4/oa/permission?")
        assert "24/09/2024 08:30" in authorized.stderr  # 08:00 + 30 min, Hà Nội time

        redirected = httpx.get(url, follow_redirects=False).headers["location"]
        exchanged = run(app, "exchange", redirected)  # the whole address, pasted
        assert exchanged.exit_code == 0, exchanged.output
        assert f"OA {OA_ID}" in exchanged.stdout
        assert "25/09/2024 09:00" in exchanged.stdout  # 08:00 + 25 h, Hà Nội time

        shown = run(app, "status")
        as_json = run(app, "status", "--json")

    assert shown.exit_code == 0
    assert "đã kết nối / connected" in shown.stdout and "25/09/2024 09:00" in shown.stdout
    assert json.loads(as_json.stdout)["connected"] is True
    tokens = SqlTokenStore(db.engine).load()
    for result in (authorized, exchanged, shown, as_json):
        assert tokens.access_token not in result.output and tokens.refresh_token not in result.output


def test_cli_exchange_reports_errors_in_both_languages(app: Flask, zalo_server: FakeZaloServer) -> None:
    url = run(app, "authorize", "--redirect-uri", REDIRECT).stdout.strip()
    callback = approve(url)

    forged = run(app, "exchange", callback.code, "--state", "forged")
    assert forged.exit_code == 1
    assert forged.stderr.startswith("Lỗi / Error: Mã state không khớp")
    assert "The state does not match" in forged.stderr

    zalo_server.fail_next("oauth", status=502)
    down = run(app, "exchange", callback.code, "--state", callback.state or "")
    assert down.exit_code == 1 and "HTTP 502" in down.stderr

    assert run(app, "exchange", callback.code, "--state", callback.state or "").exit_code == 0


def test_cli_set_tokens_from_files(app: Flask, zalo_server: FakeZaloServer, tmp_path: Any) -> None:
    access, refresh = zalo_server.issue_tokens()  # as Zalo's API explorer would hand them out
    (tmp_path / "access").write_text(access + "\n")
    (tmp_path / "refresh").write_text(refresh + "\n")

    with time_machine.travel(NOW, tick=False):
        result = run(
            app, "set-tokens",
            "--access-token-file", str(tmp_path / "access"),
            "--refresh-token-file", str(tmp_path / "refresh"),
            "--expires-in", "3600",
        )

    assert result.exit_code == 0, result.output
    assert access not in result.output and refresh not in result.output
    assert "24/09/2024 09:00" in result.stdout
    stored = SqlTokenStore(db.engine).load()
    assert (stored.access_token, stored.refresh_token) == (access, refresh)
    assert stored.access_expires_at == NOW + timedelta(hours=1)
    from tracker.models import AuditEvent

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "channel.zalo_set_tokens"))
    assert event.actor_id is None and event.after["via"] == "cli" and access not in str(event.after)
    with ZaloClient(load_config(app.config), SqlTokenStore(db.engine)) as client:
        assert client.send_oa_text(FOLLOWER, "Mã nhập tay dùng được")


def test_cli_set_tokens_from_stdin(app: Flask, zalo_server: FakeZaloServer) -> None:
    access, refresh = zalo_server.issue_tokens()
    result = run(app, "set-tokens", input=f"{access}\n{refresh}\n")
    assert result.exit_code == 0, result.output
    stored = SqlTokenStore(db.engine).load()
    assert (stored.access_token, stored.refresh_token, stored.access_expires_at) == (access, refresh, None)
    assert access not in result.output and refresh not in result.output


@pytest.mark.parametrize("given", ["\nrefresh\n", "access\n\n", "acc ess\nrefresh\n", "same\nsame\n"])
def test_cli_set_tokens_refuses_bad_input(app: Flask, given: str) -> None:
    result = run(app, "set-tokens", input=given)
    assert result.exit_code == 1 and result.stderr.startswith("Lỗi / Error:")
    assert_not_connected()


def test_cli_never_takes_a_token_as_an_argument(app: Flask) -> None:
    result = run(app, "set-tokens", "--access-token", "secret-on-the-command-line")
    assert result.exit_code == 2  # no such option
    assert_not_connected()


# --- the fake's authorization_code grant -----------------------------------------------------------


def post_code(server: FakeZaloServer, code: str, verifier: str, secret: str | None = None) -> dict[str, Any]:
    response = httpx.post(
        server.url + "/v4/oa/access_token",
        headers={"secret_key": secret or server.secret_key},
        data={"app_id": server.app_id, "grant_type": "authorization_code", "code": code, "code_verifier": verifier},
    )
    assert response.status_code == 200
    return response.json()


def test_fake_checks_the_verifier_and_spends_the_code_once(zalo_server: FakeZaloServer) -> None:
    verifier = make_code_verifier()
    code = zalo_server.issue_code(code_challenge(verifier))

    assert "invalid app_id or secret_key" in post_code(zalo_server, code, verifier, secret="wrong")["error_reason"]
    assert "does not match" in post_code(zalo_server, code, make_code_verifier())["error_reason"]
    assert "does not match" in post_code(zalo_server, code, "")["error_reason"]
    assert "invalid or expired" in post_code(zalo_server, "made-up", verifier)["error_reason"]
    granted = post_code(zalo_server, code, verifier)  # refusals above did not spend it
    assert granted["access_token"] and granted["refresh_token"] and granted["expires_in"] == str(ACCESS_TOKEN_TTL)
    assert "already used" in post_code(zalo_server, code, verifier)["error_reason"]
    assert zalo_server.code_exchange_count == 1


def test_fake_codes_expire(zalo_server: FakeZaloServer) -> None:
    verifier = make_code_verifier()
    code = zalo_server.issue_code(code_challenge(verifier))
    zalo_server.expire_codes()
    assert post_code(zalo_server, code, verifier)["error"] < 0


@pytest.mark.parametrize(
    "query",
    [
        {"app_id": "other", "redirect_uri": REDIRECT, "code_challenge": "x" * 43},
        {"redirect_uri": "not-a-url", "code_challenge": "x" * 43},
        {"redirect_uri": REDIRECT, "code_challenge": "short"},
    ],
)
def test_fake_permission_page_refuses_bad_requests(zalo_server: FakeZaloServer, query: dict[str, str]) -> None:
    params = {"app_id": zalo_server.app_id, **query}
    response = httpx.get(zalo_server.url + "/v4/oa/permission", params=params, follow_redirects=False)
    assert response.status_code == 400 and response.json()["error"] < 0
