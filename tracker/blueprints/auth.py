"""Sign in, sign out and reset a forgotten password."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from tracker.auth import (
    clear_failed_logins,
    find_person_for_login,
    login_blocked,
    make_reset_token,
    person_for_reset_token,
    record_failed_login,
    record_reset_request,
    record_sign_in,
    record_sign_out,
    reset_request_allowed,
)
from tracker.extensions import db
from tracker.forms import first_error
from tracker.forms.auth import ForgotPasswordForm, LoginForm, ResetPasswordForm
from tracker.models import Channel, NotificationKind, Person
from tracker.notify.outbox import enqueue
from tracker.operations.errors import DomainError
from tracker.operations.people import check_password, set_password

bp = Blueprint("auth", __name__)

Page = str | Response | tuple[str, int]


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not target:
        return default
    # Browsers drop tabs and new lines and read a backslash as a slash: "/<TAB>/evil" and "/<BACKSLASH>evil"
    # lead off the site.
    if any(ord(c) < 0x21 or ord(c) == 0x7F or c == "\\" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _start_fresh_session() -> None:
    """Forget everything the session held before signing in or out (its CSRF token too), but its language.

    A session someone else planted, or that was shared on a public computer, carries nothing over.
    """
    lang = session.get("lang")
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # Flask-WTF's copy of the old token
    if lang:
        session["lang"] = lang


@bp.route("/login", methods=["GET", "POST"])
def login() -> Page:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if request.method == "GET":
        return render_template("auth/login.html", form=form)
    if not form.validate():
        return render_template("auth/login.html", form=form, error=first_error(form)), 422
    username = form.username.data or ""
    if login_blocked(username, request.remote_addr):
        return render_template("auth/login.html", form=form,
                               error=_("Too many failed sign-ins. Please wait a few minutes and try again.")), 429
    person = find_person_for_login(username)
    if person is None or not check_password(person, form.password.data or ""):
        record_failed_login(username, request.remote_addr)
        db.session.commit()
        return render_template("auth/login.html", form=form, error=_("Wrong username or password.")), 401
    record_sign_in(person, request.remote_addr)
    db.session.commit()
    _start_fresh_session()
    login_user(person, remember=bool(form.remember.data))
    return redirect(safe_next(request.args.get("next"), url_for("main.index")))


@bp.post("/logout")
@login_required
def logout() -> Response:
    record_sign_out(current_user, request.remote_addr)
    db.session.commit()
    _start_fresh_session()
    logout_user()  # after: it leaves the note that makes Flask-Login delete the remember-me cookie
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> Page:
    form = ForgotPasswordForm()
    if request.method == "GET":
        return render_template("auth/forgot.html", form=form)
    if not form.validate():
        return render_template("auth/forgot.html", form=form, error=first_error(form)), 422
    given = (form.username.data or "").strip()
    # A limit of its own, per name and per address: failed sign-ins never stop a reset, and reset requests
    # never stop a sign-in. It counts requests, not accounts, so it answers alike whether the account exists.
    if not reset_request_allowed(given, request.remote_addr):
        return render_template("auth/forgot.html", form=form,
                               error=_("Too many requests for a new password. Please wait and try again.")), 429
    record_reset_request(given, request.remote_addr)
    person = db.session.scalar(
        sa.select(Person).where(
            sa.or_(Person.username == given.lower(), sa.func.lower(Person.email) == given.lower()),
            Person.is_active,
        ).limit(1)
    )
    if person is not None and person.email:
        token = make_reset_token(person)
        base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
        link = base + url_for("auth.reset_password", token=token)
        # The dispatcher sends it after this commit; the key makes a double click harmless.
        enqueue(NotificationKind.PASSWORD_RESET, [person], key=hashlib.sha256(token.encode()).hexdigest()[:32],
                channels=[Channel.EMAIL], payload={"reset_url": link, "full_name": person.full_name})
    db.session.commit()
    # Same answer whether or not the account exists, so nobody can probe for usernames.
    flash(_("If the account exists and has an e-mail address, a link to choose a new password is on its way."),
          "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Page:
    person = person_for_reset_token(token)
    if person is None:
        return render_template("error.html", status=400,
                               message=_("This link is invalid or has expired. Ask for a new one.")), 400
    form = ResetPasswordForm()
    if request.method == "GET":
        return render_template("auth/reset.html", form=form, token=token)
    if not form.validate():
        return render_template("auth/reset.html", form=form, token=token, error=first_error(form)), 422
    try:
        set_password(person, person, form.password.data or "")
        clear_failed_logins(person.username)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return render_template("auth/reset.html", form=form, token=token, error=error.render()), error.status
    flash(_("Your password has been changed. Please sign in."), "success")
    return redirect(url_for("auth.login"))
