"""API test helpers: bearer tokens for the commune's people and a JSON client that sends them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tracker.extensions import db


class ApiClient:
    """A test client speaking to /api/v1 as one person (or nobody)."""

    def __init__(self, client: FlaskClient, token: str | None, language: str | None = None) -> None:
        self.client = client
        self.token = token
        self.language = language

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.language:
            headers["Accept-Language"] = self.language
        headers.update(extra or {})
        return headers

    def get(self, path: str, *, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get(path, headers=self._headers(headers), **kw)

    def post(self, path: str, json: Any = None, *, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        if json is not None:
            kw["json"] = json
        return self.client.post(path, headers=self._headers(headers), **kw)

    def put(self, path: str, json: Any = None, *, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        if json is not None:
            kw["json"] = json
        return self.client.put(path, headers=self._headers(headers), **kw)


@pytest.fixture
def token_for(app: Flask) -> Callable[[Any], str]:
    """A fresh bearer token for a person (committed, as `tracker token create` does)."""
    from tracker.operations.people import create_api_token

    def make(person: Any) -> str:
        _token, clear = create_api_token(None, person)
        db.session.commit()
        return clear

    return make


@pytest.fixture
def api_as(client: FlaskClient, token_for: Callable[[Any], str]) -> Callable[..., ApiClient]:
    """`api_as(commune.officer)` is an ApiClient with that person's token; `api_as(None)` has none."""

    def make(person: Any, language: str | None = None) -> ApiClient:
        return ApiClient(client, token_for(person) if person is not None else None, language)

    return make


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def error_body(response: Any) -> dict[str, Any]:
    """The JSON error body, checked to have exactly the one error shape."""
    body = response.get_json()
    assert set(body) == {"errors", "code"}, body
    assert isinstance(body["code"], str)
    assert all(isinstance(k, str) and isinstance(v, list) and all(isinstance(m, str) for m in v)
               for k, v in body["errors"].items()), body
    return body
