"""Who may see which occurrences and plans: one rule for pages, the API and exports.

An occurrence is visible to a person whose scope holds its lead unit, the unit it reports to, or the
unit that issued its plan (a province department sees the commune tasks that report to it). A plan is
visible when it was issued in scope or gives a task (as lead or report-to unit) to a unit in scope.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from tracker.extensions import db
from tracker.models import Occurrence, OrgUnit, Person, Plan, Task
from tracker.operations.authz import Permission, can, scope_clause


def occurrence_scope(actor: Person | None, lead: Any, report_to: Any, issuing: Any) -> sa.ColumnElement[bool]:
    """SQL: the row's lead, report-to (may be NULL) or issuing unit lies in `actor`'s scope."""
    if actor is None:
        return sa.true()
    return sa.or_(
        scope_clause(actor, lead.path),
        sa.and_(report_to.id.is_not(None), scope_clause(actor, report_to.path)),
        scope_clause(actor, issuing.path),
    )


def occurrence_visible(actor: Person | None, occurrence: Occurrence) -> bool:
    """The Python twin of `occurrence_scope` for one loaded occurrence."""
    task = occurrence.task
    units = [occurrence.lead_unit, task.report_to_unit, task.plan.issuing_unit]
    return any(u is not None and can(actor, Permission.VIEW, u) for u in units)


def visible_occurrence_ids(actor: Person | None) -> sa.Select[Any]:
    """Ids of the occurrences `actor` may see, for `IN (...)` filters."""
    lead, report_to, issuing = aliased(OrgUnit), aliased(OrgUnit), aliased(OrgUnit)
    return (
        sa.select(Occurrence.id)
        .join(Task, Task.id == Occurrence.task_id)
        .join(Plan, Plan.id == Task.plan_id)
        .join(lead, lead.id == Occurrence.lead_unit_id)
        .join(issuing, issuing.id == Plan.issuing_unit_id)
        .outerjoin(report_to, report_to.id == Task.report_to_unit_id)
        .where(occurrence_scope(actor, lead, report_to, issuing))
    )


def plan_scope(actor: Person | None) -> sa.ColumnElement[bool]:
    """SQL, correlated with `Plan`: the plan is issued in scope or tasks a unit in scope."""
    if actor is None:
        return sa.true()
    issuing, lead, report_to = aliased(OrgUnit), aliased(OrgUnit), aliased(OrgUnit)
    issued_here = (
        sa.select(issuing.id).where(issuing.id == Plan.issuing_unit_id, scope_clause(actor, issuing.path)).exists()
    )
    tasks_here = (
        sa.select(Task.id)
        .outerjoin(lead, lead.id == Task.lead_unit_id)
        .outerjoin(report_to, report_to.id == Task.report_to_unit_id)
        .where(Task.plan_id == Plan.id, sa.or_(
            sa.and_(lead.id.is_not(None), scope_clause(actor, lead.path)),
            sa.and_(report_to.id.is_not(None), scope_clause(actor, report_to.path)),
        ))
        .exists()
    )
    return sa.or_(issued_here, tasks_here)


def plan_visible(actor: Person | None, plan_id: int) -> bool:
    """Whether `actor` may see the plan with this id."""
    return db.session.scalar(sa.select(Plan.id).where(Plan.id == plan_id, plan_scope(actor))) is not None
