"""Which of a plan's indicators a unit reports."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Indicator, IndicatorTarget, IndicatorValue

#: A plan's indicator list is short (a dozen in the real plans); this bounds a hostile or broken import.
MAX_INDICATORS = 100


def report_indicators(plan_id: int, unit_id: int) -> list[Indicator]:
    """The plan's indicators assigned to a unit: those with a target set for the unit (any year), and those
    the unit has already given figures for. One statement; the commune-wide targets of the issuing unit are
    the commune's, not every office's and village's under it."""
    targeted = sa.exists().where(IndicatorTarget.indicator_id == Indicator.id, IndicatorTarget.unit_id == unit_id)
    reported = sa.exists().where(IndicatorValue.indicator_id == Indicator.id, IndicatorValue.unit_id == unit_id)
    return list(db.session.scalars(
        sa.select(Indicator).where(Indicator.plan_id == plan_id, sa.or_(targeted, reported))
        .order_by(Indicator.id).limit(MAX_INDICATORS)
    ))
