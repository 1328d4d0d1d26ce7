"""Fuzz the JSON API with schemathesis against a live local server (loopback only, bounded in time).

    .venv/bin/pip install schemathesis
    .venv/bin/python bench/api_fuzz.py [--max-examples 30] [--user quantri]

Builds a throwaway SQLite database with the demo data, serves the app on 127.0.0.1 (a free port) in a
thread, creates a bearer token for a demo account and runs `schemathesis run` on /api/openapi.json with
every check. Exits with schemathesis' status. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--user", default=None, help="demo username whose token is used (default: an admin)")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()

    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db

    workdir = Path(tempfile.mkdtemp(prefix="tracker-fuzz-"))
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'fuzz.db'}",
                      "MAIL_SUPPRESS_SEND": True})
    with app.app_context():
        import sqlalchemy as sa

        from tracker.demo import build_demo
        from tracker.models import Person, Role, RoleAssignment
        from tracker.operations.people import create_api_token

        upgrade()
        accounts = build_demo("fuzz-pass-123")
        username = options.user or next((u for role, u in accounts if "admin" in str(role).lower()), accounts[0][1])
        person = db.session.scalar(sa.select(Person).where(Person.username == username))
        if person is None:  # fall back to anyone holding a role
            person = db.session.scalar(sa.select(Person).join(RoleAssignment).where(RoleAssignment.role == Role.ADMIN))
        _token, clear = create_api_token(None, person, "fuzz")
        username = person.username
        db.session.commit()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"serving {base} as {username}", flush=True)
    try:
        command = [
            str(Path(sys.executable).with_name("schemathesis")), "run", f"{base}/api/openapi.json",
            "--url", base, "--checks", "all", "--max-examples", str(options.max_examples),
            "--seed", str(options.seed), "--header", f"Authorization: Bearer {clear}",
            "--header", "Accept-Language: en", "--request-timeout", "20", "--workers", "1",
            "--report", "ndjson", "--report-dir", str(workdir / "report"),
        ]
        return subprocess.run(command, timeout=900, check=False).returncode
    finally:
        server.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
