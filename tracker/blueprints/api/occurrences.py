"""Occurrences: a task's due dates, filtered lists, and what a unit does to them."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from tracker.blueprints.api.common import PAGINATION_HEADERS, ApiBlueprint, actor, paged
from tracker.blueprints.guard import check_file_names
from tracker.clock import status_clock
from tracker.operations import occurrences as ops
from tracker.operations.errors import NotFound, PermissionDenied
from tracker.queries import listing, scope
from tracker.schemas.base import MAX_BIG_ID, PageQuerySchema
from tracker.schemas.occurrences import (
    CommentCreateSchema,
    CommentSchema,
    ExtensionRequestCreateSchema,
    ExtensionRequestSchema,
    MarkDoneSchema,
    OccurrenceQuerySchema,
    OccurrenceSchema,
)
from tracker.schemas.reports import ReportCreateSchema, ReportSchema

blp = ApiBlueprint("api_occurrences", __name__, url_prefix="/api/v1/occurrences",
                   section="Kỳ hạn nhiệm vụ (Occurrences)",
                   description="Các kỳ hạn của một nhiệm vụ (mỗi thời hạn hoặc mỗi kỳ báo cáo) "
                               "và việc các đơn vị thực hiện. — "
                               "A task's due dates (one per deadline or recurrence period) and what units do.")

NOT_FOUND = _l("No task occurrence with id %(id)s.")


def visible_occurrence(occurrence_id: int) -> listing.OccurrenceItem:
    """The occurrence, if it exists (404) and the actor may see it (403)."""
    item = listing.get_occurrence(occurrence_id, status_clock()) if occurrence_id <= MAX_BIG_ID else None
    if item is None:
        raise NotFound(NOT_FOUND, id=occurrence_id)
    if not scope.occurrence_visible(actor(), item.occurrence):
        raise PermissionDenied(_l("You do not have permission for this action on %(unit)s."),
                               unit=item.occurrence.lead_unit.name)
    return item


@blp.route("", methods=["GET"])
@blp.arguments(OccurrenceQuerySchema, location="query")
@blp.response(200, OccurrenceSchema(many=True), headers=PAGINATION_HEADERS)
def list_occurrences(args: dict[str, Any]) -> Any:
    """List the task occurrences you may see, by due date.

    Filters combine: `unit_id` (lead units in that unit's subtree), `status` (repeatable), `due_from` and
    `due_to` (inclusive), `plan_id`. Pages: `page`, `page_size`; totals in the X-Pagination header.
    """
    page = listing.list_occurrences(
        actor(), unit_id=args.get("unit_id"), status=args.get("status"), due_from=args.get("due_from"),
        due_to=args.get("due_to"), plan_id=args.get("plan_id"), clock=status_clock(),
        page=args["page"], page_size=args["page_size"],
    )
    return paged(page, args)


@blp.route("/<bigid:occurrence_id>", methods=["GET"])
@blp.response(200, OccurrenceSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def get_occurrence(occurrence_id: int) -> Any:
    """One task occurrence."""
    return visible_occurrence(occurrence_id)


@blp.route("/<bigid:occurrence_id>/done", methods=["POST"])
@blp.arguments(MarkDoneSchema, required=False)
@blp.response(200, OccurrenceSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def mark_done(args: dict[str, Any], occurrence_id: int) -> Any:
    """Mark the occurrence done without a report, with a short note at most (officers and heads of the lead
    unit).

    The separate, explicit action for a task with nothing to report: a report itself must say something.
    """
    item = visible_occurrence(occurrence_id)
    ops.mark_done(actor(), item.occurrence, note=args["note"])
    # The guarded UPDATE left the new state on the object (tracker.operations.transitions.claim): its status
    # is computed from it, not read again.
    return listing.OccurrenceItem(item.occurrence, item.occurrence.status(status_clock()))


@blp.route("/<bigid:occurrence_id>/reports", methods=["POST"])
@blp.arguments(ReportCreateSchema, location="json_or_form")
@blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
    "type": "object",
    "properties": {
        "body": {"type": "string"},
        "values": {"type": "string", "description": 'JSON text: [{"indicator_id": 1, "value": 2.03}]'},
        "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
}}}})
@blp.response(201, ReportSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def submit_report(args: dict[str, Any], occurrence_id: int) -> Any:
    """Submit the occurrence's report (which also marks it done, on time or late).

    A report must say something: a `body`, at least one figure in `values`, or an attachment; an empty one is
    refused (422, `{"errors": {"body": [...]}}`). To mark done with nothing to report, POST `.../done`.

    JSON, or multipart/form-data to attach files (`attachments`, repeatable; `values` as JSON text).
    """
    item = visible_occurrence(occurrence_id)
    uploads = request.files.getlist("attachments")
    check_file_names("attachments", uploads)
    files = [ops.UploadedFile(f.filename or "", f.mimetype or "", f.read()) for f in uploads]
    report = ops.submit_report(
        actor(), item.occurrence, body=args["body"],
        values={v["indicator_id"]: v["value"] for v in args["values"]}, attachments=files,
    )
    return listing.get_report(report.id), 201


@blp.route("/<bigid:occurrence_id>/comments", methods=["GET"])
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, CommentSchema(many=True), headers=PAGINATION_HEADERS)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def list_comments(args: dict[str, Any], occurrence_id: int) -> Any:
    """The occurrence's comments, oldest first."""
    visible_occurrence(occurrence_id)
    return paged(listing.list_comments(occurrence_id, page=args["page"], page_size=args["page_size"]), args)


@blp.route("/<bigid:occurrence_id>/comments", methods=["POST"])
@blp.arguments(CommentCreateSchema)
@blp.response(201, CommentSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def add_comment(args: dict[str, Any], occurrence_id: int) -> Any:
    """Comment on the occurrence (anyone who may see it)."""
    item = visible_occurrence(occurrence_id)
    comment = ops.add_comment(actor(), item.occurrence, args["body"])
    return comment, 201


@blp.route("/<bigid:occurrence_id>/extension-requests", methods=["POST"])
@blp.arguments(ExtensionRequestCreateSchema)
@blp.response(201, ExtensionRequestSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def request_extension(args: dict[str, Any], occurrence_id: int) -> Any:
    """Ask for more time (the chair decides)."""
    item = visible_occurrence(occurrence_id)
    extension = ops.request_extension(actor(), item.occurrence, new_due_on=args["requested_due_on"],
                                      reason=args["reason"])
    return extension, 201

