"""Reminder policies and their rules, message templates, the working calendar, and retrying dead messages.

The default policy (see DEFAULT_RULES) applies to every task whose task and plan name none; a plan's
policy overrides it, and a task's policy overrides the plan's.

Who may change what: the default policy and the message templates apply to the whole tree, so only an
administrator of a root unit (one without a parent) changes them. Any other policy is changed by an
administrator whose scope holds the issuing unit of every plan that follows it (directly or through one
of its tasks). The outbox shows, and retries, the messages to people holding a role inside the
administrator's scope; a root administrator's covers every message.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    Audience,
    CalendarException,
    Channel,
    DeliveryStatus,
    MessageTemplate,
    Notification,
    NotificationKind,
    OrgUnit,
    Person,
    Plan,
    ReminderPolicy,
    ReminderRule,
    Role,
    RoleAssignment,
    Task,
)
from tracker.operations import audit
from tracker.operations.authz import Permission, require, scope_clause, scope_paths
from tracker.operations.errors import Conflict, PermissionDenied, ValidationFailed
from tracker.workcalendar import WorkCalendar

if TYPE_CHECKING:  # the renderer (Jinja's sandbox) is imported by the template operations, not by the sweep
    from tracker.notify.render import MessageFacts, TemplateOverride

log = logging.getLogger("tracker.reminders")

DEFAULT_POLICY_NAME = "Mặc định"
ALL_CHANNELS = (Channel.IN_APP, Channel.EMAIL, Channel.ZALO)
#: How far from the due date a rule may fire, in working days.
MAX_OFFSET = 120
#: How high a rule's audience sits, used as its escalation level when none is given.
AUDIENCE_LEVEL = {
    Audience.LEAD_OFFICERS: 0,
    Audience.LEAD_HEAD: 1,
    Audience.REPORT_TO_FOCAL: 1,
    Audience.ADMIN_CHAIR: 2,
    Audience.NEXT_LEVEL_UP: 3,
}


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as an admin states it."""

    offset_days: int
    audience: Audience
    channels: tuple[Channel, ...] = ALL_CHANNELS
    escalation_level: int | None = None


#: The lead unit's officers 5 and 2 working days before and on the due day; after it, +1 the unit head
#: and the report-to unit's focal officer, +3 the chair, +7 the administrative level above.
DEFAULT_RULES = (
    RuleSpec(-5, Audience.LEAD_OFFICERS),
    RuleSpec(-2, Audience.LEAD_OFFICERS),
    RuleSpec(0, Audience.LEAD_OFFICERS),
    RuleSpec(1, Audience.LEAD_HEAD),
    RuleSpec(1, Audience.REPORT_TO_FOCAL),
    RuleSpec(3, Audience.ADMIN_CHAIR),
    RuleSpec(7, Audience.NEXT_LEVEL_UP),
)

_POLICY_FIELDS = ("name", "is_default", "is_archived")
_RULE_FIELDS = ("policy_id", "offset_days", "audience", "escalation_level", "channels")
_TEMPLATE_FIELDS = ("kind", "channel", "locale", "subject", "body_text", "body_html", "zalo_template_id")
_NOTIFICATION_FIELDS = ("status", "attempts", "next_attempt_at", "last_error")


# --- The working calendar -----------------------------------------------------------------------------

def _config() -> Mapping[str, Any]:
    return current_app.config if has_app_context() else {}


def work_calendar(config: Mapping[str, Any] | None = None, *, with_exceptions: bool = True) -> WorkCalendar:
    """The working calendar from the configuration plus the announced exceptions in the database.

    Exceptions come from CALENDAR_EXTRA_DAYS_OFF / CALENDAR_EXTRA_WORKING_DAYS (ISO dates) and, winning
    over them for the same date, the `calendar_exceptions` rows an admin entered.
    """
    config = config if config is not None else _config()
    exceptions: dict[date, bool] = {}
    for key, working in (("CALENDAR_EXTRA_DAYS_OFF", False), ("CALENDAR_EXTRA_WORKING_DAYS", True)):
        for value in config.get(key) or ():
            exceptions[date.fromisoformat(str(value))] = working
    if with_exceptions:
        for row in db.session.scalars(sa.select(CalendarException)):
            exceptions[row.on] = row.is_working_day
    return WorkCalendar.from_config(config, exceptions.items())


