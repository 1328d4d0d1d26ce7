"""Every page answers, in Vietnamese by default, filtered by the signed-in person's scope."""

from __future__ import annotations

import pytest


def test_home_welcomes_anonymous_visitors_with_the_sign_in_form(client, web_data):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="login-form"' in page and 'action="/login"' in page
    # Real (non-demo) plans are never shown to someone who has not signed in.
    assert 'data-testid="demo-showcase"' not in page
    assert web_data.task.title not in page


def test_pages_need_sign_in(client, app):
    for path in ("/tasks", "/overview", "/rollup", "/plans", "/admin/units", "/profile"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(("username", "home"), [
    ("yte", "/tasks"), ("chutich", "/overview"), ("ldtbxh", "/tasks"), ("tinh", "/rollup"), ("quantri", "/admin/units"),
])
def test_home_sends_each_role_to_its_page(login, web_data, username, home):
    client = login(username)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(home)


@pytest.mark.parametrize("username", ["yte", "chutich", "ldtbxh", "tinh", "quantri", "huyen", "truongtram"])
def test_every_page_renders_for_every_role(login, web_data, username):
    client = login(username)
    paths = ["/tasks", "/overview", "/overview/print", "/rollup", "/plans", f"/plans/{web_data.plan.id}",
             "/profile", "/notifications"]
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 403), (path, response.status_code)
        assert response.status_code == 200 or username in ("yte", "truongtram"), path
    occ = client.get(f"/occurrences/{web_data.occurrence.id}")
    assert occ.status_code == 200
    assert "Báo cáo kết quả tiếp cận dịch vụ y tế" in occ.get_data(as_text=True)


def test_pages_are_vietnamese_by_default(login, web_data):
    html = login("yte").get("/tasks").get_data(as_text=True)
    assert "Việc của tôi" in html
    assert "25/09/2024" in html
    assert "Quá hạn" in html


def test_no_asset_comes_from_outside(app):
    """Offline agency networks: templates and static files name no external host (no CDN)."""
    import re
    from pathlib import Path

    root = Path(app.root_path)
    external = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)
    for folder in ("templates", "static"):
        for path in (root / folder).rglob("*"):
            if path.suffix in {".html", ".css", ".js", ".svg"} and "messages" not in path.parts:
                text = path.read_text(encoding="utf-8")
                assert not external.search(text), path
                assert "@import url(http" not in text, path


def test_production_cookies_are_secure(tmp_path):
    from tracker import create_app

    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_pages_send_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
