"""The `tracker` command: Flask's commands plus the tracker's own, thin wrappers over operations and jobs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup

from tracker.extensions import db
from tracker.operations.errors import DomainError


def _create_app() -> Flask:
    from tracker import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Tracker: plans' responsibilities as tracked tasks, reminders and escalations."""


def committed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command in one transaction: commit on success, roll back and exit 1 on a domain error."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
            return result
        except DomainError as error:
            db.session.rollback()
            click.echo(f"Lỗi / Error: {error.render()}", err=True)
            sys.exit(1)

    return wrapper


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.command("seed-units")
@click.option("--province", "provinces", multiple=True, help='Province name, e.g. "Hưng Yên" (repeatable).')
@click.option("--all", "load_all", is_flag=True, help="Load all 34 provinces and 3,321 communes.")
@click.option("--no-offices", is_flag=True, help="Do not create each commune's usual internal units.")
@committed
def seed_units_command(provinces: tuple[str, ...], load_all: bool, no_offices: bool) -> None:
    """Load today's provinces and communes (vietnam-provinces) into the org tree, idempotently."""
    from tracker.operations.units import seed_units

    if not provinces and not load_all:
        raise click.UsageError("name --province (repeatable) or --all")
    result = seed_units(None if load_all else provinces, with_internal_units=not no_offices)
    echo_json({"provinces": result.provinces, "communes": result.communes, "internal_units": result.internal_units})


@click.command("demo")
@click.option("--password", default=None, help="Password for every demo account (default printed).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has plans.")
@committed
def demo_command(password: str | None, if_empty: bool) -> None:
    """Build (or refresh) the demo: a commune with people in every role and real plans."""
    from tracker.demo import DEFAULT_PASSWORD, build_demo, has_plans

    if if_empty and has_plans():
        click.echo("Demo data already present; nothing to do.")
        return
    accounts = build_demo(password or DEFAULT_PASSWORD)
    click.echo(f"# password: {password or DEFAULT_PASSWORD}", err=True)
    for role, username in accounts:
        click.echo(f"{role}\t{username}")


@click.command("import-plan")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Print what would be imported; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the extraction contract with --dry-run).")
@click.option("--issuer-unit", default=None, help="Name or id of the issuing unit when the document is unclear.")
@click.option("--update", is_flag=True, help="Re-import into the existing draft of the same document.")
@click.option("--activate", is_flag=True, help="Confirm the plan at once (occurrences and reminders start).")
def import_plan_command(path: str, dry_run: bool, as_json: bool, issuer_unit: str | None, update: bool,
                        activate: bool) -> None:
    """Import a plan document (.txt, .docx, .pdf) as a draft plan, or show its extraction with --dry-run."""
    from pathlib import Path

    from tracker.operations.plan_import import extract_document, import_plan

    data = Path(path).read_bytes()
    try:
        if dry_run:
            extraction = extract_document(Path(path).name, data, issuer_hint=issuer_unit)
            db.session.rollback()
            if as_json:
                click.echo(json.dumps(extraction, ensure_ascii=False))
            else:
                _print_extraction(extraction)
            return
        issuer = _find_unit(issuer_unit) if issuer_unit else None
        result = import_plan(None, filename=Path(path).name, data=data, issuing_unit=issuer, update=update)
        if activate and result.plan is not None:
            from tracker.operations.plans import activate_plan

            activate_plan(None, result.plan)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        click.echo(f"Lỗi / Error: {error.render()}", err=True)
        sys.exit(2)
    summary = result.summary()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        for key, value in summary.items():
            click.echo(f"{key}: {value}")


def _print_extraction(extraction: dict[str, Any]) -> None:
    click.echo(f"{extraction.get('plan_number') or '-'}  {extraction.get('title')}")
    click.echo(f"{extraction.get('issuer')}  {extraction.get('issued')}  → {extraction.get('period_end')}")
    for task in extraction.get("tasks") or []:
        dates = ", ".join(d.get("date", "") for d in task.get("deadlines") or [])
        click.echo(f"  {task.get('section', ''):>8}  {task.get('unit')}  [{dates}] {task.get('recurrence') or ''}")
    for warning in extraction.get("warnings") or []:
        click.echo(f"  ! {warning}")


def _find_unit(name_or_id: str) -> Any:
    import sqlalchemy as sa

    from tracker.models import OrgUnit

    query = sa.select(OrgUnit).where(
        OrgUnit.id == int(name_or_id) if name_or_id.isdigit() else OrgUnit.name == name_or_id)
    unit = db.session.scalar(query)
    if unit is None:
        raise click.ClickException(f"no such unit: {name_or_id}")
    return unit