def enabled_channels(config: Mapping[str, Any] | None = None) -> tuple[Channel, ...]:
    """Channels the sweep queues on: in-app and email always, Zalo when configured."""
    config = config if config is not None else _config()
    channels = [Channel.IN_APP]
    if config.get("NOTIFY_EMAIL_ENABLED", True):
        channels.append(Channel.EMAIL)
    if config.get("ZALO_ENABLED"):
        channels.append(Channel.ZALO)
    return tuple(channels)


# --- Authorisation --------------------------------------------------------------------------------------

def _is_admin(actor: Person) -> bool:
    return actor.is_active and any(a.role == Role.ADMIN for a in actor.roles)


def is_root_admin(actor: Person | None) -> bool:
    """Whether `actor` administers a root unit (one without a parent); None is the system itself."""
    if actor is None:
        return True
    return actor.is_active and any(a.role == Role.ADMIN and a.unit.parent_id is None for a in actor.roles)


def _require_admin(actor: Person | None) -> None:
    """Any active administrator (making a policy, which applies to nothing until a plan or task names it)."""
    if actor is not None and not _is_admin(actor):
        raise PermissionDenied(_l("Only an administrator may change reminder settings."))


def can_change_templates(actor: Person | None) -> bool:
    """Message templates speak for the whole tree: only a root administrator changes them."""
    return is_root_admin(actor)


def _require_templates(actor: Person | None) -> None:
    _require_admin(actor)
    if not can_change_templates(actor):
        raise PermissionDenied(_l("Only an administrator of a top-level unit may change the message templates."))


def _issuing_paths(policy_ids: Iterable[int]) -> dict[int, set[str]]:
    """For each policy, the paths of the issuing units of the plans following it, themselves or by a task."""
    ids = list(set(policy_ids))
    if not ids:
        return {}
    issuer = aliased(OrgUnit, name="issuer")
    by_plan = (sa.select(Plan.reminder_policy_id.label("policy_id"), issuer.path.label("path"))
               .join(issuer, issuer.id == Plan.issuing_unit_id).where(Plan.reminder_policy_id.in_(ids)))
    by_task = (sa.select(Task.reminder_policy_id.label("policy_id"), issuer.path.label("path"))
               .join(Plan, Plan.id == Task.plan_id).join(issuer, issuer.id == Plan.issuing_unit_id)
               .where(Task.reminder_policy_id.in_(ids)))
    found: dict[int, set[str]] = {}
    for policy_id, path in db.session.execute(sa.union(by_plan, by_task)):
        found.setdefault(policy_id, set()).add(path)
    return found


def changeable_policy_ids(actor: Person | None, policies: Iterable[ReminderPolicy]) -> set[int]:
    """The ids of `policies` that `actor` may change (one query, for a whole page of policies).

    The default policy: a root administrator only. Another policy: an administrator whose scope holds
    the issuing unit of every plan following it; one that nothing follows yet, any administrator.
    """
    policies = list(policies)
    if is_root_admin(actor):
        return {p.id for p in policies}
    assert actor is not None
    if not _is_admin(actor):
        return set()
    roots = scope_paths(actor, Permission.ADMIN)
    candidates = [p for p in policies if not p.is_default]
    users = _issuing_paths(p.id for p in candidates)
    return {p.id for p in candidates
            if all(any(path.startswith(root) for root in roots) for path in users.get(p.id, ()))}


def can_change_policy(actor: Person | None, policy: ReminderPolicy) -> bool:
    """Whether `actor` may rename `policy`, change its rules, archive it (see changeable_policy_ids)."""
    return policy.id in changeable_policy_ids(actor, [policy])


def _require_policy(actor: Person | None, policy: ReminderPolicy) -> None:
    _require_admin(actor)
    if can_change_policy(actor, policy):
        return
    if policy.is_default:
        raise PermissionDenied(_l("Only an administrator of a top-level unit may change the default reminder "
                                  "policy."))
    raise PermissionDenied(_l("This policy is followed by plans outside your units; only an administrator over "
                              "all of them may change it."))


# --- Policies -------------------------------------------------------------------------------------------

def default_policy() -> ReminderPolicy | None:
    return db.session.scalar(sa.select(ReminderPolicy).where(ReminderPolicy.is_default.is_(True)))


