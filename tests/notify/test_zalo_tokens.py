"""SqlTokenStore: one refresh at a time across threads and processes, committed on its own.

Runs on SQLite always and on PostgreSQL when TRACKER_TEST_DATABASE_URL is set (in a schema of its own,
dropped afterwards).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.fakes.zalo_server import FakeZaloServer
from tracker.models.notifications import ChannelCredential
from tracker.notify.base import ReauthRequired
from tracker.notify.zalo_tokens import SqlTokenStore, ZaloTokens

PG_URL_ENV = "TRACKER_TEST_DATABASE_URL"
FOLLOWER = "8451239876543210987"


@dataclass(frozen=True)
class Db:
    engine: Engine
    url: str
    schema: str  # "" on SQLite


def _pg_url() -> str | None:
    url = os.environ.get(PG_URL_ENV)
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def token_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    """A database holding only the channel_credentials table."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tokens.db'}"
        engine = sa.create_engine(url)
        ChannelCredential.__table__.create(engine)
        yield Db(engine, url, "")
        engine.dispose()
        return
    url = _pg_url()
    if url is None:
        pytest.skip(f"PostgreSQL skipped: set {PG_URL_ENV}")
    schema = f"tokens_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    ChannelCredential.__table__.create(engine)
    try:
        yield Db(engine, url, schema)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def pair(n: int) -> ZaloTokens:
    return ZaloTokens(f"access-{n}", f"refresh-{n}", datetime(2024, 9, 25, 1, 0, tzinfo=UTC) + timedelta(hours=n))


class CountingGrant:
    """Stands in for Zalo: hands out pair n+1 for refresh token n, slowly, and counts calls."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, refresh_token: str) -> ZaloTokens:
        with self._lock:
            self.calls.append(refresh_token)
        time.sleep(self.delay)
        return pair(int(refresh_token.rsplit("-", 1)[1]) + 1)


def test_load_without_tokens_requires_reauth(token_db: Db) -> None:
    with pytest.raises(ReauthRequired):
        SqlTokenStore(token_db.engine).load()
    with pytest.raises(ReauthRequired):
        SqlTokenStore(token_db.engine).refresh("access-1", CountingGrant())


def test_save_and_load_round_trip(token_db: Db) -> None:
    store = SqlTokenStore(token_db.engine)
    saved = store.save(pair(1))
    loaded = store.load()
    assert loaded == saved
    assert (loaded.access_token, loaded.refresh_token, loaded.version) == ("access-1", "refresh-1", 1)
    assert loaded.access_expires_at == pair(1).access_expires_at
    assert loaded.access_expires_at is not None and loaded.access_expires_at.tzinfo is not None
    assert store.save(pair(5)).version == 2


def test_refresh_stores_the_new_pair_and_bumps_the_version(token_db: Db) -> None:
    store = SqlTokenStore(token_db.engine)
    store.save(pair(1))
    grant = CountingGrant()

    refreshed = store.refresh("access-1", grant)

    assert grant.calls == ["refresh-1"]
    assert (refreshed.access_token, refreshed.refresh_token, refreshed.version) == ("access-2", "refresh-2", 2)
    assert SqlTokenStore(token_db.engine).load() == refreshed


def test_refresh_skips_zalo_when_someone_already_refreshed(token_db: Db) -> None:
    store = SqlTokenStore(token_db.engine)
    store.save(pair(1))
    store.refresh("access-1", CountingGrant())
    grant = CountingGrant()

    current = store.refresh("access-1", grant)  # a worker that still held the old token

    assert grant.calls == []
    assert current.access_token == "access-2"


def test_refresh_commits_even_if_the_callers_transaction_rolls_back(token_db: Db) -> None:
    store = SqlTokenStore(token_db.engine)
    store.save(pair(1))
    with Session(token_db.engine) as caller:
        caller.begin()
        assert caller.get(ChannelCredential, "zalo") is not None
        store.refresh("access-1", CountingGrant())
        caller.rollback()
    assert store.load().access_token == "access-2"


def test_failed_grant_leaves_the_stored_pair(token_db: Db) -> None:
    store = SqlTokenStore(token_db.engine)
    store.save(pair(1))

    def refused(refresh_token: str) -> ZaloTokens:
        raise ReauthRequired("refresh token refused")

    with pytest.raises(ReauthRequired):
        store.refresh("access-1", refused)
    assert store.load().access_token == "access-1"


def test_concurrent_threads_refresh_once(token_db: Db) -> None:
    SqlTokenStore(token_db.engine).save(pair(1))
    grant = CountingGrant(delay=0.3)
    start = threading.Barrier(4)
    results: list[ZaloTokens] = []
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            start.wait()
            results.append(SqlTokenStore(token_db.engine).refresh("access-1", grant))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert grant.calls == ["refresh-1"]
    assert {r.access_token for r in results} == {"access-2"}
    assert SqlTokenStore(token_db.engine).load().version == 2


_PROCESS_SCRIPT = """
import os, sys, time
from pathlib import Path
from typing import Any
import sqlalchemy as sa
from tracker.notify.zalo import ZaloClient, ZaloConfig
from tracker.notify.zalo_tokens import SqlTokenStore

