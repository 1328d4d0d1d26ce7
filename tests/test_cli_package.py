"""`tracker --help` lists every command without building the app or importing the database layer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs `tracker --help` in a fresh interpreter, then reports what got imported.
PROBE = """
import json, sys
from click.testing import CliRunner
from tracker.cli import main
result = CliRunner().invoke(main, ["--help"])
heavy = sorted(m for m in ("sqlalchemy", "flask_sqlalchemy", "flask_migrate", "alembic", "tracker.extensions",
                           "tracker.models", "httpx", "docx", "pdfplumber") if m in sys.modules)
print(json.dumps({"exit": result.exit_code, "output": result.output, "heavy": heavy}))
"""


def _probe() -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TRACKER_ENV": "testing"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_lists_every_command_without_importing_the_database_layer() -> None:
    from tracker.cli import own_commands

    probe = _probe()
    assert probe["exit"] == 0
    assert probe["heavy"] == []
    listed = str(probe["output"])
    for command in own_commands():
        assert f"  {command.name} " in listed, command.name
    for name in ("db", "run", "shell", "routes"):  # Flask's and Flask-Migrate's, named without building the app
        assert f"  {name} " in listed


def test_every_command_is_on_the_apps_cli_too(app) -> None:  # type: ignore[no-untyped-def]
    """`flask --app tracker` and the tests' CLI runner see the same commands as `tracker`."""
    from tracker.cli import own_commands

    assert {c.name for c in own_commands()} <= set(app.cli.commands)


# Runs `tracker sweep --dry-run` (a jobs-only command) in a fresh interpreter on an empty database.
JOB_PROBE = """
import json, sys
from click.testing import CliRunner
from tracker.cli import main
result = CliRunner().invoke(main, ["sweep", "--dry-run"])
heavy = sorted(m for m in sys.modules if m.partition(".")[0] in HEAVY or m in HEAVY)
print(json.dumps({"exit": result.exit_code, "output": result.output, "heavy": heavy,
                  "blueprints": any(m.startswith("tracker.blueprints.") for m in sys.modules)}))
"""

# What the sweep never needs: migrations, forms, the API and its documentation, rate limits, sign-in, the importer
# and the documents it reads or writes, HTTP clients, the message renderer (the dispatcher imports it when it
# runs); and the `holidays` package, whose import loads every country (the calendar reads the stored days).
JOB_HEAVY = ("alembic", "flask_migrate", "flask_wtf", "wtforms", "flask_smorest", "apispec", "webargs",
             "flask_limiter", "limits", "tracker.auth", "tracker.importer", "tracker.forms", "tracker.reports",
             "openpyxl", "docx", "pdfplumber", "httpx", "holidays", "tracker.notify.render", "jinja2.sandbox")


def test_job_commands_build_the_app_without_its_pages_or_heavy_modules(tmp_path: Path) -> None:
    """The sweep, the dispatcher, the worker and the scheduler never route a request: no blueprint is imported,
    nor any module only pages, the API, sign-in or the importer need (JOB_HEAVY)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TRACKER_ENV": "testing",
           "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.db'}"}
    migrate = "from tracker.cli import main; main(['db', 'upgrade'])"
    migrated = subprocess.run([sys.executable, "-c", migrate], cwd=ROOT, capture_output=True, text=True,
                              timeout=120, env=env)
    assert migrated.returncode == 0, migrated.stderr
    done = subprocess.run([sys.executable, "-c", f"HEAVY = {JOB_HEAVY!r}\n" + JOB_PROBE], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["exit"] == 0, probe["output"]
    assert '"dry_run": true' in probe["output"]
    assert probe["blueprints"] is False
    assert probe["heavy"] == []
