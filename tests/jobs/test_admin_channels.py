"""The message channels page: e-mail settings shown without secrets; connecting Zalo's OA in the browser
against the fake Zalo on loopback (real HTTP for the permission page and the token exchange)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.fakes.zalo_server import FakeZaloServer
from tracker.extensions import db
from tracker.models import AuditEvent
from tracker.models.notifications import ChannelCredential
from tracker.notify.zalo_tokens import ZALO_PROVIDER


@pytest.fixture
def zalo_app(app: Flask, zalo_server: FakeZaloServer) -> FakeZaloServer:
    app.config.update(
        ZALO_ENABLED=True, ZALO_APP_ID=zalo_server.app_id, ZALO_SECRET_KEY=zalo_server.secret_key,
        ZALO_OAUTH_URL=zalo_server.url, ZALO_OPENAPI_URL=zalo_server.url, ZALO_TIMEOUT_SECONDS=2,
        MAIL_USERNAME="thongbao@example.org", MAIL_PASSWORD="mat-khau-smtp-bi-mat", MAIL_USE_TLS=True,
    )
    return zalo_server


@pytest.fixture
def root_admin(client: FlaskClient, commune: Any, login: Any) -> FlaskClient:
    return login("quantri")  # admin of the province, a unit without a parent


def _callback_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def _tokens() -> ChannelCredential | None:
    db.session.expire_all()
    return db.session.get(ChannelCredential, ZALO_PROVIDER)


def test_the_page_shows_the_settings_but_never_a_secret(root_admin: FlaskClient, zalo_app: FakeZaloServer) -> None:
    html = root_admin.get("/admin/channels").get_data(as_text=True)
    assert 'data-testid="email-settings"' in html and "STARTTLS" in html
    assert "mat-khau-smtp-bi-mat" not in html and zalo_app.secret_key not in html
    assert "Chưa kết nối" in html
    assert "http://localhost/admin/channels/zalo/callback" in html  # what to register at developers.zalo.me
    assert "Kênh gửi tin" in root_admin.get("/admin/outbox").get_data(as_text=True)  # the tab


def test_an_admin_connects_zalo_through_the_permission_page(root_admin: FlaskClient,
                                                            zalo_app: FakeZaloServer) -> None:
    started = root_admin.post("/admin/channels/zalo/connect")
    assert started.status_code == 302 and started.location.startswith(zalo_app.url + "/v4/oa/permission?")
    approved = httpx.get(started.location, follow_redirects=False)  # the admin approves at Zalo
    assert approved.status_code == 302
    back = root_admin.get(_callback_path(approved.headers["location"]))
    assert back.status_code == 302 and back.location.endswith("/admin/channels")
    row = _tokens()
    assert row is not None and row.access_token and row.refresh_token
    html = root_admin.get("/admin/channels").get_data(as_text=True)
    assert "Zalo đã được kết nối" in html and "Đã kết nối" in html and row.access_token not in html
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("channel.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["channel.zalo_authorize", "channel.zalo_connect"]


def test_a_forged_or_declined_callback_changes_nothing(root_admin: FlaskClient, zalo_app: FakeZaloServer) -> None:
    started = root_admin.post("/admin/channels/zalo/connect")
    approved = httpx.get(started.location, follow_redirects=False)
    forged = _callback_path(approved.headers["location"]).replace("state=", "state=x")
    page = root_admin.get(forged, follow_redirects=True).get_data(as_text=True)
    assert "state" in page and _tokens() is None
    no_state = _callback_path(approved.headers["location"]).split("&state=")[0]
    assert "không có mã state" in root_admin.get(no_state, follow_redirects=True).get_data(as_text=True)
    declined = root_admin.get("/admin/channels/zalo/callback?error=access_denied", follow_redirects=True)
    assert "Zalo không cấp quyền" in declined.get_data(as_text=True)
    assert _tokens() is None
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "channel.zalo_connect")) == 0


def test_only_an_admin_of_a_top_level_unit_manages_channels(client: FlaskClient, commune: Any, login: Any,
                                                           make_person: Any, zalo_app: FakeZaloServer) -> None:
    from tracker.models import Role

    make_person("quantrixa", roles=[(Role.ADMIN, commune.xa)])
    db.session.commit()
    login("quantrixa")
    assert client.get("/admin/channels").status_code == 403
    assert client.post("/admin/channels/zalo/connect").status_code == 403
    assert client.get("/admin/channels/zalo/callback?code=abc&state=s").status_code == 403
    assert "Kênh gửi tin" not in client.get("/admin/outbox").get_data(as_text=True)
    assert not [r for r in zalo_app.requests if r.endpoint == "oauth"]
