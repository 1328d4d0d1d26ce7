"""Sign-in: hashed passwords, a database-backed rate limit, password reset by e-mail through the outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AttemptKind, AuthAttempt, Notification, NotificationKind, Person


def test_wrong_password_is_401_and_recorded(client, web_data):
    response = client.post("/login", data={"username": "yte", "password": "sai-mat-khau"})
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AuthAttempt.id))) == 1
    person = db.session.scalar(sa.select(Person).where(Person.username == "yte"))
    assert person.password_hash and "secret-pass-1" not in person.password_hash


def test_rate_limit_blocks_even_the_right_password_then_lifts(client, app, web_data):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"username": "yte", "password": "sai"})
    response = client.post("/login", data={"username": "yte", "password": "secret-pass-1"})
    assert response.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in response.get_data(as_text=True)
    later = utcnow() + timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)
    with time_machine.travel(later, tick=False):
        assert client.post("/login", data={"username": "yte", "password": "secret-pass-1"}).status_code == 302


def test_rate_limit_is_shared_through_the_database(client, app, web_data):
    # Another web process wrote these failures: this one refuses too.
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        db.session.add(AuthAttempt(kind=AttemptKind.SIGN_IN_FAILURE, subject="yte", remote_addr="10.0.0.9",
                                   attempted_at=utcnow()))
    db.session.commit()
    assert client.post("/login", data={"username": "yte", "password": "secret-pass-1"}).status_code == 429


def test_session_cookie_is_http_only(client, web_data):
    response = client.post("/login", data={"username": "yte", "password": "secret-pass-1"})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_password_reset_by_email_link(client, web_data):
    response = client.post("/password/forgot", data={"username": "yte"})
    assert response.status_code == 302
    row = db.session.scalar(sa.select(Notification).where(Notification.kind == NotificationKind.PASSWORD_RESET))
    assert row is not None and row.channel.value == "email"
    link = row.payload["reset_url"]
    path = re.sub(r"^https?://[^/]+", "", link)
    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": "mat-khau-moi-2", "confirm": "mat-khau-moi-2"})
    assert response.status_code == 302
    # The link works once.
    assert client.get(path).status_code == 400
    assert client.post("/login", data={"username": "yte", "password": "mat-khau-moi-2"}).status_code == 302


def test_reset_request_for_unknown_account_looks_the_same(client, web_data):
    response = client.post("/password/forgot", data={"username": "khong-co-ai"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0


def test_forged_reset_token_is_refused(client, web_data):
    response = client.get("/password/reset/not-a-token")
    assert response.status_code == 400
    assert "Đường dẫn không hợp lệ hoặc đã hết hạn." in response.get_data(as_text=True)


def test_short_new_password_is_refused(client, web_data):
    from tracker.auth import make_reset_token

    person = db.session.scalar(sa.select(Person).where(Person.username == "yte"))
    token = make_reset_token(person)
    response = client.post(f"/password/reset/{token}", data={"password": "ngan", "confirm": "ngan"})
    assert response.status_code == 422
    assert "Mật khẩu cần ít nhất 8 ký tự." in response.get_data(as_text=True)


# --- Password-reset requests have a limit of their own -------------------------------------------------------

def _reset_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count(Notification.id))
                             .where(Notification.kind == NotificationKind.PASSWORD_RESET))


def test_reset_requests_never_block_signing_in(client, app, web_data):
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 3):
        client.post("/password/forgot", data={"username": "yte"})
    assert client.post("/login", data={"username": "yte", "password": "secret-pass-1"}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(AuthAttempt.id)).where(AuthAttempt.subject == "yte")) == 0


def test_a_person_locked_out_by_failed_sign_ins_may_still_ask_for_a_new_password(client, app, web_data):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"username": "yte", "password": "sai"})
    assert client.post("/password/forgot", data={"username": "yte"}).status_code == 302
    assert _reset_rows() == 1


def test_reset_requests_are_limited_per_username_alike_for_unknown_accounts(client, app, web_data):
    limit = app.config["PASSWORD_RESET_MAX_PER_USERNAME"]
    for given in ("yte", "khong-co-ai"):
        answers = [client.post("/password/forgot", data={"username": given}) for _ in range(limit)]
        assert [r.status_code for r in answers] == [302] * limit
        queued = _reset_rows()
        refused = client.post("/password/forgot", data={"username": given.upper()})
        assert refused.status_code == 429
        assert "Đã có quá nhiều yêu cầu đặt lại mật khẩu" in refused.get_data(as_text=True)
        assert _reset_rows() == queued
    # Another account is not held back, and the limit lifts after the window.
    assert client.post("/password/forgot", data={"username": "chutich"}).status_code == 302
    later = utcnow() + timedelta(seconds=app.config["PASSWORD_RESET_WINDOW_SECONDS"] + 1)
    with time_machine.travel(later, tick=False):
        assert client.post("/password/forgot", data={"username": "yte"}).status_code == 302


def test_reset_requests_are_limited_per_address(client, app, web_data):
    app.config["PASSWORD_RESET_MAX_PER_IP"] = 3
    for name in ("yte", "chutich", "khong-co-ai"):
        assert client.post("/password/forgot", data={"username": name}).status_code == 302
    assert client.post("/password/forgot", data={"username": "ldtbxh"}).status_code == 429
    elsewhere = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.post("/password/forgot", data={"username": "ldtbxh"}, environ_base=elsewhere).status_code == 302
    # Signing in from the refused address still works.
    assert client.post("/login", data={"username": "ldtbxh", "password": "secret-pass-1"}).status_code == 302


# --- Signing in and out leaves an audit trail ------------------------------------------------------------------

def test_signing_in_and_out_is_audited_with_time_and_address(client, web_data):
    from datetime import UTC, datetime

    from tracker.models import AuditEvent

    person = db.session.scalar(sa.select(Person).where(Person.username == "yte"))
    address = {"REMOTE_ADDR": "10.0.0.7"}
    assert client.post("/login", data={"username": "yte", "password": "sai"}, environ_base=address).status_code == 401
    with time_machine.travel(datetime(2024, 9, 18, 1, 30, tzinfo=UTC), tick=False):
        response = client.post("/login", data={"username": "yte", "password": "secret-pass-1"}, environ_base=address)
        assert response.status_code == 302
        assert client.post("/logout", environ_base=address).status_code == 302
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action.like("person.sign_%"))
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.object_type, e.object_id, e.after) for e in events] == [
        ("person.sign_in", person.id, "people", person.id, {"at": "2024-09-18T01:30:00+00:00", "ip": "10.0.0.7"}),
        ("person.sign_out", person.id, "people", person.id, {"at": "2024-09-18T01:30:00+00:00", "ip": "10.0.0.7"}),
    ]
    # The failure is a AuthAttempt, as before (cleared by the successful sign-in).
    assert db.session.scalar(sa.select(sa.func.count(AuthAttempt.id))) == 0


@pytest.mark.parametrize("app_config", [{"PROXY_COUNT": 1}])
def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(app_config, client, web_data):
    from tracker.models import AuditEvent

    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    client.post("/login", data={"username": "yte", "password": "sai"}, environ_base=proxy,
                headers={"X-Forwarded-For": "203.0.113.9"})
    assert db.session.scalar(sa.select(AuthAttempt.remote_addr)) == "203.0.113.9"
    client.post("/login", data={"username": "yte", "password": "secret-pass-1"}, environ_base=proxy,
                headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})  # only the proxy's own hop counts
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.sign_in"))
    assert event.after["ip"] == "203.0.113.9"


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(client, web_data):
    client.post("/login", data={"username": "yte", "password": "sai"}, environ_base={"REMOTE_ADDR": "10.0.0.5"},
                headers={"X-Forwarded-For": "203.0.113.9"})
    assert db.session.scalar(sa.select(AuthAttempt.remote_addr)) == "10.0.0.5"


def test_the_attempts_table_keeps_only_one_window_of_rows(client, app, web_data):
    for name in ("khong-co-1", "khong-co-2", "khong-co-3"):
        client.post("/login", data={"username": name, "password": "sai"})
        client.post("/password/forgot", data={"username": name})
    assert db.session.scalar(sa.select(sa.func.count(AuthAttempt.id))) == 9  # 3 failures, 3 x (name, address)
    window = max(app.config["LOGIN_WINDOW_SECONDS"], app.config["PASSWORD_RESET_WINDOW_SECONDS"])
    with time_machine.travel(utcnow() + timedelta(seconds=window + 1), tick=False):
        client.post("/login", data={"username": "khong-co-4", "password": "sai"})
        client.post("/password/forgot", data={"username": "khong-co-4"})
    kinds = db.session.execute(sa.select(AuthAttempt.kind, AuthAttempt.subject).order_by(AuthAttempt.id)).all()
    assert [k for k, _ in kinds] == [AttemptKind.SIGN_IN_FAILURE, AttemptKind.RESET_BY_NAME,
                                     AttemptKind.RESET_BY_ADDRESS]
    assert kinds[0].subject == "khong-co-4" and "khong-co-4" not in kinds[1].subject  # the name given is hashed


def test_one_client_trying_many_names_is_held_back_but_others_are_not(client, app, web_data):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 4
    sprayer = {"REMOTE_ADDR": "10.9.9.9"}
    for name in ("a1", "a2", "a3", "a4"):
        response = client.post("/login", data={"username": name, "password": "sai"}, environ_base=sprayer)
        assert response.status_code == 401
    refused = client.post("/login", data={"username": "yte", "password": "secret-pass-1"}, environ_base=sprayer)
    assert refused.status_code == 429
    assert client.post("/login", data={"username": "yte", "password": "secret-pass-1"},
                       environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 302
