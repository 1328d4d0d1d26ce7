"""Requests for more time: the chair's list and decision (units ask through /occurrences/{id})."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from tracker.blueprints.api.common import PAGINATION_HEADERS, ApiBlueprint, actor, get_or_404, paged
from tracker.models import ExtensionRequest
from tracker.operations import occurrences as ops
from tracker.operations.errors import PermissionDenied
from tracker.queries import listing, scope
from tracker.schemas.occurrences import ExtensionDecisionSchema, ExtensionRequestQuerySchema, ExtensionRequestSchema

blp = ApiBlueprint("api_extension_requests", __name__, url_prefix="/api/v1/extension-requests",
                   section="Xin gia hạn (Extension requests)",
                   description="Đề nghị gia hạn và quyết định của chủ tịch. — "
                               "Requests for more time and the chair's decision.")


@blp.route("", methods=["GET"])
@blp.arguments(ExtensionRequestQuerySchema, location="query")
@blp.response(200, ExtensionRequestSchema(many=True), headers=PAGINATION_HEADERS)
def list_extension_requests(args: dict[str, Any]) -> Any:
    """Requests for more time on occurrences you may see, newest first."""
    page = listing.list_extension_requests(
        actor(), status=args.get("status"), occurrence_id=args.get("occurrence_id"), unit_id=args.get("unit_id"),
        page=args["page"], page_size=args["page_size"],
    )
    return paged(page, args)


@blp.route("/<id:request_id>/decision", methods=["POST"])
@blp.arguments(ExtensionDecisionSchema)
@blp.response(200, ExtensionRequestSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def decide_extension(args: dict[str, Any], request_id: int) -> Any:
    """Approve (the due date moves) or reject the request (chairs of the lead unit's commune)."""
    extension = get_or_404(ExtensionRequest, request_id, _l("No request for more time with id %(id)s."))
    if not scope.occurrence_visible(actor(), extension.occurrence):
        raise PermissionDenied(_l("You do not have permission for this action on %(unit)s."),
                               unit=extension.occurrence.lead_unit.name)
    ops.decide_extension(actor(), extension, approve=args["approve"], note=args["note"])
    return extension
