"""The periodic report through the API: what to ask for, and the draft's content as JSON."""

from __future__ import annotations

import enum

from tracker.schemas.base import (
    BaseSchema,
    Boolean,
    Date,
    Enum,
    Float,
    Integer,
    Length,
    List,
    Nested,
    QueryId,
    String,
)


class ReportFormat(enum.StrEnum):
    JSON = "json"
    DOCX = "docx"
    XLSX = "xlsx"


class ReportQuerySchema(BaseSchema):
    period = String(required=True, validate=Length(min=1, max=40), metadata={
        "description": "2025 (a year), 2025-H1 / 2025-H2 (a half), 2025-Q3 (a quarter) or 2025-01-01..2025-06-30.",
        "example": "2025-H1"})
    format = Enum(ReportFormat, load_default=ReportFormat.JSON, metadata={
        "description": "json: the draft's content; docx: the report laid out as an administrative document "
                       "(Decree 30/2020); xlsx: its Excel companion (the indicators in the plan's appendix "
                       "layout)."})
    number = String(load_default=None, validate=Length(max=64),
                    metadata={"description": "The number and symbol, e.g. 12/BC-UBND (blank by default)."})


class PlanReportQuerySchema(ReportQuerySchema):
    rollup_unit_id = QueryId(load_default=None, metadata={
        "description": "Roll up over the units directly below this one (a province over its communes), side by "
                       "side."})
    issuer_unit_id = QueryId(load_default=None, metadata={
        "description": "The unit issuing the report (default: the roll-up unit, else the plan's issuing unit)."})


class HeadingSchema(BaseSchema):
    governing_body = String(dump_only=True)
    issuing_body = String(dump_only=True)
    number = String(dump_only=True)
    place_and_date = String(dump_only=True)
    kind = String(dump_only=True)
    subject = String(dump_only=True)
    signer_authority = String(dump_only=True)
    signer_title = String(dump_only=True)
    signer_name = String(dump_only=True)
    recipients = List(String(), dump_only=True)


class PeriodSchema(BaseSchema):
    key = String(dump_only=True)
    label = String(dump_only=True)
    start = Date(dump_only=True)
    end = Date(dump_only=True)


class SummarySchema(BaseSchema):
    total = Integer(dump_only=True)
    due = Integer(dump_only=True, metadata={"description": "Done or overdue (expected so far)."})
    on_time = Integer(dump_only=True)
    late = Integer(dump_only=True)
    overdue = Integer(dump_only=True)
    not_due = Integer(dump_only=True)
    units = Integer(dump_only=True)
    completion = Float(dump_only=True, allow_none=True)
    timeliness = Float(dump_only=True, allow_none=True)


class QuoteSchema(BaseSchema):
    text = String(dump_only=True)
    submitted_on = Date(dump_only=True)
    days_late = Integer(dump_only=True)
    pending = Boolean(dump_only=True, metadata={"description": "Submitted, not yet accepted."})
    period_label = String(dump_only=True, allow_none=True)


class OwedSchema(BaseSchema):
    due_on = Date(dump_only=True)
    overdue = Boolean(dump_only=True)
    days_late = Integer(dump_only=True)
    returned = Boolean(dump_only=True)
    period_label = String(dump_only=True, allow_none=True)


class UnitEntrySchema(BaseSchema):
    unit_id = Integer(dump_only=True)
    unit_name = String(dump_only=True)
    quotes = List(Nested(QuoteSchema), dump_only=True)
    owed = List(Nested(OwedSchema), dump_only=True)


class GroupFigureSchema(BaseSchema):
    name = String(dump_only=True)
    unit_of_measure = String(dump_only=True)
    value = Float(dump_only=True)
    reporting = Integer(dump_only=True)
    total = Integer(dump_only=True)


class EntrySchema(BaseSchema):
    """A unit, or a group of sibling units given the same task (members, reported/total, summed figures)."""

    unit_id = Integer(dump_only=True)
    unit_name = String(dump_only=True)
    quotes = List(Nested(QuoteSchema), dump_only=True)
    owed = List(Nested(OwedSchema), dump_only=True)
    label = String(dump_only=True)
    members = List(Nested(UnitEntrySchema), dump_only=True)
    reported = Integer(dump_only=True)
    total = Integer(dump_only=True)
    figures = List(Nested(GroupFigureSchema), dump_only=True)


class SectionSchema(BaseSchema):
    code = String(dump_only=True, allow_none=True)
    title = String(dump_only=True)
    entries = List(Nested(EntrySchema), dump_only=True)