def ensure_default_policy() -> ReminderPolicy:
    """Return the default policy, creating it with DEFAULT_RULES when there is none (idempotent)."""
    policy = default_policy()
    if policy is not None:
        return policy
    try:
        with db.session.begin_nested():
            policy = ReminderPolicy(name=DEFAULT_POLICY_NAME, is_default=True)
            if db.session.scalar(sa.select(ReminderPolicy.id).where(ReminderPolicy.name == DEFAULT_POLICY_NAME)):
                policy.name = f"{DEFAULT_POLICY_NAME} ({utcnow():%Y-%m-%d %H:%M})"
            db.session.add(policy)
            for spec in DEFAULT_RULES:
                policy.rules.append(_new_rule(spec))
            db.session.flush()
    except IntegrityError:
        # Another process created it at the same moment: use theirs.
        policy = default_policy()
        if policy is None:
            raise
        return policy
    audit.record("reminder_policy.create", policy, None, after=_policy_snapshot(policy))
    log.info("created the default reminder policy %s", policy.id)
    return policy


def _policy_snapshot(policy: ReminderPolicy) -> dict[str, Any]:
    return {**audit.snapshot(policy, _POLICY_FIELDS), "rules": [_rule_snapshot(r) for r in policy.rules]}


def _rule_snapshot(rule: ReminderRule) -> dict[str, Any]:
    return {
        "offset_days": rule.offset_days,
        "audience": str(rule.audience),
        "escalation_level": rule.escalation_level,
        "channels": [str(c) for c in rule.channels],
    }


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_l("A policy needs a name."), field="name")
    if len(name) > 128:
        raise ValidationFailed(_l("The name is too long (at most %(n)s characters)."), field="name", n=128)
    return name


def _require_unique_name(name: str, policy_id: int | None = None) -> None:
    clash = db.session.scalar(
        sa.select(ReminderPolicy.id).where(ReminderPolicy.name == name, ReminderPolicy.id != (policy_id or 0))
    )
    if clash:
        raise ValidationFailed(_l("A policy named %(name)s already exists."), field="name", name=name)


def create_policy(actor: Person | None, *, name: str, rules: Iterable[RuleSpec] = ()) -> ReminderPolicy:
    """Create a policy with its rules."""
    _require_admin(actor)
    name = _clean_name(name)
    _require_unique_name(name)
    policy = ReminderPolicy(name=name, is_default=False)
    specs = [_validated(spec) for spec in rules]
    _require_distinct(specs)
    for spec in specs:
        policy.rules.append(_new_rule(spec))
    db.session.add(policy)
    db.session.flush()
    audit.record("reminder_policy.create", policy, actor, after=_policy_snapshot(policy))
    return policy


def rename_policy(actor: Person | None, policy: ReminderPolicy, name: str) -> None:
    _require_policy(actor, policy)
    name = _clean_name(name)
    _require_unique_name(name, policy.id)
    before = audit.snapshot(policy, _POLICY_FIELDS)
    policy.name = name
    db.session.flush()
    audit.record("reminder_policy.rename", policy, actor, before=before, after=audit.snapshot(policy, _POLICY_FIELDS))


def set_default_policy(actor: Person | None, policy: ReminderPolicy) -> None:
    """Make `policy` the one every task without its own policy follows (a root administrator only)."""
    _require_admin(actor)
    if not is_root_admin(actor):
        raise PermissionDenied(_l("Only an administrator of a top-level unit may change the default reminder "
                                  "policy."))
    if policy.is_archived:
        raise Conflict(_l("An archived policy cannot be the default."))
    if policy.is_default:
        return
    previous = default_policy()
    if previous is not None:
        previous.is_default = False
        db.session.flush()  # the unique index allows one default at a time
    policy.is_default = True
    db.session.flush()
    audit.record("reminder_policy.set_default", policy, actor,
                 before={"previous_default_id": previous.id if previous else None}, after={"is_default": True})


def archive_policy(actor: Person | None, policy: ReminderPolicy) -> None:
    """Retire a policy; plans and tasks that named it fall back to the next policy in line."""
    _require_policy(actor, policy)
    if policy.is_default:
        raise Conflict(_l("The default policy cannot be archived; make another policy the default first."))
    if policy.is_archived:
        return
    policy.is_archived = True
    db.session.flush()
    audit.record("reminder_policy.archive", policy, actor, before={"is_archived": False}, after={"is_archived": True})


