"""Officers' pages: my tasks, an occurrence with its report, extension, comments, review and history."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from tracker.blueprints.auth import safe_next
from tracker.blueprints.transaction import atomic
from tracker.clock import status_clock
from tracker.extensions import db
from tracker.forms.tasks import (
    CommentForm,
    ExtensionDecisionForm,
    ExtensionForm,
    MarkDoneForm,
    ReportForm,
    ReviewForm,
    report_form_for,
)
from tracker.models import (
    Attachment,
    Comment,
    ExtensionRequest,
    ExtensionStatus,
    Indicator,
    Occurrence,
    Person,
    Plan,
    PlanStatus,
    Report,
    ReviewStatus,
    Task,
    TaskStatus,
)
from tracker.operations import occurrences as ops
from tracker.operations.authz import Permission, can
from tracker.operations.errors import DomainError, PermissionDenied
from tracker.operations.occurrences import InvalidFigures
from tracker.queries import dashboard as q
from tracker.queries.indicators import report_indicators
from tracker.queries.scope import occurrence_visible

bp = Blueprint("tasks", __name__)

Page = str | Response | tuple[str, int]


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here needs a signed-in person."""


@bp.get("/tasks")
def my_tasks() -> str:
    clock = status_clock()
    open_rows, done_rows = q.my_tasks(current_user, clock)
    return render_template("tasks/my_tasks.html", open_rows=open_rows, done_rows=done_rows, clock=clock)


#: What the scope check and the operations read: the task, its plan and the three units that decide who may
#: see and act (one statement, joined).
_ACTION_OPTIONS = (
    joinedload(Occurrence.task).joinedload(Task.plan).joinedload(Plan.issuing_unit),
    joinedload(Occurrence.task).joinedload(Task.report_to_unit),
    joinedload(Occurrence.lead_unit),
)
#: And what the page shows besides.
_PAGE_OPTIONS = (
    *_ACTION_OPTIONS,
    joinedload(Occurrence.task).joinedload(Task.section),
    joinedload(Occurrence.task).selectinload(Task.coordinating_units),
    selectinload(Occurrence.reports).selectinload(Report.attachments),
    selectinload(Occurrence.reports).selectinload(Report.values),
    # The people named on the page without their roles (see _page_context).
    selectinload(Occurrence.reports).joinedload(Report.submitted_by).lazyload(Person.roles),
    selectinload(Occurrence.reports).joinedload(Report.reviewed_by).lazyload(Person.roles),
)


def load_occurrence(occurrence_id: int, *, for_page: bool = True) -> Occurrence:
    """The occurrence with what its page shows (for_page=False: only what an action checks), or 404; 403
    outside the person's scope."""
    occurrence = db.session.scalar(
        sa.select(Occurrence).options(*(_PAGE_OPTIONS if for_page else _ACTION_OPTIONS))
        .where(Occurrence.id == occurrence_id)
    )
    if occurrence is None:
        abort(404)
    if not occurrence_visible(current_user, occurrence):  # the same rule as the API's
        raise PermissionDenied(_l("You do not have permission for this page."))
    return occurrence