class PlanBlockSchema(BaseSchema):
    plan_id = Integer(dump_only=True)
    number = String(dump_only=True, allow_none=True)
    reference = String(dump_only=True)
    sections = List(Nested(SectionSchema), dump_only=True)


class IndicatorLineSchema(BaseSchema):
    indicator_id = Integer(dump_only=True)
    plan_id = Integer(dump_only=True, allow_none=True)
    name = String(dump_only=True)
    unit_of_measure = String(dump_only=True)
    target_unit = String(dump_only=True)
    year = Integer(dump_only=True)
    target = Float(dump_only=True)
    comparator = String(dump_only=True)
    actual = Float(dump_only=True, allow_none=True)
    ratio = Float(dump_only=True, allow_none=True)
    achieved = Boolean(dump_only=True, allow_none=True)
    reporting_units = Integer(dump_only=True)


class ItemSchema(BaseSchema):
    unit_name = String(dump_only=True)
    title = String(dump_only=True)
    plan_number = String(dump_only=True, allow_none=True)
    due_on = Date(dump_only=True)
    days = Integer(dump_only=True, metadata={"description": "Days late (overdue or done late); 0 otherwise."})
    note = String(dump_only=True)
    period_label = String(dump_only=True, allow_none=True)


class ReturnedSchema(BaseSchema):
    unit_name = String(dump_only=True)
    title = String(dump_only=True)
    plan_number = String(dump_only=True, allow_none=True)
    submitted_on = Date(dump_only=True)
    returned_on = Date(dump_only=True, allow_none=True)
    comment = String(dump_only=True)
    resubmitted = Boolean(dump_only=True)


class ExtensionSchema(BaseSchema):
    unit_name = String(dump_only=True)
    title = String(dump_only=True)
    plan_number = String(dump_only=True, allow_none=True)
    from_on = Date(dump_only=True)
    to_on = Date(dump_only=True)
    reason = String(dump_only=True)
    decided_on = Date(dump_only=True, allow_none=True)


class RollupRowSchema(BaseSchema):
    unit_id = Integer(dump_only=True)
    unit_name = String(dump_only=True)
    is_self = Boolean(dump_only=True, metadata={"description": "The roll-up unit's own tasks."})
    expected = Integer(dump_only=True, attribute="stats.expected")
    on_time = Integer(dump_only=True, attribute="stats.on_time")
    late = Integer(dump_only=True, attribute="stats.late")
    overdue = Integer(dump_only=True, attribute="stats.overdue")
    not_due = Integer(dump_only=True, attribute="stats.open_not_due")


class ChildFigureSchema(BaseSchema):
    indicator_id = Integer(dump_only=True)
    name = String(dump_only=True)
    unit_of_measure = String(dump_only=True)
    unit_id = Integer(dump_only=True, attribute="child_id")
    target = Float(dump_only=True, allow_none=True)
    value = Float(dump_only=True, allow_none=True)
    reporting_units = Integer(dump_only=True)


class RollupSchema(BaseSchema):
    unit_id = Integer(dump_only=True, attribute="parent_id")
    unit_name = String(dump_only=True, attribute="parent_name")
    rows = List(Nested(RollupRowSchema), dump_only=True)
    figures = List(Nested(ChildFigureSchema), dump_only=True, attribute="figure_list")


class PeriodicReportSchema(BaseSchema):
    heading = Nested(HeadingSchema, dump_only=True)
    period = Nested(PeriodSchema, dump_only=True)
    next_period = Nested(PeriodSchema, dump_only=True)
    as_of = Date(dump_only=True)
    intro = String(dump_only=True)
    closing = String(dump_only=True)
    summary = Nested(SummarySchema, dump_only=True)
    late_units = List(String(), dump_only=True)
    silent_units = List(String(), dump_only=True, metadata={"description": "Units owing a report, none in."})
    plans = List(Nested(PlanBlockSchema), dump_only=True)
    indicators = List(Nested(IndicatorLineSchema), dump_only=True)
    overdue = List(Nested(ItemSchema), dump_only=True)
    late = List(Nested(ItemSchema), dump_only=True)
    returned = List(Nested(ReturnedSchema), dump_only=True)
    extensions = List(Nested(ExtensionSchema), dump_only=True)
    next_items = List(Nested(ItemSchema), dump_only=True)
    rollup = Nested(RollupSchema, dump_only=True, allow_none=True)
