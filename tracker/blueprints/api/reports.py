"""Reports: list and read them, accept or return them, download their files."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from flask import send_file
from flask_babel import lazy_gettext as _l

from tracker.blueprints.api.common import PAGINATION_HEADERS, ApiBlueprint, actor, paged
from tracker.extensions import db
from tracker.models import Attachment, Report
from tracker.operations import occurrences as ops
from tracker.operations.errors import NotFound, PermissionDenied
from tracker.queries import listing, scope
from tracker.schemas.base import MAX_BIG_ID
from tracker.schemas.reports import ReportQuerySchema, ReportSchema, ReturnSchema, ReviewSchema

blp = ApiBlueprint("api_reports", __name__, url_prefix="/api/v1/reports",
                   section="Báo cáo (Reports)",
                   description="Báo cáo các đơn vị gửi và việc đơn vị nhận báo cáo xem xét. — "
                               "Reports units submit, and their review by the unit they report to.")


def visible_report(report_id: int) -> Report:
    report = listing.get_report(report_id) if report_id <= MAX_BIG_ID else None
    if report is None:
        raise NotFound(_l("No report with id %(id)s."), id=report_id)
    if not scope.occurrence_visible(actor(), report.occurrence):
        raise PermissionDenied(_l("You do not have permission for this action on %(unit)s."),
                               unit=report.occurrence.lead_unit.name)
    return report


@blp.route("", methods=["GET"])
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, ReportSchema(many=True), headers=PAGINATION_HEADERS)
def list_reports(args: dict[str, Any]) -> Any:
    """Reports on occurrences you may see, newest first (filter by occurrence, review status, unit, plan)."""
    page = listing.list_reports(
        actor(), occurrence_id=args.get("occurrence_id"), review_status=args.get("review_status"),
        unit_id=args.get("unit_id"), plan_id=args.get("plan_id"), page=args["page"], page_size=args["page_size"],
    )
    return paged(page, args)


@blp.route("/<bigid:report_id>", methods=["GET"])
@blp.response(200, ReportSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def get_report(report_id: int) -> Any:
    """One report, with its attachments (metadata) and figures."""
    return visible_report(report_id)


@blp.route("/<bigid:report_id>/accept", methods=["POST"])
@blp.arguments(ReviewSchema, required=False)
@blp.response(200, ReportSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def accept_report(args: dict[str, Any], report_id: int) -> Any:
    """Accept the report (reviewers of the unit it reports to, or of the plan's issuing unit)."""
    report = visible_report(report_id)
    ops.review_report(actor(), report, accept=True, comment=args["comment"])
    return listing.get_report(report_id)


@blp.route("/<bigid:report_id>/return", methods=["POST"])
@blp.arguments(ReturnSchema)
@blp.response(200, ReportSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def return_report(args: dict[str, Any], report_id: int) -> Any:
    """Return the report with a reason: the occurrence is open again and the submitter is told."""
    report = visible_report(report_id)
    ops.review_report(actor(), report, accept=False, comment=args["comment"])
    return listing.get_report(report_id)


@blp.route("/<bigid:report_id>/attachments/<bigid:attachment_id>", methods=["GET"])
@blp.response(200, content_type="application/octet-stream", description="The file's bytes.")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def download_attachment(report_id: int, attachment_id: int) -> Any:
    """Download one file attached to the report."""
    report = visible_report(report_id)
    attachment = db.session.scalar(
        sa.select(Attachment).where(Attachment.id == attachment_id, Attachment.report_id == report.id)
        .options(sa.orm.undefer(Attachment.content))
    ) if attachment_id <= MAX_BIG_ID else None
    if attachment is None:
        raise NotFound(_l("No attachment with id %(id)s."), id=attachment_id)
    # send_file writes a Vietnamese name as RFC 5987 filename*= with an ASCII fallback: the header stays
    # latin-1, which is all a WSGI server can send.
    response = send_file(io.BytesIO(attachment.content), mimetype="application/octet-stream", as_attachment=True,
                         download_name=attachment.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
