"""Indicators of plans and their yearly targets per unit."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from tracker.blueprints.api.common import PAGINATION_HEADERS, ApiBlueprint, actor, get_or_404, paged
from tracker.extensions import db
from tracker.models import Indicator, OrgUnit, Plan
from tracker.operations import indicators as ops
from tracker.operations.errors import PermissionDenied, ValidationFailed
from tracker.queries import listing
from tracker.schemas.indicators import (
    IndicatorCreateSchema,
    IndicatorQuerySchema,
    IndicatorSchema,
    IndicatorTargetSchema,
    IndicatorTargetUpdateSchema,
)

blp = ApiBlueprint("api_indicators", __name__, url_prefix="/api/v1/indicators",
                   section="Chỉ tiêu (Indicators)",
                   description="Chỉ tiêu của kế hoạch và mục tiêu hằng năm theo đơn vị. — "
                               "Indicators of plans and their yearly targets.")


def visible_indicator(indicator_id: int) -> Indicator:
    indicator = get_or_404(Indicator, indicator_id, _l("No indicator with id %(id)s."))
    if indicator.plan_id is not None:
        plan = get_or_404(Plan, indicator.plan_id, _l("No plan with id %(id)s."))
        if not listing.plan_visible(actor(), plan):
            raise PermissionDenied(_l("You do not have permission for this action on %(unit)s."),
                                   unit=plan.issuing_unit.name)
    return indicator


@blp.route("", methods=["GET"])
@blp.arguments(IndicatorQuerySchema, location="query")
@blp.response(200, IndicatorSchema(many=True), headers=PAGINATION_HEADERS)
def list_indicators(args: dict[str, Any]) -> Any:
    """Indicators of plans you may see, with their targets."""
    page = listing.list_indicators(actor(), plan_id=args.get("plan_id"), page=args["page"],
                                   page_size=args["page_size"])
    return paged(page, args)


@blp.route("", methods=["POST"])
@blp.arguments(IndicatorCreateSchema)
@blp.response(201, IndicatorSchema)
@blp.alt_response(403, response="FORBIDDEN")
def create_indicator(args: dict[str, Any]) -> Any:
    """Add an indicator to a plan (or get the plan's indicator of that name)."""
    plan = db.session.get(Plan, args["plan_id"])
    if plan is None:
        raise ValidationFailed(_l("No plan with id %(id)s."), field="plan_id", id=args["plan_id"])
    indicator = ops.create_indicator(actor(), plan, name=args["name"], unit_of_measure=args["unit_of_measure"],
                                     direction=args["direction"])
    return indicator, 201


@blp.route("/<id:indicator_id>", methods=["GET"])
@blp.response(200, IndicatorSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def get_indicator(indicator_id: int) -> Any:
    """One indicator with its targets."""
    return visible_indicator(indicator_id)


@blp.route("/<id:indicator_id>/targets/<id:unit_id>/<year:year>", methods=["PUT"])
@blp.arguments(IndicatorTargetUpdateSchema)
@blp.response(200, IndicatorTargetSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def set_target(args: dict[str, Any], indicator_id: int, unit_id: int, year: int) -> Any:
    """Set the indicator's target for a unit and a year (plan managers of that unit)."""
    indicator = visible_indicator(indicator_id)
    unit = get_or_404(OrgUnit, unit_id, _l("No unit with id %(id)s."))
    target = ops.set_target(actor(), indicator, unit=unit, year=year, value=args["value"],
                            comparator=args["comparator"])
    return target

