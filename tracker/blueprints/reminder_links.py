"""The landing page of a reminder's action link (/r/<token>): one occurrence, ready to act, on a phone.

Flask-Login sends a visitor who is not signed in to the sign-in page and back here (`next`), so the link
never writes without a password. What the link allows is decided in tracker/operations/action_links.py;
this module only loads, validates the form, calls one operation and commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from tracker.blueprints.transaction import atomic
from tracker.clock import status_clock
from tracker.forms import first_error
from tracker.forms.reminder_links import AcknowledgeForm, QuickDoneForm
from tracker.operations import action_links as ops
from tracker.operations.errors import DomainError

bp = Blueprint("reminder_links", __name__)

Page = str | Response | tuple[str, int]


def _private(response: Response) -> Response:
    # The token is in the path: never in a Referer header, never in a shared cache.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _problem(error: DomainError) -> Response:
    page = render_template("reminder_links/problem.html", message=error.render())
    return _private(Response(page, status=error.status, mimetype="text/html"))


def _page(link: Any, *, done_form: QuickDoneForm | None = None, error: str | None = None,
          status: int = 200) -> Response:
    occurrence, clock = link.occurrence, status_clock()
    actions = ops.link_actions(current_user, link)
    page = render_template(
        "reminder_links/quick.html", link=link, occ=occurrence, task=occurrence.task,
        status=occurrence.status(clock).value, days_late=occurrence.days_late(clock), can_act=actions.can_act,
        has_pending_extension=actions.has_pending_extension, can_acknowledge=actions.can_acknowledge,
        acknowledged=actions.acknowledged,
        done_form=done_form or QuickDoneForm(formdata=None), ack_form=AcknowledgeForm(formdata=None), error=error,
    )
    return _private(Response(page, status=status, mimetype="text/html"))


@bp.get("/r/<token>")
@login_required
def landing(token: str) -> Response:
    try:
        link = ops.open_link(current_user, token)
    except DomainError as error:
        return _problem(error)
    return _page(link)


def _after(occurrence_id: int, message: str) -> Response:
    flash(message, "success")
    return _private(redirect(url_for("tasks.occurrence_page", occurrence_id=occurrence_id)))


def _act_from_link(token: str, form: Any, act: Callable[[], Any], message: str, *,
                   done_form: QuickDoneForm | None = None) -> Response:
    """Validate the form, run `act` (an operation of the link) in one transaction, and go to the task; on a
    refusal show the link's page again with the reason (`done_form` keeps what was typed)."""
    try:
        link = ops.open_link(current_user, token)
    except DomainError as error:
        return _problem(error)
    if not form.validate():
        return _page(link, done_form=done_form, error=first_error(form), status=422)
    try:
        with atomic():
            occurrence = act()
    except ops.LinkUnusable as error:
        return _problem(error)
    except DomainError as error:
        link = ops.open_link(current_user, token)  # the rollback expired it: read it again for the page
        return _page(link, done_form=done_form, error=error.render(), status=error.status)
    return _after(occurrence.id, message)


@bp.post("/r/<token>/done")
@login_required
def mark_done(token: str) -> Response:
    form = QuickDoneForm()
    return _act_from_link(token, form, lambda: ops.mark_done_from_link(current_user, token, note=form.note.data or ""),
                          _("The task is marked done."), done_form=form)


@bp.post("/r/<token>/acknowledge")
@login_required
def acknowledge(token: str) -> Response:
    return _act_from_link(token, AcknowledgeForm(), lambda: ops.acknowledge_from_link(current_user, token),
                          _("Acknowledged: no further escalation will be sent for this deadline."))
