"""Which of a plan's indicators a unit reports on a task."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Indicator, IndicatorTarget, IndicatorValue, Occurrence, Report, Task

#: A plan's indicator list is short (a dozen in the real plans); this bounds a hostile or broken import.
MAX_INDICATORS = 100


def report_indicators(task: Task, unit_id: int) -> list[Indicator]:
    """The indicators of the task's plan assigned to a unit: those with a target set for the unit (any year),
    those the unit has already given figures for, and those given on the same duty by the units it was fanned
    out to with this one (the plan's "các thôn": tasks of the same plan, section and title). The commune-wide
    targets of the issuing unit are the commune's, not every office's and village's under it. One statement."""
    targeted = sa.exists().where(IndicatorTarget.indicator_id == Indicator.id, IndicatorTarget.unit_id == unit_id)
    reported = sa.exists().where(IndicatorValue.indicator_id == Indicator.id, IndicatorValue.unit_id == unit_id)
    same_duty = (
        sa.select(Task.id).where(Task.plan_id == task.plan_id, Task.title == task.title,
                                 Task.section_id.is_(None) if task.section_id is None
                                 else Task.section_id == task.section_id)
    )
    on_the_duty = sa.exists().where(
        IndicatorValue.indicator_id == Indicator.id, IndicatorValue.report_id == Report.id,
        Report.occurrence_id == Occurrence.id, Occurrence.task_id.in_(same_duty),
    )
    return list(db.session.scalars(
        sa.select(Indicator).where(Indicator.plan_id == task.plan_id, sa.or_(targeted, reported, on_the_duty))
        .order_by(Indicator.id).limit(MAX_INDICATORS)
    ))
