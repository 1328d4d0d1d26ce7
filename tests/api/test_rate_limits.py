"""Flask-Limiter on the API (per token) and on signing in (per address): 429 with Retry-After, limits from the
config, counts in Redis on 127.0.0.1:6379 shared by every process."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.api.conftest import error_body

REDIS_URL = "redis://127.0.0.1:6379/0"
PREFIX = f"tracker-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": PREFIX,
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False,
            "API_RATE_LIMIT": "5 per minute", "LOGIN_RATE_LIMIT": "3 per minute"}


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    from tracker.extensions import limiter

    # Flask-Limiter keeps the first key prefix it was given in a process: an app with production settings made
    # earlier by another test file (tests/test_config.py) would leave "tracker", the counts would miss the
    # clean-up below and outlive the test (seen under pytest-xdist, where files run in another order). Autouse:
    # this runs before the app is made, so the app's RATELIMIT_KEY_PREFIX is the one used.
    limiter._key_prefix = ""
    connection = redis.Redis.from_url(REDIS_URL)
    yield
    for key in connection.scan_iter(f"*{PREFIX}*"):
        connection.delete(key)
    connection.close()


def test_the_api_answers_429_with_retry_after_past_the_tokens_limit(api_as: Any, commune: Any) -> None:
    officer, chair = api_as(commune.officer), api_as(commune.chair)
    assert [officer.get("/api/v1/me").status_code for _ in range(5)] == [200] * 5
    response = officer.get("/api/v1/occurrences")  # one budget across the API's resources
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    body = error_body(response)
    assert body["code"] == "too_many_requests"
    assert body["errors"]["_general"] == ["Quá nhiều lần thử. Vui lòng chờ rồi thử lại."]
    assert chair.get("/api/v1/me").status_code == 200  # another token has its own budget


def test_signing_in_is_limited_per_address(client: Any, commune: Any) -> None:
    codes = [client.post("/login", data={"username": "yte", "password": "wrong-password"}).status_code
             for _ in range(3)]
    assert codes == [401, 401, 401]
    response = client.post("/login", data={"username": "ai-do", "password": "x"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "Quá nhiều lần thử" in response.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # the form itself is not limited


_OTHER_PROCESS = """
import json, sys
from tracker import create_app
from tracker.extensions import db
config = json.loads(sys.argv[1])
app = create_app(config)
with app.app_context():
    client = app.test_client()
    codes = [client.post("/login", data={"username": "yte", "password": "wrong"}).status_code for _ in range(2)]
    db.engine.dispose()
print(json.dumps(codes))
"""


def test_another_process_shares_the_count(client: Any, commune: Any, app: Any, app_config: dict[str, Any]) -> None:
    """Two requests in a second process, then this one: the third request overall is the last allowed."""
    config = {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **app_config}
    done = subprocess.run([sys.executable, "-c", _OTHER_PROCESS, json.dumps(config)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [401, 401]
    codes = [client.post("/login", data={"username": "yte", "password": "wrong"}).status_code for _ in range(3)]
    # Alone, this process would allow three; with the other process's two counted, at most one more passes.
    assert codes.count(401) <= 1 and codes[-1] == 429, codes
