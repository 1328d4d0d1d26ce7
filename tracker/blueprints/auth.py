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
    SESSION_KEY,
    authenticate,
    clear_failed_logins,
    count_attempt,
    end_session,
    login_blocked,
    make_reset_token,
    person_for_reset_token,
    record_reset_request,
    record_sign_in,
    record_sign_out,
    reset_request_allowed,
    session_for_cookie,
    start_session,
)
from tracker.blueprints.transaction import atomic
from tracker.clock import utcnow
from tracker.extensions import db, limiter
from tracker.forms import first_error
from tracker.forms.auth import ForgotPasswordForm, LoginForm, ResetPasswordForm
from tracker.models import Channel, NotificationKind, Person
from tracker.notify.outbox import enqueue
from tracker.operations.errors import DomainError
from tracker.operations.people import set_password

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


@bp.before_app_request
def _restore_kept_session() -> None:
    """"Keep me signed in": a browser that comes back without a session but with the cookie is signed in again,
    on whatever page it asks for, into the same server-side session (which signing out or a new password
    revokes). A cookie that no longer names a live session is deleted."""
    value = request.cookies.get(_cookie_name())
    if not value or request.path.startswith("/static/") or current_user.is_authenticated:
        return
    row = session_for_cookie(value)
    if row is None:
        g.drop_kept_cookie = True
        return
    person = db.session.get(Person, row.person_id)
    _start_fresh_session()
    login_user(person, fresh=False)
    session[SESSION_KEY] = row.selector
    row.last_restored_at = utcnow()  # committed with the request


@bp.after_app_request
def _drop_dead_kept_cookie(response: Response) -> Response:
    if g.pop("drop_kept_cookie", False):
        _delete_kept_cookie(response)
    return response


def _cookie_name() -> str:
    return current_app.config.get("KEEP_SIGNED_IN_COOKIE", "tracker_remember")


def _set_kept_cookie(response: Response, value: str) -> None:
    config = current_app.config
    response.set_cookie(_cookie_name(), value, max_age=int(config.get("REMEMBER_DAYS", 30)) * 86400, path="/",
                        httponly=True, samesite=config.get("SESSION_COOKIE_SAMESITE") or "Lax",
                        secure=bool(config.get("REMEMBER_COOKIE_SECURE", False)))


def _delete_kept_cookie(response: Response) -> None:
    config = current_app.config
    response.delete_cookie(_cookie_name(), path="/", httponly=True,
                           samesite=config.get("SESSION_COOKIE_SAMESITE") or "Lax",
                           secure=bool(config.get("REMEMBER_COOKIE_SECURE", False)))


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=lambda: "addr:" + (request.remote_addr or "unknown"),
               scope="sign-in")
def login() -> Page:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if request.method == "GET":
        return render_template("auth/login.html", form=form)
    if not form.validate():
        return render_template("auth/login.html", form=form, error=first_error(form)), 422
    username = form.username.data or ""
    too_many = _("Too many failed sign-ins. Please wait a few minutes and try again.")
    if login_blocked(username, request.remote_addr):
        return render_template("auth/login.html", form=form, error=too_many), 429
    # Counted (and committed) before the password is checked: parallel guesses cannot all pass the limit.
    if not count_attempt(username, request.remote_addr):
        return render_template("auth/login.html", form=form, error=too_many), 429
    person = authenticate(username, form.password.data or "")
    if person is None:
        return render_template("auth/login.html", form=form, error=_("Wrong username or password.")), 401
    record_sign_in(person, request.remote_addr)
    started = start_session(person, remember=bool(form.remember.data), remote_addr=request.remote_addr,
                            user_agent=request.headers.get("User-Agent"))
    _start_fresh_session()
    login_user(person)
    session[SESSION_KEY] = started.row.selector
    response = redirect(safe_next(request.args.get("next"), url_for("main.index")))
    if started.remember_value:
        _set_kept_cookie(response, started.remember_value)
    return response


@bp.post("/logout")
@login_required
def logout() -> Response:
    record_sign_out(current_user, request.remote_addr)
    end_session(session.get(SESSION_KEY))  # this browser's session and its "keep me signed in" cookie
    _start_fresh_session()
    logout_user()
    flash(_("You have signed out."), "info")
    response = redirect(url_for("auth.login"))
    _delete_kept_cookie(response)
    return response


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=lambda: "addr:" + (request.remote_addr or "unknown"),
               scope="sign-in")
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
        with atomic():
            set_password(person, person, form.password.data or "")
            clear_failed_logins(person.username)
    except DomainError as error:
        return render_template("auth/reset.html", form=form, token=token, error=error.render()), error.status
    flash(_("Your password has been changed. Please sign in."), "success")
    return redirect(url_for("auth.login"))