def _page_context(occurrence: Occurrence) -> dict[str, Any]:
    clock = status_clock()
    task = occurrence.task
    plan = task.plan
    status = occurrence.status(clock).value
    is_open = occurrence.completed_at is None and occurrence.cancelled_at is None
    actionable = is_open and task.status == TaskStatus.ACTIVE and plan.status == PlanStatus.ACTIVE
    review_units = [u for u in (task.report_to_unit, plan.issuing_unit) if u is not None]
    # The people named on the page are loaded without their roles (lazyload: only if touched). Not noload:
    # that would also set an empty role list on the signed-in person when they are among them and a refused
    # form has just expired them (rollback), and the page would render as if they had no roles.
    comments = db.session.scalars(
        sa.select(Comment).options(joinedload(Comment.author).lazyload(Person.roles))
        .where(Comment.occurrence_id == occurrence.id).order_by(Comment.created_at, Comment.id).limit(500)
    ).all()
    extensions = db.session.scalars(
        sa.select(ExtensionRequest).options(joinedload(ExtensionRequest.requested_by).lazyload(Person.roles),
                                            joinedload(ExtensionRequest.decided_by).lazyload(Person.roles))
        .where(ExtensionRequest.occurrence_id == occurrence.id).order_by(ExtensionRequest.created_at)
    ).all()
    indicators = db.session.scalars(
        sa.select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.id).limit(100)
    ).all()
    indicator_names = {i.id: i for i in indicators}
    can_act = actionable and can(current_user, Permission.ACT, occurrence.lead_unit)
    return {
        "occ": occurrence, "task": task, "plan": plan, "clock": clock, "status": status,
        "days_late": occurrence.days_late(clock),
        "can_act": can_act,
        "can_review": any(can(current_user, Permission.REVIEW, u) for u in review_units),
        "can_decide": can(current_user, Permission.DECIDE_EXTENSION, occurrence.lead_unit),
        "has_pending_extension": any(e.status == ExtensionStatus.PENDING for e in extensions),
        "comments": comments, "extensions": extensions, "indicators": indicator_names,
        "history": q.history_of(occurrence.id),
        "reminders": q.reminders_for(occurrence.id),
        "SUBMITTED": ReviewStatus.SUBMITTED, "PENDING": ExtensionStatus.PENDING,
    }


def _render(occurrence: Occurrence, *, status: int = 200, error: str | None = None, **forms: Any) -> Page:
    context = _page_context(occurrence)
    if "report_form" not in forms and context["can_act"]:
        forms["report_form"] = report_form_for(report_indicators(occurrence.task, occurrence.lead_unit_id),
                                               formdata=None)
    forms.setdefault("done_form", MarkDoneForm(formdata=None))
    forms.setdefault("extension_form", ExtensionForm(formdata=None))
    forms.setdefault("comment_form", CommentForm(formdata=None))
    forms.setdefault("review_form", ReviewForm(formdata=None))
    forms.setdefault("decision_form", ExtensionDecisionForm(formdata=None))
    field_errors = next((e for e in map(_field_errors, forms.values()) if e), [])
    html = render_template("tasks/occurrence.html", error=error, field_errors=field_errors, **context, **forms)
    return (html, status) if status != 200 else html


@bp.get("/occurrences/<bigid:occurrence_id>")
def occurrence_page(occurrence_id: int) -> Page:
    return _render(load_occurrence(occurrence_id))


def _done(occurrence: Occurrence, message: str) -> Response:
    flash(message, "success")
    return redirect(safe_next(request.form.get("next"),
                              url_for("tasks.occurrence_page", occurrence_id=occurrence.id)))


#: Fields of the operations' errors that a form names differently.
_FIELD_OF_ERROR = {"requested_due_on": "new_due_on"}


def _field_errors(form: Any) -> list[tuple[str, str, str]]:
    """(input id, label, message) of every error a form holds, in the form's order."""
    return [(f.id, f.label.text, str(message)) for f in form
            if f.type not in ("CSRFTokenField", "HiddenField") for message in f.errors]


def _put_beside_fields(form: Any, error: DomainError) -> bool:
    """Show an operation's error beside the input it is about; False when it is about none of them."""
    if isinstance(error, InvalidFigures):
        targets = [(form._fields.get(f"value_{ind_id}"), message) for ind_id, message in error.by_indicator.items()]
    else:
        name = _FIELD_OF_ERROR.get(error.field or "", error.field or "")
        targets = [(form._fields.get(name), error.render())]
    if not targets or any(f is None or f.type == "CSRFTokenField" for f, _m in targets):
        return False
    for f, message in targets:
        f.errors = [*f.errors, message]
    return True


def _failed(occurrence: Occurrence, form_name: str, form: Any, error: DomainError | None = None) -> Page:
    """The page again with what was typed and every error beside its input (the ones about no input on top)."""
    # The action loaded only what it checks (and a refused operation's rollback expired it): read what the
    # page shows in one go rather than row by row.
    occurrence = load_occurrence(occurrence.id)
    if error is None:
        general = [str(m) for f in form if f.type == "CSRFTokenField" for m in f.errors]
        if not general and not _field_errors(form):
            general = [str(_l("Some of the data is not valid."))]
        return _render(occurrence, status=422, error=" ".join(general) or None, **{form_name: form})
    message = None if _put_beside_fields(form, error) else error.render()
    return _render(occurrence, status=error.status, error=message, **{form_name: form})


