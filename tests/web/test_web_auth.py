"""Sign-in: hashed passwords, a database-backed rate limit, password reset by e-mail through the outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import LoginAttempt, Notification, NotificationKind, Person


def test_wrong_password_is_401_and_recorded(client, web_data):
    response = client.post("/login", data={"username": "yte", "password": "sai-mat-khau"})
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id))) == 1
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
        db.session.add(LoginAttempt(username="yte", remote_addr="10.0.0.9", attempted_at=utcnow()))
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
