"""Plans and their tasks: read, create a draft, add tasks, activate."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from tracker.blueprints.api.common import PAGINATION_HEADERS, ApiBlueprint, actor, get_or_404, paged
from tracker.blueprints.api.units import unit_or_invalid
from tracker.models import Plan
from tracker.operations import plans as ops
from tracker.operations.errors import PermissionDenied
from tracker.queries import listing
from tracker.schemas.base import PageQuerySchema
from tracker.schemas.plans import PlanCreateSchema, PlanQuerySchema, PlanSchema, TaskCreateSchema, TaskSchema

blp = ApiBlueprint("api_plans", __name__, url_prefix="/api/v1/plans", section="Kế hoạch (Plans)",
                   description="Kế hoạch và các nhiệm vụ của kế hoạch. — Plans and their tasks.")

NOT_FOUND = _l("No plan with id %(id)s.")


def visible_plan(plan_id: int) -> Plan:
    plan = get_or_404(Plan, plan_id, NOT_FOUND)
    if not listing.plan_visible(actor(), plan):
        raise PermissionDenied(_l("You do not have permission for this action on %(unit)s."),
                               unit=plan.issuing_unit.name)
    return plan


@blp.route("", methods=["GET"])
@blp.arguments(PlanQuerySchema, location="query")
@blp.response(200, PlanSchema(many=True), headers=PAGINATION_HEADERS)
def list_plans(args: dict[str, Any]) -> Any:
    """Plans you may see (issued in your scope, or giving your units tasks), newest first."""
    page = listing.list_plans(
        actor(), status=args.get("status"), year=args.get("year"), issuing_unit_id=args.get("issuing_unit_id"),
        page=args["page"], page_size=args["page_size"],
    )
    return paged(page, args)


@blp.route("", methods=["POST"])
@blp.arguments(PlanCreateSchema)
@blp.response(201, PlanSchema)
@blp.alt_response(403, response="FORBIDDEN")
def create_plan(args: dict[str, Any]) -> Any:
    """Create a draft plan (focal points, chairs and admins of the issuing unit)."""
    plan = ops.create_plan(
        actor(), title=args["title"], issuing_unit=unit_or_invalid(args["issuing_unit_id"], "issuing_unit_id"),
        number=args["number"], issued_on=args["issued_on"], year=args["year"],
        period_start_on=args["period_start_on"], period_end_on=args["period_end_on"],
        implements=args["implements"] or None, focal_unit=unit_or_invalid(args["focal_unit_id"], "focal_unit_id"),
    )
    return plan, 201


@blp.route("/<id:plan_id>", methods=["GET"])
@blp.response(200, PlanSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def get_plan(plan_id: int) -> Any:
    """One plan."""
    return visible_plan(plan_id)


@blp.route("/<id:plan_id>/tasks", methods=["GET"])
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, TaskSchema(many=True), headers=PAGINATION_HEADERS)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def list_tasks(args: dict[str, Any], plan_id: int) -> Any:
    """The plan's tasks you may see (all of them for the issuing unit's people), in document order."""
    plan = visible_plan(plan_id)
    return paged(listing.list_tasks(actor(), plan, page=args["page"], page_size=args["page_size"]), args)


@blp.route("/<id:plan_id>/tasks", methods=["POST"])
@blp.arguments(TaskCreateSchema)
@blp.response(201, TaskSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def add_task(args: dict[str, Any], plan_id: int) -> Any:
    """Add a task (an active plan's new task gets its occurrences at once)."""
    plan = visible_plan(plan_id)
    lead = unit_or_invalid(args["lead_unit_id"], "lead_unit_id")
    coordinating = [unit_or_invalid(i, "coordinating_unit_ids") for i in args["coordinating_unit_ids"]]
    task = ops.add_task(
        actor(), plan, title=args["title"], lead_unit=lead, section_code=args["section_code"] or None,
        description=args["description"] or None,
        report_to_unit=unit_or_invalid(args["report_to_unit_id"], "report_to_unit_id"),
        coordinating_units=[u for u in coordinating if u is not None], due_dates=args["due_dates"],
        recurrence_rule=args["recurrence"] or None, source_text=args["source_text"] or None,
    )
    return task, 201


@blp.route("/<id:plan_id>/activate", methods=["POST"])
@blp.response(200, PlanSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def activate_plan(plan_id: int) -> Any:
    """Activate a reviewed draft: every task gets its occurrences and reminders start."""
    plan = visible_plan(plan_id)
    ops.activate_plan(actor(), plan)
    return plan
