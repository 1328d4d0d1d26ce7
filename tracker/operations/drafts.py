"""Reviewing an imported draft plan: edit, drop, restore and add its tasks, correct its header, confirm it.

Every operation here works only while the plan is a draft, needs MANAGE_PLANS on the issuing unit, and is
audited with the state before and after. A dropped row is cancelled, never deleted, so the review keeps
its history and the row can be restored. Units must come from the allowed sets below, so a draft cannot
hand a task to a unit the issuing unit does not command (see tracker/operations/references.py; a lead
unit may also be a new unit proposed under the issuer, created when the plan is confirmed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import OrgUnit, Person, Plan, PlanStatus, Task, TaskStatus
from tracker.operations import audit, recurrence
from tracker.operations.authz import Permission, require
from tracker.operations.errors import Conflict, ValidationFailed
from tracker.operations.plan_import import proposal_for
from tracker.operations.plans import activate_plan, add_task
from tracker.operations.references import check_coordinating, check_lead, check_report_to
from tracker.operations.transitions import claim, lock

#: Deadlines further than this outside the plan's period are refused as typing mistakes.
_SLACK = timedelta(days=366)
MAX_DUE_DATES = 50
MAX_TITLE = 2000


class _Keep:
    """Marker for "leave this field as it is" (the default of every update argument)."""


KEEP: Any = _Keep()

_SNAPSHOT = ("title", "lead_unit_id", "report_to_unit_id", "due_on", "extra_due_dates", "recurrence", "status")


def _snapshot(task: Task) -> dict[str, Any]:
    data = audit.snapshot(task, _SNAPSHOT)
    data["coordinating_unit_ids"] = sorted(u.id for u in task.coordinating_units)
    proposal = (task.import_meta or {}).get("proposed_unit") if task.lead_unit_id is None else None
    data["proposed_unit"] = proposal.get("name") if proposal else None
    return data


def _require_draft(actor: Person | None, plan: Plan) -> None:
    """Check the permission, and hold the plan's row while it is a draft: an edit and a confirmation at once
    are serialised, so no edit lands on a plan another request has just confirmed."""
    require(actor, Permission.MANAGE_PLANS, plan.issuing_unit)
    if plan.status != PlanStatus.DRAFT or not lock(plan, Plan.status == PlanStatus.DRAFT):
        raise Conflict(_l("The plan is no longer a draft; change its tasks on the plan page instead."))


# --- Choices for the review screen (the allowed units are checked in tracker/operations/references.py) ---

def load_unit(unit_id: Any, field: str) -> OrgUnit:
    """The unit with this id (as a form sends it), or a ValidationFailed on `field`."""
    try:
        unit = db.session.get(OrgUnit, int(unit_id))
    except (TypeError, ValueError):
        unit = None
    if unit is None:
        raise ValidationFailed(_l("Choose one of the options."), field=field)
    return unit


def lead_choices(plan: Plan) -> list[OrgUnit]:
    """The issuing unit and its direct units, for the review screen's select (one statement)."""
    issuer = plan.issuing_unit
    children = db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.parent_id == issuer.id, OrgUnit.is_archived.is_(False))
        .order_by(OrgUnit.name).limit(1000)
    ).all()
    return [issuer, *children]


def nearby_units(plan: Plan) -> list[OrgUnit]:
    """Report-to and coordinating choices: ancestors, the issuer and its units, the parent's other units."""
    issuer = plan.issuing_unit
    ancestors = issuer.ancestor_ids
    parent_id = issuer.parent_id
    return list(db.session.scalars(
        sa.select(OrgUnit).where(
            OrgUnit.is_archived.is_(False),
            sa.or_(OrgUnit.id.in_(ancestors), OrgUnit.parent_id == issuer.id,
                   OrgUnit.parent_id == parent_id if parent_id else sa.false()),
        ).order_by(OrgUnit.depth, OrgUnit.name).limit(2000)
    ))


# --- Validation of the editable fields ----------------------------------------------------------------

def _title(value: Any) -> str:
    title = " ".join(str(value or "").split())
    if not title:
        raise ValidationFailed(_l("A task needs a title."), field="title")
    if len(title) > MAX_TITLE:
        raise ValidationFailed(_l("At most %(max)d characters."), field="title", max=MAX_TITLE)
    return title