@click.command("report")
@click.argument("plan_id", type=int, required=False)
@click.option("--period", "period", required=True,
              help="2025, 2025-H1, 2025-Q3 or 2025-01-01..2025-06-30.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="FILE.docx (the report) or FILE.xlsx (its Excel companion).")
@click.option("--xlsx", "xlsx_out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write the Excel companion (the indicators in the plan's appendix layout) here.")
@click.option("--unit", "unit_ref", default=None, help="Report on every plan this unit (name or id) issued.")
@click.option("--rollup", "rollup_ref", default=None,
              help="Roll up over the units below this one (name or id), side by side.")
@click.option("--issuer", "issuer_ref", default=None, help="The unit (name or id) the report is issued by.")
@click.option("--as", "username", default=None, help="Draft it as this person sees it (default: everything).")
@click.option("--number", "document_number", default=None, help='The number and symbol, e.g. "12/BC-UBND".')
def report_command(plan_id: int | None, period: str, out: str, xlsx_out: str | None, unit_ref: str | None,
                   rollup_ref: str | None, issuer_ref: str | None, username: str | None,
                   document_number: str | None) -> None:
    """Draft the periodic report of PLAN_ID (or of every plan of --unit) for a period, as .docx and .xlsx."""
    from pathlib import Path

    import sqlalchemy as sa

    from tracker.clock import status_clock
    from tracker.models import Person, Plan
    from tracker.reports import ReportOptions, docx_bytes, draft, xlsx_bytes

    if (plan_id is None) == (unit_ref is None):
        raise click.UsageError("give PLAN_ID or --unit (one of them)")
    if Path(out).suffix.lower() not in (".docx", ".xlsx"):
        raise click.UsageError("--out must name a .docx or a .xlsx file")
    actor = None
    if username:
        actor = db.session.scalar(sa.select(Person).where(Person.username == username.lower()))
        if actor is None:
            raise click.ClickException(f"no such user: {username}")
    plan = db.session.get(Plan, plan_id) if plan_id is not None else None
    if plan_id is not None and plan is None:
        raise click.ClickException(f"no such plan: {plan_id}")
    try:
        content = draft(actor, period=period, clock=status_clock(), plan=plan,
                        unit=_find_unit(unit_ref) if unit_ref else None,
                        rollup_unit=_find_unit(rollup_ref) if rollup_ref else None,
                        issuer=_find_unit(issuer_ref) if issuer_ref else None,
                        options=ReportOptions(document_number=document_number))
    except DomainError as error:
        db.session.rollback()
        click.echo(f"Lỗi / Error: {error.render()}", err=True)
        sys.exit(1)
    db.session.rollback()  # a read: nothing to keep
    written = []
    for path in (out, xlsx_out):
        if path:
            data = xlsx_bytes(content) if Path(path).suffix.lower() == ".xlsx" else docx_bytes(content)
            Path(path).write_bytes(data)
            written.append(f"{path} ({len(data):,} bytes)")
    s = content.summary
    click.echo(f"{content.heading.subject.splitlines()[0]} — {content.period.label}")
    click.echo(f"due {s.total}: on time {s.on_time}, late {s.late}, overdue {s.overdue}, not yet due {s.not_due}; "
               f"{len(content.indicators)} indicators")
    for line in written:
        click.echo(f"wrote {line}")


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


@click.group("token")
def token_group() -> None:
    """API tokens for integrations."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="cli", help="A label for the token.")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Days until it expires (default API_TOKEN_LIFETIME_DAYS; 0: never).")
@committed
def token_create(username: str, name: str, days: int | None) -> None:
    """Create an API token for USERNAME and print it (shown once)."""
    from datetime import timedelta

    import sqlalchemy as sa

    from tracker.models import Person
    from tracker.operations.people import create_api_token

    person = db.session.scalar(sa.select(Person).where(Person.username == username.lower()))
    if person is None:
        raise click.ClickException(f"no such user: {username}")
    lifetime = "default" if days is None else (timedelta(days=days) if days else None)
    _token, clear = create_api_token(None, person, name, lifetime=lifetime)
    click.echo(clear)


def register_commands(app: Flask) -> None:
    """Attach the tracker's commands to the app's CLI group."""
    from tracker.jobs import cli as job_commands  # sweep, dispatch, digest, scheduler
    from tracker.maintenance_cli import COMMANDS as maintenance_commands  # audit, backup, restore
    from tracker.notify.zalo_cli import zalo_group
    from tracker.people_cli import people_group

    for command in (seed_units_command, demo_command, import_plan_command, report_command, serve_command, token_group,
                    zalo_group, people_group):
        app.cli.add_command(command)
    for command in maintenance_commands:
        app.cli.add_command(command)
    job_commands.register(app)
