"""Sign-in sessions live server-side: "keep me signed in" works on every page and is revoked by signing out or a
new password; parallel wrong passwords are counted exactly; an unknown name costs a password hash too."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import PASSWORD
from tracker.extensions import db
from tracker.models import SignInSession

COOKIE = "tracker_remember"


@pytest.fixture
def browsers(live_server: str) -> Iterator[Callable[..., httpx.Client]]:
    opened: list[httpx.Client] = []

    def make(kept: str | None = None) -> httpx.Client:
        browser = httpx.Client(base_url=live_server, timeout=60, follow_redirects=False)
        if kept is not None:  # a browser that was closed: no session cookie, only "keep me signed in"
            browser.cookies.set(COOKIE, kept, domain="127.0.0.1")
        opened.append(browser)
        return browser

    yield make
    for browser in opened:
        browser.close()


def _set_cookies(response: Any, name: str) -> list[str]:
    headers = response.headers
    values = headers.get_list("set-cookie") if hasattr(headers, "get_list") else headers.getlist("Set-Cookie")
    return [c for c in values if c.startswith(f"{name}=")]


def _sign_in(browser: httpx.Client, username: str = "yte", *, remember: bool = True) -> httpx.Response:
    data = {"username": username, "password": PASSWORD, **({"remember": "y"} if remember else {})}
    response = browser.post("/login", data=data)
    assert response.status_code == 302, response.text[:300]
    return response


def _kept(browser: httpx.Client) -> str:
    _sign_in(browser)
    value = browser.cookies.get(COOKIE)
    assert value
    return value


def _signed_in(browser: httpx.Client, path: str = "/tasks") -> bool:
    response = browser.get(path)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def test_keep_me_signed_in_restores_the_session_on_every_page(browsers: Any, web_data: Any) -> None:
    value = _kept(browsers())
    browser = browsers(value)
    for path in ["/profile", "/tasks", f"/occurrences/{web_data.occurrence.id}", "/tasks", "/profile"]:
        assert _signed_in(browser, path), path
    # The restored session is the same server-side session, noted once.
    db.session.expire_all()
    rows = db.session.scalars(sa.select(SignInSession)).all()
    assert len(rows) == 1 and rows[0].last_restored_at is not None


def test_the_cookie_is_httponly_samesite_and_differs_at_each_sign_in(browsers: Any, web_data: Any) -> None:
    browser = browsers()
    (header,) = _set_cookies(_sign_in(browser), COOKIE)
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    first = browser.cookies.get(COOKIE)
    browser.post("/logout")
    second = _kept(browser)
    assert first != second
    browser.post("/logout")
    assert _set_cookies(_sign_in(browser, remember=False), COOKIE) == []  # not asked for: no cookie


def test_the_cookie_is_secure_in_production_settings(database_url: str, tmp_path: Any) -> None:
    from tracker import create_app

    application = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                              "REMEMBER_COOKIE_SECURE": True})
    with application.app_context():
        from tracker.operations.people import create_person

        create_person(None, username="an", full_name="An", password=PASSWORD)
        db.session.commit()
        response = application.test_client().post("/login", data={"username": "an", "password": PASSWORD,
                                                                   "remember": "y"})
        (header,) = _set_cookies(response, COOKIE)
        assert "Secure" in header and "HttpOnly" in header
        db.session.remove()
        db.engine.dispose()


def test_signing_out_revokes_the_cookie_everywhere(browsers: Any, web_data: Any) -> None:
    browser = browsers()
    value = _kept(browser)
    stolen = browsers(value)  # a copy of the cookie, taken before signing out
    assert _signed_in(stolen)
    response = browser.post("/logout")
    assert _set_cookies(response, COOKIE) and "Max-Age=0" in _set_cookies(response, COOKIE)[0]
    assert not _signed_in(browsers(value))  # replaying the cookie
    assert not _signed_in(stolen)  # the session restored from it ended too


def test_a_new_password_ends_every_session_of_the_person(browsers: Any, web_data: Any) -> None:
    from tracker.models import Person
    from tracker.operations.people import set_password

    browser = browsers()
    value = _kept(browser)
    elsewhere = browsers(value)
    assert _signed_in(elsewhere)
    officer = db.session.scalar(sa.select(Person).where(Person.username == "yte"))
    set_password(web_data.commune.admin, officer, "a-new-password-9")  # an administrator resets it
    db.session.commit()
    assert not _signed_in(browser)  # the session that asked for "keep me signed in"
    assert not _signed_in(elsewhere)  # the one restored from the cookie
    assert not _signed_in(browsers(value))


def test_a_forged_cookie_is_ignored_and_deleted(browsers: Any, web_data: Any) -> None:
    selector = _kept(browsers()).split(".")[0]
    response = browsers(f"{selector}.not-the-secret").get("/tasks")
    assert response.status_code == 302
    assert _set_cookies(response, COOKIE) and "Max-Age=0" in _set_cookies(response, COOKIE)[0]


def test_an_unknown_name_is_checked_against_a_password_hash_too(app: Flask, client: Any, web_data: Any) -> None:
    """Equal cost: the dummy hash is made (once) and checked for a name that does not exist."""
    from tracker.auth import _dummy_hash

    _dummy_hash.cache_clear()
    response = client.post("/login", data={"username": "khong-ton-tai", "password": "whatever-123"})
    assert response.status_code == 401
    assert _dummy_hash.cache_info().currsize == 1


def test_parallel_wrong_passwords_are_checked_at_most_the_limit(app: Flask, browsers: Any, web_data: Any) -> None:
    n, limit = 12, app.config["LOGIN_MAX_FAILURES"]
    clients = [browsers() for _ in range(n)]
    barrier = threading.Barrier(n)
    codes: list[int] = []

    def guess(i: int) -> None:
        barrier.wait()
        codes.append(clients[i].post("/login", data={"username": "yte", "password": f"wrong-{i}"}).status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    counted = Counter(codes)
    assert counted[401] <= limit and counted[401] + counted[429] == n, counted
    right = browsers().post("/login", data={"username": "yte", "password": PASSWORD})
    assert right.status_code == 429  # locked for the window, even with the right password
