"""Read-side SQL for the web pages: my tasks, the chair's overview, roll-ups, plans, indicators.

Every function is set-based (GROUP BY, joins, window functions), filtered by the person's scope through
`authz.scope_clause`, and issues a fixed number of statements whatever the data size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Comment,
    Comparator,
    ExtensionRequest,
    ExtensionStatus,
    Indicator,
    IndicatorLatest,
    IndicatorTarget,
    IndicatorValue,
    Notification,
    NotificationKind,
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
    TaskStatus,
    UnitStatusCount,
)
from tracker.operations import summaries
from tracker.operations.authz import Permission, can, scope_clause
from tracker.periods import Period, year_period
from tracker.queries.scope import (
    drafts_have_tasks,
    is_only_root,
    not_in_draft,
    plan_scope,
    plan_visible,
    scope_unit_ids,
    sees_beyond_scope,
    sees_everything,
    visible_occurrences,
)
from tracker.sqlutil import dialect_name

OPEN_STATUSES = (OccurrenceStatus.OVERDUE.value, OccurrenceStatus.DUE_SOON.value, OccurrenceStatus.NOT_DUE.value)
ALL_STATUSES = [s.value for s in OccurrenceStatus]
MAX_ROWS = 500


def _visible_occurrences(person: Person, permission: Permission = Permission.VIEW, *, unit: OrgUnit | None = None,
                         with_task: bool = False, with_unit: bool = True) -> tuple[sa.Select[Any], Any]:
    """Occurrences of non-draft plans the person may see, within `unit`'s subtree when given, and the entity
    to read their columns from (`Occurrence`, or an alias of the visible ones: see `queries.scope`).
    `OrgUnit` is the lead unit in the result unless `with_unit` is false and no condition needs it; `Task`
    and `Plan` are joined when `with_task`.

    To VIEW, as in the API's listing: the lead unit, the unit reported to, or the plan's issuing unit lies in
    the person's scope (a province department sees the commune tasks that report to it). Other permissions
    (acting, deciding extensions) are held on the lead unit itself.
    """
    if permission == Permission.VIEW:
        occ, where = visible_occurrences(person, OrgUnit, within=unit)
    else:
        occ, where = Occurrence, sa.and_(scope_clause(person, OrgUnit.path, permission), _within(unit))
    query = sa.select().select_from(occ)
    unrestricted = isinstance(where, sa.sql.elements.True_)
    everything = unrestricted and occ is Occurrence
    if with_unit or not unrestricted:
        query = query.join(OrgUnit, OrgUnit.id == occ.lead_unit_id).where(where)
    if with_task:
        query = (query.join(Task, Task.id == occ.task_id).join(Plan, Plan.id == Task.plan_id)
                 .where(Plan.status != PlanStatus.DRAFT))
    elif not everything or drafts_have_tasks():
        # Over the whole country, a first short statement spares an anti-join per occurrence when no draft
        # has tasks (the usual case: drafts are reviewed and confirmed within days).
        query = query.where(not_in_draft(occ))
    return query, occ


def _year_clause(year: int | None, occ: Any = Occurrence, *, period: Period | None = None,
                 plan_id: int | None = None) -> sa.ColumnElement[bool]:
    """SQL: the occurrence is due in `period` (else in `year`) and belongs to plan `plan_id`, when given."""
    when = period or (year_period(year) if year is not None else None)
    clauses = []
    if when is not None:
        clauses += [occ.due_on >= when.start, occ.due_on <= when.end]
    if plan_id is not None:
        clauses.append(occ.task_id.in_(sa.select(Task.id).where(Task.plan_id == plan_id)))
    return sa.and_(*clauses) if clauses else sa.true()


def _within(unit: OrgUnit | None) -> sa.ColumnElement[bool]:
    return OrgUnit.subtree_clause(unit.path) if unit is not None else sa.true()


# --- The summary (tracker.operations.summaries): what it can answer exactly --------------------------------

USC = UnitStatusCount


@dataclass(frozen=True)
class _FromSummary:
    """The summary answers: count the rows of lead units matching `units(path)` (None: every unit) and year."""

    units: Any
    year: int | None

    def where(self, unit_path: Any) -> list[sa.ColumnElement[bool]]:
        clauses = [USC.year == self.year] if self.year is not None else []
        if self.units is not None:
            clauses.append(self.units(unit_path))
        return clauses


def _from_summary(person: Person, clock: StatusClock, unit: OrgUnit | None, *, year: int | None = None,
                  period: Period | None = None, plan_id: int | None = None) -> _FromSummary | None:
    """How to read the summary for this question, or None when only the live query answers it exactly.

    The summary counts every occurrence of non-draft plans by lead unit, year and status as of its stored
    clock; it answers when the clock is the request's, the filter is a whole year (or none) and no plan, and
    the person sees exactly the occurrences led in the units asked about (`visible_occurrences`' shapes without
    visibility SQL: a unit they may view entirely, everything, or their own scope when no task reaches them
    only through its report-to or issuing unit).
    """
    if plan_id is not None:
        return None
    if period is not None:
        if not period.is_calendar_year:
            return None
        year = period.target_year
    if summaries.stored_clock() != clock:
        return None
    if unit is not None:
        if not can(person, Permission.VIEW, unit) and not sees_everything(person):
            return None
        if is_only_root(unit):
            return _FromSummary(None, year)
        path = unit.path
        return _FromSummary(lambda column: OrgUnit.subtree_clause(path, column), year)
    if sees_everything(person):
        return _FromSummary(None, year)
    if sees_beyond_scope(person):
        return None
    return _FromSummary(lambda column: scope_clause(person, column), year)


def _column(status: OccurrenceStatus) -> Any:
    return getattr(USC, status.value)


def _summed(*statuses: OccurrenceStatus) -> sa.ColumnElement[int]:
    """SQL: the summary rows' count over `statuses` (within a GROUP BY)."""
    total: Any = _column(statuses[0])
    for status in statuses[1:]:
        total = total + _column(status)
    return sa.func.coalesce(sa.func.sum(total), 0)


