"""Who may see which occurrences and plans: one rule for pages, the API and exports.

An occurrence is visible to a person whose scope holds its lead unit, the unit it reports to, or the
unit that issued its plan (a province department sees the commune tasks that report to it). A plan is
visible when it was issued in scope or gives a task (as lead or report-to unit) to a unit in scope.

At the scale of the country the three-way OR cannot be evaluated row by row: it joins every occurrence to
three units and scans them all, for a commune chair as for a minister. `visible_occurrences` therefore
chooses the statement by the shape of the question: no visibility SQL at all inside a unit the person may
view entirely (every roll-up, every page with ?unit=) or for a viewer of the whole tree; otherwise the
UNION ALL of two disjoint branches that start from the units of the person's scope (a range of the
materialised path index) and follow indexes: the lead unit is in scope; else the task is seen through its
report-to or issuing unit. "Not in scope" is written as the gaps between the scope's subtrees, so it is a
range scan too. `tests/operations/test_visibility_queries.py` holds every shape to `occurrence_visible`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from tracker.extensions import db
from tracker.models import Occurrence, OrgUnit, Person, Plan, PlanStatus, Task
from tracker.operations.authz import Permission, can, scope_clause, scope_paths


def in_scope(actor: Person | None, path: Any, permission: Permission = Permission.VIEW) -> sa.ColumnElement[bool]:
    """SQL: the unit with this path column lies in `actor`'s scope."""
    return scope_clause(actor, path, permission)


def outside_scope(actor: Person | None, path: Any, permission: Permission = Permission.VIEW
                  ) -> sa.ColumnElement[bool]:
    """SQL: the unit with this path column lies outside `actor`'s scope, as ranges between its subtrees."""
    if actor is None:
        return sa.false()
    roots = scope_paths(actor, permission)  # sorted, none inside another: their prefix ranges are disjoint
    if not roots:
        return sa.true()
    ends = [root[:-1] + "0" for root in roots]
    gaps = [path < roots[0]]
    gaps += [sa.and_(path >= end, path < start) for end, start in zip(ends, roots[1:], strict=False)]
    gaps.append(path >= ends[-1])
    return sa.or_(*gaps)


def _sees_a_whole_tree(actor: Person) -> bool:
    """Whether `actor` may view everything under some root of the org tree (a national viewer)."""
    return any(path.count("/") == 2 for path in scope_paths(actor))


def sees_everything(actor: Person) -> bool:
    """Whether every root of the org tree lies in `actor`'s scope (one short statement, for a national viewer)."""
    if not _sees_a_whole_tree(actor):
        return False
    root = aliased(OrgUnit)
    other_root = sa.exists().where(root.parent_id.is_(None), outside_scope(actor, root.path))
    return db.session.scalar(sa.select(other_root)) is False


def is_only_root(unit: OrgUnit) -> bool:
    """Whether `unit` is the root of the whole org tree (its subtree is every unit: no filter needed)."""
    if unit.parent_id is not None:
        return False
    root = aliased(OrgUnit)
    return db.session.scalar(sa.select(sa.exists().where(root.parent_id.is_(None), root.id != unit.id))) is False


def drafts_have_tasks() -> bool:
    """Whether any draft plan has tasks (a short statement; when none, no query needs to exclude drafts)."""
    return db.session.scalar(sa.select(sa.exists().where(Task.plan_id == Plan.id, Plan.status == PlanStatus.DRAFT))) \
        is True


def _subtree(within: OrgUnit | None, path: Any) -> sa.ColumnElement[bool]:
    return OrgUnit.subtree_clause(within.path, path) if within is not None else sa.true()


def scope_unit_ids(actor: Person, within: OrgUnit | None = None) -> sa.Select[Any]:
    """Ids of the units in `actor`'s scope (and in `within`'s subtree): a range of the path index."""
    unit = aliased(OrgUnit)
    return sa.select(unit.id).where(in_scope(actor, unit.path), _subtree(within, unit.path))