url, schema, fake_url, app_id, secret, gate, user_id = sys.argv[1:8]
options = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
engine = sa.create_engine(url, **options)
config = ZaloConfig(app_id, secret, oauth_url=fake_url, openapi_url=fake_url, zns_url=fake_url, timeout=10)
(Path(gate) / f"ready-{os.getpid()}").touch()
while not (Path(gate) / "go").exists():
    time.sleep(0.005)
with ZaloClient(config, SqlTokenStore(engine)) as client:
    print(client.send_oa_text(user_id, "tin từ một tiến trình khác"))
"""


def test_two_processes_refresh_once(token_db: Db, zalo_server: FakeZaloServer, tmp_path: Path) -> None:
    access, refresh = zalo_server.issue_tokens()
    SqlTokenStore(token_db.engine).save(ZaloTokens(access, refresh, datetime.now(UTC) + timedelta(hours=20)))
    zalo_server.expire_access_tokens()
    zalo_server.slow_refreshes(0.5)  # both processes see the rejection before the first refresh lands
    gate = tmp_path / "gate"
    gate.mkdir()
    args = [token_db.url, token_db.schema, zalo_server.url, zalo_server.app_id, zalo_server.secret_key]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_SCRIPT, *args, str(gate), FOLLOWER],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    # Release both at once, after both interpreters have finished importing.
    deadline = time.monotonic() + 60
    while len(list(gate.glob("ready-*"))) < 2 and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.01)
    (gate / "go").touch()
    outputs = [p.communicate(timeout=60) for p in procs]

    assert [p.returncode for p in procs] == [0, 0], outputs
    assert zalo_server.refresh_count == 1
    assert len(zalo_server.requests_to("oauth")) == 1
    stored = SqlTokenStore(token_db.engine).load()
    assert stored.version == 2
    assert stored.refresh_token != refresh


def test_a_connection_lost_between_zalo_answer_and_store_keeps_the_new_pair(token_db: Db,
                                                                             zalo_server: FakeZaloServer) -> None:
    """Zalo spent the old refresh token and answered; the connection dies before the new pair is stored."""
    from sqlalchemy import event

    from tracker.notify.zalo import ZaloClient, ZaloConfig

    access, refresh = zalo_server.issue_tokens()
    store = SqlTokenStore(token_db.engine)
    store.save(ZaloTokens(access, refresh, datetime.now(UTC) + timedelta(hours=20)))
    zalo_server.expire_access_tokens()
    dropped: list[str] = []

    def drop_before_store(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("UPDATE channel_credentials SET access_token") and not dropped:
            dropped.append(statement)
            if token_db.schema:
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                with sa.create_engine(token_db.url).connect() as killer:
                    killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            else:
                cursor.connection.close()  # SQLite's equivalent of a dropped connection

    config = ZaloConfig(zalo_server.app_id, zalo_server.secret_key, oauth_url=zalo_server.url,
                        openapi_url=zalo_server.url, zns_url=zalo_server.url, timeout=5)
    event.listen(token_db.engine, "before_cursor_execute", drop_before_store)
    try:
        with ZaloClient(config, store) as client:
            assert client.send_oa_text(FOLLOWER, "xin chào")  # refreshed, stored on a new connection, sent
    finally:
        event.remove(token_db.engine, "before_cursor_execute", drop_before_store)
    assert dropped and zalo_server.refresh_count == 1
    stored = store.load()
    assert stored.refresh_token in zalo_server.state.refresh_tokens  # the live one, not the spent one
    assert stored.version == 2
    zalo_server.expire_access_tokens()
    with ZaloClient(config, store) as client:
        assert client.send_oa_text(FOLLOWER, "lần nữa")  # the stored refresh token still works
    assert zalo_server.refresh_count == 2
