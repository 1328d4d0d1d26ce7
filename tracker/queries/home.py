"""Read-side SQL for the public home page of a demo instance: each demo plan, its counts and its most
urgent tasks.

Only plans imported from the bundled demo documents (matched by content hash) are ever shown, and only
when `SHOW_DEMO_ON_HOME` is on, so a real deployment's data never reaches an anonymous visitor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Occurrence, OccurrenceStatus, OrgUnit, Plan, PlanDocument, PlanStatus, StatusClock, Task

#: Overdue first, then what is due soon, then the rest; done and cancelled last.
_URGENCY = [
    OccurrenceStatus.OVERDUE.value,
    OccurrenceStatus.DUE_SOON.value,
    OccurrenceStatus.NOT_DUE.value,
    OccurrenceStatus.DONE_LATE.value,
    OccurrenceStatus.DONE_ON_TIME.value,
    OccurrenceStatus.CANCELLED.value,
]


@dataclass(frozen=True)
class ShowcaseRow:
    title: str
    unit_name: str | None
    due_on: date
    status: str


@dataclass
class ShowcasePlan:
    plan_id: int
    label: str  # the plan's number, or its title when the document left the number blank
    issuer: str
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[ShowcaseRow] = field(default_factory=list)


@dataclass
class Showcase:
    """What the home page shows of the demo: per plan, counts by status and the most urgent rows."""

    plans: list[ShowcasePlan] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(plan.counts.values()) for plan in self.plans)

    @property
    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for plan in self.plans:
            for status, n in plan.counts.items():
                totals[status] = totals.get(status, 0) + n
        return totals


def demo_showcase(document_hashes: Iterable[str], clock: StatusClock, *, rows_per_plan: int = 6) -> Showcase:
    """Three statements whatever the size: the plans, their counts by status, their top rows."""
    hashes = sorted(document_hashes)
    if not hashes:
        return Showcase()
    plans_query = (
        sa.select(Plan.id, Plan.number, Plan.title, OrgUnit.name.label("issuer"))
        .join(PlanDocument, PlanDocument.id == Plan.document_id)
        .join(OrgUnit, OrgUnit.id == Plan.issuing_unit_id)
        .where(PlanDocument.sha256.in_(hashes), Plan.status == PlanStatus.ACTIVE)
        .order_by(Plan.id)
    )
    plans = {
        row.id: ShowcasePlan(row.id, row.number or row.title, row.issuer) for row in db.session.execute(plans_query)
    }
    if not plans:
        return Showcase()

    status = Occurrence.status_expression(clock)
    of_plans = (
        sa.select(Task.plan_id)
        .select_from(Occurrence)
        .join(Task, Task.id == Occurrence.task_id)
        .where(Task.plan_id.in_(list(plans)))
    )
    counted = of_plans.add_columns(status.label("status"), sa.func.count().label("n")).group_by(Task.plan_id, status)
    for row in db.session.execute(counted):
        plans[row.plan_id].counts[row.status] = row.n

    urgency = sa.case({value: rank for rank, value in enumerate(_URGENCY)}, value=status)
    ranked = (
        of_plans.add_columns(
            Task.title, OrgUnit.name.label("unit_name"), Occurrence.due_on, status.label("status"),
            sa.func.row_number()
            .over(partition_by=Task.plan_id, order_by=(urgency, Occurrence.due_on, Occurrence.id))
            .label("rank"),
        )
        .outerjoin(OrgUnit, OrgUnit.id == Task.lead_unit_id)
        .subquery()
    )
    top = sa.select(ranked).where(ranked.c.rank <= rows_per_plan).order_by(ranked.c.plan_id, ranked.c.rank)
    for row in db.session.execute(top):
        plans[row.plan_id].rows.append(ShowcaseRow(row.title, row.unit_name, row.due_on, row.status))
    return Showcase(plans=list(plans.values()))
