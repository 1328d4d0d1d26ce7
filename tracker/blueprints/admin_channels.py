"""Administration of the message channels: the e-mail settings (read-only) and connecting Zalo's OA."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from tracker.blueprints.admin_notify import channel_breakers
from tracker.blueprints.transaction import atomic
from tracker.forms.admin import ConfirmForm
from tracker.operations import channels as ops
from tracker.operations.errors import DomainError
from tracker.operations.reminders import is_root_admin

bp = Blueprint("admin_channels", __name__, url_prefix="/admin/channels")

Page = str | Response | tuple[str, int]


@bp.before_request
@login_required
def _channel_admins_only() -> None:
    try:
        ops.require_channel_admin(current_user)
    except DomainError:
        abort(403)


@bp.app_context_processor
def _channel_admin_flag() -> dict[str, Any]:
    # A function, so that pages which never show the admin tabs never run the check.
    return {"can_manage_channels": lambda: current_user.is_authenticated and is_root_admin(current_user)}


def _callback_url() -> str:
    return url_for(".zalo_callback", _external=True)


@bp.get("")
def index() -> Page:
    summary = ops.overview(current_user)
    return render_template("admin_channels/index.html", summary=summary, confirm=ConfirmForm(formdata=None),
                           redirect_uri=summary.zalo_redirect_uri or _callback_url(), breakers=channel_breakers(),
                           can_resume=True)


@bp.post("/zalo/connect")
def zalo_connect() -> Response:
    if not ConfirmForm().validate():
        abort(400)
    redirect_uri = ops.configured_redirect_uri() or _callback_url()
    try:
        with atomic():
            url = ops.start_zalo_connection(current_user, redirect_uri)
    except DomainError as error:
        flash(error.render(), "error")
        return redirect(url_for(".index"))
    return redirect(url)  # Zalo's permission page; Zalo sends the admin back to the callback below


@bp.get("/zalo/callback")
def zalo_callback() -> Response:
    if request.args.get("error") or not request.args.get("code"):
        # The OA admin declined, or Zalo sent an error: nothing changes.
        flash(_("Zalo did not grant access; nothing was changed."), "error")
        return redirect(url_for(".index"))
    try:
        with atomic():
            version = ops.finish_zalo_connection(current_user, request.args["code"], request.args.get("state"))
    except DomainError as error:
        flash(error.render(), "error")
        return redirect(url_for(".index"))
    flash(_("Zalo is connected (token version %(version)s).", version=version), "success")
    return redirect(url_for(".index"))
