"""The periodic report upward, drafted from what was tracked: as JSON, as .docx or as its Excel companion."""

from __future__ import annotations

import io
from typing import Any

from flask import send_file
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from tracker.blueprints.api.common import ApiBlueprint, actor, get_or_404
from tracker.blueprints.api.plans import NOT_FOUND as PLAN_NOT_FOUND
from tracker.clock import status_clock
from tracker.extensions import db
from tracker.models import OrgUnit, Plan
from tracker.reports import (
    DOCX_MIMETYPE,
    XLSX_MIMETYPE,
    ReportContent,
    ReportOptions,
    docx_bytes,
    draft,
    xlsx_bytes,
)
from tracker.schemas.periodic_reports import (
    PeriodicReportSchema,
    PlanReportQuerySchema,
    ReportFormat,
    ReportQuerySchema,
)

blp = ApiBlueprint("api_periodic_reports", __name__, url_prefix="/api/v1",
                   section="Báo cáo định kỳ (Periodic reports)",
                   description="Báo cáo định kỳ gửi cấp trên, dự thảo từ những gì đã theo dõi. — "
                               "The periodic report owed upward, drafted from what was tracked.")

UNIT_NOT_FOUND = _l("No unit with id %(id)s.")
FILES = ("The answer is a file with format=docx (" + DOCX_MIMETYPE + ") or format=xlsx (" + XLSX_MIMETYPE + "); "
         "JSON otherwise.")


def _answer(content: ReportContent, fmt: ReportFormat) -> Any:
    db.session.rollback()  # a read: nothing to keep
    if fmt == ReportFormat.DOCX:
        return _file(docx_bytes(content), f"{content.file_stem}.docx", DOCX_MIMETYPE)
    if fmt == ReportFormat.XLSX:
        return _file(xlsx_bytes(content), f"{content.file_stem}-phu-luc.xlsx", XLSX_MIMETYPE)
    return content


def _file(data: bytes, name: str, mimetype: str) -> Response:
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype=mimetype)


def _unit(unit_id: int | None) -> OrgUnit | None:
    return get_or_404(OrgUnit, unit_id, UNIT_NOT_FOUND) if unit_id is not None else None


@blp.route("/plans/<id:plan_id>/report", methods=["GET"])
@blp.arguments(PlanReportQuerySchema, location="query")
@blp.response(200, PeriodicReportSchema, description=FILES)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def plan_report(args: dict[str, Any], plan_id: int) -> Any:
    """The report on a plan for a period: results by section and unit, the indicators against the year's
    targets, overdue and returned items, the next period's tasks; only what your scope allows. With
    rollup_unit_id, the units below it side by side."""
    plan = get_or_404(Plan, plan_id, PLAN_NOT_FOUND)
    content = draft(actor(), period=args["period"], clock=status_clock(), plan=plan,
                    rollup_unit=_unit(args["rollup_unit_id"]), issuer=_unit(args["issuer_unit_id"]),
                    options=ReportOptions(document_number=args["number"]))
    return _answer(content, args["format"])


@blp.route("/units/<id:unit_id>/report", methods=["GET"])
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, PeriodicReportSchema, description=FILES)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def unit_report(args: dict[str, Any], unit_id: int) -> Any:
    """The report on every plan the unit issued with something due in the period."""
    unit = get_or_404(OrgUnit, unit_id, UNIT_NOT_FOUND)
    content = draft(actor(), period=args["period"], clock=status_clock(), unit=unit,
                    options=ReportOptions(document_number=args["number"]))
    return _answer(content, args["format"])
