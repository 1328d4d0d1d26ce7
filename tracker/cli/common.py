"""What the command modules share: one transaction per command, JSON output, finding a unit by name or id."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click


def committed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command in one transaction: commit on success, roll back and exit 1 on a domain error."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tracker.extensions import db
        from tracker.operations.errors import DomainError

        try:
            result = fn(*args, **kwargs)
            db.session.commit()
            return result
        except DomainError as error:
            db.session.rollback()
            fail(error.render())

    return wrapper


def jobs_only(command: click.Command) -> click.Command:
    """Mark a command that only runs jobs: the group builds the app without its pages and API for it."""
    command.jobs_only = True  # type: ignore[attr-defined]
    return command


def fail(message: str, code: int = 1) -> None:
    """Print a domain error the way every command does, and exit."""
    click.echo(f"Lỗi / Error: {message}", err=True)
    sys.exit(code)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def find_unit(name_or_id: str) -> Any:
    import sqlalchemy as sa

    from tracker.extensions import db
    from tracker.models import OrgUnit

    query = sa.select(OrgUnit).where(
        OrgUnit.id == int(name_or_id) if name_or_id.isdigit() else OrgUnit.name == name_or_id)
    unit = db.session.scalar(query)
    if unit is None:
        raise click.ClickException(f"no such unit: {name_or_id}")
    return unit
