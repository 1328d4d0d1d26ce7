"""ZaloClient and ZaloChannel against the fake Zalo server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.zalo_server import (
    ACCESS_TOKEN_TTL,
    OA_NOT_FOLLOWER,
    ZNS_ACCESS_TOKEN_INVALID,
    FakeZaloServer,
)
from tracker.notify.base import (
    Channel,
    OutgoingMessage,
    PermanentSendError,
    QuotaExceeded,
    QuotaWait,
    ReauthRequired,
    SendError,
    TransientSendError,
)
from tracker.notify.zalo import ZALO_ERRORS, ZaloChannel, ZaloClient, ZaloConfig, ZaloError, normalize_phone
from tracker.notify.zalo_tokens import MemoryTokenStore, ZaloTokens

FOLLOWER = "8451239876543210987"
TEMPLATE = "285714"
TEMPLATE_DATA = {"officer_name": "Nguyễn Văn Y", "task_title": "Báo cáo kết quả", "due_on": "25/09/2024"}


@pytest.fixture
def config(zalo_server: FakeZaloServer) -> ZaloConfig:
    return ZaloConfig(
        app_id=zalo_server.app_id,
        secret_key=zalo_server.secret_key,
        oauth_url=zalo_server.url,
        openapi_url=zalo_server.url,
        zns_url=zalo_server.url,
        timeout=1.0,
    )


@pytest.fixture
def store(zalo_server: FakeZaloServer) -> MemoryTokenStore:
    access, refresh = zalo_server.issue_tokens()
    return MemoryTokenStore(ZaloTokens(access, refresh, datetime.now(UTC) + timedelta(hours=20)))


@pytest.fixture
def client(config: ZaloConfig, store: MemoryTokenStore) -> Iterator[ZaloClient]:
    with ZaloClient(config, store) as zalo:
        yield zalo


# --- happy paths -----------------------------------------------------------------------------------


def test_sends_zns_template_message(client: ZaloClient, zalo_server: FakeZaloServer, store: MemoryTokenStore) -> None:
    msg_id = client.send_zns("0912 345 678", TEMPLATE, TEMPLATE_DATA, tracking_id="4711")

    assert msg_id
    [request] = zalo_server.requests
    assert request.path == "/message/template"
    assert request.headers["access_token"] == store.load().access_token
    assert request.body == {
        "phone": "84912345678",
        "template_id": TEMPLATE,
        "template_data": TEMPLATE_DATA,
        "tracking_id": "4711",
    }


def test_sends_oa_text_to_follower(client: ZaloClient, zalo_server: FakeZaloServer) -> None:
    message_id = client.send_oa_text(FOLLOWER, "Nhắc việc: báo cáo đến hạn ngày 25/9/2024")

    assert message_id
    [request] = zalo_server.requests
    assert request.path == "/v3.0/oa/message/cs"
    assert request.body == {
        "recipient": {"user_id": FOLLOWER},
        "message": {"text": "Nhắc việc: báo cáo đến hạn ngày 25/9/2024"},
    }


def test_channel_routes_templates_to_zns_and_text_to_oa(client: ZaloClient, zalo_server: FakeZaloServer) -> None:
    channel = ZaloChannel(client)
    assert isinstance(channel, Channel) and channel.name == "zalo"

    zns = channel.send(
        OutgoingMessage(
            recipient="+84 912 345 678", tracking_id="1", template_key=TEMPLATE, template_data=TEMPLATE_DATA
        )
    )
    oa = channel.send(
        OutgoingMessage(
            recipient=FOLLOWER, tracking_id="2", text="Báo cáo đến hạn", link="https://tracker.example.vn/o/2"
        )
    )

    assert zns.provider_message_id and oa.provider_message_id
    zns_request, oa_request = zalo_server.requests
    assert zns_request.body["phone"] == "84912345678"
    assert zns_request.body["tracking_id"] == "1"
    assert oa_request.body["message"]["text"] == "Báo cáo đến hạn\nhttps://tracker.example.vn/o/2"


@pytest.mark.parametrize(
    "message",
    [
        OutgoingMessage(recipient="", tracking_id="1", template_key=TEMPLATE, template_data=TEMPLATE_DATA),
        OutgoingMessage(recipient="  ", tracking_id="1", text="xin chào"),
        OutgoingMessage(recipient=FOLLOWER, tracking_id="1", text=""),
    ],
)
def test_channel_refuses_unsendable_messages(
    client: ZaloClient, zalo_server: FakeZaloServer, message: OutgoingMessage
) -> None:
    with pytest.raises(PermanentSendError):
        ZaloChannel(client).send(message)
    assert zalo_server.requests == []


def test_long_oa_text_is_cut_to_zalo_limit(client: ZaloClient, zalo_server: FakeZaloServer) -> None:
    client.send_oa_text(FOLLOWER, "á" * 2500)
    text = zalo_server.requests[0].body["message"]["text"]
    assert len(text) == 2000 and text.endswith("…")


# --- tokens ----------------------------------------------------------------------------------------


def test_expired_token_is_refreshed_and_the_send_retried(
    client: ZaloClient, zalo_server: FakeZaloServer, store: MemoryTokenStore
) -> None:
    old = store.load()
    zalo_server.expire_access_tokens()

    assert client.send_zns("0912345678", TEMPLATE, TEMPLATE_DATA, tracking_id="9")

    assert [r.endpoint for r in zalo_server.requests] == ["zns", "oauth", "zns"]
    refresh = zalo_server.requests[1]
    assert refresh.headers["secret_key"] == zalo_server.secret_key
    assert refresh.body == {
        "app_id": zalo_server.app_id,
        "grant_type": "refresh_token",
        "refresh_token": old.refresh_token,
    }
    new = store.load()
    assert new.access_token != old.access_token
    assert new.refresh_token != old.refresh_token  # Zalo hands out a new single-use refresh token
    assert new.version == old.version + 1
    assert new.access_expires_at is not None
    assert abs((new.access_expires_at - datetime.now(UTC)).total_seconds() - ACCESS_TOKEN_TTL) < 60
    assert zalo_server.requests[2].headers["access_token"] == new.access_token


def test_oa_message_also_refreshes_on_expired_token(
    client: ZaloClient, zalo_server: FakeZaloServer, store: MemoryTokenStore
) -> None:
    zalo_server.expire_access_tokens()
    assert client.send_oa_text(FOLLOWER, "xin chào")
    assert zalo_server.refresh_count == 1


def test_used_refresh_token_is_refused_by_zalo(client: ZaloClient, store: MemoryTokenStore) -> None:
    old = store.load()
    client.refresh_access_token(old.refresh_token)
    with pytest.raises(ReauthRequired, match="already used"):
        client.refresh_access_token(old.refresh_token)


def test_dead_refresh_token_requires_reauth(
    config: ZaloConfig, zalo_server: FakeZaloServer, store: MemoryTokenStore
) -> None:
    stale = store.load()
    ZaloClient(config, store).refresh_access_token(stale.refresh_token)  # someone used it behind our back
    zalo_server.expire_access_tokens()
    with pytest.raises(ReauthRequired), ZaloClient(config, store) as client:
        client.send_zns("0912345678", TEMPLATE, TEMPLATE_DATA, tracking_id="1")


def test_token_near_expiry_is_refreshed_before_sending(config: ZaloConfig, zalo_server: FakeZaloServer) -> None:
    access, refresh = zalo_server.issue_tokens()
    store = MemoryTokenStore(ZaloTokens(access, refresh, datetime.now(UTC) + timedelta(minutes=2)))
    with ZaloClient(config, store) as client:
        client.send_oa_text(FOLLOWER, "xin chào")
    assert [r.endpoint for r in zalo_server.requests] == ["oauth", "cs"]


def test_token_rejected_again_after_refresh_requires_reauth(client: ZaloClient, zalo_server: FakeZaloServer) -> None:
    zalo_server.fail_next("zns", error=ZNS_ACCESS_TOKEN_INVALID)
    zalo_server.fail_next("zns", error=ZNS_ACCESS_TOKEN_INVALID)
    with pytest.raises(ReauthRequired):
        client.send_zns("0912345678", TEMPLATE, TEMPLATE_DATA, tracking_id="1")
    assert zalo_server.refresh_count == 1  # retried once, not in a loop


def test_no_stored_tokens_requires_reauth(config: ZaloConfig, zalo_server: FakeZaloServer) -> None:
    with ZaloClient(config, MemoryTokenStore()) as client, pytest.raises(ReauthRequired):
        client.send_oa_text(FOLLOWER, "xin chào")
    assert zalo_server.requests == []


def test_concurrent_senders_refresh_once(
    config: ZaloConfig, zalo_server: FakeZaloServer, store: MemoryTokenStore
) -> None:
    zalo_server.expire_access_tokens()
    zalo_server.slow_refreshes(0.3)  # keep the first refresh in flight while the others fail
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            with ZaloClient(config, store) as client:
                client.send_oa_text(FOLLOWER, f"tin {i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert zalo_server.refresh_count == 1
    texts = [r.body["message"]["text"] for r in zalo_server.requests_to("cs")]
    assert {f"tin {i}" for i in range(4)} <= set(texts)


# --- error classification --------------------------------------------------------------------------

EXPECTED = {
    ZaloError.TRANSIENT: TransientSendError,
    ZaloError.QUOTA: QuotaExceeded,
    ZaloError.PERMANENT: PermanentSendError,
    ZaloError.CREDENTIALS: ReauthRequired,
}


@pytest.mark.parametrize(
    ("code", "kind"), [(code, kind) for code, (kind, _) in ZALO_ERRORS.items() if kind is not ZaloError.ACCESS_TOKEN]
)
@pytest.mark.parametrize("endpoint", ["zns", "cs"])
def test_every_error_code_is_classified(
    client: ZaloClient, zalo_server: FakeZaloServer, endpoint: str, code: int, kind: ZaloError
) -> None:
    zalo_server.fail_next(endpoint, error=code)  # type: ignore[arg-type]
    with pytest.raises(SendError) as info:
        if endpoint == "zns":
            client.send_zns("0912345678", TEMPLATE, TEMPLATE_DATA, tracking_id="1")
        else:
            client.send_oa_text(FOLLOWER, "xin chào")
    assert type(info.value) is EXPECTED[kind]
    assert info.value.code == code
    assert zalo_server.refresh_count == 0


@pytest.mark.parametrize(
    ("code", "wait", "channel_wide"),
    [(-144, QuotaWait.NEXT_WORKING_DAY, True), (-115, QuotaWait.ADMIN, True), (-32, QuotaWait.SHORTLY, True),
     (-211, QuotaWait.NEXT_WORKING_DAY, False)],
)
def test_quota_errors_say_when_to_try_again(client: ZaloClient, zalo_server: FakeZaloServer, code: int,
                                            wait: QuotaWait, channel_wide: bool) -> None:
    zalo_server.fail_next("zns", error=code)
    with pytest.raises(QuotaExceeded) as info:
        client.send_zns("0912345678", TEMPLATE, TEMPLATE_DATA, tracking_id="1")
    assert (info.value.wait, info.value.channel_wide) == (wait, channel_wide)
    assert isinstance(info.value, TransientSendError)  # never lost: it waits without spending attempts


def test_http_429_is_a_short_quota_wait(client: ZaloClient, zalo_server: FakeZaloServer) -> None:
    zalo_server.fail_next("cs", status=429)
    with pytest.raises(QuotaExceeded) as info:
        client.send_oa_text(FOLLOWER, "xin chào")
    assert info.value.wait is QuotaWait.SHORTLY and info.value.code == 429


def test_unknown_error_code_is_transient(client: ZaloClient, zalo_server: FakeZaloServer) -> None:
    zalo_server.fail_next("zns", error=-9999)
    with pytest.raises(TransientSendError):
        client.send_zns("0912345678", TEMPLATE, TEMPLATE_DATA, tracking_id="1")


@pytest.mark.parametrize(
    ("template_id", "data"),
    [("999999", TEMPLATE_DATA), (TEMPLATE, {"officer_name": "Nguyễn Văn Y"})],
    ids=["unknown-template", "missing-template-parameter"],
)
def test_invalid_template_is_permanent(client: ZaloClient, template_id: str, data: dict[str, str]) -> None:
    with pytest.raises(PermanentSendError):
        client.send_zns("0912345678", template_id, data, tracking_id="1")


def test_message_to_non_follower_is_permanent(client: ZaloClient) -> None:
    with pytest.raises(PermanentSendError) as info:
        client.send_oa_text("1111111111111111111", "xin chào")
    assert info.value.code == OA_NOT_FOLLOWER


def test_invalid_phone_is_refused_before_calling_zalo(client: ZaloClient, zalo_server: FakeZaloServer) -> None:
    with pytest.raises(PermanentSendError):
        client.send_zns("12345", TEMPLATE, TEMPLATE_DATA, tracking_id="1")
    assert zalo_server.requests == []


@pytest.mark.parametrize("endpoint", ["zns", "cs"])
def test_http_500_is_transient(client: ZaloClient, zalo_server: FakeZaloServer, endpoint: str) -> None:
    zalo_server.fail_next(endpoint, status=500)  # type: ignore[arg-type]
    with pytest.raises(TransientSendError) as info:
        if endpoint == "zns":
            client.send_zns("0912345678", TEMPLATE, TEMPLATE_DATA, tracking_id="1")
        else:
            client.send_oa_text(FOLLOWER, "xin chào")
    assert info.value.code == 500


def test_slow_response_times_out_as_transient(
    config: ZaloConfig, store: MemoryTokenStore, zalo_server: FakeZaloServer
) -> None:
    zalo_server.fail_next("cs", delay=1.0)
    fast = replace(config, timeout=0.2)
    with ZaloClient(fast, store) as client, pytest.raises(TransientSendError, match="did not answer"):
        client.send_oa_text(FOLLOWER, "xin chào")


def test_slow_refresh_times_out_as_transient(
    config: ZaloConfig, store: MemoryTokenStore, zalo_server: FakeZaloServer
) -> None:
    zalo_server.expire_access_tokens()
    zalo_server.fail_next("oauth", delay=1.0)
    fast = replace(config, timeout=0.2)
    with ZaloClient(fast, store) as client, pytest.raises(TransientSendError):
        client.send_oa_text(FOLLOWER, "xin chào")


def test_refresh_server_error_is_transient(
    client: ZaloClient, zalo_server: FakeZaloServer, store: MemoryTokenStore
) -> None:
    before = store.load()
    zalo_server.expire_access_tokens()
    zalo_server.fail_next("oauth", status=502)
    with pytest.raises(TransientSendError):
        client.send_oa_text(FOLLOWER, "xin chào")
    assert store.load() == before  # nothing stored, the refresh token was never consumed


def test_zalo_down_is_transient(client: ZaloClient, zalo_server: FakeZaloServer) -> None:
    zalo_server.stop()
    with pytest.raises(TransientSendError, match="cannot reach"):
        client.send_oa_text(FOLLOWER, "xin chào")


def test_wrong_base_url_is_permanent(config: ZaloConfig, store: MemoryTokenStore, zalo_server: FakeZaloServer) -> None:
    wrong = replace(config, zns_url=zalo_server.url + "/nowhere")
    with ZaloClient(wrong, store) as client, pytest.raises(PermanentSendError) as info:
        client.send_zns("0912345678", TEMPLATE, TEMPLATE_DATA, tracking_id="1")
    assert info.value.code == 404


def test_config_from_mapping() -> None:
    config = ZaloConfig.from_mapping(
        {"ZALO_APP_ID": 123, "ZALO_SECRET_KEY": "s", "ZALO_ZNS_URL": "http://127.0.0.1:9", "ZALO_TIMEOUT_SECONDS": "3"}
    )
    assert config.app_id == "123"
    assert config.zns_url == "http://127.0.0.1:9"
    assert config.oauth_url == "https://oauth.zaloapp.com"
    assert config.timeout == 3.0


def test_config_without_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="ZALO_APP_ID"):
        ZaloConfig.from_mapping({"ZALO_APP_ID": None, "ZALO_SECRET_KEY": None})


# --- phone numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "84912345678"),
        ("+84 912 345 678", "84912345678"),
        ("84912345678", "84912345678"),
        ("0084912345678", "84912345678"),
        ("091.234.5678", "84912345678"),
        ("(+84) 912-345-678", "84912345678"),
        ("912345678", "84912345678"),
        ("0386123456", "84386123456"),
        ("0587123456", "84587123456"),
        ("0708123456", "84708123456"),
        ("0836123456", "84836123456"),
    ],
)
def test_normalize_phone(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "abc", "091234567", "09123456789", "0212345678", "02438123456", "+1 650 253 0000", "8491234567", "0612345678"],
)
def test_normalize_phone_rejects_non_mobile_numbers(raw: str) -> None:
    with pytest.raises(PermanentSendError):
        normalize_phone(raw)
