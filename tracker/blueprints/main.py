"""The home redirect, the health check, and what every page's layout needs (filters, nav, bell)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from babel.numbers import format_decimal, format_percent
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale, refresh
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from tracker.clock import local_zone, status_clock
from tracker.demo import SHOWCASE_ACCOUNTS, demo_document_hashes
from tracker.extensions import db
from tracker.forms.auth import LoginForm
from tracker.models import OccurrenceStatus, Role
from tracker.queries.home import demo_showcase

bp = Blueprint("main", __name__)

#: Status -> (CSS class, label). Colours live in app.css.
STATUS_LABELS: dict[str, Any] = {
    OccurrenceStatus.OVERDUE.value: _l("Overdue"),
    OccurrenceStatus.DUE_SOON.value: _l("Due soon"),
    OccurrenceStatus.NOT_DUE.value: _l("Not yet due"),
    OccurrenceStatus.DONE_ON_TIME.value: _l("Done on time"),
    OccurrenceStatus.DONE_LATE.value: _l("Done late"),
    OccurrenceStatus.CANCELLED.value: _l("Cancelled"),
}

ROLE_LABELS: dict[str, Any] = {
    Role.OFFICER.value: _l("Officer"),
    Role.UNIT_HEAD.value: _l("Unit head"),
    Role.FOCAL.value: _l("Focal officer"),
    Role.CHAIR.value: _l("Chair"),
    Role.VIEWER.value: _l("Viewer"),
    Role.ADMIN.value: _l("Administrator"),
}

#: Audit actions shown in a task's history.
ACTION_LABELS: dict[str, Any] = {
    "occurrence.complete": _l("Report submitted / marked done"),
    "occurrence.cancel": _l("Cancelled"),
    "report.accept": _l("Report accepted"),
    "report.return": _l("Report returned"),
    "extension.request": _l("More time requested"),
    "extension.approve": _l("More time approved"),
    "extension.reject": _l("More time rejected"),
    "comment.create": _l("Comment added"),
    "occurrence.acknowledge": _l("Acknowledged from a reminder"),
}


RECURRENCE_LABELS: dict[str, Any] = {
    "monthly": _l("monthly"), "quarterly": _l("quarterly"), "semiannual": _l("every 6 months"),
    "annual": _l("yearly"),
}


@bp.app_template_filter("recurrence_label")
def recurrence_label(rule: str | None) -> str:
    """monthly,annual -> hằng tháng, hằng năm; an RRULE is shown as it is."""
    if not rule:
        return ""
    return ", ".join(str(RECURRENCE_LABELS.get(part.strip(), part.strip())) for part in rule.split(","))


CHANNEL_LABELS: dict[str, Any] = {"in_app": _l("in the app"), "email": _l("e-mail"), "zalo": "Zalo"}


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(str(channel), channel))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def home_endpoint(roles: set[Role]) -> str:
    """The page that fits a person's roles best."""
    if roles & {Role.OFFICER, Role.UNIT_HEAD}:
        return "tasks.my_tasks"
    if roles & {Role.CHAIR, Role.FOCAL}:
        return "dashboard.overview"
    if Role.VIEWER in roles:
        return "rollup.index"
    if Role.ADMIN in roles:
        return "admin.units"
    return "plan_pages.index"


@bp.get("/")
def index() -> Response | str:
    if not current_user.is_authenticated:
        return _public_home()
    endpoint = home_endpoint({a.role for a in current_user.roles})
    try:
        return redirect(url_for(endpoint))
    except BuildError:  # a page not registered in this deployment
        return redirect(url_for("profile.index"))


def _public_home() -> str:
    """The welcome page: sign in; on a demo instance also the demo's tasks and accounts to try."""
    showcase, accounts, clock = None, (), status_clock()
    if current_app.config.get("SHOW_DEMO_ON_HOME"):
        showcase = demo_showcase(demo_document_hashes(), clock)
        accounts = SHOWCASE_ACCOUNTS if showcase.total else ()
    return render_template("home.html", form=LoginForm(), showcase=showcase, accounts=accounts,
                           clock_today=clock.today)


