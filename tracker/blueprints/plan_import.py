"""Plan import pages: upload a document, follow its reading, review the draft it became (edit, drop, add
rows), confirm it; download the stored document and read each task's source text.

An upload (and a re-import) only queues an import job and answers at once with its progress page; a
`tracker worker` reads the document (tracker.jobs.imports). The progress page refreshes itself every few
seconds ("Đang đọc trang 12/150"; its JSON twin serves scripts and the API), and once the job is done it
opens the draft's review page, or shows the duplicate notice or the reading error.

Plain HTML forms, one per action (the CSP runs no inline script). Business rules live in
tracker.operations.plan_import and tracker.operations.drafts; a view validates the form, calls one
operation and commits once.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from tracker.blueprints.transaction import atomic
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.forms import choices, first_error
from tracker.forms.plan_import import (
    NEW_UNIT,
    HeaderForm,
    NewRowForm,
    RowForm,
    UnitChoiceForm,
    UploadForm,
    dates_of,
    fill_row_choices,
    unit_label,
)
from tracker.jobs.worker import live_workers, stale_seconds
from tracker.models import (
    ImportJob,
    ImportJobStatus,
    Indicator,
    IndicatorTarget,
    OrgUnit,
    Plan,
    PlanDocument,
    PlanStatus,
    Task,
    TaskStatus,
)
from tracker.operations import drafts, import_jobs
from tracker.operations.authz import Permission, can, scope_clause, scope_paths
from tracker.operations.errors import DomainError, PermissionDenied
from tracker.operations.plan_import import AUTO_MATCH
from tracker.operations.plans import set_plan_status
from tracker.queries import dashboard as q

bp = Blueprint("plan_import", __name__)

Page = str | Response | tuple[str, int]
MAX_ISSUERS = 500

#: Row warnings (import_meta["warnings"], {"code": ..., params}) as shown on the review screen.
WARNING_TEXTS: dict[str, Any] = {
    "fanout_empty": _l('No unit of this kind under %(unit)s for "%(phrase)s": add the units or choose one.'),
    "fanout_too_many": _l('"%(phrase)s" names more than %(n)s units; kept as one row.'),
    "kept_coordinating": _l("Kept as coordinating units (no matching units to give tasks to): %(names)s."),
    "before_issue": _l('The deadline %(date)s ("%(text)s") comes before the plan was issued.'),
}
DEADLINE_KINDS: dict[str, Any] = {
    "report": _l("report"), "completion": _l("completion"), "target": _l("target (no occurrence)"),
}


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here needs a signed-in person."""


# --- Template helpers -----------------------------------------------------------------------------------

def highlight(text: str | None, phrases: list[str], unit_phrases: tuple[str, ...] | list[str] = ()) -> Markup:
    """The source text, escaped, with each deadline phrase in <mark> (and the unit as written marked too).

    Phrases are found ignoring case and however the document broke its lines."""
    text = text or ""
    spans: list[tuple[int, int, str]] = []
    for phrases_of_kind, css in ((phrases, "deadline"), (unit_phrases, "unit")):
        for phrase in phrases_of_kind:
            words = (phrase or "").split()
            if not words:
                continue
            pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
            for match in pattern.finditer(text):
                spans.append((match.start(), match.end(), css))
                if css == "unit":
                    break  # the heading, not every mention
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[str] = []
    position = 0
    for start, end, css in spans:
        if start < position:
            continue  # overlaps a phrase already marked
        out.append(str(escape(text[position:start])))
        out.append(f'<mark class="{css}">{escape(text[start:end])}</mark>')
        position = end
    out.append(str(escape(text[position:])))
    return Markup("".join(out))


def warning_text(warning: Any) -> str:
    if not isinstance(warning, dict):
        return str(warning)
    template = WARNING_TEXTS.get(str(warning.get("code")))
    if template is None:
        return str(warning.get("code"))
    params = {k: v for k, v in warning.items() if k != "code"}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


@bp.app_template_global("can_import_plans")
def can_import_plans() -> bool:
    """Whether the signed-in person may import plans anywhere (the plans list shows the button)."""
    return bool(getattr(current_user, "is_authenticated", False)) and bool(
        scope_paths(current_user, Permission.MANAGE_PLANS))


# --- Loading ----------------------------------------------------------------------------------------------