def _validated(spec: RuleSpec) -> RuleSpec:
    try:
        offset = int(spec.offset_days)
    except (TypeError, ValueError):
        raise ValidationFailed(_l("The offset must be a whole number of working days."), field="offset_days")
    if not -MAX_OFFSET <= offset <= MAX_OFFSET:
        raise ValidationFailed(_l("The offset must lie between -%(n)s and %(n)s working days."),
                               field="offset_days", n=MAX_OFFSET)
    try:
        audience = Audience(spec.audience)
    except ValueError:
        raise ValidationFailed(_l("Unknown audience."), field="audience")
    try:
        channels = tuple(sorted({Channel(c) for c in spec.channels}))
    except ValueError:
        raise ValidationFailed(_l("Unknown channel."), field="channels")
    if not channels:
        raise ValidationFailed(_l("Choose at least one channel."), field="channels")
    level = AUDIENCE_LEVEL[audience] if spec.escalation_level is None else int(spec.escalation_level)
    if not 0 <= level <= 9:
        raise ValidationFailed(_l("The escalation level must lie between 0 and 9."), field="escalation_level")
    return RuleSpec(offset, audience, channels, level)


def _require_distinct(specs: list[RuleSpec]) -> None:
    seen: set[tuple[int, Audience]] = set()
    for spec in specs:
        key = (spec.offset_days, spec.audience)
        if key in seen:
            raise ValidationFailed(_l("The policy already has a rule for this day and audience."), field="offset_days")
        seen.add(key)


def _new_rule(spec: RuleSpec) -> ReminderRule:
    level = AUDIENCE_LEVEL[spec.audience] if spec.escalation_level is None else spec.escalation_level
    rule = ReminderRule(offset_days=spec.offset_days, audience=spec.audience, escalation_level=level)
    rule.channels = list(spec.channels)
    return rule


def add_rule(actor: Person | None, policy: ReminderPolicy, spec: RuleSpec) -> ReminderRule:
    """Add a rule to a policy."""
    _require_policy(actor, policy)
    spec = _validated(spec)
    _require_distinct([RuleSpec(r.offset_days, r.audience) for r in policy.rules] + [spec])
    rule = _new_rule(spec)
    policy.rules.append(rule)
    db.session.flush()
    audit.record("reminder_rule.create", rule, actor, after=_rule_snapshot(rule))
    return rule


def update_rule(actor: Person | None, rule: ReminderRule, spec: RuleSpec) -> None:
    """Change a rule. Messages it already queued keep their key, so it never fires twice for them."""
    _require_policy(actor, rule.policy)
    spec = _validated(spec)
    others = [RuleSpec(r.offset_days, r.audience) for r in rule.policy.rules if r.id != rule.id]
    _require_distinct([*others, spec])
    before = _rule_snapshot(rule)
    rule.offset_days = spec.offset_days
    rule.audience = spec.audience
    rule.escalation_level = spec.escalation_level if spec.escalation_level is not None else 0
    rule.channels = list(spec.channels)
    db.session.flush()
    audit.record("reminder_rule.update", rule, actor, before=before, after=_rule_snapshot(rule))


def remove_rule(actor: Person | None, rule: ReminderRule) -> None:
    """Remove a rule that never queued a message (a used rule is part of the outbox's history)."""
    _require_policy(actor, rule.policy)
    used = db.session.scalar(sa.select(Notification.id).where(Notification.rule_id == rule.id).limit(1))
    if used:
        raise Conflict(_l("This rule has already sent reminders; change it, or archive the policy and make "
                          "a new one."))
    before = _rule_snapshot(rule)
    policy = rule.policy
    audit.record("reminder_rule.delete", rule, actor, before={**before, "policy_id": policy.id})
    policy.rules.remove(rule)
    db.session.flush()


def set_plan_policy(actor: Person | None, plan: Plan, policy: ReminderPolicy | None) -> None:
    """Give a plan its own policy (None: the default): whoever manages the plan's issuing unit."""
    require(actor, Permission.MANAGE_PLANS, plan.issuing_unit)
    _require_usable(policy)
    before = {"reminder_policy_id": plan.reminder_policy_id}
    plan.reminder_policy_id = policy.id if policy else None
    db.session.flush()
    audit.record("plan.set_reminder_policy", plan, actor, unit_id=plan.issuing_unit_id, before=before,
                 after={"reminder_policy_id": plan.reminder_policy_id})


def set_task_policy(actor: Person | None, task: Task, policy: ReminderPolicy | None) -> None:
    """Give one task its own policy (None: the plan's): whoever manages the plan's issuing unit."""
    require(actor, Permission.MANAGE_PLANS, task.plan.issuing_unit)
    _require_usable(policy)
    before = {"reminder_policy_id": task.reminder_policy_id}
    task.reminder_policy_id = policy.id if policy else None
    db.session.flush()
    audit.record("task.set_reminder_policy", task, actor, unit_id=task.lead_unit_id, before=before,
                 after={"reminder_policy_id": task.reminder_policy_id})


