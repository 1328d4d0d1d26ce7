"""`tracker summaries rebuild`: recount the summaries the overview and roll-ups read."""

from __future__ import annotations

import click

from tracker.cli.common import committed, jobs_only


@click.group("summaries")
def summaries_group() -> None:
    """The per-unit status counts and latest indicator values the overview and roll-ups read."""


@summaries_group.command("rebuild")
@click.option("--if-stale", is_flag=True, help="Only when the counts are not of today (what the scheduler does).")
@committed
def rebuild_command(if_stale: bool) -> None:
    """Recount every unit's occurrences by status as of today, and the latest indicator values (one transaction)."""
    import time

    from tracker.clock import status_clock
    from tracker.operations import summaries

    clock = status_clock()
    start = time.perf_counter()
    if if_stale and summaries.stored_clock() == clock:
        click.echo(f"Up to date: counted as of {clock.today:%d/%m/%Y}.")
        return
    rows = summaries.rebuild(clock)
    summaries.rebuild_latest()
    click.echo(f"Rebuilt as of {clock.today:%d/%m/%Y}: {rows} count rows in {time.perf_counter() - start:.2f} s.")


COMMANDS = (jobs_only(summaries_group),)
