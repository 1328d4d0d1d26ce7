"""Fixtures for the web pages: signing in through the real form, and a commune with varied data."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.web.seed import seed_web_data

PASSWORD = "secret-pass-1"


@pytest.fixture
def login(client: FlaskClient) -> Callable[[str], FlaskClient]:
    """Sign in through /login (CSRF off in testing unless a module turns it on)."""

    def sign_in(username: str, password: str = PASSWORD) -> FlaskClient:
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in


@pytest.fixture
def web_data(active_plan: Any, commune: Any, make_task: Callable[..., Any],
             make_person: Callable[..., Any]) -> SimpleNamespace:
    """See tests/web/seed.py."""
    return seed_web_data(active_plan, commune, make_task, make_person)
