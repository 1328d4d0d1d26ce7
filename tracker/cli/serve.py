"""`tracker serve`: the web app and the scheduler in one process, for one machine."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Do not run the reminder scheduler in this process.")
def serve_command(host: str, port: int, no_scheduler: bool) -> None:
    """Serve the web app on one machine, with the reminder scheduler in-process (one commune, SQLite)."""
    from flask import current_app
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not no_scheduler:
        from tracker.jobs.scheduler import start_background_scheduler

        start_background_scheduler(app)
    click.echo(f"Tracker: http://{host}:{port}/  (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


COMMANDS = (serve_command,)
