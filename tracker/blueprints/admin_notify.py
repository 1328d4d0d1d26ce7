"""Administration of reminders: the outbox (and retrying dead messages), reminder policies, message templates."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import aliased, selectinload
from werkzeug.wrappers import Response

from tracker.blueprints.args import int_arg
from tracker.blueprints.auth import safe_next
from tracker.blueprints.transaction import atomic
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.jobs.runner import heartbeats
from tracker.jobs.worker import stale_seconds, worker_rows
from tracker.models import (
    Audience,
    Channel,
    ChannelState,
    DeliveryStatus,
    MessageTemplate,
    Notification,
    NotificationKind,
    Occurrence,
    OrgUnit,
    Person,
    ReminderPolicy,
    ReminderRule,
    Task,
)
from tracker.notify.render import CHANNEL_PARTS, LOCALES, RenderError, TemplateOverride, builtin_source
from tracker.operations import channels as channel_ops
from tracker.operations import reminders as ops
from tracker.operations.authz import Permission, scope_paths
from tracker.operations.errors import DomainError, ValidationFailed

bp = Blueprint("admin_notify", __name__, url_prefix="/admin")

Page = str | Response | tuple[str, int]
PAGE_SIZE = 50

STATUS_LABELS = {
    DeliveryStatus.PENDING: _l("Pending"), DeliveryStatus.HELD: _l("Held for the digest"),
    DeliveryStatus.SENDING: _l("Sending"), DeliveryStatus.SENT: _l("Sent"), DeliveryStatus.FAILED: _l("Failed"),
    DeliveryStatus.DEAD: _l("Dead"), DeliveryStatus.SKIPPED: _l("Skipped"),
    DeliveryStatus.DIGESTED: _l("In a digest or bundle"),
}
CHANNEL_LABELS = {Channel.IN_APP: _l("In-app"), Channel.EMAIL: _l("Email"), Channel.ZALO: _l("Zalo")}
AUDIENCE_LABELS = {
    Audience.LEAD_OFFICERS: _l("Officers of the lead unit"), Audience.LEAD_HEAD: _l("Head of the lead unit"),
    Audience.REPORT_TO_FOCAL: _l("Focal officer of the report-to unit"),
    Audience.ADMIN_CHAIR: _l("Chair of the administrative unit"),
    Audience.NEXT_LEVEL_UP: _l("The administrative level above"),
}
KIND_LABELS = {
    NotificationKind.REMINDER: _l("Reminder"), NotificationKind.ESCALATION: _l("Escalation"),
    NotificationKind.DIGEST: _l("Daily digest"), NotificationKind.BUNDLE: _l("Bundle of reminders"),
    NotificationKind.REPORT_RETURNED: _l("Report returned"),
    NotificationKind.REPORT_ACCEPTED: _l("Report accepted"),
    NotificationKind.EXTENSION_DECIDED: _l("Extension decided"),
    NotificationKind.PASSWORD_RESET: _l("Password reset"),
}
LOCALE_LABELS = {"vi": "Tiếng Việt", "en": "English"}


@bp.before_request
@login_required
def _admins_only() -> None:
    if not scope_paths(current_user, Permission.ADMIN):
        abort(403)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"notify_labels": {"status": STATUS_LABELS, "channel": CHANNEL_LABELS, "audience": AUDIENCE_LABELS,
                              "kind": KIND_LABELS, "locale": LOCALE_LABELS}}


# The scheduler's jobs (their ids are `tracker.jobs.runner`'s) and the counters of their last result, in words.
JOB_LABELS = {"sweep": _l("Reminder sweep"), "dispatch": _l("Sending messages"), "digest": _l("Daily digest"),
              "audit_link": _l("Sealing the audit trail"), "summaries": _l("Recounting the summaries"),
              "purge": _l("Removing expired links and old import jobs")}
RESULT_LABELS = {
    "inserted": _l("queued"), "held_for_digest": _l("held for the digest"), "occurrences": _l("tasks checked"),
    "sent": _l("sent"), "failed": _l("failed"), "dead": _l("given up"), "skipped": _l("skipped"),
    "deferred": _l("deferred"), "digests": _l("digests"), "items": _l("items in digests"),
    "working_day": _l("working day"), "bundles": _l("bundles"), "bundled_items": _l("items in bundles"),
    "linked": _l("events sealed"), "batches": _l("batches"), "as_of": _l("as of"), "rebuilt": _l("recounted"),
    "action_links": _l("links removed"), "import_jobs": _l("import jobs removed"),
}


def job_label(job_id: str) -> str:
    """A scheduler job's name in the reader's language (an unknown job keeps its id)."""
    return str(JOB_LABELS.get(job_id, job_id))


def beat_summary(beat: Any) -> str:
    """A job's last result in a few words: "đã xếp hàng: 4, giữ lại cho bản tổng hợp: 0"."""
    try:
        data = json.loads(beat.last_result or "{}")
    except ValueError:
        return beat.last_result or ""
    skip = {"now", "today", "dry_run"}
    parts = []
    for key, value in data.items():
        if key in skip or isinstance(value, dict):
            continue
        shown = (_("yes") if value else _("no")) if isinstance(value, bool) else value
        parts.append(f"{RESULT_LABELS.get(key, key)}: {shown}")
    return ", ".join(parts)


