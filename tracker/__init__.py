"""The tracker: plans' responsibilities as tracked tasks, reminders and escalations."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, has_request_context, request, session


def create_app(config_override: dict[str, Any] | None = None, *, web: bool = True) -> Flask:
    """Build the application: configuration, extensions, blueprints, CLI, error handlers, in that order.

    `web=False` builds it without its pages and API, for the processes that only run jobs (the sweep, the
    dispatcher, the worker, the scheduler): they never route a request, and the blueprints are half of the
    start-up a command pays.
    """
    app = Flask(__name__, instance_relative_config=True)
    _load_configuration(app, config_override)
    _configure_logging(app)
    _trust_proxies(app)
    _init_extensions(app, web=web)
    if web:
        _register_blueprints(app)
    _register_cli(app)
    if web:
        _register_error_handlers(app)
    _register_shell_context(app)
    return app


def _load_configuration(app: Flask, override: dict[str, Any] | None) -> None:
    from tracker.config import check_production, load_config

    load_config(app, override)
    check_production(app)


def _configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.getLogger("tracker").setLevel(logging.INFO)


def _trust_proxies(app: Flask) -> None:
    """Behind nginx, take the client's address and scheme from the proxy's X-Forwarded-* headers.

    Only as many hops as PROXY_COUNT says are trusted: a client's own X-Forwarded-For must not pick the
    address that sign-in limits and the audit log record. 0 (the default) trusts no header.
    """
    hops = int(app.config.get("PROXY_COUNT", 0))
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def select_locale() -> str:
    """The signed-in person's language, else the session's choice, else Vietnamese."""
    from flask import current_app
    from flask_login import current_user

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _init_extensions(app: Flask, *, web: bool) -> None:
    from tracker import models  # noqa: F401  (register every table on the metadata)
    from tracker.extensions import babel, db, mail

    db.init_app(app)
    mail.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    if web:
        # A job process neither migrates, nor serves forms, the API or sign-in: it skips importing them.
        from tracker.auth import init_auth
        from tracker.extensions import csrf, limiter, login_manager, migrate

        migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True, compare_type=True)
        csrf.init_app(app)
        limiter.init_app(app)
        login_manager.init_app(app)
        init_auth(login_manager)
    _enable_sqlite_foreign_keys(app)


def _enable_sqlite_foreign_keys(app: Flask) -> None:
    """SQLite ignores foreign keys unless asked on every connection; WAL lets readers run beside a writer."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from tracker.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine: Engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if ":memory:" not in app.config["SQLALCHEMY_DATABASE_URI"]:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def _migrations_dir() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def _register_blueprints(app: Flask) -> None:
    from tracker.blueprints import register_blueprints

    register_blueprints(app)


def _register_cli(app: Flask) -> None:
    from tracker.cli import register_commands

    register_commands(app)


def _register_error_handlers(app: Flask) -> None:
    from tracker.blueprints.errors import register_error_handlers

    register_error_handlers(app)


def _register_shell_context(app: Flask) -> None:
    from tracker import models
    from tracker.extensions import db

    app.shell_context_processor(lambda: {"db": db, "m": models})
