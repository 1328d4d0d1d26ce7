"""Render outbox rows into messages at send time, from fresh facts and Jinja templates.

Outbox rows carry no text: the dispatcher (and the in-app inbox) load the task's current facts here and
render them with the built-in templates in tracker/templates/messages/<locale>/<kind>.<part>, or with an
admin's `MessageTemplate` override. Templates run in a sandbox with StrictUndefined, so a missing
variable is a `RenderError` naming the template and the variable, never half a message.

Variables every template gets: app_name, recipient_name, recipient_title, link, today (dd/mm/yyyy).
Occurrence kinds add: task_title, plan_number, plan_title, plan_label, unit_name, report_to_name, due_on
(dd/mm/yyyy), period_label, days_left (calendar days), working_days_left, days_late, is_overdue,
is_due_today, escalation_level, and action_link: in an e-mail or Zalo reminder, escalation or digest item,
a single-use link for this recipient that opens the task ready to act (tracker/notify/links.py; made only
if the template prints it); elsewhere (in-app, previews) the same as link. A digest adds items (each with
the occurrence variables and its own link and action_link), item_count, overdue_count. Event kinds
add their payload: comment (report_*), approved and note (extension_decided), reset_url (password_reset).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import sqlalchemy as sa
from jinja2.sandbox import SandboxedEnvironment

from tracker.extensions import db
from tracker.models import (
    Channel,
    MessageTemplate,
    Notification,
    NotificationKind,
    Occurrence,
    OrgUnit,
    Person,
    Plan,
    PlanStatus,
    Task,
    TaskStatus,
)
from tracker.workcalendar import WorkCalendar

MESSAGES_DIR = Path(__file__).resolve().parent.parent / "templates" / "messages"
LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
APP_NAMES = {"vi": "Hệ thống theo dõi nhiệm vụ", "en": "Task tracker"}

#: The template parts each channel needs: (field of RenderedMessage, built-in file suffix).
CHANNEL_PARTS: dict[Channel, tuple[tuple[str, str], ...]] = {
    Channel.EMAIL: (("subject", "subject.txt"), ("text", "email.txt"), ("html", "email.html")),
    Channel.ZALO: (("text", "zalo.txt"),),
    Channel.IN_APP: (("text", "in_app.txt"),),
}
#: Kinds that speak about an open occurrence; they are pointless once it is done or cancelled.
REMINDER_KINDS = frozenset({NotificationKind.REMINDER, NotificationKind.ESCALATION})
#: Parameters of a ZNS template when the configuration does not list them (ZALO_TEMPLATE_PARAMS).
DEFAULT_ZNS_PARAMS = ("officer_name", "task_title", "due_on")
#: ZNS refuses long parameter values; Zalo's limit for text parameters is around 100 characters.
ZNS_VALUE_LIMIT = 100


class RenderError(Exception):
    """A template could not produce a message (syntax error, missing variable, unknown template)."""


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str = ""
    text: str = ""
    html: str | None = None
    zalo_template_id: str | None = None
    zalo_data: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class TemplateOverride:
    """An admin's template for one (kind, channel, locale), detached from the session."""

    subject: str
    body_text: str
    body_html: str | None
    zalo_template_id: str | None

    @classmethod
    def of(cls, row: MessageTemplate) -> TemplateOverride:
        return cls(row.subject or "", row.body_text or "", row.body_html, row.zalo_template_id)


# --- Jinja --------------------------------------------------------------------------------------------

