"""Create plans and their tasks, activate them (occurrences appear), cancel and archive them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from tracker.clock import FIRST_DATE, LAST_DATE, utcnow
from tracker.extensions import db
from tracker.models import (
    Occurrence,
    OrgUnit,
    Person,
    Plan,
    PlanDocument,
    PlanSection,
    PlanStatus,
    Task,
    TaskStatus,
)
from tracker.operations import audit, recurrence, references, summaries
from tracker.operations.authz import Permission, require
from tracker.operations.errors import Conflict, ValidationFailed
from tracker.operations.transitions import claim

_PLAN_FIELDS = ("number", "title", "status", "issued_on", "period_start_on", "period_end_on")
_TASK_FIELDS = ("title", "lead_unit_id", "report_to_unit_id", "due_on", "recurrence", "status")


def create_plan(
    actor: Person | None,
    *,
    title: str,
    issuing_unit: OrgUnit,
    number: str | None = None,
    issued_on: date | None = None,
    year: int | None = None,
    period_start_on: date | None = None,
    period_end_on: date | None = None,
    implements: str | None = None,
    focal_unit: OrgUnit | None = None,
    document: PlanDocument | None = None,
) -> Plan:
    """Create a draft plan issued by `issuing_unit`."""
    require(actor, Permission.MANAGE_PLANS, issuing_unit)
    title = " ".join((title or "").split())
    if not title:
        raise ValidationFailed(_l("A plan needs a title."), field="title")
    for name, value in (("issued_on", issued_on), ("period_start_on", period_start_on),
                        ("period_end_on", period_end_on)):
        _require_date(value, name, optional=True)
    if year is not None and not 1990 <= int(year) <= 2100:
        raise ValidationFailed(_l("The year %(year)s is not plausible."), field="year", year=year)
    if period_start_on is None and year is not None:
        period_start_on = date(int(year), 1, 1)
    if period_end_on is None and year is not None:
        period_end_on = date(int(year), 12, 31)
    if period_start_on and period_end_on and period_start_on > period_end_on:
        raise ValidationFailed(_l("The plan's period ends before it starts."), field="period_end_on")
    if focal_unit is not None:
        references.check_own_unit(issuing_unit, focal_unit, "focal_unit_id")
    plan = Plan(
        title=title, issuing_unit=issuing_unit, number=(number or "").strip() or None, issued_on=issued_on,
        year=year, period_start_on=period_start_on, period_end_on=period_end_on, implements=implements,
        focal_unit=focal_unit, document=document, status=PlanStatus.DRAFT,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(plan)
    db.session.flush()
    audit.record("plan.create", plan, actor, unit_id=issuing_unit.id, after=audit.snapshot(plan, _PLAN_FIELDS))
    return plan


def ensure_section(plan: Plan, code: str, title: str | None = None) -> PlanSection:
    """The plan's section with `code`, created when missing."""
    code = (code or "").strip()[:64] or "-"
    for section in plan.sections:
        if section.code == code:
            return section
    section = PlanSection(code=code, title=title, position=len(plan.sections))
    plan.sections.append(section)
    db.session.flush()
    return section


def add_task(
    actor: Person | None,
    plan: Plan,
    *,
    title: str,
    lead_unit: OrgUnit | None,
    section_code: str | None = None,
    description: str | None = None,
    report_to_unit: OrgUnit | None = None,
    coordinating_units: Iterable[OrgUnit] = (),
    due_dates: Iterable[date] = (),
    recurrence_rule: str | list[str] | None = None,
    source_text: str | None = None,
    import_meta: dict[str, Any] | None = None,
) -> Task:
    """Add a task to a plan. With neither deadline nor recurrence it is due at the end of the plan's period.

    A draft's task may have no lead unit yet when `import_meta["proposed_unit"]` names the unit to create
    on confirmation ({"name", "kind", "parent_id"}).
    """
    require(actor, Permission.MANAGE_PLANS, plan.issuing_unit)
    if plan.status in (PlanStatus.CANCELLED, PlanStatus.ARCHIVED):
        raise Conflict(_l("The plan is closed; tasks can no longer be added."))
    title = " ".join((title or "").split())
    if not title:
        raise ValidationFailed(_l("A task needs a title."), field="title")
    if lead_unit is None:
        proposal = (import_meta or {}).get("proposed_unit")
        if plan.status != PlanStatus.DRAFT or not proposal or not proposal.get("name"):
            raise ValidationFailed(_l("Choose the lead unit."), field="lead_unit_id")
    else:
        references.check_lead(plan, lead_unit)
    if report_to_unit is not None:
        references.check_report_to(plan, report_to_unit)
    coordinating_units = [references.check_coordinating(plan, u) for u in coordinating_units]
    dates = sorted({_require_date(d, "due_on") for d in due_dates})
    kinds = recurrence.parse_recurrence(recurrence_rule)
    if not dates and not kinds:
        if plan.period_end_on is None:
            raise ValidationFailed(
                _l("Give the task a deadline or a recurrence (the plan has no period end to default to)."),
                field="due_on",
            )
        dates = [plan.period_end_on]
    task = Task(
        plan=plan,
        section=ensure_section(plan, section_code) if section_code else None,
        title=title,
        description=description,
        lead_unit=lead_unit,
        report_to_unit=report_to_unit,
        due_on=dates[0] if dates else None,
        extra_due_dates=[d.isoformat() for d in dates[1:]] or None,
        recurrence=",".join(kinds) if kinds else None,
        source_text=source_text,
        import_meta=import_meta,
        position=len(plan.tasks),
    )
    lead_id = lead_unit.id if lead_unit is not None else None
    task.coordinating_units = [u for u in {u.id: u for u in coordinating_units}.values() if u.id != lead_id]
    db.session.add(task)
    db.session.flush()
    if plan.status == PlanStatus.ACTIVE:
        generate_occurrences(task)
    audit.record("task.create", task, actor, unit_id=lead_id or plan.issuing_unit_id,
                 after=audit.snapshot(task, _TASK_FIELDS))
    return task


