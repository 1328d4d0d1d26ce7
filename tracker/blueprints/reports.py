"""The periodic report page: choose a plan (or a unit's plans) and a period, preview the draft, download it as
.docx with its Excel companion. Only reads: the draft is built by tracker.reports, scope-checked there."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from tracker.blueprints.xlsx import XLSX_MIMETYPE
from tracker.clock import status_clock
from tracker.extensions import db
from tracker.forms import first_error
from tracker.forms.reports import PeriodicReportForm
from tracker.models import OrgUnit, Plan
from tracker.operations.authz import scope_paths
from tracker.operations.errors import DomainError, ValidationFailed
from tracker.periods import default_period, suggested_periods
from tracker.queries import reports as rq
from tracker.reports import DOCX_MIMETYPE, ReportContent, ReportOptions, docx_bytes, draft, xlsx_bytes

bp = Blueprint("reports", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here needs a signed-in person."""


def _form() -> PeriodicReportForm:
    clock = status_clock()
    plans = rq.plan_choices(current_user)
    roots = scope_paths(current_user)
    units = {p.issuing_unit_id: p.issuing_unit for p in plans
             if any(p.issuing_unit_path.startswith(root) for root in roots)}
    form = PeriodicReportForm(
        request.args,
        plans=[(p.id, f"{p.number + ' – ' if p.number else ''}{p.title} ({p.issuing_unit})") for p in plans],
        units=sorted(units.items(), key=lambda u: u[1]), periods=suggested_periods(clock.today),
        rollups=rq.rollup_choices(current_user),
    )
    if not form.period.data:
        form.period.data = default_period(clock.today).key
    return form


def _load(model: Any, ident: int | None) -> Any:
    if ident is None:
        return None
    found = db.session.get(model, ident)
    if found is None:
        abort(404)
    return found


def _draft(form: PeriodicReportForm) -> ReportContent:
    """The draft the form asks for (a domain error when the input or the person's scope does not allow it)."""
    plan = _load(Plan, form.plan.data)
    return draft(
        current_user, period=form.chosen_period(), clock=status_clock(), plan=plan,
        unit=_load(OrgUnit, form.unit.data) if plan is None else None,
        rollup_unit=_load(OrgUnit, form.rollup.data) if plan is not None else None,
        issuer=_load(OrgUnit, form.issuer.data) if plan is not None else None,
        options=ReportOptions(document_number=form.number.data or None, signer_title=form.signer_title.data or None,
                              signer_name=form.signer_name.data or None),
    )


@bp.get("/reports")
def index() -> tuple[str, int] | str:
    form = _form()
    content, error, status = None, None, 200
    if form.is_asked():
        if not form.validate():
            error, status = first_error(form), 422
        else:
            try:
                content = _draft(form)
            except DomainError as failure:
                db.session.rollback()
                error, status = failure.render(), failure.status
    query = request.query_string.decode()
    return render_template("reports/index.html", form=form, content=content, error=error, query=query), status


def _download(kind: str) -> Response:
    form = _form()
    if not form.is_asked():
        abort(400)
    if not form.validate():
        raise ValidationFailed(first_error(form))
    content = _draft(form)
    db.session.rollback()  # nothing to keep
    if kind == "docx":
        data, name, mimetype = docx_bytes(content), f"{content.file_stem}.docx", DOCX_MIMETYPE
    else:
        data, name, mimetype = xlsx_bytes(content), f"{content.file_stem}-phu-luc.xlsx", XLSX_MIMETYPE
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype=mimetype)


@bp.get("/reports/report.docx")
def download_docx() -> Response:
    return _download("docx")


@bp.get("/reports/phu-luc.xlsx")
def download_xlsx() -> Response:
    return _download("xlsx")