def _dmy(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@functools.lru_cache(maxsize=2)
def _environment(html: bool) -> SandboxedEnvironment:
    # Admins write templates, so they run sandboxed; StrictUndefined turns a missing variable into an error.
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(MESSAGES_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["dmy"] = _dmy
    return env


@functools.lru_cache(maxsize=256)
def _compile(source: str, html: bool) -> jinja2.Template:
    return _environment(html).from_string(source)


def builtin_name(kind: str, suffix: str, locale: str) -> str:
    return f"{locale}/{kind}.{suffix}"


def builtin_source(kind: str, suffix: str, locale: str = DEFAULT_LOCALE) -> str | None:
    """The text of a built-in template, for the admin page; None when there is none."""
    path = MESSAGES_DIR / builtin_name(kind, suffix, locale)
    return path.read_text(encoding="utf-8") if path.is_file() else None


def check_template(source: str, *, html: bool = False) -> None:
    """Raise RenderError if `source` is not a valid template."""
    try:
        _compile(source, html)
    except jinja2.TemplateError as exc:
        raise RenderError(_describe("template", exc)) from exc


def _describe(name: str, exc: Exception) -> str:
    line = getattr(exc, "lineno", None)
    where = f"{name}, line {line}" if line else name
    return f"template error in {where}: {exc}"


_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def _tidy_text(text: str) -> str:
    return _BLANK_RUNS.sub("\n\n", text).strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- Rendering ----------------------------------------------------------------------------------------

class MessageRenderer:
    """Render (kind, channel, locale, context) with overrides first, then the built-in templates."""

    def __init__(
        self,
        overrides: Mapping[tuple[str, str, str], TemplateOverride] | None = None,
        *,
        zalo_template_ids: Mapping[str, str] | None = None,
        zalo_params: Mapping[str, Mapping[str, str] | Sequence[str]] | None = None,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._zalo_template_ids = dict(zalo_template_ids or {})
        self._zalo_params = {str(k): _param_pairs(v) for k, v in (zalo_params or {}).items()}

    @classmethod
    def from_database(cls, config: Mapping[str, Any]) -> MessageRenderer:
        """Load every override (a small table) and the Zalo template settings."""
        rows = db.session.scalars(sa.select(MessageTemplate)).all()
        overrides = {(str(r.kind), str(r.channel), r.locale): TemplateOverride.of(r) for r in rows}
        return cls(
            overrides,
            zalo_template_ids=config.get("ZALO_TEMPLATE_IDS") or {},
            zalo_params=config.get("ZALO_TEMPLATE_PARAMS") or {},
        )

    def render(self, kind: str, channel: Channel | str, locale: str, context: Mapping[str, Any]) -> RenderedMessage:
        """Render one message or raise RenderError."""
        kind, channel = str(kind), Channel(channel)
        locale = locale if locale in LOCALES else DEFAULT_LOCALE
        override = self._overrides.get((kind, channel.value, locale))
        parts: dict[str, str | None] = {}
        for field, suffix in CHANNEL_PARTS[channel]:
            html = suffix.endswith(".html")
            if override is not None:
                source = {"subject": override.subject, "text": override.body_text, "html": override.body_html}[field]
                if not source:
                    parts[field] = None
                    continue
                parts[field] = self._run(_compile_or_raise(source, html, f"{kind}/{channel}/{locale}"),
                                         context, f"{kind}/{channel}/{locale} ({field})")
                continue
            template = self._builtin(kind, suffix, locale, html)
            parts[field] = self._run(template, context, template.name or suffix)
        zalo_template_id = zalo_data = None
        if channel == Channel.ZALO:
            zalo_template_id = (override.zalo_template_id if override else None) or self._zalo_template_ids.get(kind)
            if zalo_template_id:
                zalo_data = self._zns_data(str(zalo_template_id), kind, context)
        text = _tidy_text(parts.get("text") or "")
        if channel == Channel.IN_APP:
            text = _one_line(text)
        if not text and not zalo_template_id:
            raise RenderError(f"template {kind}/{channel}/{locale} produced an empty message")
        return RenderedMessage(
            subject=_one_line(parts.get("subject") or ""),
            text=text,
            html=(parts.get("html") or "").strip() or None,
            zalo_template_id=str(zalo_template_id) if zalo_template_id else None,
            zalo_data=zalo_data,
        )

    def _builtin(self, kind: str, suffix: str, locale: str, html: bool) -> jinja2.Template:
        env = _environment(html)
        for candidate in dict.fromkeys((locale, DEFAULT_LOCALE)):
            try:
                return env.get_template(builtin_name(kind, suffix, candidate))
            except jinja2.TemplateNotFound:
                continue
            except jinja2.TemplateError as exc:
                raise RenderError(_describe(builtin_name(kind, suffix, candidate), exc)) from exc
        raise RenderError(f"no template for {kind} ({suffix})")

    @staticmethod
    def _run(template: jinja2.Template, context: Mapping[str, Any], name: str) -> str:
        try:
            return template.render(context)
        except jinja2.TemplateError as exc:
            raise RenderError(_describe(name, exc)) from exc
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise RenderError(f"template error in {name}: {exc!r}") from exc

    def _zns_data(self, template_id: str, kind: str, context: Mapping[str, Any]) -> dict[str, str]:
        values = zns_values(context)
        # ZALO_TEMPLATE_PARAMS is keyed by ZNS template id or by message kind (as config/default.py shows).
        pairs = self._zalo_params.get(template_id) or self._zalo_params.get(kind) or _param_pairs(DEFAULT_ZNS_PARAMS)
        missing = [f"{param} ({variable})" if param != variable else param
                   for param, variable in pairs if variable not in values]
        if missing:
            raise RenderError(f"ZNS template {template_id}: no value for {', '.join(missing)}")
        return {param: str(values[variable])[:ZNS_VALUE_LIMIT] for param, variable in pairs}


def _param_pairs(spec: Mapping[str, str] | Sequence[str]) -> tuple[tuple[str, str], ...]:
    """(ZNS parameter, our variable) pairs: a mapping names both; a list means the same name for each."""
    if isinstance(spec, Mapping):
        return tuple((str(param), str(variable)) for param, variable in spec.items())
    if isinstance(spec, str):
        return ((spec, spec),)
    return tuple((str(name), str(name)) for name in spec)


def _compile_or_raise(source: str, html: bool, name: str) -> jinja2.Template:
    try:
        return _compile(source, html)
    except jinja2.TemplateError as exc:
        raise RenderError(_describe(name, exc)) from exc


def zns_values(context: Mapping[str, Any]) -> dict[str, Any]:
    """The values a ZNS template may ask for, as strings (the action link stays lazy until asked for)."""
    items = context.get("items") or []
    values = {
        "officer_name": context.get("recipient_name"),
        "recipient_name": context.get("recipient_name"),
        "task_title": context.get("task_title"),
        "unit_name": context.get("unit_name"),
        "due_on": context.get("due_on"),
        "days_late": context.get("days_late"),
        "days_left": context.get("days_left"),
        "plan_number": context.get("plan_number"),
        "link": context.get("link"),
        "action_link": context.get("action_link"),
        "today": context.get("today"),
        "item_count": context.get("item_count"),
    }
    if items:
        # A digest in a one-task ZNS template: say how many, due from the earliest.
        values["task_title"] = values["task_title"] or f"{len(items)} nhiệm vụ"
        values["due_on"] = values["due_on"] or items[0]["due_on"]
        values["unit_name"] = values["unit_name"] or items[0]["unit_name"]
    return {k: v if isinstance(v, LazyLink) else str(v) for k, v in values.items() if v is not None and v != ""}


# --- Facts --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What one outbox row needs to be rendered and addressed, read fresh at send time."""

    notification_id: int
    kind: str
    channel: str
    rule_id: int | None
    escalation_level: int
    payload: Mapping[str, Any] | None
    recipient_id: int
    recipient_username: str
    recipient_name: str
    recipient_title: str | None
    recipient_email: str | None
    recipient_phone: str | None
    recipient_zalo_id: str | None
    recipient_locale: str
    recipient_active: bool
    occurrence_id: int | None
    task_title: str | None = None
    plan_number: str | None = None
    plan_title: str | None = None
    unit_name: str | None = None
    report_to_name: str | None = None
    due_on: date | None = None
    period_label: str | None = None
    is_open: bool = True
    #: The due date the row was queued for; a reminder whose occurrence has since moved (an approved
    #: extension) speaks of a date that no longer holds.
    queued_due_on: date | None = None
    #: The due date someone acknowledged the occurrence for (acted from a reminder): no escalation for it.
    acknowledged_due_on: date | None = None

    @property
    def is_reminder(self) -> bool:
        return self.kind in REMINDER_KINDS


def _occurrence_columns() -> tuple[Any, ...]:
    lead = sa.orm.aliased(OrgUnit, name="lead_unit")
    report_to = sa.orm.aliased(OrgUnit, name="report_to_unit")
    issuing = sa.orm.aliased(OrgUnit, name="issuing_unit")
    is_open = sa.and_(
        Occurrence.completed_at.is_(None),
        Occurrence.cancelled_at.is_(None),
        Task.status == TaskStatus.ACTIVE,
        Plan.status == PlanStatus.ACTIVE,
    )
    columns = (
        Task.title.label("task_title"),
        Plan.number.label("plan_number"),
        Plan.title.label("plan_title"),
        lead.name.label("unit_name"),
        sa.func.coalesce(report_to.name, issuing.name).label("report_to_name"),
        Occurrence.due_on.label("due_on"),
        Occurrence.period_label.label("period_label"),
        is_open.label("is_open"),
        Occurrence.acknowledged_due_on.label("acknowledged_due_on"),
    )
    return columns, lead, report_to, issuing


def _join_occurrence(stmt: sa.Select[Any], occurrence_id: Any, lead: Any, report_to: Any, issuing: Any,
                     *, outer: bool) -> sa.Select[Any]:
    join = stmt.outerjoin if outer else stmt.join
    stmt = join(Occurrence, Occurrence.id == occurrence_id)
    join = stmt.outerjoin if outer else stmt.join
    stmt = join(Task, Task.id == Occurrence.task_id)
    join = stmt.outerjoin if outer else stmt.join
    stmt = join(Plan, Plan.id == Task.plan_id)
    join = stmt.outerjoin if outer else stmt.join
    stmt = join(lead, lead.id == Occurrence.lead_unit_id)
    stmt = stmt.outerjoin(report_to, report_to.id == Task.report_to_unit_id)
    return stmt.outerjoin(issuing, issuing.id == Plan.issuing_unit_id)


def load_facts(notification_ids: Iterable[int]) -> dict[int, MessageFacts]:
    """Read, in one query, everything the given rows need to be rendered and sent."""
    ids = list(notification_ids)
    if not ids:
        return {}
    occ_columns, lead, report_to, issuing = _occurrence_columns()
    stmt = sa.select(
        Notification.id, Notification.kind, Notification.channel, Notification.rule_id,
        Notification.escalation_level, Notification.payload, Notification.occurrence_id,
        Notification.due_on.label("queued_due_on"), Person.id.label("recipient_id"), Person.username,
        Person.full_name, Person.title, Person.email, Person.phone, Person.zalo_user_id, Person.locale,
        Person.is_active, *occ_columns,
    ).join(Person, Person.id == Notification.recipient_id)
    stmt = _join_occurrence(stmt, Notification.occurrence_id, lead, report_to, issuing, outer=True)
    facts: dict[int, MessageFacts] = {}
    for row in db.session.execute(stmt.where(Notification.id.in_(ids))):
        facts[row.id] = MessageFacts(
            notification_id=row.id, kind=str(row.kind), channel=str(row.channel), rule_id=row.rule_id,
            escalation_level=row.escalation_level or 0, payload=row.payload, recipient_id=row.recipient_id,
            recipient_username=row.username, recipient_name=row.full_name, recipient_title=row.title,
            recipient_email=row.email, recipient_phone=row.phone, recipient_zalo_id=row.zalo_user_id,
            recipient_locale=row.locale or DEFAULT_LOCALE, recipient_active=bool(row.is_active),
            occurrence_id=row.occurrence_id, task_title=row.task_title, plan_number=row.plan_number,
            plan_title=row.plan_title, unit_name=row.unit_name, report_to_name=row.report_to_name,
            due_on=row.due_on, period_label=row.period_label,
            is_open=bool(row.is_open) if row.occurrence_id is not None else True,
            queued_due_on=row.queued_due_on, acknowledged_due_on=row.acknowledged_due_on,
        )
    return facts


def load_digest_items(digest_ids: Iterable[int]) -> dict[int, list[MessageFacts]]:
    """The still-open occurrences each digest row lists, one per occurrence, earliest due first."""
    ids = list(digest_ids)
    if not ids:
        return {}
    occ_columns, lead, report_to, issuing = _occurrence_columns()
    stmt = sa.select(
        Notification.digest_id, Notification.id, Notification.kind, Notification.channel, Notification.rule_id,
        Notification.escalation_level, Notification.occurrence_id, Notification.recipient_id, *occ_columns,
    )
    stmt = _join_occurrence(stmt, Notification.occurrence_id, lead, report_to, issuing, outer=False)
    stmt = stmt.where(Notification.digest_id.in_(ids)).order_by(Occurrence.due_on, Occurrence.id)
    items: dict[int, dict[int, MessageFacts]] = {digest_id: {} for digest_id in ids}
    for row in db.session.execute(stmt):
        if not row.is_open:
            continue
        seen = items[row.digest_id]
        previous = seen.get(row.occurrence_id)
        if previous is not None and previous.escalation_level >= (row.escalation_level or 0):
            continue
        seen[row.occurrence_id] = MessageFacts(
            notification_id=row.id, kind=str(row.kind), channel=str(row.channel), rule_id=row.rule_id,
            escalation_level=row.escalation_level or 0, payload=None, recipient_id=row.recipient_id,
            recipient_username="", recipient_name="", recipient_title=None, recipient_email=None,
            recipient_phone=None, recipient_zalo_id=None, recipient_locale=DEFAULT_LOCALE, recipient_active=True,
            occurrence_id=row.occurrence_id, task_title=row.task_title, plan_number=row.plan_number,
            plan_title=row.plan_title, unit_name=row.unit_name, report_to_name=row.report_to_name,
            due_on=row.due_on, period_label=row.period_label, is_open=True,
        )
    return {digest_id: list(by_occurrence.values()) for digest_id, by_occurrence in items.items()}


# --- Context ------------------------------------------------------------------------------------------

def occurrence_link(base_url: str, occurrence_id: int | None) -> str:
    base = base_url.rstrip("/")
    return f"{base}/occurrences/{occurrence_id}" if occurrence_id is not None else f"{base}/"


def _working_days_between(calendar: WorkCalendar | None, today: date, due: date) -> int:
    """Working days in (today, due]: what a "-5 working days" reminder counts."""
    if due <= today:
        return 0
    if calendar is None or (due - today).days > 366:
        return (due - today).days
    return sum(1 for k in range(1, (due - today).days + 1) if calendar.is_working_day(today + timedelta(days=k)))


#: Makes an action link for (occurrence id, recipient id); see tracker/notify/links.py.
ActionLinkMaker = Callable[[int, int], str]


class LazyLink:
    """An action link made only when a template prints it: a template (or an admin's override, or a ZNS
    template) that never shows `action_link` stores no link."""

    __slots__ = ("_make", "_url")

    def __init__(self, make: Callable[[], str]) -> None:
        self._make, self._url = make, None

    def __str__(self) -> str:
        if self._url is None:
            self._url = self._make()
        return self._url

    def __html__(self) -> str:
        return str(markupsafe.escape(str(self)))


def _occurrence_context(facts: MessageFacts, today: date, overdue_before: date, base_url: str,
                        calendar: WorkCalendar | None, action_link: ActionLinkMaker | None = None) -> dict[str, Any]:
    due = facts.due_on
    link = occurrence_link(base_url, facts.occurrence_id)
    plan_label = " ".join(p for p in (facts.plan_number, facts.plan_title) if p) or None
    if facts.plan_number and facts.plan_title:
        plan_label = f"{facts.plan_number}: {facts.plan_title}"
    return {
        "task_title": facts.task_title or "",
        "plan_number": facts.plan_number or "",
        "plan_title": facts.plan_title or "",
        "plan_label": plan_label or "",
        "unit_name": facts.unit_name or "",
        "report_to_name": facts.report_to_name or "",
        "due_on": _dmy(due),
        "due_date": due,
        "period_label": facts.period_label or "",
        "days_left": max(0, (due - today).days) if due else 0,
        "working_days_left": _working_days_between(calendar, today, due) if due else 0,
        "days_late": max(0, (today - due).days) if due else 0,
        "is_overdue": bool(due and due < overdue_before),
        "is_due_today": due == today,
        "escalation_level": facts.escalation_level,
        "link": link,
        "action_link": LazyLink(functools.partial(action_link, facts.occurrence_id, facts.recipient_id))
        if action_link is not None and facts.occurrence_id is not None else link,
    }


def message_context(
    facts: MessageFacts,
    *,
    today: date,
    base_url: str,
    overdue_before: date | None = None,
    items: Sequence[MessageFacts] = (),
    calendar: WorkCalendar | None = None,
    action_link: ActionLinkMaker | None = None,
) -> dict[str, Any]:
    """The template variables of one row (see the module docstring); `action_link`, when given, makes the
    action links (the dispatcher passes one for e-mail and Zalo reminders, escalations and digests)."""
    locale = facts.recipient_locale if facts.recipient_locale in LOCALES else DEFAULT_LOCALE
    overdue_before = overdue_before or today
    context: dict[str, Any] = {
        "app_name": APP_NAMES[locale],
        "recipient_name": facts.recipient_name,
        "recipient_title": facts.recipient_title or "",
        "today": _dmy(today),
        "link": occurrence_link(base_url, None),
    }
    if facts.occurrence_id is not None and facts.due_on is not None:
        context.update(_occurrence_context(facts, today, overdue_before, base_url, calendar, action_link))
    if facts.kind == NotificationKind.DIGEST:
        context["link"] = f"{base_url.rstrip('/')}/tasks"  # the person's task list
        listed = [_occurrence_context(item, today, overdue_before, base_url, calendar, action_link)
                  for item in items]
        context.update(items=listed, item_count=len(listed), overdue_count=sum(1 for i in listed if i["is_overdue"]))
    for key, value in (facts.payload or {}).items():
        # Payload variables never shadow the facts read fresh from the database.
        context.setdefault(str(key), value)
    return context
