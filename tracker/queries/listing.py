"""Filtered, paginated lists of occurrences, reports, plans, units and indicators (the API and "my tasks").

Every function builds one set-based statement restricted to what the person may see, loads what the API's
schemas dump through the same joins (contains_eager) or one selectin query per relationship, and so issues a
fixed number of statements whatever the page size.

Visibility of an occurrence (and of its reports, comments and extension requests): the person may VIEW its
lead unit, the unit it reports to, or the plan's issuing unit. Reviewers above the lead unit's branch (a
province department following a commune task) therefore see what they review.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import aliased, contains_eager, selectinload

from tracker.extensions import db
from tracker.models import (
    Comment,
    ExtensionRequest,
    ExtensionStatus,
    Indicator,
    Occurrence,
    OccurrenceStatus,
    OrgUnit,
    Person,
    Plan,
    PlanSection,
    PlanStatus,
    Report,
    ReviewStatus,
    StatusClock,
    Task,
    UnitKind,
)
from tracker.operations.authz import Permission, can, scope_clause
from tracker.queries import scope

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the number of items in the whole list."""

    items: list[T]
    total: int


@dataclass(frozen=True)
class OccurrenceItem:
    """An occurrence with its status as of the request's clock; other attributes read through."""

    occurrence: Occurrence
    status: OccurrenceStatus

    def __getattr__(self, name: str) -> Any:
        return getattr(self.occurrence, name)


# --- Visibility --------------------------------------------------------------------------------------

def plan_visible(actor: Person | None, plan: Plan) -> bool:
    """Whether `actor` may see `plan` (see tracker.queries.scope)."""
    return scope.plan_visible(actor, plan.id)