def _tasks_seen_through_report_to_or_issuer(actor: Person) -> sa.Select[Any] | sa.CompoundSelect:
    """Ids of the tasks `actor` sees only because of their report-to or issuing unit (their lead is outside).

    Usually none or few (a province department's commune tasks). An occurrence's lead unit is its task's
    (copied when it is generated), so the lead test is made once per task, not once per occurrence. For a
    narrow scope the tasks are found from the scope's units and plans through the (report_to_unit_id |
    plan_id, lead_unit_id) indexes; for a national viewer "outside" is the (empty) gap between the scope's
    subtrees, from which PostgreSQL starts.
    """
    if _sees_a_whole_tree(actor):
        report_to, lead, issuing, lead2 = aliased(OrgUnit), aliased(OrgUnit), aliased(OrgUnit), aliased(OrgUnit)
        reported = (
            sa.select(Task.id)
            .join(report_to, report_to.id == Task.report_to_unit_id)
            .join(lead, lead.id == Task.lead_unit_id)
            .where(in_scope(actor, report_to.path), outside_scope(actor, lead.path))
        )
        issued = (
            sa.select(Task.id)
            .join(Plan, Plan.id == Task.plan_id)
            .join(issuing, issuing.id == Plan.issuing_unit_id)
            .join(lead2, lead2.id == Task.lead_unit_id)
            .where(in_scope(actor, issuing.path), outside_scope(actor, lead2.path))
        )
        return sa.union_all(reported, issued)
    units = scope_unit_ids(actor)
    reported = sa.select(Task.id).where(Task.report_to_unit_id.in_(units), Task.lead_unit_id.not_in(units))
    plans = sa.select(Plan.id).where(Plan.issuing_unit_id.in_(units))
    issued = sa.select(Task.id).where(Task.plan_id.in_(plans), Task.lead_unit_id.not_in(units))
    return sa.union_all(reported, issued)


def sees_beyond_scope(actor: Person) -> bool:
    """Whether `actor` sees some task only through its report-to or issuing unit (its lead unit lies outside the
    scope): then what the person sees is not the occurrences led in their scope alone. One short statement."""
    return db.session.scalar(sa.select(_tasks_seen_through_report_to_or_issuer(actor).exists())) is True


def visible_occurrences(actor: Person | None, lead: Any, *, within: OrgUnit | None = None
                        ) -> tuple[Any, sa.ColumnElement[bool]]:
    """The occurrences `actor` may see, as what to select from in place of `Occurrence`, and a condition on
    `lead`, the unit the caller joins on its `lead_unit_id` (also restricting to `within`'s subtree).

    - Within a unit the person may view entirely (every page with ?unit=, every roll-up), or for a person who
      may view every root of the tree: `Occurrence` itself, no visibility SQL at all.
    - A national viewer sees nearly everything: `Occurrence` with a row filter, so that a list walks its
      (due_on, id) index and stops after a page.
    - Anyone else: an alias of the UNION ALL of two disjoint branches, each driven by an index from the
      scope's units: the lead unit is in scope (the covering index by lead unit), else the task is seen
      through its report-to or issuing unit. Work grows with what the person may see, not with the country.
    """
    subtree = sa.true() if within is not None and is_only_root(within) else _subtree(within, lead.path)
    if actor is None or (within is not None and can(actor, Permission.VIEW, within)) or sees_everything(actor):
        return Occurrence, subtree
    others = _tasks_seen_through_report_to_or_issuer(actor)
    if _sees_a_whole_tree(actor):
        return Occurrence, sa.and_(subtree, sa.or_(in_scope(actor, lead.path), Occurrence.task_id.in_(others)))
    columns = list(Occurrence.__table__.c)
    own = sa.select(*columns).where(Occurrence.lead_unit_id.in_(scope_unit_ids(actor, within)))
    through = sa.select(*columns).where(Occurrence.task_id.in_(others),
                                        Occurrence.lead_unit_id.not_in(scope_unit_ids(actor)))
    rows = sa.union_all(own, through).subquery("visible_occurrences")
    return aliased(Occurrence, rows, name="visible_occurrences"), subtree