def _require_date(value: object, field: str, *, optional: bool = False) -> date:
    if value is None and optional:
        return value  # type: ignore[return-value]
    if not isinstance(value, date):
        raise ValidationFailed(_l("%(value)s is not a date."), field=field, value=value)
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValidationFailed(_l("The date %(value)s is not plausible."), field=field,
                               value=value.strftime("%d/%m/%Y"))
    return value


def generate_occurrences(task: Task) -> list[Occurrence]:
    """Create the task's missing occurrences (one per deadline and per recurrence period); idempotent."""
    existing = set(db.session.scalars(sa.select(Occurrence.period_key).where(Occurrence.task_id == task.id)))
    created = [Occurrence(**row) for row in _missing_occurrences(task, existing)]
    db.session.add_all(created)
    db.session.flush()
    summaries.refresh_units({o.lead_unit_id for o in created})
    return created


def generate_plan_occurrences(tasks: Iterable[Task]) -> int:
    """Create the missing occurrences of many tasks at once: one query for what exists, bulk INSERTs."""
    tasks = list(tasks)
    existing: dict[int, set[str]] = {t.id: set() for t in tasks}
    ids = list(existing)
    for start in range(0, len(ids), 5000):  # bounded IN lists
        rows = db.session.execute(sa.select(Occurrence.task_id, Occurrence.period_key)
                                  .where(Occurrence.task_id.in_(ids[start:start + 5000])))
        for task_id, key in rows:
            existing[task_id].add(key)
    now = utcnow()
    rows = [dict(row, created_at=now, escalation_level=0)
            for task in tasks for row in _missing_occurrences(task, existing[task.id])]
    for start in range(0, len(rows), 5000):
        db.session.execute(sa.insert(Occurrence.__table__), rows[start:start + 5000])
    # Every lead unit of these tasks: new occurrences count, and so do those a draft already had (none, normally).
    summaries.refresh_units({t.lead_unit_id for t in tasks})
    return len(rows)


def _missing_occurrences(task: Task, existing: set[str]) -> list[dict[str, Any]]:
    """The column values of the task's occurrences whose period is not in `existing` (which is updated)."""
    plan = task.plan
    periods: list[recurrence.Period] = []
    if task.due_on is not None:
        periods.append(recurrence.single(task.due_on))
    periods += [recurrence.single(date.fromisoformat(d)) for d in task.extra_due_dates or []]
    if task.recurrence:
        start = task.starts_on or plan.period_start_on or plan.issued_on
        end = task.ends_on or plan.period_end_on
        if start is None or end is None:
            raise ValidationFailed(_l("A recurring task needs the plan's period (start and end)."), field="recurrence")
        offset = int(current_app.config.get("RECURRING_DUE_OFFSET_DAYS", 0)) if has_app_context() else 0
        periods += recurrence.expand(task.recurrence, start, end, due_offset_days=offset)
    rows = []
    for period in periods:
        if period.key in existing:
            continue
        existing.add(period.key)
        rows.append({
            "task_id": task.id, "lead_unit_id": task.lead_unit_id, "period_key": period.key,
            "period_label": period.label, "period_start_on": period.start, "period_end_on": period.end,
            "due_on": period.due_on, "original_due_on": period.due_on,
        })
    return rows