def _require_usable(policy: ReminderPolicy | None) -> None:
    if policy is not None and policy.is_archived:
        raise Conflict(_l("This policy is archived."))


# --- Message templates --------------------------------------------------------------------------------

@functools.cache
def sample_facts() -> MessageFacts:
    """A made-up task used to check that a template renders before it is saved."""
    from tracker.notify.render import MessageFacts

    return MessageFacts(
        notification_id=0, kind=NotificationKind.REMINDER.value, channel=Channel.EMAIL.value, rule_id=None,
        escalation_level=1, payload={"comment": "Bổ sung số liệu", "approved": True, "note": "Đồng ý",
                                     "reset_url": "https://example.invalid/reset"},
        recipient_id=0, recipient_username="mau", recipient_name="Nguyễn Văn Mẫu", recipient_title="Trạm trưởng",
        recipient_email="mau@example.invalid", recipient_phone=None, recipient_zalo_id=None, recipient_locale="vi",
        recipient_active=True, occurrence_id=1, task_title="Báo cáo kết quả tiếp cận dịch vụ y tế năm 2024",
        plan_number="56/KH-UBND", plan_title="Kế hoạch giảm nghèo năm 2024", unit_name="Trạm Y tế",
        report_to_name="UBND xã", due_on=date(2024, 9, 25), period_label=None,
    )


def preview_template(kind: NotificationKind, channel: Channel, locale: str, override: TemplateOverride | None,
                     *, today: date | None = None) -> Any:
    """Render a template (an unsaved override, or the built-in one) with the sample task."""
    from dataclasses import replace

    from tracker.notify.render import MessageRenderer, message_context

    # A reminder is previewed before the sample's due date, everything else the day after it.
    today = today or (date(2024, 9, 20) if kind == NotificationKind.REMINDER else date(2024, 9, 26))

    sample = sample_facts()
    facts = replace(sample, kind=kind.value, channel=channel.value, recipient_locale=locale)
    items = [sample, replace(sample, occurrence_id=2, due_on=date(2024, 9, 30),
                                   task_title="Rà soát hộ nghèo, hộ cận nghèo")]
    base_url = str(_config().get("PUBLIC_BASE_URL", "http://127.0.0.1"))
    context = message_context(facts, today=today, base_url=base_url, items=items, calendar=work_calendar())
    overrides = {(kind.value, channel.value, locale): override} if override is not None else {}
    renderer = MessageRenderer(overrides, zalo_template_ids=_config().get("ZALO_TEMPLATE_IDS") or {},
                               zalo_params=_config().get("ZALO_TEMPLATE_PARAMS") or {})
    return renderer.render(kind.value, channel, locale, context)


def save_template(
    actor: Person | None,
    *,
    kind: NotificationKind | str,
    channel: Channel | str,
    locale: str,
    subject: str = "",
    body_text: str = "",
    body_html: str | None = None,
    zalo_template_id: str | None = None,
) -> MessageTemplate:
    """Create or replace the override of one (kind, channel, locale) after rendering it with a sample."""
    from tracker.notify.render import CHANNEL_PARTS, LOCALES, RenderError, TemplateOverride, check_template

    _require_templates(actor)
    try:
        kind, channel = NotificationKind(kind), Channel(channel)
    except ValueError:
        raise ValidationFailed(_l("Unknown message kind or channel."), field="kind")
    if locale not in LOCALES:
        raise ValidationFailed(_l("Unknown language."), field="locale")
    subject, body_text = (subject or "").strip(), (body_text or "").strip()
    body_html = (body_html or "").strip() or None
    zalo_template_id = (zalo_template_id or "").strip() or None
    fields = {name for name, _suffix in CHANNEL_PARTS[channel]}
    if "subject" in fields and not subject:
        raise ValidationFailed(_l("An email needs a subject."), field="subject")
    if not body_text and not zalo_template_id:
        raise ValidationFailed(_l("The message needs a text."), field="body_text")
    if len(subject) > 255:
        raise ValidationFailed(_l("The subject is too long (at most %(n)s characters)."), field="subject", n=255)
    for field, source, html in (("subject", subject, False), ("body_text", body_text, False),
                                ("body_html", body_html, True)):
        if source:
            try:
                check_template(source, html=html)
            except RenderError as exc:
                raise ValidationFailed(_l("The template is not valid: %(error)s"), field=field, error=str(exc))
    override = TemplateOverride(subject, body_text, body_html if "html" in fields else None, zalo_template_id)
    try:
        preview_template(kind, channel, locale, override)
    except RenderError as exc:
        raise ValidationFailed(_l("The template is not valid: %(error)s"), field="body_text", error=str(exc))
    row = db.session.scalar(sa.select(MessageTemplate).where(
        MessageTemplate.kind == kind, MessageTemplate.channel == channel, MessageTemplate.locale == locale))
    before = audit.snapshot(row, _TEMPLATE_FIELDS) if row else None
    if row is None:
        row = MessageTemplate(kind=kind, channel=channel, locale=locale)
        db.session.add(row)
    row.subject, row.body_text = subject, body_text
    row.body_html = override.body_html
    row.zalo_template_id = zalo_template_id
    row.updated_at = utcnow()
    db.session.flush()
    audit.record("message_template.save", row, actor, before=before, after=audit.snapshot(row, _TEMPLATE_FIELDS))
    return row


