"""Blueprint registration: the only place that imports the web and API layers."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint to `app`."""
    from tracker.blueprints import transaction
    from tracker.blueprints.converters import register_converters
    from tracker.blueprints.guard import register_guard

    register_converters(app)  # before the first route, which compiles with them
    transaction.init_app(app)  # first registered, so its commit runs after every other after-request hook
    register_guard(app)

    from tracker.blueprints import main

    app.register_blueprint(main.bp)

    from tracker.blueprints import admin, auth, calendar_feed, dashboard, plans, profile, reports, rollup, tasks

    for web in (auth, tasks, dashboard, rollup, plans, reports, admin, profile, calendar_feed):
        app.register_blueprint(web.bp)
    app.register_blueprint(__import__("tracker.blueprints.admin_notify", fromlist=["bp"]).bp)  # outbox, policies
    app.register_blueprint(__import__("tracker.blueprints.plan_import", fromlist=["bp"]).bp)  # upload, review
    app.register_blueprint(__import__("tracker.blueprints.admin_channels", fromlist=["bp"]).bp)  # e-mail, Zalo
    app.register_blueprint(__import__("tracker.blueprints.reminder_links", fromlist=["bp"]).bp)  # /r/<token>

    from tracker.blueprints.api import init_api

    init_api(app)
