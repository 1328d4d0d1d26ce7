"""Indicators with yearly targets per unit (values reported live in occurrences.IndicatorValue)."""

from __future__ import annotations

import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, TimestampMixin, enum_type
from tracker.models.org import OrgUnit


class Direction(enum.StrEnum):
    """Which way is better: a poverty rate should fall, an insurance coverage rate rise."""

    INCREASE = "increase"
    DECREASE = "decrease"
    MAINTAIN = "maintain"


class Comparator(enum.StrEnum):
    AT_LEAST = "at_least"  # "trên", "đạt", "ít nhất"
    AT_MOST = "at_most"  # "dưới", "không quá"
    EQUAL = "equal"


class Indicator(TimestampMixin, Base):
    __tablename__ = "indicators"
    __table_args__ = (sa.UniqueConstraint("plan_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(512))
    unit_of_measure: Mapped[str] = mapped_column(sa.String(64), default="")
    direction: Mapped[Direction] = mapped_column(enum_type(Direction), default=Direction.INCREASE)

    targets: Mapped[list[IndicatorTarget]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", order_by="IndicatorTarget.year"
    )

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "name")


class IndicatorTarget(Base):
    __tablename__ = "indicator_targets"
    __table_args__ = (sa.UniqueConstraint("indicator_id", "unit_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicators.id", ondelete="CASCADE"))
    #: The unit the target is set for (the plan's issuing unit, or a responsible unit).
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    value: Mapped[Decimal] = mapped_column(sa.Numeric(18, 4))
    comparator: Mapped[Comparator] = mapped_column(enum_type(Comparator), default=Comparator.AT_LEAST)

    indicator: Mapped[Indicator] = relationship(back_populates="targets")
    unit: Mapped[OrgUnit] = relationship()
