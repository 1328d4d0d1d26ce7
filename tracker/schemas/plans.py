"""Plans and their tasks."""

from __future__ import annotations

from tracker.models import PlanStatus, TaskStatus
from tracker.schemas.base import (
    BaseSchema,
    Date,
    DateTime,
    Enum,
    Id,
    Integer,
    Items,
    Length,
    List,
    Nested,
    PageQuerySchema,
    QueryId,
    QueryInteger,
    Range,
    String,
    UnitRefSchema,
    plausible_dates,
)


class PlanSchema(BaseSchema):
    id = Integer(dump_only=True)
    number = String(dump_only=True, allow_none=True)
    title = String(dump_only=True)
    status = Enum(PlanStatus, dump_only=True)
    issuing_unit = Nested(UnitRefSchema, dump_only=True)
    focal_unit = Nested(UnitRefSchema, dump_only=True, allow_none=True)
    issued_on = Date(dump_only=True, allow_none=True)
    year = Integer(dump_only=True, allow_none=True)
    period_start_on = Date(dump_only=True, allow_none=True)
    period_end_on = Date(dump_only=True, allow_none=True)
    implements = String(dump_only=True, allow_none=True)
    activated_at = DateTime(dump_only=True, allow_none=True)
    created_at = DateTime(dump_only=True)


class PlanCreateSchema(BaseSchema):
    title = String(required=True, validate=Length(min=1, max=2000))
    issuing_unit_id = Id(required=True)
    number = String(load_default=None, allow_none=True, validate=Length(max=64))
    issued_on = Date(load_default=None, allow_none=True, validate=plausible_dates())
    year = Integer(load_default=None, allow_none=True, validate=Range(min=1990, max=2100))
    period_start_on = Date(load_default=None, allow_none=True, validate=plausible_dates())
    period_end_on = Date(load_default=None, allow_none=True, validate=plausible_dates())
    implements = String(load_default=None, allow_none=True, validate=Length(max=5000))
    focal_unit_id = Id(load_default=None, allow_none=True)


class PlanQuerySchema(PageQuerySchema):
    status = Enum(PlanStatus)
    year = QueryInteger(validate=Range(min=1990, max=2100))
    issuing_unit_id = QueryId(metadata={"description": "Plans issued by this unit or a unit in its subtree."})


class TaskSchema(BaseSchema):
    id = Integer(dump_only=True)
    plan_id = Integer(dump_only=True)
    section_code = String(dump_only=True, allow_none=True, dump_default=None, attribute="section.code")
    title = String(dump_only=True)
    description = String(dump_only=True, allow_none=True)
    status = Enum(TaskStatus, dump_only=True)
    lead_unit = Nested(UnitRefSchema, dump_only=True, allow_none=True)
    report_to_unit = Nested(UnitRefSchema, dump_only=True, allow_none=True)
    coordinating_units = List(Nested(UnitRefSchema), dump_only=True)
    due_on = Date(dump_only=True, allow_none=True)
    extra_due_dates = List(String(), dump_only=True, allow_none=True)
    recurrence = String(dump_only=True, allow_none=True)
    source_text = String(dump_only=True, allow_none=True)


class TaskCreateSchema(BaseSchema):
    title = String(required=True, validate=Length(min=1, max=5000))
    lead_unit_id = Id(required=True)
    section_code = String(load_default=None, allow_none=True, validate=Length(max=64))
    description = String(load_default=None, allow_none=True, validate=Length(max=20000))
    report_to_unit_id = Id(load_default=None, allow_none=True)
    coordinating_unit_ids = List(Id(), load_default=list, validate=Items(max=100))
    due_dates = List(Date(validate=plausible_dates()), load_default=list, validate=Items(max=100),
                     metadata={"description": "Deadlines (each becomes an occurrence)."})
    recurrence = String(load_default=None, allow_none=True, validate=Length(max=255),
                        metadata={"description": 'monthly, quarterly, semiannual, annual, a comma list, '
                                                 'or "RRULE:...".'})
    source_text = String(load_default=None, allow_none=True, validate=Length(max=20000))