def _dates(plan: Plan, values: Iterable[Any]) -> list[date]:
    dates = sorted(set(values))
    if len(dates) > MAX_DUE_DATES:
        raise ValidationFailed(_l("At most %(n)s deadlines per task."), field="due_dates", n=MAX_DUE_DATES)
    for value in dates:
        if not isinstance(value, date):
            raise ValidationFailed(_l("%(value)s is not a date."), field="due_dates", value=value)
        if not 1990 <= value.year <= 2100:
            raise ValidationFailed(_l("%(value)s is not a plausible deadline."), field="due_dates",
                                   value=value.strftime("%d/%m/%Y"))
        start, end = plan.period_start_on, plan.period_end_on
        if (start and value < start - _SLACK) or (end and value > end + _SLACK):
            raise ValidationFailed(
                _l("%(value)s is more than a year outside the plan's period (%(start)s – %(end)s)."),
                field="due_dates", value=value.strftime("%d/%m/%Y"),
                start=start.strftime("%d/%m/%Y") if start else "…", end=end.strftime("%d/%m/%Y") if end else "…",
            )
    return dates


def _recurrence(plan: Plan, value: Any) -> str | None:
    kinds = recurrence.parse_recurrence(value or None)
    if kinds and (plan.period_end_on is None or (plan.period_start_on or plan.issued_on) is None):
        raise ValidationFailed(_l("A recurring task needs the plan's period (start and end)."), field="recurrence")
    return ",".join(kinds) if kinds else None


def _proposal(plan: Plan, name: Any) -> tuple[OrgUnit | None, dict[str, Any]]:
    """A unit typed by name: the issuer's unit of that name if it has one, else a new unit to create."""
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationFailed(_l("Type the new unit's name."), field="proposed_name")
    if len(name) > 255:
        raise ValidationFailed(_l("The name is too long (at most 255 characters)."), field="proposed_name")
    siblings = db.session.scalars(sa.select(OrgUnit).where(  # compared here: SQLite lowers ASCII only
        OrgUnit.parent_id == plan.issuing_unit_id, OrgUnit.is_archived.is_(False)).limit(5000))
    existing = next((u for u in siblings if u.name.casefold() == name.casefold()), None)
    return existing, proposal_for(name, plan.issuing_unit)


# --- Operations ---------------------------------------------------------------------------------------

def update_draft_task(
    actor: Person | None,
    task: Task,
    *,
    title: Any = KEEP,
    lead_unit: Any = KEEP,
    proposed_name: Any = KEEP,
    report_to_unit: Any = KEEP,
    coordinating_units: Any = KEEP,
    due_dates: Any = KEEP,
    recurrence_rule: Any = KEEP,
) -> Task:
    """Correct a row of a draft. Arguments left out stay as they are; `proposed_name` replaces the lead
    with a new unit to create on confirmation (or the issuer's unit of that name)."""
    plan = task.plan
    _require_draft(actor, plan)
    if task.status != TaskStatus.ACTIVE:
        raise Conflict(_l("This row was dropped; restore it before editing it."))
    before = _snapshot(task)
    meta = dict(task.import_meta or {})
    if title is not KEEP:
        task.title = _title(title)
    naming = proposed_name is not KEEP and proposed_name is not None
    if naming and lead_unit is not KEEP and lead_unit is not None:
        if str(proposed_name).strip():
            raise ValidationFailed(_l("Choose a unit or type a new unit's name, not both."), field="proposed_name")
        naming = False
    if naming:
        existing, proposal = _proposal(plan, proposed_name)  # a blank name is refused
        if existing is not None:
            lead_unit = existing
        else:
            task.lead_unit = None
            meta.update(proposed_unit=proposal, match="proposed", confidence=0.0, reviewed=True)
    if lead_unit is not KEEP and lead_unit is not None:
        task.lead_unit = check_lead(plan, lead_unit)
        meta.pop("proposed_unit", None)
        meta.update(match="reviewer", confidence=1.0, reviewed=True)
    if naming or (lead_unit is not KEEP and lead_unit is not None):
        _without_warnings(meta, "lead")
    elif lead_unit is None and not naming:
        raise ValidationFailed(_l("Choose the lead unit."), field="lead_unit_id")
    if report_to_unit is not KEEP:
        task.report_to_unit = check_report_to(plan, report_to_unit) if report_to_unit is not None else None
    if coordinating_units is not KEEP:
        units = {u.id: check_coordinating(plan, u) for u in coordinating_units}
        task.coordinating_units = [u for u in units.values() if u.id != task.lead_unit_id]
    if due_dates is not KEEP or recurrence_rule is not KEEP:
        dates = _dates(plan, due_dates) if due_dates is not KEEP else [
            d for d in [task.due_on, *(date.fromisoformat(x) for x in task.extra_due_dates or [])] if d]
        rule = _recurrence(plan, recurrence_rule) if recurrence_rule is not KEEP else task.recurrence
        if not dates and not rule:
            if plan.period_end_on is None:
                raise ValidationFailed(
                    _l("Give the task a deadline or a recurrence (the plan has no period end to default to)."),
                    field="due_dates")
            dates = [plan.period_end_on]
        task.due_on = dates[0] if dates else None
        task.extra_due_dates = [d.isoformat() for d in dates[1:]] or None
        task.recurrence = rule
    if task.lead_unit is not None:
        task.coordinating_units = [u for u in task.coordinating_units if u.id != task.lead_unit.id]
    task.import_meta = meta
    db.session.flush()
    after = _snapshot(task)
    if after != before:
        audit.record("task.update_draft", task, actor, unit_id=plan.issuing_unit_id, before=before, after=after)
    return task


