"""The `tracker` command: Flask's commands plus the tracker's own, thin wrappers over operations and jobs.

Each module of this package holds a few commands and imports only click at its top: what a command needs (the
models, the importer, the scheduler) is imported inside the command. So `tracker --help` lists every command
without building the app, and a command pays only for what it uses. A command runs inside the app's context,
which the group pushes after it has found the command, exactly as Flask does for `app.cli` commands.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

# The modules of this package that hold commands, each with a COMMANDS tuple.
COMMAND_MODULES = (
    "tracker.cli.data",  # seed-units, demo, token
    "tracker.cli.plans",  # import-plan, report
    "tracker.cli.serve",  # serve
    "tracker.cli.jobs",  # sweep, dispatch, digest, purge, scheduler, worker
    "tracker.cli.zalo",  # zalo ...
    "tracker.cli.maintenance",  # audit, backup, restore, synth
    "tracker.cli.people",  # people create / import / template
    "tracker.cli.summaries",  # summaries rebuild
)

# Commands that extensions add to `app.cli` when the app is built; listed here so that the help can name them
# without building the app (Flask-Migrate's import alone costs more than the rest of `tracker --help`).
EXTENSION_COMMANDS = {"db": "Database migrations (Flask-Migrate, Alembic): upgrade, downgrade, current, history..."}


def own_commands() -> Iterator[click.Command]:
    for name in COMMAND_MODULES:
        yield from importlib.import_module(name).COMMANDS


def register_commands(app: Flask) -> None:
    """Attach the tracker's commands to the app's CLI group (`flask --app tracker ...`, test CLI runners)."""
    for command in own_commands():
        app.cli.add_command(command)


def _create_app() -> Flask:
    from tracker import create_app

    return create_app()


def _create_jobs_app() -> Flask:
    from tracker import create_app

    return create_app(web=False)


class TrackerGroup(FlaskGroup):
    """Flask's group, with the tracker's commands known before the app is built.

    FlaskGroup lists and finds commands by building the app (and scanning plugin entry points), which costs
    seconds. Here our own commands are found by importing their light modules; only running one builds the app.
    """

    def _own(self) -> dict[str, click.Command]:
        if not hasattr(self, "_own_commands"):
            self._own_commands = {c.name: c for c in own_commands() if c.name}
        return self._own_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self._own()) | set(EXTENSION_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = self._own().get(name)
        if command is None:
            return super().get_command(ctx, name)  # Flask's own (run, shell, routes) and the extensions' (db)
        if not ctx.resilient_parsing:  # resilient: help and completion only look, they need no app
            info = ctx.ensure_object(ScriptInfo)
            if getattr(command, "jobs_only", False) and info.create_app is _create_app:
                info.create_app = _create_jobs_app
            app = info.load_app()
            ctx.with_resource(app.app_context())
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name) or self._own().get(name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
            elif name in EXTENSION_COMMANDS:
                rows.append((name, EXTENSION_COMMANDS[name]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=TrackerGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Tracker: plans' responsibilities as tracked tasks, reminders and escalations."""
