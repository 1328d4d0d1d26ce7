"""Org units: the tree you may see, and creating units (admins)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from tracker.blueprints.api.common import PAGINATION_HEADERS, ApiBlueprint, actor, get_or_404, paged
from tracker.extensions import db
from tracker.models import OrgUnit
from tracker.operations import units as ops
from tracker.operations.authz import Permission, can
from tracker.operations.errors import Conflict, PermissionDenied, ValidationFailed
from tracker.queries import listing
from tracker.schemas.units import OrgUnitCreateSchema, OrgUnitQuerySchema, OrgUnitSchema

blp = ApiBlueprint("api_units", __name__, url_prefix="/api/v1/units", section="Đơn vị (Units)",
                   description="Cây tổ chức: các cấp hành chính và đơn vị trực thuộc. — The organisation tree.")

NOT_FOUND = _l("No unit with id %(id)s.")


def unit_or_invalid(unit_id: int | None, field: str) -> OrgUnit | None:
    """The unit a request body names, or a 422 on that field."""
    if unit_id is None:
        return None
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None:
        raise ValidationFailed(_l("No unit with id %(id)s."), field=field, id=unit_id)
    return unit


@blp.route("", methods=["GET"])
@blp.arguments(OrgUnitQuerySchema, location="query")
@blp.response(200, OrgUnitSchema(many=True), headers=PAGINATION_HEADERS)
def list_units(args: dict[str, Any]) -> Any:
    """Units in your scope, in tree order."""
    page = listing.list_units(
        actor(), parent_id=args.get("parent_id"), within_id=args.get("within"), kind=args.get("kind"),
        include_archived=args["include_archived"], page=args["page"], page_size=args["page_size"],
    )
    return paged(page, args)


@blp.route("/<id:unit_id>", methods=["GET"])
@blp.response(200, OrgUnitSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def get_unit(unit_id: int) -> Any:
    """One unit of your scope."""
    unit = get_or_404(OrgUnit, unit_id, NOT_FOUND)
    if not can(actor(), Permission.VIEW, unit):
        raise PermissionDenied(_l("You do not have permission for this action on %(unit)s."), unit=unit.name)
    return unit


@blp.route("", methods=["POST"])
@blp.arguments(OrgUnitCreateSchema)
@blp.response(201, OrgUnitSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
def create_unit(args: dict[str, Any]) -> Any:
    """Create a unit under `parent_id` (admins of the parent)."""
    parent = unit_or_invalid(args["parent_id"], "parent_id")
    if args["code"] and db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == args["code"])) is not None:
        raise Conflict(_l("The code %(code)s is already used by another unit."), field="code", code=args["code"])
    unit = ops.create_unit(
        actor(), name=args["name"], kind=args["kind"], parent=parent, short_name=args["short_name"] or None,
        code=args["code"] or None, is_administrative=args["is_administrative"],
    )
    return unit, 201
