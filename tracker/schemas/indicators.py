"""Indicators and their yearly targets per unit."""

from __future__ import annotations

from tracker.models import Comparator, Direction
from tracker.schemas.base import (
    BaseSchema,
    Enum,
    Figure,
    Float,
    Id,
    Integer,
    Length,
    List,
    Nested,
    PageQuerySchema,
    QueryId,
    String,
)


class IndicatorTargetSchema(BaseSchema):
    id = Integer(dump_only=True)
    unit_id = Integer(dump_only=True)
    year = Integer(dump_only=True)
    value = Float(dump_only=True)
    comparator = Enum(Comparator, dump_only=True)


class IndicatorSchema(BaseSchema):
    id = Integer(dump_only=True)
    plan_id = Integer(dump_only=True, allow_none=True)
    name = String(dump_only=True)
    unit_of_measure = String(dump_only=True)
    direction = Enum(Direction, dump_only=True)
    targets = List(Nested(IndicatorTargetSchema), dump_only=True)


class IndicatorCreateSchema(BaseSchema):
    plan_id = Id(required=True)
    name = String(required=True, validate=Length(min=1, max=512))
    unit_of_measure = String(load_default="", validate=Length(max=64))
    direction = Enum(Direction, load_default=Direction.INCREASE)


class IndicatorTargetUpdateSchema(BaseSchema):
    value = Figure(required=True)
    comparator = Enum(Comparator, load_default=Comparator.AT_LEAST)


class IndicatorQuerySchema(PageQuerySchema):
    plan_id = QueryId()