def drop_draft_task(actor: Person | None, task: Task, reason: str = "") -> None:
    """Drop a row of a draft: the task is cancelled (nothing is deleted) and gets no occurrences."""
    _require_draft(actor, task.plan)
    if task.status == TaskStatus.CANCELLED or not claim(
            task, Task.status == TaskStatus.ACTIVE, status=TaskStatus.CANCELLED, cancelled_at=utcnow()):
        raise Conflict(_l("This row is already dropped."))
    audit.record("task.drop_draft", task, actor, unit_id=task.plan.issuing_unit_id,
                 before={"status": "active"}, after={"status": "cancelled", "reason": (reason or "").strip()})


def restore_draft_task(actor: Person | None, task: Task) -> None:
    """Take a dropped row of a draft back."""
    _require_draft(actor, task.plan)
    if task.status != TaskStatus.CANCELLED or not claim(
            task, Task.status == TaskStatus.CANCELLED, status=TaskStatus.ACTIVE, cancelled_at=None):
        raise Conflict(_l("This row is not dropped."))
    audit.record("task.restore_draft", task, actor, unit_id=task.plan.issuing_unit_id,
                 before={"status": "cancelled"}, after={"status": "active"})


def add_draft_task(
    actor: Person | None,
    plan: Plan,
    *,
    title: Any,
    lead_unit: OrgUnit | None = None,
    proposed_name: str | None = None,
    section_code: str | None = None,
    report_to_unit: OrgUnit | None = None,
    coordinating_units: Iterable[OrgUnit] = (),
    due_dates: Iterable[date] = (),
    recurrence_rule: str | None = None,
) -> Task:
    """Add a row the extraction missed (through plans.add_task, after the same checks as an edit)."""
    _require_draft(actor, plan)
    title = _title(title)
    meta: dict[str, Any] = {"added_by_reviewer": True, "match": "reviewer", "confidence": 1.0, "warnings": []}
    if lead_unit is not None and proposed_name:
        raise ValidationFailed(_l("Choose a unit or type a new unit's name, not both."), field="proposed_name")
    if proposed_name:
        lead_unit, proposal = _proposal(plan, proposed_name)
        if lead_unit is None:
            meta.update(proposed_unit=proposal, match="proposed", confidence=0.0, unit_text=proposal["name"])
    if lead_unit is None and "proposed_unit" not in meta:
        raise ValidationFailed(_l("Choose the lead unit."), field="lead_unit_id")
    if lead_unit is not None:
        check_lead(plan, lead_unit)
        meta["unit_text"] = lead_unit.name
    if report_to_unit is not None:
        check_report_to(plan, report_to_unit)
    coordinating = [check_coordinating(plan, u) for u in coordinating_units]
    section = " ".join((section_code or "").split())[:64] or None
    meta["section"] = section
    return add_task(
        actor, plan, title=title, lead_unit=lead_unit, section_code=section, report_to_unit=report_to_unit,
        coordinating_units=coordinating, due_dates=_dates(plan, due_dates),
        recurrence_rule=_recurrence(plan, recurrence_rule), import_meta=meta,
    )