def not_in_draft(occurrence: Any = Occurrence) -> sa.ColumnElement[bool]:
    """SQL: the occurrence's plan is not a draft, without joining every occurrence to its task and plan.

    An anti-join against the (few) tasks of draft plans; NOT EXISTS rather than NOT IN, whose guessed
    selectivity (one half) makes PostgreSQL scan all occurrences instead of a subtree's.
    """
    task, plan = aliased(Task), aliased(Plan)
    return ~sa.exists().where(task.id == occurrence.task_id, plan.id == task.plan_id,
                              plan.status == PlanStatus.DRAFT)


def occurrence_scope(actor: Person | None, lead: Any, report_to: Any, issuing: Any) -> sa.ColumnElement[bool]:
    """SQL row filter: the row's lead, report-to (may be NULL) or issuing unit lies in `actor`'s scope.

    For a few rows already selected by other means; to find visible occurrences among many, use
    `occurrence_visibility`.
    """
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


def visible_plan_ids(actor: Person | None) -> sa.Select[Any] | sa.CompoundSelect:
    """Ids of the plans `actor` may see: issued in scope, or (issued elsewhere) tasking a unit in scope."""
    if actor is None:
        return sa.select(Plan.id)
    if not _sees_a_whole_tree(actor):
        # From the scope's units through the plans' and the tasks' unit indexes.
        units = scope_unit_ids(actor)
        here = sa.select(Plan.id).where(Plan.issuing_unit_id.in_(units))
        led = sa.select(Task.plan_id).where(Task.lead_unit_id.in_(units), Task.plan_id.not_in(here))
        reported = sa.select(Task.plan_id).where(Task.report_to_unit_id.in_(units), Task.plan_id.not_in(here))
        return sa.union(here, led, reported)
    # A national viewer: "issued elsewhere" is the (empty) gap between the scope's subtrees.
    issuing = aliased(OrgUnit)
    issued_here = sa.select(Plan.id).join(issuing, issuing.id == Plan.issuing_unit_id).where(
        in_scope(actor, issuing.path))
    branches: list[sa.Select[Any]] = [issued_here]
    for column in (Task.lead_unit_id, Task.report_to_unit_id):
        unit, elsewhere = aliased(OrgUnit), aliased(OrgUnit)
        branches.append(
            sa.select(Task.plan_id)
            .join(unit, unit.id == column)
            .join(Plan, Plan.id == Task.plan_id)
            .join(elsewhere, elsewhere.id == Plan.issuing_unit_id)
            .where(in_scope(actor, unit.path), outside_scope(actor, elsewhere.path))
        )
    return sa.union(*branches)


def plan_scope(actor: Person | None) -> sa.ColumnElement[bool]:
    """SQL on `Plan`: the plan is issued in scope or tasks a unit in scope."""
    if actor is None or sees_everything(actor):
        return sa.true()
    return Plan.id.in_(visible_plan_ids(actor))


def plan_visible(actor: Person | None, plan_id: int) -> bool:
    """Whether `actor` may see the plan with this id."""
    if actor is None:
        return db.session.get(Plan, plan_id) is not None
    issuing, unit = aliased(OrgUnit), aliased(OrgUnit)
    issued_here = (
        sa.select(Plan.id).join(issuing, issuing.id == Plan.issuing_unit_id)
        .where(Plan.id == plan_id, in_scope(actor, issuing.path))
    )
    tasks_here = (
        sa.select(Task.plan_id)
        .join(unit, sa.or_(unit.id == Task.lead_unit_id, unit.id == Task.report_to_unit_id))
        .where(Task.plan_id == plan_id, in_scope(actor, unit.path))
        .limit(1)
    )
    return db.session.scalar(sa.select(sa.or_(issued_here.exists(), tasks_here.exists()))) is True
