"""With CSRF protection on (as in production), a form posted without its token is refused."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Comment, Occurrence


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def test_forged_sign_in_without_token_is_refused(client, web_data):
    response = client.post("/login", data={"username": "yte", "password": "secret-pass-1"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def _sign_in(client):
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "yte", "password": "secret-pass-1", "csrf_token": token})
    assert response.status_code == 302


def test_forged_posts_change_nothing(client, web_data):
    _sign_in(client)
    occ_id = web_data.occurrence.id
    for path, data in ((f"/occurrences/{occ_id}/report", {"body": "giả"}),
                       (f"/occurrences/{occ_id}/done", {"note": "giả", "confirm": "y"}),
                       (f"/occurrences/{occ_id}/comments", {"body": "giả"}),
                       ("/profile/tokens", {"name": "giả"}),
                       ("/logout", {})):
        response = client.post(path, data=data)
        assert response.status_code == 400, path
    db.session.expire_all()
    assert db.session.get(Occurrence, occ_id).completed_at is None
    assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0


def test_genuine_post_with_token_works(client, web_data):
    _sign_in(client)
    occ_id = web_data.occurrence.id
    token = _token(client.get(f"/occurrences/{occ_id}").get_data(as_text=True))
    response = client.post(f"/occurrences/{occ_id}/comments", data={"body": "thật", "csrf_token": token})
    assert response.status_code == 302
