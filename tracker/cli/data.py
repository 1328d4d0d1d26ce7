"""`tracker seed-units`, `tracker demo` and `tracker token create`: the org tree, the demo, API tokens."""

from __future__ import annotations

import click

from tracker.cli.common import committed, echo_json


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

    from tracker.extensions import db
    from tracker.models import Person
    from tracker.operations.people import create_api_token

    person = db.session.scalar(sa.select(Person).where(Person.username == username.lower()))
    if person is None:
        raise click.ClickException(f"no such user: {username}")
    lifetime = "default" if days is None else (timedelta(days=days) if days else None)
    _token, clear = create_api_token(None, person, name, lifetime=lifetime)
    click.echo(clear)


COMMANDS = (seed_units_command, demo_command, token_group)
