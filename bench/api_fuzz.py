"""Fuzz the JSON API with schemathesis against a live local server (loopback only, bounded in time).

    .venv/bin/pip install -e '.[test,bench]'
    .venv/bin/python bench/api_fuzz.py [--max-examples 30] [--user quantri] [--database-url postgresql://...]
                                       [--strict-acceptance]

Builds a throwaway database with the demo data (a SQLite file, or with --database-url a database of its own on
that PostgreSQL server, dropped at the end), serves the app on 127.0.0.1 (a free port) in a thread, creates a
bearer token for a demo account and runs `schemathesis run` on /api/openapi.json with every check. Prints the
number of requests and of failures, and exits with schemathesis' status. Nothing leaves the machine.

One setting differs from schemathesis' defaults: a schema-valid request may be answered 422. The OpenAPI
document states types, ranges, lengths and patterns, but not the rules that need the database: that a unit
id names an existing unit, that a new deadline comes after the current one, that a plan has tasks before it is
activated. Those are answered 422 in the one error shape; everything else the checks demand still holds
(no 5xx, documented statuses, content types and headers, responses matching their schemas, schema-violating
requests refused).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent

SCHEMATHESIS_CONFIG = """\
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"""


def _postgres_database(server_url: str) -> tuple[str, object]:
    """A fresh database on the server (and the admin engine that drops it afterwards)."""
    import sqlalchemy as sa

    if server_url.startswith("postgresql://"):
        server_url = "postgresql+psycopg://" + server_url.removeprefix("postgresql://")
    name = f"tracker_fuzz_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(sa.engine.make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return url, (admin, name)


def _drop_postgres_database(handle: object) -> None:
    admin, name = handle  # type: ignore[misc]
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _summary(report_dir: Path) -> str:
    """Requests sent and failures found, read from schemathesis' NDJSON event log."""
    requests, failures = 0, set()
    for path in report_dir.glob("*.ndjson"):
        for line in path.read_text(encoding="utf-8").splitlines():
            finished = json.loads(line).get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished.get("recorder") or {}
            requests += len(recorder.get("interactions") or {})
            for checks in (recorder.get("checks") or {}).values():
                for check in checks:
                    if str(check.get("status")).lower() == "failure":
                        failure = (check.get("failure_info") or {}).get("failure") or {}
                        failures.add((failure.get("code"), failure.get("operation"), failure.get("message")))
    return f"requests: {requests}, distinct failures: {len(failures)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--user", default=None, help="demo username whose token is used (default: an admin)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--strict-acceptance", action="store_true",
                        help="schemathesis' own expectation: a schema-valid request is never answered 422")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server (postgresql://user@127.0.0.1:5432/postgres) to fuzz on instead of "
                             "SQLite; a database of its own is created there and dropped")
    options = parser.parse_args()

    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db

    workdir = Path(tempfile.mkdtemp(prefix="tracker-fuzz-"))
    pg_handle = None
    if options.database_url:
        url, pg_handle = _postgres_database(options.database_url)
    else:
        url = f"sqlite:///{workdir / 'fuzz.db'}"
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "MAIL_SUPPRESS_SEND": True})
    server = None
    try:
        with app.app_context():
            import sqlalchemy as sa

            from tracker.demo import build_demo
            from tracker.models import Person, Role, RoleAssignment
            from tracker.operations.people import create_api_token

            upgrade()
            accounts = build_demo("fuzz-pass-123")
            username = options.user or next((u for role, u in accounts if "admin" in str(role).lower()),
                                            accounts[0][1])
            person = db.session.scalar(sa.select(Person).where(Person.username == username))
            if person is None:  # fall back to anyone holding a role
                person = db.session.scalar(
                    sa.select(Person).join(RoleAssignment).where(RoleAssignment.role == Role.ADMIN))
            _token, clear = create_api_token(None, person, "fuzz")
            username = person.username
            db.session.commit()

        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"serving {base} as {username} on {'PostgreSQL' if pg_handle else 'SQLite'}", flush=True)
        config = workdir / "schemathesis.toml"
        config.write_text("" if options.strict_acceptance else SCHEMATHESIS_CONFIG, encoding="utf-8")
        report_dir = workdir / "report"
        command = [
            str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "run",
            f"{base}/api/openapi.json", "--url", base, "--checks", "all", "--max-examples", str(options.max_examples),
            "--seed", str(options.seed), "--header", f"Authorization: Bearer {clear}",
            "--header", "Accept-Language: en", "--request-timeout", "20", "--workers", "1",
            "--report", "ndjson", "--report-dir", str(report_dir),
        ]
        code = subprocess.run(command, timeout=900, check=False).returncode
        print(_summary(report_dir), flush=True)
        return code
    finally:
        if server is not None:
            server.shutdown()
        with app.app_context():
            db.engine.dispose()
        if pg_handle is not None:
            _drop_postgres_database(pg_handle)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
