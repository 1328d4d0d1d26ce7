"""Operators' commands: `tracker audit verify|heads|link`, `tracker backup PATH`, `tracker restore PATH`,
`tracker synth` (a synthetic country for benchmarks and load tests)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.cli.common import committed

log = logging.getLogger("tracker.audit")


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


def _report_verify() -> bool:
    from sqlalchemy.orm import Session

    from tracker.extensions import db
    from tracker.operations.audit_chain import verify

    grace = float(current_app.config.get("AUDIT_LINK_GRACE_SECONDS", 300))
    with Session(db.engine) as session:
        if db.engine.dialect.name == "postgresql":
            # One snapshot: a sequencer may link events meanwhile, and the heads must match the chains read.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        result = verify(session, grace_seconds=grace)
    for chain, count in sorted(result.chains.items()):
        click.echo(f"  {chain}: {count} events")
    if result.waiting:
        click.echo(f"{result.waiting} events written in the last {grace:g} seconds wait to be linked (by a worker "
                   f"or the scheduler).")
    if result.overdue:
        click.echo(f"NOT LINKED: {result.overdue} events older than {grace:g} seconds (the oldest #"
                   f"{result.oldest_overdue_id}) are not in any chain: is a worker or the scheduler running? "
                   f"`tracker audit link` links them now.", err=True)
    if result.first_break is not None:
        b = result.first_break
        where = f"event #{b.event_id}" if b.event_id is not None else "the chain's head"
        click.echo(f"BROKEN: chain {b.chain}, {where}: {b.reason}.", err=True)
        return False
    if result.ok:
        click.echo(f"OK: {result.checked} linked events in {len(result.chains)} chains verified.")
    return result.ok


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Recompute every hash of every chain; exit 1 naming the first broken event."""
    sys.exit(0 if _report_verify() else 1)


@audit_group.command("heads")
@click.option("--json", "as_json", is_flag=True, help="One JSON document, signed with SECRET_KEY (HMAC-SHA256).")
@with_appcontext
def audit_heads(as_json: bool) -> None:
    """Print each chain's length and last hash: the anchor to keep outside the database (log, e-mail, paper)."""
    from tracker.clock import utcnow
    from tracker.extensions import db
    from tracker.operations.audit_chain import heads

    rows = [{"chain": h.chain, "seq": h.seq, "last_event_id": h.last_event_id, "last_hash": h.last_hash}
            for h in heads(db.session())]
    digest = {"at": utcnow().isoformat(timespec="seconds"), "heads": rows}
    body = json.dumps(digest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    signature = hmac.new(current_app.config["SECRET_KEY"].encode(), body.encode(), hashlib.sha256).hexdigest()
    log.info("audit heads %s hmac=%s", body, signature)
    if as_json:
        click.echo(json.dumps({**digest, "hmac_sha256": signature}, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['chain']}\t{row['seq']}\t#{row['last_event_id']}\t{row['last_hash']}")


@audit_group.command("link")
@with_appcontext
def audit_link() -> None:
    """Link every event not yet in its chain now (what the workers and the scheduler do every few seconds)."""
    from tracker.clock import utcnow
    from tracker.jobs.audit_link import run_audit_link

    result = run_audit_link(utcnow(), max_batches=10**9)
    click.echo(f"{result.linked} events linked.")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str) -> None:
    """Write a consistent snapshot of the database (attachments included) to PATH."""
    from tracker.backup import BackupError, backup

    try:
        info = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
    except BackupError as error:
        click.echo(f"Lỗi / Error: {error}", err=True)
        sys.exit(1)
    click.echo(f"Backup written: {info.path} ({info.kind}, {info.size_bytes:,} bytes).")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
@with_appcontext
def restore_command(path: str) -> None:
    """Restore the backup PATH into this (empty) database, then verify the audit trail."""
    from tracker.backup import BackupError, restore, rows_in
    from tracker.extensions import db

    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the target open (SQLite) or see old catalogs
    try:
        kind = restore(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
    except BackupError as error:
        click.echo(f"Lỗi / Error: {error}", err=True)
        sys.exit(1)
    db.engine.dispose()
    counts = rows_in(db.engine)
    click.echo(f"Restored a {kind} backup: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    sys.exit(0 if _report_verify() else 1)


@click.command("synth")
@click.option("--provinces", type=click.IntRange(min=1), default=None,
              help="The first N provinces by official code (default: all 34).")
@click.option("--communes", type=click.IntRange(min=1), default=None,
              help="Only the first N of their communes get a plan and people (default: all).")
@click.option("--seed", type=int, default=0, show_default=True, help="Varies which items are done, late, reported.")
@click.option("--year", type=click.IntRange(min=2000, max=2100), default=2025, show_default=True)
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The history's today (default: YEAR-11-20).")
@with_appcontext
@committed
def synth_command(provinces: int | None, communes: int | None, seed: int, year: int, as_of: object) -> None:
    """Fill the configured database (which must hold no plan) with a deterministic synthetic country."""
    import time

    from tracker.synth import SynthSpec, describe, synthesize

    spec = SynthSpec(provinces=provinces, communes=communes, seed=seed, year=year,
                     as_of=as_of.date() if as_of is not None else None)  # type: ignore[attr-defined]
    start = time.perf_counter()
    click.echo(describe(synthesize(spec)))
    click.echo(f"loaded in {time.perf_counter() - start:.1f} s; committing")


COMMANDS = (audit_group, backup_command, restore_command, synth_command)
