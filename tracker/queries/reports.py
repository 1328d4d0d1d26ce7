"""Read-side SQL for the periodic report: one statement per need, each bounded by the plan and the period.

Every statement is filtered by the person's scope (the same visibility as the pages and the API) and reads
only the rows of the plans and periods asked for, streamed (`yield_per`), never a whole table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from tracker.clock import local_date
from tracker.extensions import db
from tracker.models import (
    ExtensionRequest,
    ExtensionStatus,
    Indicator,
    IndicatorTarget,
    Occurrence,
    OrgUnit,
    Person,
    Plan,
    PlanSection,
    PlanStatus,
    Report,
    Role,
    RoleAssignment,
    StatusClock,
    Task,
    TaskStatus,
)
from tracker.operations.authz import Permission, can, scope_clause
from tracker.periods import Period
from tracker.queries.dashboard import _child_of, _visible_occurrences, is_rate, latest_values
from tracker.queries.scope import plan_scope

#: Rows fetched at a time from the statements that may be long (a province's occurrences).
BATCH = 1000
#: The most plans a choice list offers.
MAX_PLAN_CHOICES = 300


# --- Choosing ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanChoice:
    id: int
    number: str | None
    title: str
    issuing_unit: str
    issuing_unit_id: int
    issuing_unit_path: str
    year: int | None


def plan_choices(person: Person, *, within: OrgUnit | None = None) -> list[PlanChoice]:
    """The confirmed plans the person may see (issued in `within`'s subtree, or tasking a unit in it), newest
    first: what the report page and the roll-up page offer."""
    issuing = aliased(OrgUnit)
    query = (
        sa.select(Plan.id, Plan.number, Plan.title, issuing.name.label("issuing_unit"), Plan.issuing_unit_id,
                  issuing.path.label("issuing_unit_path"), Plan.year)
        .join(issuing, issuing.id == Plan.issuing_unit_id)
        .where(Plan.status.in_([PlanStatus.ACTIVE, PlanStatus.ARCHIVED]), plan_scope(person))
        .order_by(Plan.issued_on.desc().nulls_last(), Plan.id.desc())
        .limit(MAX_PLAN_CHOICES)
    )
    if within is not None:
        lead = aliased(OrgUnit)
        tasked_here = (
            sa.select(Task.plan_id).join(lead, lead.id == Task.lead_unit_id)
            .where(OrgUnit.subtree_clause(within.path, lead.path))
        )
        query = query.where(sa.or_(OrgUnit.subtree_clause(within.path, issuing.path), Plan.id.in_(tasked_here)))
    return [PlanChoice(r.id, r.number, r.title, r.issuing_unit, r.issuing_unit_id, r.issuing_unit_path, r.year)
            for r in db.session.execute(query)]


def rollup_choices(person: Person, limit: int = 300) -> list[tuple[int, str]]:
    """Units a roll-up may be drawn over: the roots of the person's scope and the units below them that have
    units of their own (a province, its districts), highest first (one statement)."""
    from tracker.operations.authz import scope_paths

    roots = scope_paths(person)
    if not roots:
        return []
    unit, child = aliased(OrgUnit), aliased(OrgUnit)
    has_children = sa.select(child.id).where(child.parent_id == unit.id).limit(1).correlate(unit).exists()
    root_ids = [int(p.strip("/").split("/")[-1]) for p in roots]
    query = (
        sa.select(unit.id, unit.name)
        .where(sa.or_(unit.id.in_(root_ids), unit.parent_id.in_(root_ids)), has_children, unit.is_archived.is_(False))
        .order_by(unit.depth, unit.path)
        .limit(limit)
    )
    return [(r.id, r.name) for r in db.session.execute(query)]


def plans_of_unit(person: Person, unit: OrgUnit, period: Period) -> list[Plan]:
    """The confirmed plans `unit` issued that have something due in `period`, oldest first (for the report on
    all of a unit's plans)."""
    due_in_period = (
        sa.select(Task.plan_id).join(Occurrence, Occurrence.task_id == Task.id)
        .where(Occurrence.due_on >= period.start, Occurrence.due_on <= period.end)
    )
    return list(db.session.scalars(
        sa.select(Plan)
        .where(Plan.issuing_unit_id == unit.id, Plan.status.in_([PlanStatus.ACTIVE, PlanStatus.ARCHIVED]),
               Plan.id.in_(due_in_period), plan_scope(person))
        .order_by(Plan.issued_on.nulls_last(), Plan.id)
    ))


# --- The plan's tasks and sections --------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskLine:
    id: int
    plan_id: int
    section_id: int | None
    section_code: str | None
    section_title: str | None
    section_position: int | None
    title: str
    position: int
    lead_unit_id: int
    lead_unit_name: str
    lead_unit_kind: str
    lead_parent_id: int | None
    lead_path: str
    fanout_phrase: str | None


def report_tasks(person: Person, plans: Sequence[Plan], *, within: OrgUnit | None = None) -> list[TaskLine]:
    """The plans' active tasks the person may see (all of them where the issuing unit is in scope, else those of
    their units or reporting to them), with section and lead unit, in document order (one statement)."""
    lead, report_to = aliased(OrgUnit), aliased(OrgUnit)
    whole = [p.id for p in plans if can(person, Permission.VIEW, p.issuing_unit)]
    partly = [p.id for p in plans if p.id not in whole]
    visible = sa.or_(
        Task.plan_id.in_(whole) if whole else sa.false(),
        sa.and_(Task.plan_id.in_(partly), sa.or_(
            scope_clause(person, lead.path),
            sa.and_(report_to.id.is_not(None), scope_clause(person, report_to.path)),
        )) if partly else sa.false(),
    )
    query = (
        sa.select(Task.id, Task.plan_id, Task.section_id, PlanSection.code, PlanSection.title.label("section_title"),
                  PlanSection.position.label("section_position"), Task.title, Task.position, Task.import_meta,
                  lead.id.label("lead_id"), lead.name.label("lead_name"), lead.kind.label("lead_kind"),
                  lead.parent_id.label("lead_parent_id"), lead.path.label("lead_path"))
        .join(lead, lead.id == Task.lead_unit_id)
        .outerjoin(report_to, report_to.id == Task.report_to_unit_id)
        .outerjoin(PlanSection, PlanSection.id == Task.section_id)
        .where(Task.plan_id.in_([p.id for p in plans]), Task.status == TaskStatus.ACTIVE, visible,
               OrgUnit.subtree_clause(within.path, lead.path) if within is not None else sa.true())
        .order_by(Task.plan_id, PlanSection.position.nulls_last(), Task.position, Task.id)
        .execution_options(yield_per=BATCH)
    )
    out = []
    for r in db.session.execute(query):
        fanout = (r.import_meta or {}).get("fanout") if isinstance(r.import_meta, dict) else None
        phrase = fanout.get("phrase") if isinstance(fanout, dict) else None
        out.append(TaskLine(r.id, r.plan_id, r.section_id, r.code, r.section_title,
                            r.section_position, r.title, r.position, r.lead_id, r.lead_name, str(r.lead_kind),
                            r.lead_parent_id, r.lead_path, str(phrase) if phrase else None))
    return out


# --- Occurrences of the period, with the reports to quote ----------------------------------------------------

@dataclass(frozen=True)
class OccurrenceLine:
    id: int
    task_id: int
    lead_unit_id: int
    period_label: str | None
    due_on: date
    original_due_on: date
    completed_on: date | None
    status: str


@dataclass(frozen=True)
class Slice:
    """The visible, not cancelled occurrences of some plans due in a period: a select without columns (`query`)
    and the entity to read them from (`occ`), built once and reused by the statements below."""

    query: sa.Select[Any]
    occ: Any

    @property
    def ids(self) -> sa.Select[Any]:
        return self.query.add_columns(self.occ.id)


def period_slice(person: Person, plan_ids: Sequence[int], period: Period, *, within: OrgUnit | None = None
                 ) -> Slice:
    visible, occ = _visible_occurrences(person, unit=within, with_unit=within is not None)
    query = visible.where(
        occ.task_id.in_(sa.select(Task.id).where(Task.plan_id.in_(plan_ids), Task.status == TaskStatus.ACTIVE)),
        occ.due_on >= period.start, occ.due_on <= period.end, occ.cancelled_at.is_(None),
    )
    return Slice(query, occ)


def period_occurrences(part: Slice, clock: StatusClock) -> Iterator[OccurrenceLine]:
    """The occurrences of the slice, by due date, streamed."""
    query, occ = part.query, part.occ
    query = (
        query.add_columns(occ.id, occ.task_id, occ.lead_unit_id, occ.period_label, occ.due_on, occ.original_due_on,
                          occ.completed_on, occ.status_expression(clock).label("status"))
        .order_by(occ.due_on, occ.id)
        .execution_options(yield_per=BATCH)
    )
    for r in db.session.execute(query):
        yield OccurrenceLine(r.id, r.task_id, r.lead_unit_id, r.period_label, r.due_on, r.original_due_on,
                             r.completed_on, str(r.status))


@dataclass(frozen=True)
class ReportLine:
    id: int
    occurrence_id: int
    body: str
    submitted_on: date
    is_late: bool
    review_status: str
    reviewed_on: date | None
    review_comment: str | None


def period_reports(part: Slice) -> Iterator[ReportLine]:
    """Every report submitted for the slice's occurrences (accepted, waiting or returned), oldest first."""
    ids = part.ids
    query = (
        sa.select(Report.id, Report.occurrence_id, Report.body, Report.submitted_on, Report.is_late,
                  Report.review_status, Report.reviewed_at, Report.review_comment)
        .where(Report.occurrence_id.in_(ids))
        .order_by(Report.occurrence_id, Report.submitted_at, Report.id)
        .execution_options(yield_per=BATCH)
    )
    for r in db.session.execute(query):
        yield ReportLine(r.id, r.occurrence_id, r.body or "", r.submitted_on, bool(r.is_late), str(r.review_status),
                         local_date(r.reviewed_at) if r.reviewed_at else None, r.review_comment)


@dataclass(frozen=True)
class ExtensionLine:
    occurrence_id: int
    requested_due_on: date
    reason: str
    decided_on: date | None


def period_extensions(part: Slice) -> list[ExtensionLine]:
    """The approved requests for more time on the slice's occurrences, in the order they were decided."""
    query = (
        sa.select(ExtensionRequest.occurrence_id, ExtensionRequest.requested_due_on, ExtensionRequest.reason,
                  ExtensionRequest.decided_at)
        .where(ExtensionRequest.occurrence_id.in_(part.ids),
               ExtensionRequest.status == ExtensionStatus.APPROVED)
        .order_by(ExtensionRequest.decided_at, ExtensionRequest.id)
    )
    return [ExtensionLine(r.occurrence_id, r.requested_due_on, r.reason,
                          local_date(r.decided_at) if r.decided_at else None) for r in db.session.execute(query)]


# --- Figures ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitFigure:
    indicator_id: int
    name: str
    unit_of_measure: str
    unit_id: int
    value: Decimal


def unit_figures(person: Person, plan_ids: Sequence[int], period: Period, *, within: OrgUnit | None = None
                 ) -> list[UnitFigure]:
    """The latest value each unit the person may see reported in the period for the plans' indicators (what a
    fan-out group's figures are summed from)."""
    indicators = sa.select(Indicator.id).where(Indicator.plan_id.in_(plan_ids))
    latest = latest_values(indicators, period=period)
    query = (
        sa.select(latest.c.indicator_id, Indicator.name, Indicator.unit_of_measure, latest.c.unit_id, latest.c.value)
        .join(Indicator, Indicator.id == latest.c.indicator_id)
        .where(scope_clause(person, latest.c.path),
               OrgUnit.subtree_clause(within.path, latest.c.path) if within is not None else sa.true())
        .order_by(latest.c.indicator_id, latest.c.path)
        .execution_options(yield_per=BATCH)
    )
    return [UnitFigure(r.indicator_id, r.name, r.unit_of_measure or "", r.unit_id, Decimal(r.value))
            for r in db.session.execute(query)]


@dataclass(frozen=True)
class ChildFigure:
    indicator_id: int
    name: str
    unit_of_measure: str
    child_id: int
    value: Decimal | None
    reporting_units: int
    target: Decimal | None
    comparator: str | None


def figures_by_child(person: Person, parent: OrgUnit, plan_ids: Sequence[int], period: Period
                     ) -> list[ChildFigure]:
    """For each of the plans' indicators and each child of `parent` (its whole subtree): the latest values of
    the period summed (averaged for rates) with the count of units that reported, and the child's own target
    for the year. Two statements whatever the number of children."""
    indicators = sa.select(Indicator.id).where(Indicator.plan_id.in_(plan_ids))
    latest = latest_values(indicators, period=period)
    bucket = _child_of(parent, latest.c.path)
    values = (
        sa.select(latest.c.indicator_id, bucket.label("child_id"), sa.func.sum(latest.c.value).label("total"),
                  sa.func.avg(latest.c.value).label("mean"), sa.func.count(latest.c.unit_id).label("n"))
        .where(OrgUnit.subtree_clause(parent.path, latest.c.path), latest.c.unit_id != parent.id,
               scope_clause(person, latest.c.path))
        .group_by(latest.c.indicator_id, bucket)
    )
    child = aliased(OrgUnit)
    targets = (
        sa.select(IndicatorTarget.indicator_id, IndicatorTarget.unit_id, IndicatorTarget.value,
                  IndicatorTarget.comparator)
        .join(child, child.id == IndicatorTarget.unit_id)
        .where(IndicatorTarget.indicator_id.in_(indicators), IndicatorTarget.year == period.target_year,
               child.parent_id == parent.id, scope_clause(person, child.path))
    )
    meta = {r.id: r for r in db.session.execute(
        sa.select(Indicator.id, Indicator.name, Indicator.unit_of_measure).where(Indicator.plan_id.in_(plan_ids)))}
    found: dict[tuple[int, int], ChildFigure] = {}
    for r in db.session.execute(values):
        m = meta[r.indicator_id]
        value = Decimal(str(r.mean if is_rate(m.unit_of_measure or "") else r.total)).quantize(Decimal("0.0001"))
        found[(r.indicator_id, r.child_id)] = ChildFigure(r.indicator_id, m.name, m.unit_of_measure or "",
                                                          int(r.child_id), value, int(r.n), None, None)
    for r in db.session.execute(targets):
        m = meta[r.indicator_id]
        old = found.get((r.indicator_id, r.unit_id))
        found[(r.indicator_id, r.unit_id)] = ChildFigure(
            r.indicator_id, m.name, m.unit_of_measure or "", r.unit_id, old.value if old else None,
            old.reporting_units if old else 0, Decimal(r.value), str(r.comparator))
    return list(found.values())


# --- Who signs -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signer:
    full_name: str
    title: str | None
    role: str


def signer_of(unit: OrgUnit) -> Signer | None:
    """The person who signs for `unit`: its chair (an administrative unit) or its head, first appointed first."""
    roles = [Role.CHAIR, Role.UNIT_HEAD]
    row = db.session.execute(
        sa.select(Person.full_name, Person.title, RoleAssignment.role)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.unit_id == unit.id, RoleAssignment.role.in_(roles), Person.is_active)
        .order_by(sa.case((RoleAssignment.role == Role.CHAIR, 0), else_=1), RoleAssignment.id)
        .limit(1)
    ).first()
    return Signer(row.full_name, row.title, str(row.role)) if row else None


def ancestors_of(unit: OrgUnit) -> list[OrgUnit]:
    """`unit`'s ancestors, root first, without itself (one statement)."""
    ids = unit.ancestor_ids[:-1]
    if not ids:
        return []
    found = {u.id: u for u in db.session.scalars(sa.select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def units_by_id(ids: Sequence[int]) -> dict[int, OrgUnit]:
    """Units by id (one statement), for the names of a roll-up's children."""
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(OrgUnit).where(OrgUnit.id.in_(list(ids))))}


@dataclass(frozen=True)
class TargetLine:
    indicator_id: int
    unit_id: int
    year: int
    value: Decimal
    comparator: str


def plan_targets(person: Person, plan_ids: Sequence[int], unit: OrgUnit) -> list[TargetLine]:
    """Every yearly target of the plans' indicators set for a unit in `unit`'s subtree and the person's scope
    (the year columns of the plan's appendix)."""
    target_unit = aliased(OrgUnit)
    query = (
        sa.select(IndicatorTarget.indicator_id, IndicatorTarget.unit_id, IndicatorTarget.year, IndicatorTarget.value,
                  IndicatorTarget.comparator)
        .join(Indicator, Indicator.id == IndicatorTarget.indicator_id)
        .join(target_unit, target_unit.id == IndicatorTarget.unit_id)
        .where(Indicator.plan_id.in_(plan_ids), OrgUnit.subtree_clause(unit.path, target_unit.path),
               scope_clause(person, target_unit.path))
        .order_by(IndicatorTarget.year)
    )
    return [TargetLine(r.indicator_id, r.unit_id, int(r.year), Decimal(r.value), str(r.comparator))
            for r in db.session.execute(query)]