def _any_counted(*, cancelled: bool = True) -> sa.ColumnElement[bool]:
    """SQL (HAVING): the group counts some occurrence (a cancelled one too, unless not `cancelled`)."""
    statuses = [s for s in OccurrenceStatus if cancelled or s != OccurrenceStatus.CANCELLED]
    return _summed(*statuses) > 0


def _summary_timeliness_columns() -> tuple[Any, ...]:
    """`_timeliness_columns` from the summary: expected is done or overdue; open not yet overdue is due soon or
    not due."""
    s = OccurrenceStatus
    return (
        _summed(s.DONE_ON_TIME, s.DONE_LATE, s.OVERDUE).label("expected"),
        _summed(s.DONE_ON_TIME).label("on_time"),
        _summed(s.DONE_LATE).label("late"),
        _summed(s.OVERDUE).label("overdue"),
        _summed(s.DUE_SOON, s.NOT_DUE).label("open_not_due"),
    )


# --- My tasks ------------------------------------------------------------------------------------------

@dataclass
class TaskRow:
    occurrence_id: int
    title: str
    unit_name: str
    plan_id: int
    plan_number: str | None
    section_code: str | None
    period_label: str | None
    due_on: date
    completed_on: date | None
    status: str
    last_review: str | None
    days_late: int


def _last_review_subquery() -> sa.ScalarSelect[Any]:
    return (
        sa.select(Report.review_status)
        .where(Report.occurrence_id == Occurrence.id)
        .order_by(Report.submitted_at.desc(), Report.id.desc())
        .limit(1)
        .correlate(Occurrence)
        .scalar_subquery()
    )


def _task_rows(query: sa.Select[Any], clock: StatusClock) -> list[TaskRow]:
    rows = []
    for r in db.session.execute(query):
        end = r.completed_on or clock.today
        rows.append(TaskRow(
            occurrence_id=r.id, title=r.title, unit_name=r.unit_name, plan_id=r.plan_id, plan_number=r.number,
            section_code=r.section_code, period_label=r.period_label, due_on=r.due_on, completed_on=r.completed_on,
            status=r.status, last_review=r.last_review, days_late=max(0, (end - r.due_on).days),
        ))
    return rows


def _task_columns(clock: StatusClock) -> tuple[Any, ...]:
    return (
        Occurrence.id, Task.title, OrgUnit.name.label("unit_name"), Plan.id.label("plan_id"), Plan.number,
        PlanSection.code.label("section_code"), Occurrence.period_label, Occurrence.due_on, Occurrence.completed_on,
        Occurrence.status_expression(clock).label("status"), _last_review_subquery().label("last_review"),
    )


def my_tasks(person: Person, clock: StatusClock, *, done_limit: int = 20) -> tuple[list[TaskRow], list[TaskRow]]:
    """The open occurrences a person owes (most urgent first) and their latest completed ones."""
    query, _occ = _visible_occurrences(person, Permission.ACT, with_task=True)
    base = (
        query.add_columns(*_task_columns(clock))
        .outerjoin(PlanSection, PlanSection.id == Task.section_id)
        .where(Task.status == TaskStatus.ACTIVE, Plan.status == PlanStatus.ACTIVE)
    )
    open_rows = _task_rows(
        base.where(Occurrence.is_open).order_by(Occurrence.due_on, Occurrence.id).limit(MAX_ROWS), clock
    )
    done_rows = _task_rows(
        base.where(Occurrence.completed_at.is_not(None))
        .order_by(Occurrence.completed_at.desc(), Occurrence.id.desc()).limit(done_limit), clock
    )
    return open_rows, done_rows


# --- Overview (chair, focal officer) -------------------------------------------------------------------

def status_counts(person: Person, clock: StatusClock, *, unit: OrgUnit | None = None,
                  year: int | None = None, period: Period | None = None, plan_id: int | None = None
                  ) -> dict[str, int]:
    """How many occurrences are in each status, within the person's scope (and `unit`'s subtree)."""
    counts = dict.fromkeys(ALL_STATUSES, 0)
    summary = _from_summary(person, clock, unit, year=year, period=period, plan_id=plan_id)
    if summary is not None:
        query = sa.select(*(_summed(s).label(s.value) for s in OccurrenceStatus)).select_from(USC)
        if summary.units is not None:
            query = query.join(OrgUnit, OrgUnit.id == USC.unit_id)
        row = db.session.execute(query.where(*summary.where(OrgUnit.path))).one()
        counts.update({s.value: int(row._mapping[s.value]) for s in OccurrenceStatus})
        return counts
    visible, occ = _visible_occurrences(person, unit=unit, with_unit=False)
    status = occ.status_expression(clock)
    query = visible.add_columns(status.label("status"), sa.func.count()).where(
        _year_clause(year, occ, period=period, plan_id=plan_id)).group_by(status)
    counts.update({s: int(n) for s, n in db.session.execute(query)})
    return counts


