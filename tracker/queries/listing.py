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


def _unit(unit_id: int) -> OrgUnit | None:
    return db.session.get(OrgUnit, unit_id)


def _within(unit_id: int | None, path_column: Any) -> sa.ColumnElement[bool]:
    """`path_column` lies in the subtree of unit `unit_id` (nothing matches an unknown unit)."""
    if unit_id is None:
        return sa.true()
    unit = _unit(unit_id)
    return OrgUnit.subtree_clause(unit.path, path_column) if unit is not None else sa.false()


def _visible(actor: Person | None, lead: Any, unit_id: int | None) -> tuple[Any, sa.ColumnElement[bool]]:
    """The occurrences `actor` may see (see `scope.visible_occurrences`), in unit `unit_id`'s subtree if given:
    the entity to select from in place of `Occurrence` and a condition on `lead`, joined on its lead unit."""
    if unit_id is None:
        return scope.visible_occurrences(actor, lead)
    unit = _unit(unit_id)
    if unit is None:
        return Occurrence, sa.false()
    return scope.visible_occurrences(actor, lead, within=unit)


def _join_lead(ids: sa.Select[Any], visible: sa.ColumnElement[bool], lead: Any, occ: Any) -> sa.Select[Any]:
    """Join the lead unit only when the scope condition of `_visible` is about it (not for a national view)."""
    if isinstance(visible, sa.sql.elements.True_):
        return ids
    return ids.join(lead, lead.id == occ.lead_unit_id)


def _paginate(stmt: sa.Select[Any], page: int | None, page_size: int | None,
              count: sa.Select[Any] | None = None) -> tuple[list[Any], int]:
    """Run `stmt` for one page (all rows when `page` is None) and count the whole list.

    `count` is a leaner statement counting the same rows (without the joins that only load what is shown).
    A first page shorter than `page_size` is the whole list: it is not counted again.
    """
    if page is None or page_size is None:
        rows = list(db.session.execute(stmt).unique().all())
        return rows, len(rows)
    rows = list(db.session.execute(stmt.limit(page_size).offset((page - 1) * page_size)).unique().all())
    if page == 1 and len(rows) < page_size:
        return rows, len(rows)
    if count is None:
        count = sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    return rows, db.session.scalar(count) or 0


def _two_step(ids: sa.Select[Any], rows_for: Any, page: int | None, page_size: int | None,
              *, counted: sa.Select[Any] | None = None, narrow: bool = False) -> tuple[list[Any], int]:
    """Run a list in two steps: the ids of one page (`ids`, ordered: a narrow statement an index can serve,
    over what the person may see), then `rows_for(page_ids)`, the rows to show with their joins and eager
    loads, for those ids only. The whole list (`counted`, by default `ids`) is counted unless the first page
    of `ids` is shorter than a page and is therefore all of it.

    `narrow`: what the person may see is gathered from their scope's units and sorted anyway, so the page
    and the count come from that one evaluation (COUNT(*) OVER ()) rather than two. Otherwise (a walk of an
    index that stops after the page) the count is a statement of its own.
    """
    if page is None or page_size is None:
        rows = list(db.session.execute(rows_for(ids)).unique().all())
        return rows, len(rows)
    count = sa.select(sa.func.count()).select_from((counted if counted is not None else ids).order_by(None)
                                                   .subquery())
    ids = ids.limit(page_size).offset((page - 1) * page_size)
    if narrow and counted is None:
        found = db.session.execute(ids.add_columns(sa.func.count().over())).all()
        rows = list(db.session.execute(rows_for([r[0] for r in found])).unique().all()) if found else []
        if found:
            return rows, int(found[0][1])
        return rows, (db.session.scalar(count) or 0) if page > 1 else 0
    rows = list(db.session.execute(rows_for(ids)).unique().all())
    if counted is None and page == 1 and len(rows) < page_size:
        return rows, len(rows)
    return rows, db.session.scalar(count) or 0


def _statuses(status: OccurrenceStatus | str | Iterable[OccurrenceStatus | str] | None) -> list[str] | None:
    if status is None:
        return None
    values = [status] if isinstance(status, str) else list(status)
    return [OccurrenceStatus(v).value for v in values] or None


# --- Occurrences -------------------------------------------------------------------------------------

