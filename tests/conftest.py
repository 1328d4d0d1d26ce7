"""Shared fixtures: the app on a clean database (SQLite and, when configured, PostgreSQL), factories,
a demo-like commune, and a guard that keeps every test on loopback.

Database tests take the `app` fixture and run once per backend: `sqlite` always, `postgresql` when
TRACKER_TEST_DATABASE_URL points at a server (otherwise they are reported as skipped, with the reason).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tracker import create_app
from tracker.extensions import db

PG_URL_ENV = "TRACKER_TEST_DATABASE_URL"
# The password of every person make_person creates, unless a test gives another.
PASSWORD = "secret-pass-1"
BACKENDS = ["sqlite", "postgresql"]


# --- Network guard ---------------------------------------------------------------------------------

def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths (the PostgreSQL socket) and the like
    host = str(address[0])
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would open a connection beyond 127.0.0.1 (no mail, HTTP or DB leaves the box)."""

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to connect outside loopback: {address!r}")
        return _real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to connect outside loopback: {address!r}")
        return _real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


# --- Databases -------------------------------------------------------------------------------------

def pg_server_url() -> str | None:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        return None
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    _upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of our own on the configured PostgreSQL server, migrated once, dropped at the end."""
    server = pg_server_url()
    if server is None:
        pytest.skip(f"PostgreSQL skipped: set {PG_URL_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/postgres)")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"tracker_test_{worker}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(sa.engine.make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        _upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A clean, migrated database for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "tracker.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_database")
    yield url
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        empty_pg_database(conn)
    engine.dispose()


def empty_pg_database(conn: sa.Connection) -> None:
    """Back to the freshly migrated state: no rows, every identity from its start (what TRUNCATE ... RESTART
    IDENTITY CASCADE does, but DELETE costs milliseconds on the few rows a test writes where TRUNCATE of every
    table costs about 0.6 s: it swaps each table's files and syncs them)."""
    for table in reversed(db.metadata.sorted_tables):  # children first: no foreign key is ever violated
        if table.name != "alembic_version":
            conn.exec_driver_sql(f'DELETE FROM "{table.name}"')
    conn.exec_driver_sql(
        "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), start_value, false) "
        "FROM pg_sequences WHERE last_value IS NOT NULL")


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Extra configuration for the `app` fixture; override in a module to change settings."""
    return {}


@pytest.fixture
def app(database_url: str, app_config: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """The app on a clean database, inside an application context."""
    application = create_app({
        "ENV_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,  # nothing listens there: a test that sends mail starts its own SMTP server
        # Tests count single outbox rows; tests/jobs/test_bundle.py turns bundling (on by default) back on.
        "BUNDLE_ENABLED": False,
        **app_config,
    })
    application.instance_path = str(tmp_path / "instance")
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by werkzeug on 127.0.0.1 in a thread; yields its base URL. Each httpx client or browser
    talking to it has its own cookies (the Flask test client shares the test's app context and signed-in user)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    # shutdown() waits for the serving loop's next poll: 0.5 s by default, at the end of every test using it.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def client(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def backend(database_url: str) -> str:
    """"sqlite" or "postgresql": the backend the current test runs on."""
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


# --- Factories -------------------------------------------------------------------------------------

@pytest.fixture
def make_unit(app: Flask) -> Callable[..., Any]:
    from tracker.models import UnitKind
    from tracker.operations.units import create_unit

    def make(name: str, kind: UnitKind | str = UnitKind.OFFICE, parent: Any = None, **kw: Any) -> Any:
        return create_unit(None, name=name, kind=UnitKind(kind), parent=parent, **kw)

    return make


@pytest.fixture
def login(client: Any) -> Callable[..., Any]:
    """Sign in through /login (CSRF off in testing unless a module turns it on); returns the client."""

    def sign_in(username: str, password: str = PASSWORD) -> Any:
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in


@pytest.fixture
def make_person(app: Flask) -> Callable[..., Any]:
    from tracker.models import Role
    from tracker.operations.people import assign_role, create_person

    counter = iter(range(1, 10_000))

    def make(username: str | None = None, *, roles: list[tuple[Role | str, Any]] = (), password: str = PASSWORD,
             **kw: Any) -> Any:
        n = next(counter)
        username = username or f"person{n}"
        kw.setdefault("full_name", f"Người {n}")
        kw.setdefault("email", f"{username}@example.org")
        person = create_person(None, username=username, password=password, **kw)
        for role, unit in roles:
            assign_role(None, person, unit, Role(role))
        return person

    return make


@pytest.fixture
def commune(app: Flask, make_unit: Callable[..., Any], make_person: Callable[..., Any]) -> Any:
    """A small tree and its people: province > district > commune > offices and villages."""
    from types import SimpleNamespace

    from tracker.models import Role, UnitKind

    province = make_unit("Tỉnh Thử Nghiệm", UnitKind.PROVINCE)
    district = make_unit("Huyện Thử Nghiệm", UnitKind.DISTRICT, parent=province)
    xa = make_unit("Xã Cao Ngọc", UnitKind.COMMUNE, parent=district)
    other_xa = make_unit("Xã Bên Cạnh", UnitKind.COMMUNE, parent=district)
    health = make_unit("Trạm Y tế", UnitKind.HEALTH_STATION, parent=xa)
    labour = make_unit("Công chức Lao động - TB&XH", UnitKind.OFFICE, parent=xa)
    school = make_unit("Trường Tiểu học", UnitKind.SCHOOL, parent=xa)
    village = make_unit("Thôn 1", UnitKind.VILLAGE, parent=xa)
    other_health = make_unit("Trạm Y tế", UnitKind.HEALTH_STATION, parent=other_xa)
    ns = SimpleNamespace(
        province=province, district=district, xa=xa, other_xa=other_xa, health=health, labour=labour,
        school=school, village=village, other_health=other_health,
    )
    ns.officer = make_person("yte", roles=[(Role.OFFICER, health)], full_name="Nguyễn Văn Y")
    ns.head = make_person("truongtram", roles=[(Role.UNIT_HEAD, health)], full_name="Trần Thị Trưởng")
    ns.focal = make_person("ldtbxh", roles=[(Role.FOCAL, xa), (Role.OFFICER, labour)], full_name="Lê Văn Đầu Mối")
    ns.chair = make_person("chutich", roles=[(Role.CHAIR, xa)], full_name="Phạm Văn Chủ Tịch")
    ns.district_focal = make_person("huyen", roles=[(Role.FOCAL, district)], full_name="Hoàng Văn Huyện")
    ns.viewer = make_person("tinh", roles=[(Role.VIEWER, province)], full_name="Vũ Thị Tỉnh")
    ns.admin = make_person("quantri", roles=[(Role.ADMIN, province)], full_name="Đặng Quản Trị")
    ns.other_officer = make_person("ytekhac", roles=[(Role.OFFICER, other_health)], full_name="Bùi Văn Khác")
    db.session.commit()
    return ns


@pytest.fixture
def make_plan(app: Flask) -> Callable[..., Any]:
    from tracker.operations.plans import create_plan

    def make(issuing_unit: Any, *, title: str = "Kế hoạch giảm nghèo năm 2024", year: int = 2024, **kw: Any) -> Any:
        kw.setdefault("issued_on", date(year, 3, 15))
        return create_plan(None, title=title, issuing_unit=issuing_unit, year=year, **kw)

    return make


@pytest.fixture
def make_task(app: Flask) -> Callable[..., Any]:
    from tracker.operations.plans import add_task

    def make(plan: Any, lead_unit: Any, *, title: str = "Báo cáo kết quả", due: date | None = None,
             recurrence: str | None = None, **kw: Any) -> Any:
        return add_task(None, plan, title=title, lead_unit=lead_unit, due_dates=[due] if due else [],
                        recurrence_rule=recurrence, **kw)

    return make


@pytest.fixture
def active_plan(commune: Any, make_plan: Callable[..., Any], make_task: Callable[..., Any]) -> Any:
    """An active 2024 plan of the commune: the health station reports by 25/9/2024 to the commune."""
    from tracker.models import Occurrence
    from tracker.operations.plans import activate_plan

    plan = make_plan(commune.xa, number="56/KH-UBND")
    task = make_task(plan, commune.health, title="Báo cáo kết quả tiếp cận dịch vụ y tế",
                     due=date(2024, 9, 25), report_to_unit=commune.xa, section_code="III.2.6")
    activate_plan(None, plan)
    db.session.commit()
    occurrence = db.session.scalar(sa.select(Occurrence).where(Occurrence.task_id == task.id))
    from types import SimpleNamespace

    return SimpleNamespace(plan=plan, task=task, occurrence=occurrence)


# --- Reporting -------------------------------------------------------------------------------------

def sqlite_only(test: Callable[..., Any]) -> Callable[..., Any]:
    """Run a database test on SQLite only: what it proves has no SQL of its own (calendar arithmetic, templates,
    validation) or is proved on both databases elsewhere and costs minutes (the 150-page OCR journey)."""
    test._sqlite_only = True  # type: ignore[attr-defined]
    return test


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    drop = [
        item for item in items
        if getattr(getattr(item, "function", None), "_sqlite_only", False)
        and getattr(getattr(item, "callspec", None), "params", {}).get("database_url") == "postgresql"
    ]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if item not in drop]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say once, clearly, when the PostgreSQL half of the database tests did not run."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "PostgreSQL skipped" in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"PostgreSQL: {len(skipped)} database tests SKIPPED on PostgreSQL "
            f"(set {PG_URL_ENV}=postgresql://postgres@127.0.0.1:5432/postgres to run them); SQLite ran.",
            yellow=True,
        )
    elif pg_server_url():
        terminalreporter.write_line("PostgreSQL: database tests ran on SQLite and PostgreSQL.", green=True)