def activate_plan(actor: Person | None, plan: Plan) -> int:
    """Confirm a reviewed draft: the plan becomes active and every task gets its occurrences.

    Guarded: of two confirmations at once, one activates the plan and the other gets a Conflict before it
    creates a unit or an occurrence.
    """
    require(actor, Permission.MANAGE_PLANS, plan.issuing_unit)
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(_l("Only a draft plan can be activated."))
    if not plan.tasks:
        raise ValidationFailed(_l("The plan has no tasks yet."), field="tasks")
    if not claim(plan, Plan.status == PlanStatus.DRAFT, status=PlanStatus.ACTIVE, activated_at=utcnow()):
        raise Conflict(_l("This plan was already confirmed (or cancelled) meanwhile."))
    for task in plan.tasks:
        if task.status == TaskStatus.ACTIVE and task.lead_unit_id is None:
            _create_proposed_unit(actor, plan, task)
    db.session.flush()
    created = generate_plan_occurrences(t for t in plan.tasks if t.status == TaskStatus.ACTIVE)
    audit.record("plan.activate", plan, actor, unit_id=plan.issuing_unit_id, before={"status": "draft"},
                 after={"status": "active", "occurrences": created})
    return created


def _create_proposed_unit(actor: Person | None, plan: Plan, task: Task) -> None:
    """Create (or reuse) the unit an imported task names, now that a person confirmed the plan."""
    from tracker.models import UnitKind
    from tracker.operations.units import ensure_unit

    proposal = (task.import_meta or {}).get("proposed_unit") or {}
    parent = db.session.get(OrgUnit, proposal.get("parent_id") or plan.issuing_unit_id) or plan.issuing_unit
    require(actor, Permission.MANAGE_PLANS, parent)
    if not proposal.get("name"):
        raise ValidationFailed(_l("Task %(title)s has no lead unit."), field="lead_unit_id", title=task.title[:80])
    unit = ensure_unit(parent, proposal["name"][:255], UnitKind(proposal.get("kind") or UnitKind.AGENCY))
    task.lead_unit = unit
    db.session.flush()
    audit.record("task.assign_proposed_unit", task, actor, unit_id=unit.id, after={"lead_unit_id": unit.id})


def cancel_task(actor: Person | None, task: Task, reason: str) -> None:
    """Cancel a task and its open occurrences; done ones keep their history."""
    require(actor, Permission.MANAGE_PLANS, task.plan.issuing_unit)
    if task.status == TaskStatus.CANCELLED:
        raise Conflict(_l("The task is already cancelled."))
    if not (reason or "").strip():
        raise ValidationFailed(_l("Say why the task is cancelled."), field="reason")
    now = utcnow()
    if not claim(task, Task.status == TaskStatus.ACTIVE, status=TaskStatus.CANCELLED, cancelled_at=now):
        raise Conflict(_l("The task is already cancelled."))
    db.session.execute(
        sa.update(Occurrence)
        .where(Occurrence.task_id == task.id, Occurrence.is_open)
        .values(cancelled_at=now)
        .execution_options(synchronize_session="fetch")
    )
    summaries.refresh_units(sa.select(Occurrence.lead_unit_id).where(Occurrence.task_id == task.id).distinct())
    audit.record("task.cancel", task, actor, unit_id=task.lead_unit_id, before={"status": "active"},
                 after={"status": "cancelled", "reason": reason.strip()})


def set_plan_status(actor: Person | None, plan: Plan, status: PlanStatus, reason: str = "") -> None:
    """Archive or cancel a plan (cancelling also cancels its open occurrences)."""
    require(actor, Permission.MANAGE_PLANS, plan.issuing_unit)
    allowed = {PlanStatus.ARCHIVED: {PlanStatus.ACTIVE}, PlanStatus.CANCELLED: {PlanStatus.DRAFT, PlanStatus.ACTIVE}}
    if plan.status not in allowed.get(status, set()):
        raise Conflict(_l("The plan cannot go from %(old)s to %(new)s."), old=plan.status.value, new=status.value)
    before = plan.status
    if not claim(plan, Plan.status.in_(allowed[status]), status=status):
        raise Conflict(_l("The plan cannot go from %(old)s to %(new)s."), old=plan.status.value, new=status.value)
    if status == PlanStatus.CANCELLED:
        task_ids = sa.select(Task.id).where(Task.plan_id == plan.id).scalar_subquery()
        db.session.execute(
            sa.update(Occurrence)
            .where(Occurrence.task_id.in_(task_ids), Occurrence.is_open)
            .values(cancelled_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
    if status == PlanStatus.CANCELLED or before == PlanStatus.DRAFT:
        summaries.refresh_units(_units_of_plan(plan.id))
    audit.record(f"plan.{status.value}", plan, actor, unit_id=plan.issuing_unit_id,
                 before={"status": before.value}, after={"status": status.value, "reason": reason})


def _units_of_plan(plan_id: int) -> sa.Select[Any]:
    """The lead units of a plan's occurrences (what its bulk changes recount)."""
    return (sa.select(Occurrence.lead_unit_id).join(Task, Task.id == Occurrence.task_id)
            .where(Task.plan_id == plan_id).distinct())