def update_draft_header(
    actor: Person | None,
    plan: Plan,
    *,
    title: Any,
    number: Any,
    issued_on: date | None,
    period_start_on: date | None,
    period_end_on: date | None,
) -> None:
    """Correct what the extraction read from the plan's header (title, number, dates)."""
    _require_draft(actor, plan)
    fields = ("title", "number", "issued_on", "period_start_on", "period_end_on", "year")
    before = audit.snapshot(plan, fields)
    clean_title = " ".join(str(title or "").split())
    if not clean_title:
        raise ValidationFailed(_l("A plan needs a title."), field="title")
    clean_number = " ".join(str(number or "").split())
    if len(clean_number) > 64:
        raise ValidationFailed(_l("At most %(max)d characters."), field="number", max=64)
    for name, value in (("issued_on", issued_on), ("period_start_on", period_start_on),
                        ("period_end_on", period_end_on)):
        if value is not None and not 1990 <= value.year <= 2100:
            raise ValidationFailed(_l("%(value)s is not a plausible date."), field=name,
                                   value=value.strftime("%d/%m/%Y"))
    if period_start_on and period_end_on and period_start_on > period_end_on:
        raise ValidationFailed(_l("The plan's period ends before it starts."), field="period_end_on")
    recurring = any(t.recurrence for t in plan.tasks if t.status == TaskStatus.ACTIVE)
    if recurring and (period_start_on is None or period_end_on is None):
        raise ValidationFailed(_l("A recurring task needs the plan's period (start and end)."),
                               field="period_end_on")
    plan.title = clean_title
    plan.number = clean_number or None
    plan.issued_on = issued_on
    plan.period_start_on = period_start_on
    plan.period_end_on = period_end_on
    if period_start_on and period_end_on and period_start_on.year == period_end_on.year:
        plan.year = period_start_on.year
    elif period_start_on and period_end_on:
        plan.year = None
    db.session.flush()
    after = audit.snapshot(plan, fields)
    if after != before:
        audit.record("plan.update_draft", plan, actor, unit_id=plan.issuing_unit_id, before=before, after=after)


#: Row warnings that stop a confirmation until the row's lead is chosen or the row dropped: a plural group
#: that found no unit of its kind, or too many ("Các thôn" under a unit with no villages would otherwise
#: become a new unit named "Các thôn"). The value names what clears it (the reviewer choosing the lead).
#: A deadline before the plan's issue date is shown but does not block: plans do cite past report dates.
BLOCKING_WARNINGS = {"fanout_empty": "lead", "fanout_too_many": "lead"}


def _without_warnings(meta: dict[str, Any], cleared_by: str) -> None:
    """Drop the row's blocking warnings that the reviewer's change of `cleared_by` answers."""
    warnings = [w for w in meta.get("warnings") or []
                if not (isinstance(w, dict) and BLOCKING_WARNINGS.get(str(w.get("code"))) == cleared_by)]
    if warnings:
        meta["warnings"] = warnings
    else:
        meta.pop("warnings", None)


def blocking_warnings(plan: Plan) -> list[tuple[Task, dict[str, Any]]]:
    """(row, warning) for every blocking warning still standing on an active row of the draft."""
    return [(task, warning) for task in sorted(plan.tasks, key=lambda t: (t.position, t.id))
            if task.status == TaskStatus.ACTIVE
            for warning in (task.import_meta or {}).get("warnings") or []
            if isinstance(warning, dict) and str(warning.get("code")) in BLOCKING_WARNINGS]


def confirm_draft(actor: Person | None, plan: Plan) -> int:
    """Confirm a reviewed draft: proposed units are created, the plan becomes active, occurrences appear
    (and with them reminders). Returns how many occurrences were created. Refused while a blocking warning
    stands (see BLOCKING_WARNINGS): the reviewer corrects or drops those rows first."""
    _require_draft(actor, plan)
    if not any(t.status == TaskStatus.ACTIVE for t in plan.tasks):
        raise ValidationFailed(_l("Every row was dropped; keep at least one task or cancel the plan."),
                               field="tasks")
    require_no_blocking_warnings(plan)
    return activate_plan(actor, plan)


def require_no_blocking_warnings(plan: Plan) -> None:
    """Refuse to activate a draft while a blocking warning stands (every way in: review page, API, CLI)."""
    blocking = blocking_warnings(plan)
    if blocking:
        raise ValidationFailed(
            _l("%(n)s rows still have a warning to resolve before the plan can be confirmed: correct or drop "
               "them (they are listed above the button)."), field="tasks", n=len({t.id for t, _ in blocking}))
