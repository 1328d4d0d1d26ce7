"""My profile: language, API tokens ("Tạo mã truy cập API"), the calendar link, notifications."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from tracker.auth import ICAL_TOKEN_NAME, make_ical_token
from tracker.blueprints.auth import safe_next
from tracker.blueprints.transaction import atomic
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.forms import first_error
from tracker.forms.profile import ConfirmForm, DeliveryForm, LanguageForm, TokenForm
from tracker.models import ApiToken
from tracker.operations import people as people_ops
from tracker.operations.errors import DomainError

bp = Blueprint("profile", __name__)

Page = str | Response | tuple[str, int]


@bp.post("/language")
def set_language() -> Response:
    """Switch the interface language (signed in or not)."""
    form = LanguageForm()
    if not form.validate() or form.lang.data not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = form.lang.data
    if current_user.is_authenticated:
        from tracker.operations.people import set_locale

        set_locale(current_user, current_user, form.lang.data)  # also the language of their messages
    return redirect(safe_next(form.next.data, url_for("main.index")))


def _tokens() -> list[ApiToken]:
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.person_id == current_user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def _calendar_url(tokens: list[ApiToken]) -> str | None:
    ical = next((t for t in tokens if t.name == ICAL_TOKEN_NAME), None)
    if ical is None or "calendar_feed.feed" not in current_app.view_functions:
        return None
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") or request.host_url.rstrip("/")
    return base + url_for("calendar_feed.feed", token=make_ical_token(current_user, ical.id))


def _render(status: int = 200, **extra: Any) -> Page:
    tokens = _tokens()
    html = render_template(
        "profile/index.html", tokens=[t for t in tokens if t.name != ICAL_TOKEN_NAME],
        calendar_url=_calendar_url(tokens), token_form=extra.pop("token_form", None) or TokenForm(formdata=None),
        confirm=ConfirmForm(formdata=None), now=utcnow(),
        delivery_form=extra.pop("delivery_form", None) or DeliveryForm(
            formdata=None, delivery="daily" if current_user.prefers_digest else "immediate"),
        digest_time=current_app.config.get("DIGEST_LOCAL_TIME", "07:45"), **extra,
    )
    return (html, status) if status != 200 else html


@bp.get("/profile")
@login_required
def index() -> Page:
    return _render()


@bp.post("/profile/tokens")
@login_required
def create_token() -> Page:
    form = TokenForm()
    if not form.validate():
        return _render(422, token_form=form, error=first_error(form))
    if form.name.data == ICAL_TOKEN_NAME:
        return _render(422, token_form=form, error=_("Choose another name."))
    try:
        with atomic():
            _token, clear = people_ops.create_api_token(current_user, current_user, form.name.data or "api")
    except DomainError as error:
        return _render(error.status, token_form=form, error=error.render())
    # Shown once, on this page only (never put in the session cookie or a flash message).
    return _render(new_token=clear)


@bp.post("/profile/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.person_id != current_user.id or not ConfirmForm().validate():
        abort(404 if token is None or token.person_id != current_user.id else 400)
    people_ops.revoke_api_token(current_user, token)
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("profile.index"))


@bp.post("/profile/calendar")
@login_required
def new_calendar_link() -> Response:
    """Make a new secret calendar link; the previous one stops working."""
    if not ConfirmForm().validate():
        abort(400)
    for token in _tokens():
        if token.name == ICAL_TOKEN_NAME:
            people_ops.revoke_api_token(current_user, token)
    # The row's own bearer secret is thrown away: the link is a signature over the row's id.
    people_ops.create_api_token(current_user, current_user, ICAL_TOKEN_NAME, lifetime=None)
    flash(_("Your calendar link is ready. Add it to your phone's calendar as a subscription."), "success")
    return redirect(url_for("profile.index") + "#calendar")


@bp.post("/profile/delivery")
@login_required
def set_delivery() -> Page:
    """Choose immediate reminders or one daily digest."""
    form = DeliveryForm()
    if not form.validate():
        return _render(422, delivery_form=form, error=first_error(form))
    people_ops.set_digest_preference(current_user, current_user, form.delivery.data == "daily")
    flash(_("Your reminders will come in one daily digest.") if form.delivery.data == "daily"
          else _("Your reminders will come as soon as they are due."), "success")
    return redirect(url_for("profile.index") + "#delivery")


@bp.get("/notifications/<bigid:notification_id>")
@login_required
def carried(notification_id: int) -> str:
    """The items a bundle or digest sent to this person lists (the link in the message)."""
    from tracker.operations.inbox import carried_items

    listing = carried_items(current_user, notification_id)
    if listing is None:
        abort(404)
    return render_template("profile/carried.html", listing=listing)


@bp.get("/notifications")
@login_required
def notifications() -> str:
    from tracker.operations.inbox import recent

    return render_template("profile/notifications.html", items=list(recent(current_user)),
                           confirm=ConfirmForm(formdata=None))


@bp.post("/notifications/read")
@login_required
def mark_all_read() -> Response:
    if not ConfirmForm().validate():
        abort(400)
    from tracker.operations.inbox import mark_read

    mark_read(current_user)
    return redirect(url_for("profile.notifications"))