@dataclass
class UnitSummary:
    unit_id: int
    unit_name: str
    unit_path: str
    overdue: int
    due_soon: int
    not_due: int
    done: int

    @property
    def open(self) -> int:
        return self.overdue + self.due_soon + self.not_due


def summary_by_unit(person: Person, clock: StatusClock, *, unit: OrgUnit | None = None,
                    year: int | None = None) -> list[UnitSummary]:
    """Per lead unit: overdue, due soon, not yet due and done (one GROUP BY), the most overdue first.

    The chair's first screen on a phone; cancelled occurrences count nowhere.
    """
    summary = _from_summary(person, clock, unit, year=year)
    if summary is not None:
        s = OccurrenceStatus
        overdue, due_soon = _summed(s.OVERDUE).label("overdue"), _summed(s.DUE_SOON).label("due_soon")
        query = (
            sa.select(OrgUnit.id, OrgUnit.name, OrgUnit.path, overdue, due_soon, _summed(s.NOT_DUE).label("not_due"),
                      _summed(s.DONE_ON_TIME, s.DONE_LATE).label("done"))
            .select_from(USC).join(OrgUnit, OrgUnit.id == USC.unit_id)
            .where(*summary.where(OrgUnit.path))
            .group_by(OrgUnit.id, OrgUnit.name, OrgUnit.path)
            .having(_any_counted(cancelled=False))
            .order_by(overdue.desc(), due_soon.desc(), OrgUnit.path)
            .limit(MAX_ROWS)
        )
        return [UnitSummary(r.id, r.name, r.path, int(r.overdue), int(r.due_soon), int(r.not_due), int(r.done))
                for r in db.session.execute(query)]
    visible, occ = _visible_occurrences(person, unit=unit)

    def count_when(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    def count_of(*statuses: OccurrenceStatus) -> sa.ColumnElement[int]:
        return count_when(occ.status_in(clock, [s.value for s in statuses]))

    overdue = count_of(OccurrenceStatus.OVERDUE).label("overdue")
    due_soon = count_of(OccurrenceStatus.DUE_SOON).label("due_soon")
    query = (
        visible.add_columns(OrgUnit.id, OrgUnit.name, OrgUnit.path, overdue, due_soon,
                            count_of(OccurrenceStatus.NOT_DUE).label("not_due"),
                            count_of(OccurrenceStatus.DONE_ON_TIME, OccurrenceStatus.DONE_LATE).label("done"))
        .where(_year_clause(year, occ), occ.cancelled_at.is_(None))
        .group_by(OrgUnit.id, OrgUnit.name, OrgUnit.path)
        .order_by(overdue.desc(), due_soon.desc(), OrgUnit.path)
        .limit(MAX_ROWS)
    )
    return [UnitSummary(r.id, r.name, r.path, int(r.overdue), int(r.due_soon), int(r.not_due), int(r.done))
            for r in db.session.execute(query)]


# The status filters of a unit's list on the overview, each a set of derived statuses.
UNIT_LIST_FILTERS = {
    "open": (OccurrenceStatus.OVERDUE, OccurrenceStatus.DUE_SOON, OccurrenceStatus.NOT_DUE),
    "overdue": (OccurrenceStatus.OVERDUE,),
    "due_soon": (OccurrenceStatus.DUE_SOON,),
    "not_due": (OccurrenceStatus.NOT_DUE,),
    "done": (OccurrenceStatus.DONE_ON_TIME, OccurrenceStatus.DONE_LATE),
}


def unit_tasks(person: Person, clock: StatusClock, unit: OrgUnit, *, show: str = "open",
               year: int | None = None) -> list[TaskRow]:
    """The occurrences led by `unit` or its subtree in one of UNIT_LIST_FILTERS, most urgent (or latest done)
    first: where a unit's line in the chair's summary leads."""
    visible, occ = _visible_occurrences(person, unit=unit, with_task=True)
    last_review = (sa.select(Report.review_status).where(Report.occurrence_id == occ.id)
                   .order_by(Report.submitted_at.desc(), Report.id.desc()).limit(1).scalar_subquery())
    order = ((occ.completed_on.desc(), occ.id.desc()) if show == "done" else (occ.due_on, occ.id))
    query = (
        visible.add_columns(
            occ.id, Task.title, OrgUnit.name.label("unit_name"), Plan.id.label("plan_id"), Plan.number,
            PlanSection.code.label("section_code"), occ.period_label, occ.due_on, occ.completed_on,
            occ.status_expression(clock).label("status"), last_review.label("last_review"))
        .outerjoin(PlanSection, PlanSection.id == Task.section_id)
        .where(occ.status_in(clock, [s.value for s in UNIT_LIST_FILTERS[show]]), _year_clause(year, occ))
        .order_by(*order)
        .limit(MAX_ROWS)
    )
    return _task_rows(query, clock)


@dataclass
class Reminder:
    recipient: str
    channel: str
    status: str
    at: datetime
    escalation_level: int


@dataclass
class OverdueRow:
    occurrence_id: int
    title: str
    plan_number: str | None
    due_on: date
    days_late: int
    escalation_level: int
    last_reminded_at: datetime | None
    reminders: list[Reminder] = field(default_factory=list)


@dataclass
class OverdueGroup:
    unit_id: int
    unit_name: str
    rows: list[OverdueRow] = field(default_factory=list)


def overdue_by_unit(person: Person, clock: StatusClock, *, unit: OrgUnit | None = None,
                    limit: int = MAX_ROWS, period: Period | None = None, plan_id: int | None = None
                    ) -> list[OverdueGroup]:
    """Open overdue occurrences grouped by lead unit, with who was reminded when (two statements); only those
    due in `period` and of plan `plan_id` when given."""
    visible, occ = _visible_occurrences(person, unit=unit, with_task=True)
    query = (
        visible.add_columns(occ.id, occ.lead_unit_id, OrgUnit.name.label("unit_name"), Task.title, Plan.number,
                            occ.due_on, occ.escalation_level, occ.last_reminded_at)
        .where(occ.is_open, occ.due_on < clock.overdue_before, Task.status == TaskStatus.ACTIVE,
               _year_clause(None, occ, period=period), Task.plan_id == plan_id if plan_id is not None else sa.true())
        .order_by(OrgUnit.path, occ.due_on, occ.id)
        .limit(limit)
    )
    groups: dict[int, OverdueGroup] = {}
    by_id: dict[int, OverdueRow] = {}
    for r in db.session.execute(query):
        group = groups.setdefault(r.lead_unit_id, OverdueGroup(r.lead_unit_id, r.unit_name))
        row = OverdueRow(r.id, r.title, r.number, r.due_on, max(0, (clock.today - r.due_on).days),
                         r.escalation_level, r.last_reminded_at)
        group.rows.append(row)
        by_id[r.id] = row
    if by_id:
        for occurrence_id, reminder in _reminders_of(list(by_id)):
            by_id[occurrence_id].reminders.append(reminder)
    return list(groups.values())


def _reminders_of(occurrence_ids: list[int]) -> list[tuple[int, Reminder]]:
    """The reminders and escalations queued for some occurrences, oldest first (one statement).

    A reminder carried by a digest or bundle went out (or not) with it: its carrier's status and time count.
    """
    carrier = aliased(Notification, name="carrier")
    query = (
        sa.select(Notification.occurrence_id, Person.full_name, Notification.channel,
                  sa.func.coalesce(carrier.status, Notification.status).label("status"),
                  sa.func.coalesce(Notification.sent_at, carrier.sent_at, Notification.created_at).label("at"),
                  Notification.escalation_level)
        .join(Person, Person.id == Notification.recipient_id)
        .outerjoin(carrier, carrier.id == Notification.digest_id)
        .where(Notification.occurrence_id.in_(occurrence_ids),
               Notification.kind.in_([NotificationKind.REMINDER, NotificationKind.ESCALATION]))
        .order_by(Notification.occurrence_id, Notification.created_at, Notification.id)
    )
    return [
        (r.occurrence_id, Reminder(r.full_name, str(r.channel), str(r.status), r.at, r.escalation_level))
        for r in db.session.execute(query)
    ]


def reminders_for(occurrence_id: int) -> list[Reminder]:
    return [r for _, r in _reminders_of([occurrence_id])]


@dataclass
class UnitTimeliness:
    unit_id: int
    unit_name: str
    expected: int  # occurrences already due (not cancelled)
    on_time: int
    late: int
    overdue: int
    open_not_due: int

    @property
    def timeliness(self) -> float | None:
        """Share of the expected occurrences done on time (as DHIS2's reporting rate on time)."""
        return self.on_time / self.expected if self.expected else None

    @property
    def completion(self) -> float | None:
        return (self.on_time + self.late) / self.expected if self.expected else None


def _timeliness_columns(clock: StatusClock, occ: Any = Occurrence) -> tuple[Any, ...]:
    # The derivation of `Occurrence.status_expression` as plain comparisons (not its CASE four times over per
    # row), on the columns of the covering index ix_occurrences_lead_unit_id_covering only, so that counting
    # a subtree's occurrences is an index-only scan.
    def count_when(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    kept = occ.cancelled_at.is_(None)
    is_open = sa.and_(kept, occ.completed_on.is_(None))
    overdue = sa.and_(is_open, occ.due_on < clock.overdue_before)
    done = sa.and_(kept, occ.completed_on.is_not(None))
    return (
        count_when(sa.or_(done, overdue)).label("expected"),
        count_when(sa.and_(kept, occ.completed_on <= occ.due_on)).label("on_time"),
        count_when(sa.and_(kept, occ.completed_on > occ.due_on)).label("late"),
        count_when(overdue).label("overdue"),
        count_when(sa.and_(is_open, occ.due_on >= clock.overdue_before)).label("open_not_due"),
    )


def timeliness_by_unit(person: Person, clock: StatusClock, *, unit: OrgUnit | None = None,
                       year: int | None = None) -> list[UnitTimeliness]:
    """Per lead unit: expected, done on time, done late, overdue (one GROUP BY)."""
    summary = _from_summary(person, clock, unit, year=year)
    if summary is not None:
        query = (
            sa.select(OrgUnit.id, OrgUnit.name, *_summary_timeliness_columns())
            .select_from(USC).join(OrgUnit, OrgUnit.id == USC.unit_id)
            .where(*summary.where(OrgUnit.path))
            .group_by(OrgUnit.id, OrgUnit.name, OrgUnit.path)
            .having(_any_counted())
            .order_by(OrgUnit.path)
            .limit(MAX_ROWS)
        )
    else:
        visible, occ = _visible_occurrences(person, unit=unit)
        query = (
            visible.add_columns(OrgUnit.id, OrgUnit.name, *_timeliness_columns(clock, occ))
            .where(_year_clause(year, occ))
            .group_by(OrgUnit.id, OrgUnit.name, OrgUnit.path)
            .order_by(OrgUnit.path)
            .limit(MAX_ROWS)
        )
    return [UnitTimeliness(r.id, r.name, int(r.expected), int(r.on_time), int(r.late), int(r.overdue),
                           int(r.open_not_due)) for r in db.session.execute(query)]


@dataclass
class PendingExtension:
    id: int
    occurrence_id: int
    title: str
    unit_name: str
    requested_by: str
    due_on: date
    requested_due_on: date
    reason: str
    created_at: datetime


def pending_extensions(person: Person, *, unit: OrgUnit | None = None) -> list[PendingExtension]:
    """Requests for more time the person may decide on."""
    visible, _occ = _visible_occurrences(person, Permission.DECIDE_EXTENSION, unit=unit, with_task=True)
    query = (
        visible.add_columns(ExtensionRequest.id, Occurrence.id.label("occurrence_id"), Task.title,
                     OrgUnit.name.label("unit_name"), Person.full_name, Occurrence.due_on,
                     ExtensionRequest.requested_due_on, ExtensionRequest.reason, ExtensionRequest.created_at)
        .join(ExtensionRequest, ExtensionRequest.occurrence_id == Occurrence.id)
        .join(Person, Person.id == ExtensionRequest.requested_by_id)
        .where(ExtensionRequest.status == ExtensionStatus.PENDING)
        .order_by(ExtensionRequest.created_at, ExtensionRequest.id)
        .limit(MAX_ROWS)
    )
    return [PendingExtension(r.id, r.occurrence_id, r.title, r.unit_name, r.full_name, r.due_on,
                             r.requested_due_on, r.reason, r.created_at) for r in db.session.execute(query)]


@dataclass
class ReportToReview:
    id: int
    occurrence_id: int
    title: str
    unit_name: str
    submitted_by: str
    submitted_at: datetime
    is_late: bool
    body: str


def reports_to_review(person: Person, *, unit: OrgUnit | None = None) -> list[ReportToReview]:
    """Submitted reports waiting for this person's review (report-to unit or issuing unit in review scope)."""
    report_to = aliased(OrgUnit)
    issuing = aliased(OrgUnit)
    may_review = sa.or_(scope_clause(person, report_to.path, Permission.REVIEW),
                        scope_clause(person, issuing.path, Permission.REVIEW))
    visible, occ = _visible_occurrences(person, unit=unit, with_task=True)
    query = (
        visible.add_columns(Report.id, occ.id.label("occurrence_id"), Task.title, OrgUnit.name.label("unit_name"),
                            Person.full_name, Report.submitted_at, Report.is_late, Report.body)
        .join(Report, Report.occurrence_id == occ.id)
        .join(Person, Person.id == Report.submitted_by_id)
        .join(issuing, issuing.id == Plan.issuing_unit_id)
        .outerjoin(report_to, report_to.id == Task.report_to_unit_id)
        .where(Report.review_status == ReviewStatus.SUBMITTED, may_review)
        .order_by(Report.submitted_at, Report.id)
        .limit(MAX_ROWS)
    )
    return [ReportToReview(r.id, r.occurrence_id, r.title, r.unit_name, r.full_name, r.submitted_at, r.is_late,
                           r.body) for r in db.session.execute(query)]


# --- Roll-up (upper levels) ----------------------------------------------------------------------------

@dataclass
class RollupRow:
    unit_id: int
    unit_name: str
    is_self: bool
    has_children: bool
    stats: UnitTimeliness


def rollup(person: Person, clock: StatusClock, parent: OrgUnit, *, year: int | None = None,
           period: Period | None = None, plan_id: int | None = None) -> list[RollupRow]:
    """Completion, timeliness and overdue for each child of `parent` (its whole subtree) and for `parent`
    itself (its own tasks): one pass over the subtree's occurrences grouped by lead unit, then by child."""
    child = aliased(OrgUnit)
    grandchild = aliased(OrgUnit)
    has_children = (
        sa.select(grandchild.id).where(grandchild.parent_id == child.id).limit(1).correlate(child).exists()
    )
    kids = list(db.session.execute(
        sa.select(child.id, child.name, has_children.label("has_children"))
        .where(child.parent_id == parent.id).order_by(child.name).limit(MAX_ROWS)
    ))
    # Counted per lead unit first (one pass over the occurrences, no join to the children), then each unit's
    # counts go to the child whose subtree holds it (read from its path), else to `parent` itself.
    unit = aliased(OrgUnit)
    bucket = _child_of(parent, unit.path)
    summary = _from_summary(person, clock, parent, year=year, period=period, plan_id=plan_id)
    if summary is not None:
        # A bucket holds a unit with some occurrence (a cancelled one too), as in the live query below.
        query = (
            sa.select(bucket.label("bucket"), *_summary_timeliness_columns())
            .select_from(USC).join(unit, unit.id == USC.unit_id)
            .where(*summary.where(unit.path))
            .group_by(bucket)
            .having(_any_counted())
        )
    else:
        visible, occ = _visible_occurrences(person, unit=parent, with_unit=False)
        per_unit = (
            visible.add_columns(occ.lead_unit_id.label("unit_id"), *_timeliness_columns(clock, occ))
            .where(_year_clause(year, occ, period=period, plan_id=plan_id))
            .group_by(occ.lead_unit_id)
            .subquery("per_unit")
        )
        names = ("expected", "on_time", "late", "overdue", "open_not_due")
        query = (
            sa.select(bucket.label("bucket"), *(sa.func.sum(per_unit.c[n]).label(n) for n in names))
            .join(unit, unit.id == per_unit.c.unit_id)
            .group_by(bucket)
        )
    stats = {r.bucket: r for r in db.session.execute(query)}
    rows = []

    def make(unit_id: int, name: str) -> UnitTimeliness:
        r = stats.get(unit_id)
        if r is None:
            return UnitTimeliness(unit_id, name, 0, 0, 0, 0, 0)
        return UnitTimeliness(unit_id, name, int(r.expected), int(r.on_time), int(r.late), int(r.overdue),
                              int(r.open_not_due))

    if parent.id in stats:
        rows.append(RollupRow(parent.id, parent.name, True, False, make(parent.id, parent.name)))
    for kid in kids:
        rows.append(RollupRow(kid.id, kid.name, False, bool(kid.has_children), make(kid.id, kid.name)))
    return rows


def _child_of(parent: OrgUnit, path: Any) -> sa.ColumnElement[int]:
    """SQL: the id of `parent`'s child whose subtree holds the unit at `path` (`parent`'s own id for itself).

    Paths are "/1/7/42/": the child's id is the path component right after `parent.path`.
    """
    start = len(parent.path) + 1
    rest = sa.func.substr(path, start)
    slash = sa.func.strpos(rest, "/") if dialect_name(db.session) == "postgresql" else sa.func.instr(rest, "/")
    return sa.case((path == parent.path, parent.id), else_=sa.cast(sa.func.substr(path, start, slash - 1), sa.Integer))


# --- Indicators ----------------------------------------------------------------------------------------

@dataclass
class IndicatorProgress:
    indicator_id: int
    name: str
    unit_of_measure: str
    direction: str
    target_unit: str
    year: int
    target: Decimal
    comparator: str
    actual: Decimal | None
    reporting_units: int
    target_unit_id: int | None = None
    plan_id: int | None = None

    @property
    def ratio(self) -> float | None:
        """Actual as a share of the target (for a falling indicator, target / actual)."""
        if self.actual is None or not self.target:
            return None
        if self.comparator == Comparator.AT_MOST.value:
            return float(self.target / self.actual) if self.actual else 1.0
        return float(self.actual / self.target)

    @property
    def achieved(self) -> bool | None:
        if self.actual is None:
            return None
        if self.comparator == Comparator.AT_MOST.value:
            return self.actual <= self.target
        if self.comparator == Comparator.EQUAL.value:
            return self.actual == self.target
        return self.actual >= self.target


def is_rate(unit_of_measure: str) -> bool:
    """Whether figures of this unit of measure are averaged rather than summed up the tree (a rate)."""
    return "%" in (unit_of_measure or "") or "tỷ lệ" in (unit_of_measure or "").lower()


def latest_values(indicators: Any, *, year: int | None = None, period: Period | None = None) -> sa.CTE:
    """The latest value each unit reported for each of `indicators` (ids: a select or a list) and year:
    columns indicator_id, unit_id, year, value and path (the reporting unit's).

    With `period`, only the year it ends in and, for a part of a year, only values reported for occurrences
    whose own period (else due date) ends in it: the first half's figures are those of the first half's reports.
    """
    if period is not None:
        year = period.target_year
    reporter = aliased(OrgUnit)
    if period is None or period.is_calendar_year:
        # Kept by the operations that store values (tracker.operations.summaries): no ranking at read time.
        latest = IndicatorLatest
        return (
            sa.select(latest.indicator_id, latest.unit_id, latest.year, latest.value, reporter.path.label("path"))
            .join(reporter, reporter.id == latest.unit_id)
            .where(latest.indicator_id.in_(indicators), latest.year == year if year is not None else sa.true())
            .cte("latest_values").prefix_with("MATERIALIZED", dialect="postgresql")
        )
    conditions = [IndicatorValue.indicator_id.in_(indicators)]
    if year is not None:
        conditions.append(IndicatorValue.year == year)
    if period is not None and not period.is_calendar_year:
        reported_for = sa.func.coalesce(Occurrence.period_end_on, Occurrence.due_on)
        conditions.append(sa.exists().where(
            Report.id == IndicatorValue.report_id, Occurrence.id == Report.occurrence_id,
            reported_for >= period.start, reported_for <= period.end,
        ))
    ranked = (
        sa.select(
            IndicatorValue.indicator_id, IndicatorValue.unit_id, IndicatorValue.year, IndicatorValue.value,
            sa.func.row_number().over(
                partition_by=(IndicatorValue.indicator_id, IndicatorValue.unit_id, IndicatorValue.year),
                order_by=(IndicatorValue.reported_at.desc(), IndicatorValue.id.desc()),
            ).label("rank"),
        )
        .where(*conditions)
        .subquery()
    )
    # Computed once, with the reporting unit's path (a materialised CTE on PostgreSQL): joined to hundreds of
    # targets, an inlined subquery is re-ranked, and its units looked up, for each of them when the planner
    # guesses it holds one row.
    return (
        sa.select(ranked.c.indicator_id, ranked.c.unit_id, ranked.c.year, ranked.c.value,
                  reporter.path.label("path"))
        .join(reporter, reporter.id == ranked.c.unit_id)
        .where(ranked.c.rank == 1)
        .cte("latest_values").prefix_with("MATERIALIZED", dialect="postgresql")
    )


def indicator_progress(person: Person, unit: OrgUnit, *, year: int | None = None, period: Period | None = None,
                       plan_ids: Sequence[int] | None = None) -> list[IndicatorProgress]:
    """Each yearly target set for a unit in `unit`'s subtree (and the person's scope), with the value reached:
    the latest value each reporting unit gave in that year, summed over the target unit's subtree (averaged
    for rates). Two statements: the latest values (a window function) are joined to the targets.

    With `period`: the targets of the year it ends in and the values of that period (see `latest_values`);
    with `plan_ids`: those plans' indicators only.
    """
    if period is not None:
        year = period.target_year
    target_unit = aliased(OrgUnit)

    def in_view(target: Any, where_unit: Any) -> sa.ColumnElement[bool]:
        return sa.and_(OrgUnit.subtree_clause(unit.path, where_unit.path), scope_clause(person, where_unit.path),
                       target.year == year if year is not None else sa.true())

    of_plan = Indicator.plan_id.in_(list(plan_ids)) if plan_ids is not None else sa.true()
    # Only the values of indicators with a target in view are ranked (not every value in the country).
    wanted_target, wanted_unit = aliased(IndicatorTarget), aliased(OrgUnit)
    wanted = (
        sa.select(wanted_target.indicator_id).join(wanted_unit, wanted_unit.id == wanted_target.unit_id)
        .where(in_view(wanted_target, wanted_unit))
    )
    if plan_ids is not None:
        wanted = wanted.join(Indicator, Indicator.id == wanted_target.indicator_id).where(of_plan)
    latest = latest_values(wanted, year=year, period=period)
    query = (
        sa.select(
            IndicatorTarget.id, Indicator.id.label("indicator_id"), Indicator.name, Indicator.unit_of_measure,
            Indicator.direction, Indicator.plan_id, target_unit.id.label("target_unit_id"),
            target_unit.name.label("target_unit"), IndicatorTarget.year, IndicatorTarget.value,
            IndicatorTarget.comparator, sa.func.sum(latest.c.value).label("total"),
            sa.func.avg(latest.c.value).label("mean"), sa.func.count(latest.c.unit_id).label("n"),
        )
        .join(Indicator, Indicator.id == IndicatorTarget.indicator_id)
        .join(target_unit, target_unit.id == IndicatorTarget.unit_id)
        .outerjoin(latest, sa.and_(latest.c.indicator_id == IndicatorTarget.indicator_id,
                                   latest.c.year == IndicatorTarget.year,
                                   latest.c.path.startswith(target_unit.path)))
        .where(in_view(IndicatorTarget, target_unit), of_plan)
        .group_by(IndicatorTarget.id, Indicator.id, Indicator.name, Indicator.unit_of_measure, Indicator.direction,
                  Indicator.plan_id, target_unit.id, target_unit.name, target_unit.path, IndicatorTarget.year,
                  IndicatorTarget.value, IndicatorTarget.comparator)
        .order_by(IndicatorTarget.year.desc(), target_unit.path, Indicator.id)
        .limit(MAX_ROWS)
    )
    out = []
    for r in db.session.execute(query):
        n = int(r.n or 0)
        actual = None
        if n:
            actual = Decimal(str(r.mean if is_rate(r.unit_of_measure) else r.total)).quantize(Decimal("0.0001"))
        out.append(IndicatorProgress(r.indicator_id, r.name, r.unit_of_measure or "", str(r.direction),
                                     r.target_unit, int(r.year), Decimal(r.value), str(r.comparator), actual, n,
                                     r.target_unit_id, r.plan_id))
    return out


# --- Plans -----------------------------------------------------------------------------------------------

@dataclass
class PlanRow:
    id: int
    number: str | None
    title: str
    issuing_unit: str
    issued_on: date | None
    status: str
    total: int
    done: int
    overdue: int


def plans_list(person: Person, clock: StatusClock) -> list[PlanRow]:
    """Plans issued in the person's scope or giving tasks to units in it, with progress (one statement).

    The page of plans is chosen first, so only its plans' occurrences are counted.
    """
    status = Occurrence.status_expression(clock)
    issuing = aliased(OrgUnit)
    order = (Plan.issued_on.desc().nulls_last(), Plan.id.desc())
    page = sa.select(Plan.id).where(plan_scope(person)).order_by(*order).limit(MAX_ROWS)

    def count_when(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    # Progress counts only the occurrences the person may see (their lead unit is in scope), from the page's
    # tasks through the covering index by task (completed_on, not completed_at: the same by the
    # completion_pair constraint, and in the index).
    in_scope = sa.true() if sees_everything(person) else Occurrence.lead_unit_id.in_(scope_unit_ids(person))
    progress = (
        sa.select(Task.plan_id, count_when(Occurrence.cancelled_at.is_(None)).label("total"),
                  count_when(Occurrence.completed_on.is_not(None)).label("done"),
                  count_when(status == OccurrenceStatus.OVERDUE.value).label("overdue"))
        .join(Occurrence, Occurrence.task_id == Task.id)
        .where(Task.plan_id.in_(page), in_scope)
        .group_by(Task.plan_id)
        .subquery("progress")
    )
    query = (
        sa.select(Plan.id, Plan.number, Plan.title, issuing.name.label("issuing_unit"), Plan.issued_on,
                  Plan.status, sa.func.coalesce(progress.c.total, 0).label("total"),
                  sa.func.coalesce(progress.c.done, 0).label("done"),
                  sa.func.coalesce(progress.c.overdue, 0).label("overdue"))
        .join(issuing, issuing.id == Plan.issuing_unit_id)
        .outerjoin(progress, progress.c.plan_id == Plan.id)
        .where(Plan.id.in_(page))
        .order_by(*order)
    )
    return [PlanRow(r.id, r.number, r.title, r.issuing_unit, r.issued_on, str(r.status), int(r.total), int(r.done),
                    int(r.overdue)) for r in db.session.execute(query)]


def plan_is_visible(person: Person, plan_id: int) -> bool:
    return plan_visible(person, plan_id)


@dataclass
class PlanTaskRow:
    id: int
    section_id: int | None
    title: str
    lead_unit: str
    report_to_unit: str | None
    due_on: date | None
    recurrence: str | None
    status: str
    total: int
    done: int
    overdue: int
    next_occurrence_id: int | None


def plan_tasks(person: Person, clock: StatusClock, plan: Plan) -> list[PlanTaskRow]:
    """The plan's tasks the person may see (all of them when it was issued in their scope), with progress."""
    status = Occurrence.status_expression(clock)
    lead = aliased(OrgUnit)
    report_to = aliased(OrgUnit)
    issuing_in_scope = db.session.scalar(
        sa.select(OrgUnit.id).where(OrgUnit.id == plan.issuing_unit_id, scope_clause(person, OrgUnit.path))
    ) is not None
    visible = sa.true() if issuing_in_scope else scope_clause(person, lead.path)

    def count_when(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(Occurrence.id.is_not(None), condition), 1),
                                                    else_=0)), 0)

    first_open = (
        sa.select(Occurrence.id).where(Occurrence.task_id == Task.id)
        .order_by(sa.case((Occurrence.completed_at.is_(None), 0), else_=1), Occurrence.due_on, Occurrence.id)
        .limit(1).correlate(Task).scalar_subquery()
    )
    query = (
        sa.select(Task.id, Task.section_id, Task.title, lead.name.label("lead_unit"),
                  report_to.name.label("report_to_unit"), Task.due_on, Task.recurrence, Task.status,
                  count_when(Occurrence.cancelled_at.is_(None)).label("total"),
                  count_when(Occurrence.completed_at.is_not(None)).label("done"),
                  count_when(status == OccurrenceStatus.OVERDUE.value).label("overdue"),
                  first_open.label("next_occurrence_id"))
        .join(lead, lead.id == Task.lead_unit_id)
        .outerjoin(report_to, report_to.id == Task.report_to_unit_id)
        .outerjoin(Occurrence, Occurrence.task_id == Task.id)
        .where(Task.plan_id == plan.id, visible)
        .group_by(Task.id, Task.section_id, Task.title, lead.name, report_to.name, Task.due_on, Task.recurrence,
                  Task.status, Task.position)
        .order_by(Task.position, Task.id)
        .limit(2000)
    )
    return [PlanTaskRow(r.id, r.section_id, r.title, r.lead_unit, r.report_to_unit, r.due_on, r.recurrence,
                        str(r.status), int(r.total), int(r.done), int(r.overdue), r.next_occurrence_id)
            for r in db.session.execute(query)]


