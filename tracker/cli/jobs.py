"""`tracker sweep`, `dispatch`, `digest`, `purge`, `scheduler` and `worker`: thin wrappers over the jobs."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker.cli.common import jobs_only

if TYPE_CHECKING:
    from tracker.jobs.runner import JobOutcome

NOW_HELP = "Run as of this instant, e.g. 2024-09-18T08:00:00+07:00 (no offset: local time). Default: now."


def _now(text: str | None) -> datetime:
    from tracker.clock import parse_instant, utcnow

    if not text:
        return utcnow()
    try:
        return parse_instant(text)
    except ValueError:
        raise click.BadParameter(f"not an ISO-8601 timestamp: {text!r}", param_hint="--now")


def _emit(outcome: JobOutcome) -> None:
    from tracker.workcalendar import LOCAL_TZ

    if not outcome.ok:
        click.echo(json.dumps({"job": outcome.name, "error": outcome.error}, ensure_ascii=False), err=True)
        sys.exit(1)
    data = dict(outcome.result or {})
    data["now"] = outcome.now.astimezone(LOCAL_TZ).isoformat()
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


@click.command("sweep")
@click.option("--now", "now_text", metavar="ISO-TIMESTAMP", help=NOW_HELP)
@click.option("--dry-run", is_flag=True, help="Count what would be queued, queue nothing.")
@with_appcontext
def sweep_command(now_text: str | None, dry_run: bool) -> None:
    """Queue every reminder and escalation due now; print one JSON object."""
    from tracker.jobs.runner import run_job
    from tracker.jobs.sweep import run_sweep

    now = _now(now_text)
    job = (lambda at: run_sweep(at, dry_run=True)) if dry_run else run_sweep
    _emit(run_job("sweep", job, now=now, commit=not dry_run, heartbeat=not dry_run))


def _job_command(name: str, summary: str) -> click.Command:
    """`tracker NAME [--now ISO]`: run the registered job once (tracker.jobs.runner) and print its result."""

    @click.command(name, help=summary)
    @click.option("--now", "now_text", metavar="ISO-TIMESTAMP", help=NOW_HELP)
    @with_appcontext
    def command(now_text: str | None) -> None:
        from tracker.jobs.runner import run_job

        _emit(run_job(name, now=_now(now_text)))

    return command


dispatch_command = _job_command(
    "dispatch", 'Send the outbox rows due now; print {"sent": N, "failed": N, "dead": N, ...}.')
digest_command = _job_command("digest", "Gather held reminders into one daily digest per person and channel.")
purge_command = _job_command(
    "purge", 'Delete long-expired reminder links and long-finished import jobs; print {"action_links": N, ...}.')


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler (sweep, dispatch, digests, audit sequencer, summaries recount, purge) until stopped."""
    from tracker.jobs.scheduler import run_scheduler

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo("tracker scheduler: running (Ctrl+C to stop)", err=True)
    run_scheduler(app)


@click.command("worker")
@click.option("--queues", default="imports,outbox,audit", show_default=True,
              help="Comma-separated queues to drain: imports (uploaded plan documents), outbox (notifications), "
                   "audit (link new audit events into their hash chains).")
@click.option("--once", is_flag=True, help="Drain the queues until they are empty, then exit.")
@with_appcontext
def worker_command(queues: str, once: bool) -> None:
    """Drain the import-job queue and the outbox until SIGTERM/SIGINT (run as many as you like)."""
    from tracker.jobs.worker import Worker, parse_queues

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        worker = Worker(app, queues=parse_queues(queues))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--queues") from error
    if once:
        click.echo(json.dumps({"worker": worker.name, "steps": worker.drain()}), err=True)
        return
    click.echo(f"tracker worker {worker.name}: draining {', '.join(worker.queues)} (Ctrl+C to stop)", err=True)
    worker.run()


# They only run jobs: the group builds the app without its pages and API for them (half the start-up).
COMMANDS = tuple(jobs_only(c) for c in (sweep_command, dispatch_command, digest_command, purge_command,
                                        scheduler_command, worker_command))
