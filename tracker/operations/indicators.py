"""Indicators and their yearly targets."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from tracker.extensions import db
from tracker.models import Comparator, Direction, Indicator, IndicatorTarget, OrgUnit, Person, Plan
from tracker.operations import audit
from tracker.operations.authz import Permission, require
from tracker.operations.errors import ValidationFailed
from tracker.operations.references import check_own_unit

#: Values are stored as NUMERIC(18, 4): anything at or beyond this cannot be stored.
MAX_VALUE = Decimal("1e14")


def create_indicator(
    actor: Person | None,
    plan: Plan,
    *,
    name: str,
    unit_of_measure: str = "",
    direction: Direction = Direction.INCREASE,
) -> Indicator:
    """Add an indicator to a plan, or return the plan's indicator with that name."""
    require(actor, Permission.MANAGE_PLANS, plan.issuing_unit)
    name = " ".join((name or "").split())[:512]
    if not name:
        raise ValidationFailed(_l("An indicator needs a name."), field="name")
    existing = db.session.scalar(sa.select(Indicator).where(Indicator.plan_id == plan.id, Indicator.name == name))
    if existing is not None:
        return existing
    indicator = Indicator(plan_id=plan.id, name=name, unit_of_measure=(unit_of_measure or "")[:64],
                          direction=direction)
    db.session.add(indicator)
    db.session.flush()
    audit.record("indicator.create", indicator, actor, unit_id=plan.issuing_unit_id,
                 after={"name": name, "unit_of_measure": indicator.unit_of_measure})
    return indicator


def set_target(
    actor: Person | None,
    indicator: Indicator,
    *,
    unit: OrgUnit,
    year: int,
    value: object,
    comparator: Comparator = Comparator.AT_LEAST,
) -> IndicatorTarget:
    """Set (or change) the target of an indicator for a unit and a year.

    Those who manage the indicator's plan set its targets, for units under the plan's issuing unit (an
    indicator of no plan: those who manage plans of the unit).
    """
    plan = db.session.get(Plan, indicator.plan_id) if indicator.plan_id is not None else None
    if plan is not None:
        require(actor, Permission.MANAGE_PLANS, plan.issuing_unit)
        check_own_unit(plan.issuing_unit, unit, "unit_id")
    require(actor, Permission.MANAGE_PLANS, unit)
    if not 1990 <= int(year) <= 2100:
        raise ValidationFailed(_l("The year %(year)s is not plausible."), field="year", year=year)
    try:
        number = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise ValidationFailed(_l("%(value)s is not a number."), field="value", value=value)
    if not number.is_finite() or abs(number) >= MAX_VALUE:
        raise ValidationFailed(_l("%(value)s is not a number."), field="value", value=value)
    target = db.session.scalar(sa.select(IndicatorTarget).where(
        IndicatorTarget.indicator_id == indicator.id, IndicatorTarget.unit_id == unit.id,
        IndicatorTarget.year == int(year),
    ))
    before = audit.snapshot(target, ("value", "comparator")) if target else None
    if target is None:
        target = IndicatorTarget(indicator=indicator, unit=unit, year=int(year), value=number, comparator=comparator)
        db.session.add(target)
    else:
        target.value, target.comparator = number, comparator
    db.session.flush()
    audit.record("indicator.set_target", target, actor, unit_id=unit.id, before=before,
                 after={"year": int(year), "value": number, "comparator": comparator.value})
    return target