def reset_template(actor: Person | None, template: MessageTemplate) -> None:
    """Drop an override: the built-in template applies again."""
    _require_templates(actor)
    audit.record("message_template.reset", template, actor, before=audit.snapshot(template, _TEMPLATE_FIELDS))
    db.session.delete(template)
    db.session.flush()


# --- The outbox -------------------------------------------------------------------------------------------

def outbox_clause(actor: Person | None) -> sa.ColumnElement[bool]:
    """SQL restricting outbox rows to those `actor` may see and retry.

    A row belongs to the administrators of its recipient: those whose scope holds a unit where the
    recipient has a role (they can fix the address that made it fail). A root administrator sees all.
    """
    if is_root_admin(actor):
        return sa.true()
    assert actor is not None
    if not scope_paths(actor, Permission.ADMIN):
        return sa.false()
    unit = aliased(OrgUnit, name="recipient_unit")
    return sa.exists(
        sa.select(RoleAssignment.id).join(unit, unit.id == RoleAssignment.unit_id)
        .where(RoleAssignment.person_id == Notification.recipient_id,
               scope_clause(actor, unit.path, Permission.ADMIN))
    )


def _require_outbox(actor: Person | None, notification: Notification) -> None:
    _require_admin(actor)
    if is_root_admin(actor):
        return
    assert actor is not None
    roots = scope_paths(actor, Permission.ADMIN)
    if not any(a.unit.path.startswith(root) for a in notification.recipient.roles for root in roots):
        raise PermissionDenied(_l("This message went to a person outside your units."))


def retry_dead(actor: Person | None, notification: Notification, now: Any = None) -> None:
    """Queue a dead (or failed) message again, with a fresh count of attempts."""
    _require_outbox(actor, notification)
    if notification.status not in (DeliveryStatus.DEAD, DeliveryStatus.FAILED):
        raise Conflict(_l("Only a failed or dead message can be retried."))
    before = audit.snapshot(notification, _NOTIFICATION_FIELDS)
    notification.status = DeliveryStatus.PENDING
    notification.attempts = 0
    notification.next_attempt_at = now or utcnow()
    notification.claimed_by = None
    notification.claimed_until = None
    db.session.flush()
    audit.record("notification.retry", notification, actor, unit_id=None, before=before,
                 after=audit.snapshot(notification, _NOTIFICATION_FIELDS))


class _Outbox:
    """The outbox as a whole: what a bulk retry's audit event is about (object "notifications" #0)."""

    __tablename__ = Notification.__tablename__
    id = 0


def retry_all_dead(actor: Person | None, *, channel: Channel | str | None = None, now: Any = None) -> int:
    """Queue again, in one UPDATE, every dead message `actor` may see (of one channel, if given).

    For after the cause is fixed (a broken template, a missing credential). Rows keep their last error
    until they are tried again. Returns how many rows were queued; one audit event records the count.
    """
    _require_admin(actor)
    try:
        channel = Channel(channel) if channel is not None else None
    except ValueError:
        raise ValidationFailed(_l("Unknown channel."), field="channel")
    conditions = [Notification.status == DeliveryStatus.DEAD, outbox_clause(actor)]
    if channel is not None:
        conditions.append(Notification.channel == channel)
    result = db.session.execute(
        sa.update(Notification).where(*conditions)
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now or utcnow(), claimed_by=None,
                claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)
    audit.record("notification.retry_dead", _Outbox(), actor,
                 after={"count": count, "status": DeliveryStatus.DEAD.value,
                        "channel": channel.value if channel else None})
    log.info("queued %s dead messages again (channel %s)", count, channel or "any")
    return count