@bp.before_app_request
def _fresh_locale() -> None:
    """Choose the language anew for each request (Flask-Babel caches it on `g`, which a test may share)."""
    refresh()


@bp.after_app_request
def _security_headers(response: Response) -> Response:
    """Pages never run foreign script, are never framed, and do not leak their URLs (tokens) elsewhere."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype != "text/html":
        return response
    response.headers.setdefault("X-Frame-Options", "DENY")
    script_src = "'self'"
    if request.path.startswith("/api") and not response.is_streamed:
        # The API's browsable docs (Swagger UI) start with one inline script: allow exactly that script.
        script_src += "".join(f" '{digest}'" for digest in _inline_script_hashes(response.get_data(as_text=True)))
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        f"script-src {script_src}; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
    )
    return response


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def _inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions ('sha256-...') for each inline script of a page we serve ourselves."""
    return [
        "sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        for body in _INLINE_SCRIPT.findall(html)
    ]


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}


# --- Formatting (Jinja filters) ------------------------------------------------------------------------

def _locale() -> str:
    return str(get_locale() or "vi")


@bp.app_template_filter("dmy")
def format_dmy(value: date | datetime | None) -> str:
    """25/09/2024 (a date) or 25/09/2024 14:05 (an instant, in local time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(local_zone()) if value.tzinfo else value
        return local.strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


@bp.app_template_filter("number")
def format_number(value: int | float | Decimal | None, digits: int = 2) -> str:
    """1.234,5 in Vietnamese, 1,234.5 in English."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale())


@bp.app_template_filter("percent")
def format_pct(value: float | Decimal | None, digits: int = 2) -> str:
    """A share (0.0203) as 2,03%."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "#" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=_locale())


@bp.app_template_filter("status_label")
def status_label(status: str | OccurrenceStatus) -> str:
    return str(STATUS_LABELS.get(str(status), status))


@bp.app_template_filter("role_label")
def role_label(role: str | Role) -> str:
    return str(ROLE_LABELS.get(str(role), role))


# --- What the layout needs ------------------------------------------------------------------------------

def _url_or_none(endpoint: str, **values: Any) -> str | None:
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _unread_count() -> int:
    from tracker.operations.inbox import unread_count

    try:
        return int(unread_count(current_user))
    except Exception:  # the bell must never break a page
        current_app.logger.exception("unread_count failed")
        return 0


def _nav() -> list[tuple[str, str, str]]:
    """(endpoint, url, label) for the menu, by the person's roles."""
    if not current_user.is_authenticated:
        return []
    roles = {a.role for a in current_user.roles}
    items: list[tuple[str, Any]] = []
    if roles & {Role.OFFICER, Role.UNIT_HEAD, Role.ADMIN}:
        items.append(("tasks.my_tasks", _l("My tasks")))
    if roles & {Role.CHAIR, Role.FOCAL, Role.UNIT_HEAD, Role.ADMIN}:
        items.append(("dashboard.overview", _l("Overview")))
    if roles & {Role.VIEWER, Role.CHAIR, Role.FOCAL, Role.ADMIN}:
        items.append(("rollup.index", _l("Roll-up")))
    items.append(("plan_pages.index", _l("Plans")))
    items.append(("reports.index", _l("Reports")))
    if Role.ADMIN in roles:
        items.append(("admin.units", _l("Administration")))
    out = []
    for endpoint, label in items:
        url = _url_or_none(endpoint)
        if url:
            out.append((endpoint, url, str(label)))
    return out


@bp.app_context_processor
def _layout_context() -> dict[str, Any]:
    authenticated = bool(getattr(current_user, "is_authenticated", False))
    return {
        "nav_items": _nav(),
        "unread_count": _unread_count() if authenticated else 0,
        "url_or_none": _url_or_none,
        "current_locale": _locale(),
        "languages": current_app.config.get("LANGUAGES", ["vi", "en"]),
        "STATUS_LABELS": STATUS_LABELS,
        "action_label": action_label,
        "channel_label": channel_label,
    }