def _fail(error: DomainError) -> None:
    """Say why (the operation's changes were dropped by `atomic`; the redirect commits nothing)."""
    flash(error.render(), "error")


# --- Outbox ---------------------------------------------------------------------------------------------

def _enum_arg(name: str, enum_cls: Any) -> Any:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        return enum_cls(raw)
    except ValueError:
        abort(400)


def _outbox_filters(status: DeliveryStatus | None, channel: Channel | None) -> list[sa.ColumnElement[bool]]:
    filters = [ops.outbox_clause(current_user)]
    if status is not None:
        filters.append(Notification.status == status)
    if channel is not None:
        filters.append(Notification.channel == channel)
    return filters


@bp.get("/outbox")
def outbox() -> Page:
    status = _enum_arg("status", DeliveryStatus)
    channel = _enum_arg("channel", Channel)
    page = int_arg("page") or 1
    lead = aliased(OrgUnit, name="lead")
    carrier = aliased(Notification, name="carrier")
    # The rows to people holding a role inside the admin's scope (every row for a root admin): see
    # ops.outbox_clause, which the retries use too.
    counts = dict(db.session.execute(
        sa.select(Notification.status, sa.func.count()).where(*_outbox_filters(None, None))
        .group_by(Notification.status)
    ).all())
    # "Retry all" acts on the dead rows this filter shows.
    dead_count = 0
    if status in (None, DeliveryStatus.DEAD) and counts.get(DeliveryStatus.DEAD):
        dead_count = counts[DeliveryStatus.DEAD] if channel is None else db.session.scalar(
            sa.select(sa.func.count()).select_from(Notification)
            .where(*_outbox_filters(DeliveryStatus.DEAD, channel))) or 0
    query = (
        sa.select(Notification, Person.full_name, Person.username, Task.title, lead.name.label("unit_name"),
                  Occurrence.due_on, carrier.status.label("carrier_status"))
        .join(Person, Person.id == Notification.recipient_id)
        # A row carried by a digest or bundle shows how its carrier fared: a dead bundle's items are visible.
        .outerjoin(carrier, carrier.id == Notification.digest_id)
        .outerjoin(Occurrence, Occurrence.id == Notification.occurrence_id)
        .outerjoin(Task, Task.id == Occurrence.task_id)
        .outerjoin(lead, lead.id == Occurrence.lead_unit_id)
        .where(*_outbox_filters(status, channel))
        .order_by(Notification.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    )
    found = db.session.execute(query).all()
    return render_template(
        "admin_notify/outbox.html", rows=found[:PAGE_SIZE], has_next=len(found) > PAGE_SIZE, page=page,
        counts=counts, status=status, channel=channel, statuses=list(DeliveryStatus), channels=list(Channel),
        heartbeats=heartbeats(), beat_summary=beat_summary, job_label=job_label, dead_count=dead_count,
        workers=worker_rows(), worker_silent_before=utcnow() - timedelta(seconds=stale_seconds(current_app.config)),
        breakers=channel_breakers(), can_resume=channel_ops.is_root_admin(current_user),
    )


def channel_breakers() -> list[dict[str, Any]]:
    """Each outside channel's circuit breaker for the admins: working, paused (until when, why) or retrying."""
    now = utcnow()
    stored = {row.channel: row for row in db.session.scalars(sa.select(ChannelState))}
    breakers = []
    for channel in channel_ops.BREAKER_CHANNELS:
        row = stored.get(channel.value)
        if row is None or not row.failures:
            state = "working"
        elif row.paused_until is not None and row.paused_until > now:
            state = "paused"
        else:
            state = "half_open"  # the pause is over: the next dispatch tries a few messages
        breakers.append({"channel": channel, "state": state, "row": row})
    return breakers


@bp.post("/outbox/channels/<channel>/resume")
def resume_channel(channel: str) -> Response:
    """End a channel's pause now (its cause is fixed): the next dispatch tries it again."""
    try:
        with atomic():
            channel_ops.resume_channel(current_user, channel)
        flash(_("The channel is tried again at the next dispatch."), "info")
    except DomainError as error:
        _fail(error)
    return redirect(url_for(".outbox"))


@bp.post("/outbox/<bigid:notification_id>/retry")
def retry(notification_id: int) -> Response:
    notification = db.session.get(Notification, notification_id) or abort(404)
    try:
        with atomic():
            ops.retry_dead(current_user, notification)
        flash(_("The message is queued again."), "info")
    except DomainError as error:
        _fail(error)
    return redirect(safe_next(request.form.get("next"), url_for(".outbox", status="dead")))


@bp.post("/outbox/retry-dead")
def retry_all() -> Response:
    """Queue again every dead row the outbox shows for the filter posted with the form."""
    status = request.form.get("status") or None
    if status not in (None, DeliveryStatus.DEAD.value):
        abort(400)
    try:
        channel = Channel(request.form["channel"]) if request.form.get("channel") else None
    except ValueError:
        abort(400)
    try:
        with atomic():
            count = ops.retry_all_dead(current_user, channel=channel)
        flash(ngettext("%(num)s message is queued again.", "%(num)s messages are queued again.", count), "info")
    except DomainError as error:
        _fail(error)
    return redirect(url_for(".outbox", status=status, channel=channel.value if channel else None))


# --- Policies -------------------------------------------------------------------------------------------

def _policy_or_404(policy_id: int) -> ReminderPolicy:
    return db.session.get(ReminderPolicy, policy_id) or abort(404)


def _rule_spec() -> ops.RuleSpec:
    raw_level = (request.form.get("escalation_level") or "").strip()
    try:
        offset = int((request.form.get("offset_days") or "").strip())
        level = int(raw_level) if raw_level else None
    except ValueError:
        raise ValidationFailed(_l("The offset must be a whole number of working days."), field="offset_days")
    return ops.RuleSpec(offset_days=offset, audience=request.form.get("audience", ""),  # type: ignore[arg-type]
                        channels=tuple(request.form.getlist("channels")), escalation_level=level)  # type: ignore[arg-type]


@bp.get("/policies")
def policies() -> Page:
    found = db.session.scalars(
        sa.select(ReminderPolicy).options(selectinload(ReminderPolicy.rules))
        .order_by(ReminderPolicy.is_archived, ReminderPolicy.is_default.desc(), ReminderPolicy.name)
    ).all()
    usage = dict(db.session.execute(
        sa.select(ReminderRule.id, sa.func.count(Notification.id))
        .join(Notification, Notification.rule_id == ReminderRule.id).group_by(ReminderRule.id)
    ).all())
    return render_template("admin_notify/policies.html", policies=found, usage=usage, audiences=list(Audience),
                           channels=list(Channel), changeable=ops.changeable_policy_ids(current_user, found),
                           is_root=ops.is_root_admin(current_user))


def _policy_action(action: Any, message: str) -> Response:
    try:
        with atomic():
            action()
        flash(message, "info")
    except DomainError as error:
        _fail(error)
    return redirect(url_for(".policies"))


@bp.post("/policies")
def create_policy() -> Response:
    if not db.session.scalar(sa.select(ReminderPolicy.id).where(ReminderPolicy.is_default.is_(True))):
        ops.ensure_default_policy()
    return _policy_action(lambda: ops.create_policy(current_user, name=request.form.get("name", "")),
                          _("The policy was created."))


@bp.post("/policies/<id:policy_id>/rename")
def rename_policy(policy_id: int) -> Response:
    policy = _policy_or_404(policy_id)
    return _policy_action(lambda: ops.rename_policy(current_user, policy, request.form.get("name", "")),
                          _("The policy was renamed."))


@bp.post("/policies/<id:policy_id>/default")
def default_policy(policy_id: int) -> Response:
    policy = _policy_or_404(policy_id)
    return _policy_action(lambda: ops.set_default_policy(current_user, policy), _("The default policy was changed."))


@bp.post("/policies/<id:policy_id>/archive")
def archive_policy(policy_id: int) -> Response:
    policy = _policy_or_404(policy_id)
    return _policy_action(lambda: ops.archive_policy(current_user, policy), _("The policy was archived."))


@bp.post("/policies/<id:policy_id>/rules")
def add_rule(policy_id: int) -> Response:
    policy = _policy_or_404(policy_id)
    return _policy_action(lambda: ops.add_rule(current_user, policy, _rule_spec()), _("The rule was added."))


@bp.post("/rules/<id:rule_id>")
def update_rule(rule_id: int) -> Response:
    rule = db.session.get(ReminderRule, rule_id) or abort(404)
    return _policy_action(lambda: ops.update_rule(current_user, rule, _rule_spec()), _("The rule was saved."))


@bp.post("/rules/<id:rule_id>/remove")
def remove_rule(rule_id: int) -> Response:
    rule = db.session.get(ReminderRule, rule_id) or abort(404)
    return _policy_action(lambda: ops.remove_rule(current_user, rule), _("The rule was removed."))


# --- Templates ------------------------------------------------------------------------------------------

def _template_key() -> tuple[NotificationKind, Channel, str]:
    values = request.values
    try:
        kind, channel = NotificationKind(values.get("kind", "")), Channel(values.get("channel", ""))
    except ValueError:
        abort(400)
    locale = values.get("locale", "vi")
    if locale not in LOCALES:
        abort(400)
    return kind, channel, locale


@bp.get("/templates")
def templates() -> Page:
    overrides = {(str(t.kind), str(t.channel), t.locale): t for t in db.session.scalars(sa.select(MessageTemplate))}
    return render_template("admin_notify/templates.html", kinds=list(NotificationKind), channels=list(Channel),
                           locales=LOCALES, overrides=overrides, can_edit=ops.can_change_templates(current_user))


def _builtin_fields(kind: NotificationKind, channel: Channel, locale: str) -> dict[str, str]:
    fields = {"subject": "", "body_text": "", "body_html": ""}
    for field, suffix in CHANNEL_PARTS[channel]:
        name = {"subject": "subject", "text": "body_text", "html": "body_html"}[field]
        fields[name] = builtin_source(kind.value, suffix, locale) or builtin_source(kind.value, suffix) or ""
    return fields


@bp.route("/templates/edit", methods=["GET", "POST"])
def edit_template() -> Page:
    kind, channel, locale = _template_key()
    existing = db.session.scalar(sa.select(MessageTemplate).where(
        MessageTemplate.kind == kind, MessageTemplate.channel == channel, MessageTemplate.locale == locale))
    parts = {field for field, _suffix in CHANNEL_PARTS[channel]}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in ("subject", "body_text", "body_html",
                                                                 "zalo_template_id")}
    elif existing is not None:
        values = {"subject": existing.subject, "body_text": existing.body_text, "body_html": existing.body_html or "",
                  "zalo_template_id": existing.zalo_template_id or ""}
    else:
        values = {**_builtin_fields(kind, channel, locale), "zalo_template_id": ""}
    error, preview, status = None, None, 200
    action = request.form.get("action", "preview") if request.method == "POST" else "preview"
    if request.method == "POST" and action == "save":
        try:
            with atomic():
                ops.save_template(current_user, kind=kind, channel=channel, locale=locale, **values)
            flash(_("The template was saved."), "info")
            return redirect(url_for(".edit_template", kind=kind.value, channel=channel.value, locale=locale))
        except DomainError as exc:
            error, status = exc.render(), exc.status
    override = TemplateOverride(values["subject"], values["body_text"], values["body_html"] or None,
                                values["zalo_template_id"] or None)
    try:
        preview = ops.preview_template(kind, channel, locale, override)
    except RenderError as exc:
        error, status = error or str(exc), 422 if request.method == "POST" else status
    html = render_template("admin_notify/template_edit.html", kind=kind, channel=channel, locale=locale,
                           values=values, parts=parts, existing=existing, preview=preview, error=error,
                           can_edit=ops.can_change_templates(current_user))
    return html, status


@bp.post("/templates/<id:template_id>/reset")
def reset_template(template_id: int) -> Response:
    template = db.session.get(MessageTemplate, template_id) or abort(404)
    key = {"kind": str(template.kind), "channel": str(template.channel), "locale": template.locale}
    try:
        with atomic():
            ops.reset_template(current_user, template)
        flash(_("The built-in template applies again."), "info")
    except DomainError as error:
        _fail(error)
    return redirect(url_for(".edit_template", **key))
