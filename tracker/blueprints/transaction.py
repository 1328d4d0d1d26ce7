"""One transaction per request: the request commits once after its operation, or rolls everything back.

A view loads and authorises, validates, calls one domain operation (which flushes, never commits) and renders.
What it changed is committed here, once, after the view returned a success (a 2xx page, a redirect), and
before the response leaves, so a redirect never points at something another request cannot see yet. Any
error, an error response (4xx, 5xx) or an exception, rolls the whole request back: nothing half-written.
A commit that fails (a constraint checked at commit) turns the response into an error page instead.

`atomic()` is for the views that show a page again after a refused operation (a form with its error): the
operation's changes are dropped at once, so the page shows the state before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.wrappers import Response

from tracker.extensions import db


def init_app(app: Flask) -> None:
    """Commit or roll back at the end of every request."""

    @app.after_request
    def _end_transaction(response: Response) -> Response:
        if response.status_code < 400:
            db.session.commit()  # an exception here becomes a 500 page, and this hook rolls it back
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _roll_back_on_exception(error: BaseException | None) -> None:
        if error is not None:
            db.session.rollback()


@contextmanager
def atomic() -> Iterator[None]:
    """Run one operation; if it raises, drop its changes at once (and let the error go on)."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
