"""Org units."""

from __future__ import annotations

from tracker.models import UnitKind
from tracker.schemas.base import (
    BaseSchema,
    Boolean,
    DateTime,
    Enum,
    Id,
    Integer,
    Length,
    PageQuerySchema,
    QueryBoolean,
    QueryId,
    String,
)


class OrgUnitSchema(BaseSchema):
    id = Integer(dump_only=True)
    parent_id = Integer(dump_only=True, allow_none=True)
    name = String(dump_only=True)
    short_name = String(dump_only=True, allow_none=True)
    kind = Enum(UnitKind, dump_only=True)
    is_administrative = Boolean(dump_only=True)
    code = String(dump_only=True, allow_none=True)
    depth = Integer(dump_only=True)
    admin_unit_id = Integer(dump_only=True, allow_none=True)
    is_archived = Boolean(dump_only=True)
    created_at = DateTime(dump_only=True)


class OrgUnitCreateSchema(BaseSchema):
    parent_id = Id(required=True)
    name = String(required=True, validate=Length(min=1, max=255))
    kind = Enum(UnitKind, required=True)
    short_name = String(load_default=None, allow_none=True, validate=Length(max=64))
    code = String(load_default=None, allow_none=True, validate=Length(max=32))
    is_administrative = Boolean(load_default=None, allow_none=True,
                                metadata={"description": "Default: true for country, province, district, commune."})


class OrgUnitQuerySchema(PageQuerySchema):
    parent_id = QueryId(metadata={"description": "Only the direct children of this unit."})
    within = QueryId(metadata={"description": "Only this unit and its subtree."})
    kind = Enum(UnitKind)
    include_archived = QueryBoolean(load_default=False)