def _occurrence_select(clock: StatusClock, occ: Any = Occurrence, lead: Any = None) -> tuple[sa.Select[Any], Any]:
    """Occurrences (`occ`: the class or an alias) of non-draft plans with what their schema dumps; the lead
    unit alias (`lead`, or a new one) is returned too."""
    lead = lead if lead is not None else aliased(OrgUnit, name="lead_unit")
    report_to = aliased(OrgUnit, name="report_to_unit")
    status = occ.status_expression(clock).label("status")
    stmt = (
        sa.select(occ, status)
        .join(occ.task)
        .join(Task.plan)
        .join(lead, lead.id == occ.lead_unit_id)
        .outerjoin(report_to, report_to.id == Task.report_to_unit_id)
        .outerjoin(PlanSection, PlanSection.id == Task.section_id)
        .options(
            contains_eager(occ.task).contains_eager(Task.plan),
            contains_eager(occ.task).contains_eager(Task.section),
            contains_eager(occ.task).contains_eager(Task.report_to_unit.of_type(report_to)),
            contains_eager(occ.lead_unit.of_type(lead)),
        )
        .where(Plan.status != PlanStatus.DRAFT)
    )
    return stmt, lead


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
    after: tuple[date, int] | None = None,
) -> Page[OccurrenceItem]:
    """Occurrences `actor` may see, filtered and ordered by due date (then id).

    `unit_id` selects the lead units in that unit's subtree (a commune's id lists all its offices' tasks);
    `status` is one status or several; `due_from`/`due_to` are inclusive. `after` (the due date and id of the
    last item seen) starts the list after that item: keyset paging, as fast on the thousandth page as on the
    first (`page` then counts from there).
    """
    lead = aliased(OrgUnit, name="lead_unit")
    occ, visible = _visible(actor, lead, unit_id)
    wanted = _statuses(status)
    filters = [
        visible,
        occ.status_in(clock, wanted) if wanted else sa.true(),
        occ.due_on >= due_from if due_from else sa.true(),
        occ.due_on <= due_to if due_to else sa.true(),
        occ.task_id.in_(sa.select(Task.id).where(Task.plan_id == plan_id)) if plan_id is not None else sa.true(),
    ]
    # The page's ids first, from the occurrences and their lead units alone (a walk of the (due_on, id) index
    # that stops after the page, or a sort of what a narrow scope sees), then the joins for those rows only.
    # Drafts are excluded by an anti-join on their few tasks, so neither needs the task nor the plan.
    ids = _join_lead(sa.select(occ.id).select_from(occ).where(scope.not_in_draft(occ), *filters), visible, lead, occ)
    counted = None
    if after is not None:  # the total is still the whole list's
        counted, ids = ids, ids.where(sa.tuple_(occ.due_on, occ.id) > sa.tuple_(*after))
    stmt, _lead = _occurrence_select(clock)
    rows, total = _two_step(ids.order_by(occ.due_on, occ.id), lambda page_ids: stmt.where(
        Occurrence.id.in_(page_ids)).order_by(Occurrence.due_on, Occurrence.id), page, page_size, counted=counted,
        narrow=occ is not Occurrence)
    return Page([OccurrenceItem(o, OccurrenceStatus(s)) for o, s in rows], total)


def get_occurrence(occurrence_id: int, clock: StatusClock) -> OccurrenceItem | None:
    """One occurrence with what its schema dumps (no scope check: see `occurrence_visible`)."""
    stmt, _lead = _occurrence_select(clock)
    row = db.session.execute(stmt.where(Occurrence.id == occurrence_id)).first()
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
    occ, visible = _visible(actor, lead, unit_id)
    ids = (
        sa.select(Report.id)
        .join(occ, occ.id == Report.occurrence_id)
        .where(
            visible,
            Report.occurrence_id == occurrence_id if occurrence_id is not None else sa.true(),
            Report.review_status == review_status if review_status is not None else sa.true(),
            occ.task_id.in_(sa.select(Task.id).where(Task.plan_id == plan_id)) if plan_id is not None else sa.true(),
        )
    )
    ids = _join_lead(ids, visible, lead, occ)
    order = (Report.submitted_at.desc(), Report.id.desc())

    def rows_for(page_ids: Any) -> sa.Select[Any]:
        return (
            sa.select(Report).join(Report.occurrence).where(Report.id.in_(page_ids))
            .options(selectinload(Report.attachments), selectinload(Report.values), contains_eager(Report.occurrence))
            .order_by(*order)
        )

    rows, total = _two_step(ids.order_by(*order), rows_for, page, page_size, narrow=occ is not Occurrence)
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
    occ, visible = _visible(actor, lead, unit_id)
    ids = (
        sa.select(ExtensionRequest.id)
        .join(occ, occ.id == ExtensionRequest.occurrence_id)
        .where(
            visible,
            ExtensionRequest.status == status if status is not None else sa.true(),
            ExtensionRequest.occurrence_id == occurrence_id if occurrence_id is not None else sa.true(),
        )
    )
    ids = _join_lead(ids, visible, lead, occ)
    order = (ExtensionRequest.created_at.desc(), ExtensionRequest.id.desc())

    def rows_for(page_ids: Any) -> sa.Select[Any]:
        return (
            sa.select(ExtensionRequest).join(ExtensionRequest.occurrence).where(ExtensionRequest.id.in_(page_ids))
            .options(contains_eager(ExtensionRequest.occurrence)).order_by(*order)
        )

    rows, total = _two_step(ids.order_by(*order), rows_for, page, page_size, narrow=occ is not Occurrence)
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
    visible = scope.plan_scope(actor)
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
    visible = sa.or_(Indicator.plan_id.is_(None), Indicator.plan_id.in_(sa.select(Plan.id).where(
        scope.plan_scope(actor))))
    stmt = (
        sa.select(Indicator)
        .options(selectinload(Indicator.targets))
        .where(visible, Indicator.plan_id == plan_id if plan_id is not None else sa.true())
        .order_by(Indicator.plan_id, Indicator.id)
    )
    rows, total = _paginate(stmt, page, page_size)
    return Page([i for (i,) in rows], total)
