"""Reports submitted against occurrences, their files and figures, and their review."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import marshmallow as ma

from tracker.models import ReviewStatus
from tracker.schemas.base import (
    N_,
    BaseSchema,
    Boolean,
    Date,
    DateTime,
    Enum,
    Figure,
    Float,
    Id,
    Integer,
    Items,
    Length,
    List,
    Nested,
    PageQuerySchema,
    QueryBigId,
    QueryId,
    String,
)
from tracker.schemas.occurrences import MAX_TEXT


class AttachmentSchema(BaseSchema):
    id = Integer(dump_only=True)
    filename = String(dump_only=True)
    content_type = String(dump_only=True)
    size_bytes = Integer(dump_only=True)
    sha256 = String(dump_only=True)


class IndicatorValueSchema(BaseSchema):
    indicator_id = Integer(dump_only=True)
    unit_id = Integer(dump_only=True)
    year = Integer(dump_only=True)
    value = Float(dump_only=True)


class ReportSchema(BaseSchema):
    id = Integer(dump_only=True)
    occurrence_id = Integer(dump_only=True)
    submitted_by_id = Integer(dump_only=True)
    submitted_at = DateTime(dump_only=True)
    submitted_on = Date(dump_only=True)
    body = String(dump_only=True)
    is_late = Boolean(dump_only=True)
    review_status = Enum(ReviewStatus, dump_only=True)
    reviewed_by_id = Integer(dump_only=True, allow_none=True)
    reviewed_at = DateTime(dump_only=True, allow_none=True)
    review_comment = String(dump_only=True, allow_none=True)
    attachments = List(Nested(AttachmentSchema), dump_only=True)
    values = List(Nested(IndicatorValueSchema), dump_only=True)


class IndicatorValueCreateSchema(BaseSchema):
    indicator_id = Id(required=True)
    value = Figure(required=True, metadata={"description": "A number (2.03), or a numeric string."})


class ReportCreateSchema(BaseSchema):
    """A report as JSON, or as multipart/form-data with `attachments` files and `values` as JSON text."""

    body = String(load_default="", validate=Length(max=MAX_TEXT))
    values = List(Nested(IndicatorValueCreateSchema), load_default=list, validate=Items(max=200),
                  metadata={"description": "Figures for the plan's indicators."})

    @ma.pre_load
    def _values_from_form(self, data: Any, **_kw: Any) -> Any:
        """A multipart form (a webargs MultiDictProxy, not a dict) carries `values` as one JSON text."""
        if isinstance(data, dict) or not isinstance(data, Mapping):
            return data
        fields = {key: data[key] for key in data}
        raw = fields.get("values")
        if raw is not None:
            texts = raw if isinstance(raw, list) else [raw]
            if len(texts) != 1 or not isinstance(texts[0], str):
                raise ma.ValidationError(N_("Not a valid list."), field_name="values")
            try:
                fields["values"] = json.loads(texts[0] or "[]")
            except ValueError:
                raise ma.ValidationError(N_("Not a valid list."), field_name="values")
        return fields

    @ma.validates_schema  # after the fields: only well-formed figures reach it
    def _each_indicator_once(self, data: dict[str, Any], **_kw: Any) -> None:
        ids = [v["indicator_id"] for v in data.get("values", [])]
        if len(ids) != len(set(ids)):
            raise ma.ValidationError(N_("Each indicator may appear only once."), field_name="values")


class ReviewSchema(BaseSchema):
    comment = String(load_default="", validate=Length(max=MAX_TEXT))


class ReturnSchema(BaseSchema):
    comment = String(required=True, validate=Length(min=1, max=MAX_TEXT),
                     metadata={"description": "Why the report goes back to the unit."})


class ReportQuerySchema(PageQuerySchema):
    occurrence_id = QueryBigId()
    review_status = Enum(ReviewStatus)
    unit_id = QueryId(metadata={"description": "Lead units in this unit's subtree."})
    plan_id = QueryId()