def _act(occurrence: Occurrence, form_name: str, form: Any, action: Callable[[], str]) -> Page:
    """The one shape of every form on the task page: validate, run the domain operation (which returns the
    success message) and redirect (the request's transaction commits); or show the page again with the error
    (4xx), the operation's changes dropped."""
    if not form.validate():
        return _failed(occurrence, form_name, form)
    try:
        with atomic():
            message = action()
    except DomainError as error:
        return _failed(occurrence, form_name, form, error)
    return _done(occurrence, message)


@bp.post("/occurrences/<bigid:occurrence_id>/report")
def submit_report(occurrence_id: int) -> Page:
    occurrence = load_occurrence(occurrence_id, for_page=False)
    # The form takes the figures of the indicators assigned to the unit, the ones it shows.
    form: ReportForm = report_form_for(report_indicators(occurrence.task, occurrence.lead_unit_id))

    def submit() -> str:
        files = [
            ops.UploadedFile(f.filename or "", f.mimetype or "application/octet-stream", f.read())
            for f in request.files.getlist(form.attachments.name)
            if f and (f.filename or "").strip()
        ]
        ops.submit_report(current_user, occurrence, body=form.body.data or "", values=form.values(),
                          attachments=files)
        return _("The report has been submitted.")

    return _act(occurrence, "report_form", form, submit)


@bp.post("/occurrences/<bigid:occurrence_id>/done")
def mark_done(occurrence_id: int) -> Page:
    occurrence, form = load_occurrence(occurrence_id, for_page=False), MarkDoneForm()

    def done() -> str:  # the form's ticked confirmation makes it explicit: without it, nothing happens
        ops.mark_done(current_user, occurrence, form.note.data or "")
        return _("The task is marked done.")

    return _act(occurrence, "done_form", form, done)


@bp.post("/occurrences/<bigid:occurrence_id>/extension")
def request_extension(occurrence_id: int) -> Page:
    occurrence, form = load_occurrence(occurrence_id, for_page=False), ExtensionForm()

    def ask() -> str:
        ops.request_extension(current_user, occurrence, new_due_on=form.new_due_on.data,
                              reason=form.reason.data or "")
        return _("Your request for more time has been sent.")

    return _act(occurrence, "extension_form", form, ask)


@bp.post("/occurrences/<bigid:occurrence_id>/comments")
def add_comment(occurrence_id: int) -> Page:
    occurrence, form = load_occurrence(occurrence_id, for_page=False), CommentForm()

    def comment() -> str:
        ops.add_comment(current_user, occurrence, form.body.data or "")
        return _("Your comment has been added.")

    return _act(occurrence, "comment_form", form, comment)


@bp.post("/reports/<bigid:report_id>/review")
def review_report(report_id: int) -> Page:
    report = db.session.get(Report, report_id)
    if report is None:
        abort(404)
    occurrence, form = load_occurrence(report.occurrence_id), ReviewForm()

    def review() -> str:
        accept = form.decision.data == "accept"
        ops.review_report(current_user, report, accept=accept, comment=form.comment.data or "")
        return _("The report has been accepted.") if accept else _("The report has been returned.")

    return _act(occurrence, "review_form", form, review)


@bp.post("/extensions/<id:request_id>/decide")
def decide_extension(request_id: int) -> Page:
    extension = db.session.get(ExtensionRequest, request_id)
    if extension is None:
        abort(404)
    occurrence, form = load_occurrence(extension.occurrence_id), ExtensionDecisionForm()

    def decide() -> str:
        approve = form.decision.data == "approve"
        ops.decide_extension(current_user, extension, approve=approve, note=form.note.data or "")
        return _("The new deadline is approved.") if approve else _("The request has been rejected.")

    return _act(occurrence, "decision_form", form, decide)


@bp.get("/attachments/<bigid:attachment_id>")
def download_attachment(attachment_id: int) -> Response:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    load_occurrence(attachment.report.occurrence_id)  # the scope check


    # Always a download, never rendered by the browser: an uploaded page cannot run script here.
    response = send_file(io.BytesIO(attachment.content), mimetype="application/octet-stream", as_attachment=True,
                         download_name=attachment.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
