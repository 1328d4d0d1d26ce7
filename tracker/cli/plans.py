"""`tracker import-plan` and `tracker report`: plan documents in, periodic reports out."""

from __future__ import annotations

import json
from typing import Any

import click

from tracker.cli.common import fail, find_unit


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

    from tracker.extensions import db
    from tracker.operations.errors import DomainError
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
        issuer = find_unit(issuer_unit) if issuer_unit else None
        result = import_plan(None, filename=Path(path).name, data=data, issuing_unit=issuer, update=update)
        if activate and result.plan is not None:
            from tracker.operations.plans import activate_plan

            activate_plan(None, result.plan)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        fail(error.render(), code=2)
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
    from tracker.extensions import db
    from tracker.models import Person, Plan
    from tracker.operations.errors import DomainError
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
                        unit=find_unit(unit_ref) if unit_ref else None,
                        rollup_unit=find_unit(rollup_ref) if rollup_ref else None,
                        issuer=find_unit(issuer_ref) if issuer_ref else None,
                        options=ReportOptions(document_number=document_number))
    except DomainError as error:
        db.session.rollback()
        fail(error.render())
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


COMMANDS = (import_plan_command, report_command)