def _plan_or_404(plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    return plan


def _managed_plan(plan_id: int) -> Plan:
    plan = _plan_or_404(plan_id)
    if not can(current_user, Permission.MANAGE_PLANS, plan.issuing_unit):
        raise PermissionDenied(_l("You do not have permission for this page."))
    return plan


def _task_of(plan: Plan, task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None or task.plan_id != plan.id:
        abort(404)
    return task


def _issuing_units() -> list[OrgUnit]:
    """Units the person may issue plans for: where they hold MANAGE_PLANS, and the administrative units below."""
    roles = {a.unit_id for a in current_user.roles if can(current_user, Permission.MANAGE_PLANS, a.unit)}
    return list(db.session.scalars(
        sa.select(OrgUnit).where(
            scope_clause(current_user, OrgUnit.path, Permission.MANAGE_PLANS), OrgUnit.is_archived.is_(False),
            sa.or_(OrgUnit.is_administrative, OrgUnit.id.in_(roles)),
        ).order_by(OrgUnit.path).limit(MAX_ISSUERS)
    ))


# --- Upload -----------------------------------------------------------------------------------------------

def _upload_form(formdata: Any = None) -> tuple[UploadForm, list[OrgUnit]]:
    units = _issuing_units()
    form = UploadForm(formdata=formdata) if formdata is not None else UploadForm(formdata=None)
    base = min((u.depth for u in units), default=0)
    form.issuing_unit_id.choices = choices([(u.id, unit_label(u, base)) for u in units])
    return form, units


def _render_upload(form: UploadForm, *, error: str | None = None, status: int = 200) -> Page:
    limit = int(current_app.config.get("IMPORT_MAX_BYTES", 20 << 20))
    html = render_template("importer/upload.html", form=form, error=error, max_mb=limit / (1 << 20))
    return (html, status) if status != 200 else html


@bp.get("/plans/import")
def upload_page() -> Page:
    form, units = _upload_form()
    if not units:
        raise PermissionDenied(_l("You do not have permission for this page."))
    return _render_upload(form)


@bp.post("/plans/import")
def upload() -> Page:
    form, units = _upload_form(request.form)
    if not units:
        raise PermissionDenied(_l("You do not have permission for this page."))
    upload_file = request.files.get("file")
    if not form.validate():
        return _render_upload(form, error=first_error(form), status=422)
    if upload_file is None or not (upload_file.filename or "").strip():
        return _render_upload(form, error=_("Choose the plan's file."), status=422)
    limit = int(current_app.config.get("IMPORT_MAX_BYTES", 20 << 20))
    data = upload_file.stream.read(limit + 1)  # anything over the limit is refused, not stored
    issuer = db.session.get(OrgUnit, form.issuing_unit_id.data)
    try:
        with atomic():
            job = import_jobs.enqueue_import(current_user, filename=upload_file.filename or "plan", data=data,
                                             issuing_unit=issuer, update=form.update.data == "1", max_bytes=limit)
    except DomainError as error:
        return _render_upload(form, error=error.render(), status=error.status)
    return redirect(url_for("plan_import.job_page", job_id=job.id))


@bp.post("/plans/<id:plan_id>/reimport")
def reimport(plan_id: int) -> Page:
    plan = _managed_plan(plan_id)
    job = import_jobs.enqueue_reimport(current_user, plan)  # a DomainError becomes an error page, rolled back
    return redirect(url_for("plan_import.job_page", job_id=job.id))


# --- Following an import job ------------------------------------------------------------------------------

def _job_or_404(job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        abort(404)
    import_jobs.require_job_access(current_user, job)
    return job


@bp.get("/plans/import/jobs/<bigid:job_id>")
def job_page(job_id: int) -> Page:
    """The job's progress while it waits or runs; when it has ended, the draft, the duplicate or the error."""
    job = _job_or_404(job_id)
    if job.status == ImportJobStatus.DONE and job.plan_id is not None:
        message = (_("The draft has been read again from its document: %(n)s tasks.", n=job.tasks_created)
                   if job.is_update else
                   _("The plan has been read: %(n)s tasks. Check them, then confirm.", n=job.tasks_created))
        flash(message, "success")
        return redirect(url_for("plan_import.review", plan_id=job.plan_id))
    if job.status == ImportJobStatus.DONE and job.duplicate_of_id is not None:
        form, _units = _upload_form()
        existing = db.session.get(Plan, job.duplicate_of_id)
        html = render_template("importer/duplicate.html", existing=existing, reason=job.duplicate_reason, form=form,
                               filename=job.filename)
        return html, 409
    if job.status == ImportJobStatus.FAILED:
        form, _units = _upload_form()
        form.issuing_unit_id.data = job.issuing_unit_id  # preselected again for the next try
        return _render_upload(form, error=_("%(file)s could not be read: %(error)s", file=job.filename,
                                            error=job.error or ""), status=422)
    workers = live_workers(utcnow(), stale_after=stale_seconds(current_app.config), queue="imports")
    return render_template("importer/job.html", job=job, position=import_jobs.queue_position(job),
                           has_worker=bool(workers), refresh=2)


@bp.get("/plans/import/jobs/<bigid:job_id>/status")
def job_status(job_id: int) -> Response:
    """The job's state as JSON, for a page or script that polls it."""
    job = _job_or_404(job_id)
    data = import_jobs.job_state(job)
    data["page_url"] = url_for("plan_import.job_page", job_id=job.id)
    if job.plan_id is not None:
        data["review_url"] = url_for("plan_import.review", plan_id=job.plan_id)
    return jsonify(data)


@bp.post("/plans/<id:plan_id>/discard")
def discard(plan_id: int) -> Page:
    plan = _managed_plan(plan_id)
    if plan.status != PlanStatus.DRAFT:
        return redirect(url_for("plan_pages.plan_page", plan_id=plan.id))
    set_plan_status(current_user, plan, PlanStatus.CANCELLED, reason="draft discarded on review")
    flash(_("The draft has been discarded."), "info")
    return redirect(url_for("plan_pages.index"))


# --- Review -----------------------------------------------------------------------------------------------

@dataclass
class Row:
    """One task of the draft as the review screen shows it."""

    task: Task
    meta: dict[str, Any]
    badge: str  # "sure", "probable", "new"
    badge_label: str
    deadlines: list[dict[str, Any]]
    due_dates: list[date]
    is_default_due: bool
    source: Markup
    warnings: list[str]
    unit_form: UnitChoiceForm
    dropped: bool
    coordinating_names: list[str] = field(default_factory=list)


def _badge(task: Task, meta: dict[str, Any]) -> tuple[str, str]:
    if task.lead_unit_id is None:
        return "new", _("New unit proposed")
    match = meta.get("match")
    confidence = float(meta.get("confidence") or 0)
    if match == "fanout":
        fan = meta.get("fanout") or {}
        return "sure", _("One of %(n)s (%(phrase)s)", n=fan.get("count", "?"), phrase=fan.get("phrase", ""))
    if match == "reviewer" or meta.get("added_by_reviewer"):
        return "sure", _("Chosen on review")
    label = f"{round(confidence * 100)}%"
    return ("sure", label) if confidence >= AUTO_MATCH else ("probable", _("%(score)s – check", score=label))


def _rows(plan: Plan, leads: list[OrgUnit], overrides: dict[int, UnitChoiceForm]) -> list[Row]:
    tasks = db.session.scalars(
        sa.select(Task).where(Task.plan_id == plan.id)
        .options(selectinload(Task.lead_unit), selectinload(Task.report_to_unit),
                 selectinload(Task.coordinating_units), selectinload(Task.section))
        .order_by(Task.position, Task.id)
    ).all()
    rows = []
    for task in tasks:
        meta = task.import_meta or {}
        badge, label = _badge(task, meta)
        deadlines = [d for d in meta.get("deadlines") or [] if isinstance(d, dict)]
        due_dates = dates_of(task.due_on, task.extra_due_dates)
        form = overrides.get(task.id)
        if form is None:
            proposal = meta.get("proposed_unit") or {}
            form = UnitChoiceForm(formdata=None, prefix=f"t{task.id}",
                                  lead=str(task.lead_unit_id) if task.lead_unit_id else NEW_UNIT,
                                  proposed_name=proposal.get("name") if task.lead_unit_id is None else "")
        fill_row_choices(form, leads=leads, candidates=meta.get("candidates") or [])
        explicit = {d.get("date") for d in deadlines if d.get("kind") != "target"}
        rows.append(Row(
            task=task, meta=meta, badge=badge, badge_label=label, deadlines=deadlines, due_dates=due_dates,
            is_default_due=bool(due_dates) and not task.recurrence and not explicit
            and not meta.get("added_by_reviewer") and not meta.get("reviewed"),
            source=highlight(task.source_text, [str(d.get("text") or "") for d in deadlines],
                             [str(meta.get("unit_text") or "")]),
            warnings=[warning_text(w) for w in meta.get("warnings") or []],
            unit_form=form, dropped=task.status == TaskStatus.CANCELLED,
            coordinating_names=[u.name for u in task.coordinating_units],
        ))
    return rows


def _targets(plan: Plan) -> tuple[list[int], list[dict[str, Any]]]:
    """The plan's indicators with their yearly targets (one statement)."""
    query = (
        sa.select(Indicator.id, Indicator.name, Indicator.unit_of_measure, IndicatorTarget.year,
                  IndicatorTarget.value, IndicatorTarget.comparator)
        .join(IndicatorTarget, IndicatorTarget.indicator_id == Indicator.id, isouter=True)
        .where(Indicator.plan_id == plan.id)
        .order_by(Indicator.id, IndicatorTarget.year)
    )
    by_id: dict[int, dict[str, Any]] = {}
    years: set[int] = set()
    for r in db.session.execute(query):
        item = by_id.setdefault(r.id, {"name": r.name, "unit": r.unit_of_measure, "values": {}, "comparator": None})
        if r.year is not None:
            years.add(int(r.year))
            item["values"][int(r.year)] = r.value
            item["comparator"] = str(r.comparator)
    return sorted(years), list(by_id.values())


def _render_review(plan: Plan, *, error: str | None = None, status: int = 200, error_task_id: int | None = None,
                   unit_forms: dict[int, UnitChoiceForm] | None = None, header_form: HeaderForm | None = None) -> Page:
    leads = drafts.lead_choices(plan)
    rows = _rows(plan, leads, unit_forms or {})
    years, targets = _targets(plan)
    extraction = db.session.scalar(
        sa.select(PlanDocument.extraction).where(PlanDocument.id == plan.document_id)) if plan.document_id else None
    header_form = header_form or HeaderForm(formdata=None, title=plan.title, number=plan.number,
                                            issued_on=plan.issued_on, period_start_on=plan.period_start_on,
                                            period_end_on=plan.period_end_on)
    active = [r for r in rows if not r.dropped]
    html = render_template(
        "importer/review.html", plan=plan, rows=rows, years=years, targets=targets, error=error,
        error_task_id=error_task_id, extraction=extraction or {}, header_form=header_form,
        counts={"rows": len(active), "dropped": len(rows) - len(active),
                "new": sum(1 for r in active if r.badge == "new"),
                "probable": sum(1 for r in active if r.badge == "probable")},
        deadline_kinds=DEADLINE_KINDS, NEW_UNIT=NEW_UNIT,
    )
    return (html, status) if status != 200 else html


@bp.get("/plans/<id:plan_id>/review")
def review(plan_id: int) -> Page:
    plan = _managed_plan(plan_id)
    if plan.status != PlanStatus.DRAFT:
        flash(_("This plan has been confirmed; its tasks are on the plan page."), "info")
        return redirect(url_for("plan_pages.plan_page", plan_id=plan.id))
    return _render_review(plan)


def _back(plan: Plan, task_id: int | None = None) -> Response:
    anchor = f"#task-{task_id}" if task_id else ""
    return redirect(url_for("plan_import.review", plan_id=plan.id) + anchor)


def _failed_review(plan: Plan, message: str, status: int, task_id: int | None = None, **forms: Any) -> Page:
    """The review page again with the error (callers ran the operation in `atomic`: its changes are gone)."""
    return _render_review(plan, error=message, status=status, error_task_id=task_id, **forms)


@bp.post("/plans/<id:plan_id>/header")
def update_header(plan_id: int) -> Page:
    plan = _managed_plan(plan_id)
    form = HeaderForm()
    if not form.validate():
        return _failed_review(plan, first_error(form), 422, header_form=form)
    try:
        with atomic():
            drafts.update_draft_header(current_user, plan, title=form.title.data, number=form.number.data,
                                       issued_on=form.issued_on.data, period_start_on=form.period_start_on.data,
                                       period_end_on=form.period_end_on.data)
    except DomainError as error:
        return _failed_review(plan, error.render(), error.status, header_form=form)
    flash(_("The plan's details have been saved."), "success")
    return _back(plan)


def _lead_from(form: UnitChoiceForm | RowForm) -> dict[str, Any]:
    """The operation's lead arguments from a form's select and new-name box."""
    if form.lead.data == NEW_UNIT:
        return {"proposed_name": form.proposed_name.data or ""}
    return {"lead_unit": drafts.load_unit(form.lead.data, "lead_unit_id")}


@bp.post("/plans/<id:plan_id>/tasks/<id:task_id>/unit")
def change_unit(plan_id: int, task_id: int) -> Page:
    plan = _managed_plan(plan_id)
    task = _task_of(plan, task_id)
    form = UnitChoiceForm(prefix=f"t{task.id}")
    fill_row_choices(form, leads=drafts.lead_choices(plan), candidates=(task.import_meta or {}).get("candidates") or [])
    if not form.validate():
        return _failed_review(plan, first_error(form), 422, task.id, unit_forms={task.id: form})
    try:
        with atomic():
            drafts.update_draft_task(current_user, task, **_lead_from(form))
    except DomainError as error:
        return _failed_review(plan, error.render(), error.status, task.id, unit_forms={task.id: form})
    flash(_("The unit has been changed."), "success")
    return _back(plan, task.id)


@bp.post("/plans/<id:plan_id>/tasks/<id:task_id>/drop")
def drop(plan_id: int, task_id: int) -> Page:
    plan = _managed_plan(plan_id)
    task = _task_of(plan, task_id)
    try:
        with atomic():
            drafts.drop_draft_task(current_user, task)
    except DomainError as error:
        return _failed_review(plan, error.render(), error.status, task.id)
    flash(_("The row has been dropped."), "info")
    return _back(plan, task.id)


@bp.post("/plans/<id:plan_id>/tasks/<id:task_id>/restore")
def restore(plan_id: int, task_id: int) -> Page:
    plan = _managed_plan(plan_id)
    task = _task_of(plan, task_id)
    try:
        with atomic():
            drafts.restore_draft_task(current_user, task)
    except DomainError as error:
        return _failed_review(plan, error.render(), error.status, task.id)
    flash(_("The row has been restored."), "success")
    return _back(plan, task.id)


@bp.post("/plans/<id:plan_id>/confirm")
def confirm(plan_id: int) -> Page:
    plan = _managed_plan(plan_id)
    try:
        with atomic():
            created = drafts.confirm_draft(current_user, plan)
    except DomainError as error:
        return _failed_review(plan, error.render(), error.status)
    flash(_("The plan is active: %(n)s deadlines were scheduled and reminders will follow.", n=created), "success")
    return redirect(url_for("plan_pages.plan_page", plan_id=plan.id))


# --- Row edit and new row pages ---------------------------------------------------------------------------

def _row_form(plan: Plan, task: Task | None, formdata: Any = None) -> RowForm:
    form_class = RowForm if task is not None else NewRowForm
    if formdata is not None:
        form = form_class(formdata=formdata)
    elif task is not None:
        proposal = (task.import_meta or {}).get("proposed_unit") or {}
        form = form_class(
            formdata=None, title=task.title, lead=str(task.lead_unit_id) if task.lead_unit_id else NEW_UNIT,
            proposed_name=proposal.get("name") if task.lead_unit_id is None else "",
            report_to=str(task.report_to_unit_id or ""),
            coordinating=[str(u.id) for u in task.coordinating_units],
            due_dates=dates_of(task.due_on, task.extra_due_dates), recurrence=task.recurrence or "",
        )
    else:
        form = form_class(formdata=None, report_to=str(plan.issuing_unit_id), lead="")
    meta = (task.import_meta or {}) if task is not None else {}
    fill_row_choices(form, leads=drafts.lead_choices(plan), candidates=meta.get("candidates") or [],
                     nearby=drafts.nearby_units(plan), current_recurrence=task.recurrence if task else None)
    return form


def _render_row(plan: Plan, task: Task | None, form: RowForm, *, error: str | None = None, status: int = 200) -> Page:
    meta = (task.import_meta or {}) if task is not None else {}
    deadlines = [d for d in meta.get("deadlines") or [] if isinstance(d, dict)]
    source = highlight(task.source_text, [str(d.get("text") or "") for d in deadlines],
                       [str(meta.get("unit_text") or "")]) if task is not None else None
    html = render_template("importer/row.html", plan=plan, task=task, form=form, error=error, meta=meta,
                           deadlines=deadlines, source=source, deadline_kinds=DEADLINE_KINDS)
    return (html, status) if status != 200 else html


def _draft_or_redirect(plan: Plan) -> Response | None:
    if plan.status != PlanStatus.DRAFT:
        flash(_("This plan has been confirmed; its tasks are on the plan page."), "info")
        return redirect(url_for("plan_pages.plan_page", plan_id=plan.id))
    return None


def _row_arguments(form: RowForm) -> dict[str, Any]:
    arguments = _lead_from(form)
    arguments["report_to_unit"] = drafts.load_unit(form.report_to.data, "report_to_unit_id") \
        if form.report_to.data else None
    arguments["coordinating_units"] = [drafts.load_unit(v, "coordinating_unit_ids") for v in form.coordinating.data]
    arguments["due_dates"] = form.due_dates.data or []
    arguments["recurrence_rule"] = form.recurrence.data or None
    return arguments


@bp.route("/plans/<id:plan_id>/tasks/<id:task_id>/edit", methods=["GET", "POST"])
def edit_row(plan_id: int, task_id: int) -> Page:
    plan = _managed_plan(plan_id)
    task = _task_of(plan, task_id)
    if (redirected := _draft_or_redirect(plan)) is not None:
        return redirected
    if request.method == "GET":
        return _render_row(plan, task, _row_form(plan, task))
    form = _row_form(plan, task, request.form)
    if not form.validate():
        return _render_row(plan, task, form, error=first_error(form), status=422)
    try:
        with atomic():
            drafts.update_draft_task(current_user, task, title=form.title.data, **_row_arguments(form))
    except DomainError as error:
        return _render_row(plan, task, form, error=error.render(), status=error.status)
    flash(_("The row has been saved."), "success")
    return _back(plan, task.id)


@bp.route("/plans/<id:plan_id>/tasks/new", methods=["GET", "POST"])
def add_row(plan_id: int) -> Page:
    plan = _managed_plan(plan_id)
    if (redirected := _draft_or_redirect(plan)) is not None:
        return redirected
    if request.method == "GET":
        return _render_row(plan, None, _row_form(plan, None))
    form = _row_form(plan, None, request.form)
    if not form.validate():
        return _render_row(plan, None, form, error=first_error(form), status=422)
    try:
        with atomic():
            task = drafts.add_draft_task(current_user, plan, title=form.title.data,
                                         section_code=form.section.data, **_row_arguments(form))  # type: ignore[attr-defined]
    except DomainError as error:
        return _render_row(plan, None, form, error=error.render(), status=error.status)
    flash(_("The row has been added."), "success")
    return _back(plan, task.id)


# --- The document and each task's source text --------------------------------------------------------------

def _visible_plan(plan_id: int) -> Plan:
    plan = _plan_or_404(plan_id)
    if not (q.plan_is_visible(current_user, plan_id) or can(current_user, Permission.MANAGE_PLANS, plan.issuing_unit)):
        raise PermissionDenied(_l("You do not have permission for this page."))
    return plan


@bp.get("/plans/<id:plan_id>/document")
def document(plan_id: int) -> Response:
    plan = _visible_plan(plan_id)
    if plan.document_id is None:
        abort(404)
    stored = db.session.get(PlanDocument, plan.document_id)
    # Always a download, never shown inline: an uploaded page cannot run script on this site.
    response = send_file(io.BytesIO(stored.content), mimetype=stored.content_type or "application/octet-stream",
                         as_attachment=True, download_name=stored.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/plans/<id:plan_id>/tasks/<id:task_id>/source")
def task_source(plan_id: int, task_id: int) -> Page:
    plan = _visible_plan(plan_id)
    task = _task_of(plan, task_id)
    meta = task.import_meta or {}
    deadlines = [d for d in meta.get("deadlines") or [] if isinstance(d, dict)]
    source = highlight(task.source_text, [str(d.get("text") or "") for d in deadlines],
                       [str(meta.get("unit_text") or "")])
    return render_template("importer/source.html", plan=plan, task=task, meta=meta, deadlines=deadlines,
                           source=source, deadline_kinds=DEADLINE_KINDS)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"import_warning_text": warning_text}
