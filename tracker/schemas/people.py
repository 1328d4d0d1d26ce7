"""The signed-in person (GET /api/v1/me)."""

from __future__ import annotations

from tracker.models import Role
from tracker.schemas.base import BaseSchema, Enum, Integer, List, Nested, String, UnitRefSchema


class RoleAssignmentSchema(BaseSchema):
    role = Enum(Role, dump_only=True)
    unit = Nested(UnitRefSchema, dump_only=True)


class PersonSchema(BaseSchema):
    id = Integer(dump_only=True)
    username = String(dump_only=True)
    full_name = String(dump_only=True)
    title = String(dump_only=True, allow_none=True)
    email = String(dump_only=True, allow_none=True)
    locale = String(dump_only=True)
    roles = List(Nested(RoleAssignmentSchema), dump_only=True)