def _plan_scope(actor: Person | None, *where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(Plan.id).where(scope.plan_scope(actor), *where)


def _unit_path(unit_id: int) -> str | None:
    return db.session.scalar(sa.select(OrgUnit.path).where(OrgUnit.id == unit_id))


def _within(unit_id: int | None, path_column: Any) -> sa.ColumnElement[bool]:
    """`path_column` lies in the subtree of unit `unit_id` (nothing matches an unknown unit)."""
    if unit_id is None:
        return sa.true()
    path = _unit_path(unit_id)
    return OrgUnit.subtree_clause(path, path_column) if path else sa.false()


def _paginate(stmt: sa.Select[Any], page: int | None, page_size: int | None) -> tuple[list[Any], int]:
    """Run `stmt` for one page (all rows when `page` is None) and count the whole list."""
    if page is None or page_size is None:
        rows = list(db.session.execute(stmt).unique().all())
        return rows, len(rows)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(db.session.execute(stmt.limit(page_size).offset((page - 1) * page_size)).unique().all())
    return rows, total


def _statuses(status: OccurrenceStatus | str | Iterable[OccurrenceStatus | str] | None) -> list[str] | None:
    if status is None:
        return None
    values = [status] if isinstance(status, str) else list(status)
    return [OccurrenceStatus(v).value for v in values] or None


# --- Occurrences -------------------------------------------------------------------------------------

def _occurrence_select(actor: Person | None, clock: StatusClock) -> tuple[sa.Select[Any], dict[str, Any]]:
    lead = aliased(OrgUnit, name="lead_unit")
    report_to = aliased(OrgUnit, name="report_to_unit")
    issuing = aliased(OrgUnit, name="issuing_unit")
    status = Occurrence.status_expression(clock).label("status")
    stmt = (
        sa.select(Occurrence, status)
        .join(Occurrence.task)
        .join(Task.plan)
        .join(lead, lead.id == Occurrence.lead_unit_id)
        .join(issuing, issuing.id == Plan.issuing_unit_id)
        .outerjoin(report_to, report_to.id == Task.report_to_unit_id)
        .outerjoin(PlanSection, PlanSection.id == Task.section_id)
        .options(
            contains_eager(Occurrence.task).contains_eager(Task.plan),
            contains_eager(Occurrence.task).contains_eager(Task.section),
            contains_eager(Occurrence.task).contains_eager(Task.report_to_unit.of_type(report_to)),
            contains_eager(Occurrence.lead_unit.of_type(lead)),
        )
        .where(scope.occurrence_scope(actor, lead, report_to, issuing), Plan.status != PlanStatus.DRAFT)
    )
    return stmt, {"lead": lead, "status": status}


def list_occurrences(
    actor: Person | None,
    *,
    unit_id: int | None = None,
    status: OccurrenceStatus | str | Iterable[OccurrenceStatus | str] | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
    plan_id: int | None = None,
    clock: StatusClock,
    page: int | None = None,
    page_size: int | None = None,
) -> Page[OccurrenceItem]:
    """Occurrences `actor` may see, filtered and ordered by due date (then id).

    `unit_id` selects the lead units in that unit's subtree (a commune's id lists all its offices' tasks);
    `status` is one status or several; `due_from`/`due_to` are inclusive.
    """
    stmt, cols = _occurrence_select(actor, clock)
    wanted = _statuses(status)
    stmt = stmt.where(
        _within(unit_id, cols["lead"].path),
        cols["status"].in_(wanted) if wanted else sa.true(),
        Occurrence.due_on >= due_from if due_from else sa.true(),
        Occurrence.due_on <= due_to if due_to else sa.true(),
        Task.plan_id == plan_id if plan_id is not None else sa.true(),
    ).order_by(Occurrence.due_on, Occurrence.id)
    rows, total = _paginate(stmt, page, page_size)
    return Page([OccurrenceItem(o, OccurrenceStatus(s)) for o, s in rows], total)


def get_occurrence(occurrence_id: int, clock: StatusClock) -> OccurrenceItem | None:
    """One occurrence with what its schema dumps (no scope check: see `occurrence_visible`)."""
    stmt, _cols = _occurrence_select(None, clock)
    row = db.session.execute(
        stmt.where(Occurrence.id == occurrence_id).options(selectinload(Occurrence.reports))
    ).first()
    return OccurrenceItem(row[0], OccurrenceStatus(row[1])) if row else None


# --- Reports, comments, extension requests ------------------------------------------------------------

def list_reports(
    actor: Person | None,
    *,
    occurrence_id: int | None = None,
    review_status: ReviewStatus | None = None,
    unit_id: int | None = None,
    plan_id: int | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> Page[Report]:
    """Reports on occurrences `actor` may see, newest first."""
    lead = aliased(OrgUnit)
    stmt = (
        sa.select(Report)
        .join(Report.occurrence)
        .join(lead, lead.id == Occurrence.lead_unit_id)
        .join(Task, Task.id == Occurrence.task_id)
        .options(selectinload(Report.attachments), selectinload(Report.values),
                 contains_eager(Report.occurrence))
        .where(
            Occurrence.id.in_(scope.visible_occurrence_ids(actor)),
            Report.occurrence_id == occurrence_id if occurrence_id is not None else sa.true(),
            Report.review_status == review_status if review_status is not None else sa.true(),
            _within(unit_id, lead.path),
            Task.plan_id == plan_id if plan_id is not None else sa.true(),
        )
        .order_by(Report.submitted_at.desc(), Report.id.desc())
    )
    rows, total = _paginate(stmt, page, page_size)
    return Page([r for (r,) in rows], total)


def get_report(report_id: int) -> Report | None:
    return db.session.scalar(
        sa.select(Report).where(Report.id == report_id)
        .options(selectinload(Report.attachments), selectinload(Report.values))
    )


def list_comments(occurrence_id: int, *, page: int | None = None, page_size: int | None = None) -> Page[Comment]:
    """Comments of one occurrence, oldest first (the caller checked the occurrence is visible)."""
    stmt = (
        sa.select(Comment).where(Comment.occurrence_id == occurrence_id)
        .options(selectinload(Comment.author)).order_by(Comment.created_at, Comment.id)
    )
    rows, total = _paginate(stmt, page, page_size)
    return Page([c for (c,) in rows], total)


def list_extension_requests(
    actor: Person | None,
    *,
    status: ExtensionStatus | None = None,
    occurrence_id: int | None = None,
    unit_id: int | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> Page[ExtensionRequest]:
    """Requests for more time on occurrences `actor` may see, newest first."""
    lead = aliased(OrgUnit)
    stmt = (
        sa.select(ExtensionRequest)
        .join(ExtensionRequest.occurrence)
        .join(lead, lead.id == Occurrence.lead_unit_id)
        .options(contains_eager(ExtensionRequest.occurrence))
        .where(
            Occurrence.id.in_(scope.visible_occurrence_ids(actor)),
            ExtensionRequest.status == status if status is not None else sa.true(),
            ExtensionRequest.occurrence_id == occurrence_id if occurrence_id is not None else sa.true(),
            _within(unit_id, lead.path),
        )
        .order_by(ExtensionRequest.created_at.desc(), ExtensionRequest.id.desc())
    )
    rows, total = _paginate(stmt, page, page_size)
    return Page([r for (r,) in rows], total)


# --- Plans and tasks ---------------------------------------------------------------------------------

def list_plans(
    actor: Person | None,
    *,
    status: PlanStatus | None = None,
    year: int | None = None,
    issuing_unit_id: int | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> Page[Plan]:
    """Plans `actor` may see, newest first."""
    issuing = aliased(OrgUnit)
    visible = sa.true() if actor is None else Plan.id.in_(_plan_scope(actor))
    stmt = (
        sa.select(Plan)
        .join(issuing, issuing.id == Plan.issuing_unit_id)
        .options(contains_eager(Plan.issuing_unit.of_type(issuing)), selectinload(Plan.focal_unit))
        .where(
            visible,
            Plan.status == status if status is not None else sa.true(),
            Plan.year == year if year is not None else sa.true(),
            _within(issuing_unit_id, issuing.path),
        )
        .order_by(Plan.issued_on.desc().nulls_last(), Plan.id.desc())
    )
    rows, total = _paginate(stmt, page, page_size)
    return Page([p for (p,) in rows], total)


def list_tasks(
    actor: Person | None, plan: Plan, *, page: int | None = None, page_size: int | None = None
) -> Page[Task]:
    """The plan's tasks `actor` may see: all of them when the issuing unit is in scope, else their own."""
    lead = aliased(OrgUnit)
    report_to = aliased(OrgUnit)
    if actor is None or can(actor, Permission.VIEW, plan.issuing_unit):
        visible: sa.ColumnElement[bool] = sa.true()
    else:
        visible = sa.or_(
            sa.and_(lead.id.is_not(None), scope_clause(actor, lead.path)),
            sa.and_(report_to.id.is_not(None), scope_clause(actor, report_to.path)),
        )
    stmt = (
        sa.select(Task)
        .outerjoin(lead, lead.id == Task.lead_unit_id)
        .outerjoin(report_to, report_to.id == Task.report_to_unit_id)
        .outerjoin(PlanSection, PlanSection.id == Task.section_id)
        .options(
            contains_eager(Task.lead_unit.of_type(lead)),
            contains_eager(Task.report_to_unit.of_type(report_to)),
            contains_eager(Task.section),
            selectinload(Task.coordinating_units),
        )
        .where(Task.plan_id == plan.id, visible)
        .order_by(Task.position, Task.id)
    )
    rows, total = _paginate(stmt, page, page_size)
    return Page([t for (t,) in rows], total)


# --- Units and indicators ----------------------------------------------------------------------------

def list_units(
    actor: Person | None,
    *,
    parent_id: int | None = None,
    within_id: int | None = None,
    kind: UnitKind | None = None,
    include_archived: bool = False,
    page: int | None = None,
    page_size: int | None = None,
) -> Page[OrgUnit]:
    """Units in `actor`'s scope, in tree order (by path)."""
    stmt = (
        sa.select(OrgUnit)
        .where(
            scope_clause(actor, OrgUnit.path),
            OrgUnit.parent_id == parent_id if parent_id is not None else sa.true(),
            _within(within_id, OrgUnit.path),
            OrgUnit.kind == kind if kind is not None else sa.true(),
            sa.true() if include_archived else OrgUnit.is_archived.is_(False),
        )
        .order_by(OrgUnit.path, OrgUnit.id)
    )
    rows, total = _paginate(stmt, page, page_size)
    return Page([u for (u,) in rows], total)


def list_indicators(
    actor: Person | None,
    *,
    plan_id: int | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> Page[Indicator]:
    """Indicators of plans `actor` may see (and those of no plan), with their targets."""
    visible = sa.true() if actor is None else sa.or_(Indicator.plan_id.is_(None), Indicator.plan_id.in_(
        _plan_scope(actor)))
    stmt = (
        sa.select(Indicator)
        .options(selectinload(Indicator.targets))
        .where(visible, Indicator.plan_id == plan_id if plan_id is not None else sa.true())
        .order_by(Indicator.plan_id, Indicator.id)
    )
    rows, total = _paginate(stmt, page, page_size)
    return Page([i for (i,) in rows], total)
