"""Occurrences (a task's due dates), the actions on them, comments and requests for more time."""

from __future__ import annotations

from tracker.models import ExtensionStatus, OccurrenceStatus
from tracker.schemas.base import (
    BaseSchema,
    Boolean,
    Date,
    DateTime,
    Enum,
    Integer,
    Items,
    Length,
    List,
    Nested,
    PageQuerySchema,
    QueryBigId,
    QueryId,
    String,
    UnitRefSchema,
    plausible_dates,
)

MAX_TEXT = 20_000


class PlanRefSchema(BaseSchema):
    id = Integer(dump_only=True)
    number = String(dump_only=True, allow_none=True)
    title = String(dump_only=True)


class TaskRefSchema(BaseSchema):
    id = Integer(dump_only=True)
    title = String(dump_only=True)
    section_code = String(dump_only=True, allow_none=True, dump_default=None, attribute="section.code")
    plan = Nested(PlanRefSchema, dump_only=True)
    report_to_unit = Nested(UnitRefSchema, dump_only=True, allow_none=True)


class OccurrenceSchema(BaseSchema):
    id = Integer(dump_only=True)
    task = Nested(TaskRefSchema, dump_only=True)
    lead_unit = Nested(UnitRefSchema, dump_only=True)
    period_key = String(dump_only=True)
    period_label = String(dump_only=True, allow_none=True)
    period_start_on = Date(dump_only=True, allow_none=True)
    period_end_on = Date(dump_only=True, allow_none=True)
    due_on = Date(dump_only=True)
    original_due_on = Date(dump_only=True)
    status = Enum(OccurrenceStatus, dump_only=True,
                  metadata={"description": "Derived from the due date, completion and today (local time)."})
    completed_at = DateTime(dump_only=True, allow_none=True)
    completed_on = Date(dump_only=True, allow_none=True)
    completed_by_id = Integer(dump_only=True, allow_none=True)
    cancelled_at = DateTime(dump_only=True, allow_none=True)
    escalation_level = Integer(dump_only=True)


class OccurrenceQuerySchema(PageQuerySchema):
    unit_id = QueryId(metadata={"description": "Lead units in this unit's subtree."})
    status = List(Enum(OccurrenceStatus), validate=Items(max=len(OccurrenceStatus)),
                  metadata={"description": "Repeat for several: status=overdue&status=due_soon"})
    due_from = Date(metadata={"description": "Due on or after this date."})
    due_to = Date(metadata={"description": "Due on or before this date."})
    plan_id = QueryId()


class MarkDoneSchema(BaseSchema):
    note = String(load_default="", validate=Length(max=MAX_TEXT))


class CommentSchema(BaseSchema):
    id = Integer(dump_only=True)
    occurrence_id = Integer(dump_only=True)
    author_id = Integer(dump_only=True)
    author_name = String(dump_only=True, attribute="author.full_name")
    body = String(dump_only=True)
    created_at = DateTime(dump_only=True)


class CommentCreateSchema(BaseSchema):
    body = String(required=True, validate=Length(min=1, max=5000))


class ExtensionRequestSchema(BaseSchema):
    id = Integer(dump_only=True)
    occurrence_id = Integer(dump_only=True)
    requested_by_id = Integer(dump_only=True)
    requested_due_on = Date(dump_only=True)
    reason = String(dump_only=True)
    status = Enum(ExtensionStatus, dump_only=True)
    decided_by_id = Integer(dump_only=True, allow_none=True)
    decided_at = DateTime(dump_only=True, allow_none=True)
    decision_note = String(dump_only=True, allow_none=True)
    created_at = DateTime(dump_only=True)


class ExtensionRequestCreateSchema(BaseSchema):
    requested_due_on = Date(required=True, validate=plausible_dates())
    reason = String(required=True, validate=Length(min=1, max=MAX_TEXT))


class ExtensionDecisionSchema(BaseSchema):
    approve = Boolean(required=True)
    note = String(load_default="", validate=Length(max=MAX_TEXT))


class ExtensionRequestQuerySchema(PageQuerySchema):
    status = Enum(ExtensionStatus)
    occurrence_id = QueryBigId()
    unit_id = QueryId(metadata={"description": "Lead units in this unit's subtree."})