def sections_of(plan_id: int) -> list[PlanSection]:
    return list(db.session.scalars(
        sa.select(PlanSection).where(PlanSection.plan_id == plan_id).order_by(PlanSection.position, PlanSection.id)
    ))


# --- The occurrence page ---------------------------------------------------------------------------------

def history_of(occurrence_id: int, limit: int = 200) -> list[AuditEvent]:
    """Audit events of the occurrence and of its reports, comments and extension requests (one statement)."""
    reports = sa.select(Report.id).where(Report.occurrence_id == occurrence_id)
    comments = sa.select(Comment.id).where(Comment.occurrence_id == occurrence_id)
    extensions = sa.select(ExtensionRequest.id).where(ExtensionRequest.occurrence_id == occurrence_id)
    return list(db.session.scalars(
        sa.select(AuditEvent)
        # lazyload, not noload: noload would also empty the roles of an actor already in the session whose
        # roles were expired (the signed-in person, after a refused form rolled back): the page would then
        # render as if they had no roles.
        .options(sa.orm.joinedload(AuditEvent.actor).lazyload(Person.roles))
        .where(sa.or_(
            sa.and_(AuditEvent.object_type == "occurrences", AuditEvent.object_id == occurrence_id),
            sa.and_(AuditEvent.object_type == "reports", AuditEvent.object_id.in_(reports)),
            sa.and_(AuditEvent.object_type == "comments", AuditEvent.object_id.in_(comments)),
            sa.and_(AuditEvent.object_type == "extension_requests", AuditEvent.object_id.in_(extensions)),
        ))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ))


def group_by_section(tasks: list[PlanTaskRow]) -> dict[int | None, list[PlanTaskRow]]:
    out: dict[int | None, list[PlanTaskRow]] = defaultdict(list)
    for t in tasks:
        out[t.section_id].append(t)
    return out
