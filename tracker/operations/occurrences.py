"""What officers and reviewers do to an occurrence: report, mark done, review, extend, cancel, comment."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from tracker.clock import FIRST_DATE, LAST_DATE, local_date, local_zone, utcnow
from tracker.extensions import db
from tracker.models import (
    Attachment,
    Comment,
    ExtensionRequest,
    ExtensionStatus,
    Indicator,
    IndicatorValue,
    NotificationKind,
    Occurrence,
    Person,
    PlanStatus,
    Report,
    ReviewStatus,
    Role,
    RoleAssignment,
    TaskStatus,
)
from tracker.notify.outbox import enqueue
from tracker.operations import audit, summaries
from tracker.operations.authz import Permission, can, require
from tracker.operations.errors import Conflict, PermissionDenied, ValidationFailed
from tracker.operations.indicators import MAX_VALUE
from tracker.operations.transitions import claim
from tracker.operations.uploads import check_upload

_OCC_FIELDS = ("due_on", "completed_at", "completed_on", "cancelled_at")
MAX_TEXT = 20_000
REPEAT_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    content: bytes


def _config(key: str, default: object) -> object:
    return current_app.config.get(key, default) if has_app_context() else default


def _require_actionable(occurrence: Occurrence) -> None:
    task = occurrence.task
    if occurrence.cancelled_at is not None or task.status == TaskStatus.CANCELLED:
        raise Conflict(_l("This task has been cancelled."))
    if task.plan.status != PlanStatus.ACTIVE:
        raise Conflict(_l("The plan is not active."))


def submit_report(
    actor: Person | None,
    occurrence: Occurrence,
    *,
    body: str = "",
    values: Mapping[int, object] | None = None,
    attachments: Iterable[UploadedFile] = (),
    now: datetime | None = None,
) -> Report:
    """Submit the occurrence's report, which also marks it done (on time or late, by the due date).

    A report must say something: text, at least one figure or a file. Marking a task done with nothing to
    report is the separate, explicit `mark_done`.
    """
    _require_open(actor, occurrence)
    body = _checked_text(body)
    files = [_check_file(f) for f in attachments]
    parsed_values = _parse_values(values or {}, plan_id=occurrence.task.plan_id)
    if not body and not files and not parsed_values:
        raise ValidationFailed(EMPTY_REPORT, field="body")
    return _complete(actor, occurrence, body=body, files=files, values=parsed_values, now=now)


#: Why an empty report is refused, naming the three ways to fill it (and the other action).
EMPTY_REPORT = _l("The report is empty: write what was done, give at least one figure or attach a file. "
                  "To mark the task done with nothing to report, use \"Mark done without a report\".")


def mark_done(actor: Person | None, occurrence: Occurrence, note: str = "", now: datetime | None = None) -> Report:
    """Mark an occurrence done without a report: the separate, explicit action (a short note at most).

    It completes the occurrence like a report does (the report-to unit can still return it), and its audit
    event says it came with no report.
    """
    _require_open(actor, occurrence)
    return _complete(actor, occurrence, body=_checked_text(note), files=[], values=[], now=now,
                     without_report=True)


def _require_open(actor: Person | None, occurrence: Occurrence) -> None:
    require(actor, Permission.ACT, occurrence.lead_unit)
    _require_actionable(occurrence)
    if occurrence.completed_at is not None:
        raise occurrence_conflict(occurrence)


def _checked_text(body: str) -> str:
    body = (body or "").strip()
    if len(body) > MAX_TEXT:
        raise ValidationFailed(_l("The text is too long (at most %(n)s characters)."), field="body", n=MAX_TEXT)
    return body


def _complete(
    actor: Person | None,
    occurrence: Occurrence,
    *,
    body: str,
    files: list[UploadedFile],
    values: list[tuple[Indicator, Decimal]],
    now: datetime | None,
    without_report: bool = False,
) -> Report:
    """Complete the occurrence with its report row (checked input only)."""
    if actor is None:
        raise PermissionDenied(_l("A report needs a person who submits it."))
    now = now or utcnow()
    submitted_on = local_date(now)
    before = audit.snapshot(occurrence, _OCC_FIELDS)
    counted = summaries.OccurrenceState.of(occurrence)
    # The one guarded step: only a request that finds the occurrence open completes it.
    if not claim(occurrence, Occurrence.is_open, completed_at=now, completed_on=submitted_on,
                 completed_by_id=actor.id):
        raise occurrence_conflict(occurrence)
    report = Report(
        occurrence=occurrence, submitted_by_id=actor.id, submitted_at=now, submitted_on=submitted_on,
        body=body, is_late=submitted_on > occurrence.due_on,
    )
    db.session.add(report)
    for f in files:
        report.attachments.append(Attachment(
            filename=f.filename, content_type=f.content_type, size_bytes=len(f.content),
            sha256=hashlib.sha256(f.content).hexdigest(), content=f.content,
        ))
    year = (occurrence.period_end_on or occurrence.due_on).year
    figures = [IndicatorValue(indicator_id=indicator.id, unit_id=occurrence.lead_unit_id, year=year, value=value,
                              reported_at=now) for indicator, value in values]
    report.values.extend(figures)
    db.session.flush()
    # The summaries, in this transaction: one statement, and one more for the figures when there are some.
    summaries.move(counted, summaries.OccurrenceState.of(occurrence))
    summaries.record_values(figures)
    after = {**audit.snapshot(occurrence, _OCC_FIELDS), "report_id": report.id, "late": report.is_late}
    if without_report:
        after["without_report"] = True
    audit.record("occurrence.complete", occurrence, actor, unit_id=occurrence.lead_unit_id, before=before,
                 after=after)
    return report


def occurrence_conflict(occurrence: Occurrence) -> Conflict:
    """The error for an action that found the occurrence no longer open: what happened, by whom, when."""
    if occurrence.cancelled_at is not None or occurrence.task.status == TaskStatus.CANCELLED:
        return Conflict(_l("This task has been cancelled."))
    if occurrence.completed_at is not None:
        who = occurrence.completed_by.full_name if occurrence.completed_by is not None else "—"
        return Conflict(_l("This task was already marked done by %(person)s at %(when)s."), person=who,
                        when=_local_time(occurrence.completed_at))
    return Conflict(_l("This task changed meanwhile; reload the page."))


def _local_time(value: datetime) -> str:
    return value.astimezone(local_zone()).strftime("%H:%M %d/%m/%Y")


def _check_file(f: UploadedFile) -> UploadedFile:
    allowed = {e.lower() for e in _config("ATTACHMENT_EXTENSIONS", [])}  # type: ignore[attr-defined]
    limit = int(_config("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))  # type: ignore[arg-type]
    checked = check_upload(f.filename, f.content, allowed=allowed, max_bytes=limit)
    return UploadedFile(checked.filename, checked.content_type, checked.content)


class InvalidFigures(ValidationFailed):
    """Figures that are not numbers: every one of them, by indicator (the web shows each beside its input)."""

    def __init__(self, by_indicator: Mapping[int, str]) -> None:
        super().__init__(_l("Some figures are not numbers."), field="values")
        self.by_indicator = dict(by_indicator)

    def render(self) -> str:
        return " ".join(self.by_indicator.values())

    def as_errors(self) -> dict[str, list[str]]:
        return {"values": list(self.by_indicator.values())}


def parse_figure(raw: object) -> Decimal | None:
    """A reported figure as a number ("2,03" with the Vietnamese decimal comma, "1 250"), or None if it is
    not one (or too large to store)."""
    text = str(raw).strip().replace(" ", "").replace("\u00a0", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # Vietnamese decimal comma: "2,03"
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and abs(value) < MAX_VALUE else None


def not_a_number(raw: object) -> str:
    """The message for a figure that is not a number."""
    return str(_l("%(value)s is not a number.")) % {"value": raw}


def _parse_values(values: Mapping[int, object], *, plan_id: int) -> list[tuple[Indicator, Decimal]]:
    """The figures of a report, each for an indicator of the occurrence's own plan (scope check: an indicator
    of another plan, which the officer may not even read, is unknown here). Every figure that is not a number
    is named, not only the first."""
    if not values:
        return []
    try:
        ids = [int(i) for i in values]
    except (TypeError, ValueError):
        raise ValidationFailed(_l("Unknown indicator %(id)s."), field="values", id=next(iter(values)))
    indicators = {i.id: i for i in db.session.scalars(
        sa.select(Indicator).where(Indicator.id.in_(ids), Indicator.plan_id == plan_id))}
    parsed, errors = [], {}
    for indicator_id, raw in values.items():
        indicator = indicators.get(int(indicator_id))
        if indicator is None:
            raise ValidationFailed(_l("Indicator %(id)s is not one of this plan's indicators."), field="values",
                                   id=indicator_id)
        value = parse_figure(raw)
        if value is None:
            errors[indicator.id] = not_a_number(raw)
        else:
            parsed.append((indicator, value))
    if errors:
        raise InvalidFigures(errors)
    return parsed


def _can_review(actor: Person | None, occurrence: Occurrence) -> bool:
    task = occurrence.task
    units = [u for u in (task.report_to_unit, task.plan.issuing_unit) if u is not None]
    return any(can(actor, Permission.REVIEW, u) for u in units)


def review_report(actor: Person | None, report: Report, *, accept: bool, comment: str = "") -> None:
    """Accept a report, or return it: the occurrence opens again and the submitter is told why."""
    occurrence = report.occurrence
    if not _can_review(actor, occurrence):
        raise PermissionDenied(_l("You cannot review reports of %(unit)s."), unit=occurrence.lead_unit.name)
    if report.review_status != ReviewStatus.SUBMITTED:
        raise Conflict(_l("This report has already been reviewed."))
    comment = (comment or "").strip()
    if not accept and not comment:
        raise ValidationFailed(_l("Say why the report is returned."), field="comment")
    before = {"review_status": report.review_status.value, **audit.snapshot(occurrence, _OCC_FIELDS)}
    status = ReviewStatus.ACCEPTED if accept else ReviewStatus.RETURNED
    if not claim(report, Report.review_status == ReviewStatus.SUBMITTED, review_status=status,
                 reviewed_by_id=actor.id if actor else None, reviewed_at=utcnow(), review_comment=comment or None):
        raise _review_conflict(report)
    if not accept:
        counted = summaries.OccurrenceState.of(occurrence)
        # Open again: an acknowledgement from before no longer holds back the escalation ladder.
        claim(occurrence, None, completed_at=None, completed_on=None, completed_by_id=None,
              acknowledged_at=None, acknowledged_by_id=None, acknowledged_due_on=None)
        summaries.move(counted, summaries.OccurrenceState.of(occurrence))
    audit.record("report.accept" if accept else "report.return", report, actor, unit_id=occurrence.lead_unit_id,
                 before=before, after={"review_status": report.review_status.value, "comment": comment,
                                       **audit.snapshot(occurrence, _OCC_FIELDS)})
    enqueue(NotificationKind.REPORT_ACCEPTED if accept else NotificationKind.REPORT_RETURNED,
            [report.submitted_by], key=str(report.id), occurrence_id=occurrence.id, payload={"comment": comment})


def _review_conflict(report: Report) -> Conflict:
    who = report.reviewed_by.full_name if report.reviewed_by is not None else "—"
    when = _local_time(report.reviewed_at) if report.reviewed_at is not None else "—"
    if report.review_status == ReviewStatus.ACCEPTED:
        return Conflict(_l("This report was already accepted by %(person)s at %(when)s."), person=who, when=when)
    return Conflict(_l("This report was already returned by %(person)s at %(when)s."), person=who, when=when)


def request_extension(
    actor: Person | None, occurrence: Occurrence, *, new_due_on: date, reason: str
) -> ExtensionRequest:
    """Ask for more time; the chair decides."""
    require(actor, Permission.ACT, occurrence.lead_unit)
    _require_actionable(occurrence)
    if occurrence.completed_at is not None:
        raise Conflict(_l("This task is already done."))
    if not isinstance(new_due_on, date):
        raise ValidationFailed(_l("%(value)s is not a date."), field="requested_due_on", value=new_due_on)
    if not FIRST_DATE <= new_due_on <= LAST_DATE:
        raise ValidationFailed(_l("The date %(value)s is not plausible."), field="requested_due_on",
                               value=new_due_on.strftime("%d/%m/%Y"))
    if new_due_on <= occurrence.due_on:
        raise ValidationFailed(_l("The new deadline must be after the current one (%(due)s)."),
                               field="requested_due_on", due=occurrence.due_on.strftime("%d/%m/%Y"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Say why more time is needed."), field="reason")
    pending = _pending_clause(occurrence.id)
    if db.session.scalar(sa.select(ExtensionRequest.id).where(pending)) is not None:
        raise Conflict(_l("A request for more time is already waiting for a decision."))
    assert actor is not None
    request = ExtensionRequest(occurrence=occurrence, requested_by_id=actor.id, requested_due_on=new_due_on,
                               reason=reason[:MAX_TEXT])
    # Two requests at once both pass the check above; the unique index of pending requests keeps one.
    try:
        with db.session.begin_nested():
            db.session.add(request)
    except sa.exc.IntegrityError:
        raise Conflict(_l("A request for more time is already waiting for a decision."))
    audit.record("extension.request", request, actor, unit_id=occurrence.lead_unit_id,
                 after={"requested_due_on": new_due_on.isoformat(), "reason": reason})
    return request


def decide_extension(actor: Person | None, request: ExtensionRequest, *, approve: bool, note: str = "") -> None:
    """Approve (the due date moves) or reject a request for more time, and tell the requester."""
    occurrence = request.occurrence
    require(actor, Permission.DECIDE_EXTENSION, occurrence.lead_unit)
    if request.status != ExtensionStatus.PENDING:
        raise Conflict(_l("This request has already been decided."))
    before = {"status": request.status.value, "due_on": occurrence.due_on.isoformat()}
    status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    if not claim(request, ExtensionRequest.status == ExtensionStatus.PENDING, status=status,
                 decided_by_id=actor.id if actor else None, decided_at=utcnow(),
                 decision_note=(note or "").strip() or None):
        raise _decision_conflict(request)
    if approve:
        counted = summaries.OccurrenceState.of(occurrence)
        claim(occurrence, None, due_on=request.requested_due_on)
        summaries.move(counted, summaries.OccurrenceState.of(occurrence))
    audit.record("extension.approve" if approve else "extension.reject", request, actor,
                 unit_id=occurrence.lead_unit_id, before=before,
                 after={"status": request.status.value, "due_on": occurrence.due_on.isoformat(), "note": note})
    enqueue(NotificationKind.EXTENSION_DECIDED, [request.requested_by], key=str(request.id),
            occurrence_id=occurrence.id, payload={"approved": approve, "note": note})


def _decision_conflict(request: ExtensionRequest) -> Conflict:
    who = request.decided_by.full_name if request.decided_by is not None else "—"
    when = _local_time(request.decided_at) if request.decided_at is not None else "—"
    if request.status == ExtensionStatus.APPROVED:
        return Conflict(_l("This request was already approved by %(person)s at %(when)s."), person=who, when=when)
    return Conflict(_l("This request was already rejected by %(person)s at %(when)s."), person=who, when=when)


def _pending_clause(occurrence_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(ExtensionRequest.occurrence_id == occurrence_id, ExtensionRequest.status == ExtensionStatus.PENDING)


def has_pending_extension(occurrence: Occurrence) -> bool:
    """Whether a request for more time on `occurrence` waits for a decision (one more cannot be asked)."""
    return db.session.scalar(sa.select(ExtensionRequest.id).where(_pending_clause(occurrence.id)).limit(1)) is not None


def cancel_occurrence(actor: Person | None, occurrence: Occurrence, reason: str) -> None:
    """Cancel one period of a task (nothing is deleted)."""
    require(actor, Permission.MANAGE_PLANS, occurrence.task.plan.issuing_unit)
    if not (reason or "").strip():
        raise ValidationFailed(_l("Say why it is cancelled."), field="reason")
    counted = summaries.OccurrenceState.of(occurrence)
    if not claim(occurrence, Occurrence.is_open, cancelled_at=utcnow()):
        raise occurrence_conflict(occurrence)
    summaries.move(counted, summaries.OccurrenceState.of(occurrence))
    audit.record("occurrence.cancel", occurrence, actor, unit_id=occurrence.lead_unit_id,
                 before={"cancelled_at": None}, after={"cancelled_at": occurrence.cancelled_at,
                                                       "reason": reason.strip()})


def add_comment(actor: Person | None, occurrence: Occurrence, body: str) -> Comment:
    """Comment on an occurrence (stored as plain text; pages escape it)."""
    require(actor, Permission.VIEW, occurrence.lead_unit)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(_l("The comment is empty."), field="body")
    if len(body) > 5000:
        raise ValidationFailed(_l("The text is too long (at most %(n)s characters)."), field="body", n=5000)
    if actor is None:
        raise PermissionDenied(_l("A comment needs an author."))
    if occurrence.cancelled_at is not None or occurrence.task.status == TaskStatus.CANCELLED:
        raise Conflict(_l("This task has been cancelled."))
    # A double click (or a retried request) posts the same text twice within seconds: keep one.
    repeated = db.session.scalar(sa.select(Comment).where(
        Comment.occurrence_id == occurrence.id, Comment.author_id == actor.id, Comment.body == body,
        Comment.created_at >= utcnow() - REPEAT_WINDOW,
    ).limit(1))
    if repeated is not None:
        return repeated
    comment = Comment(occurrence_id=occurrence.id, author_id=actor.id, body=body)
    db.session.add(comment)
    db.session.flush()
    audit.record("comment.create", comment, actor, unit_id=occurrence.lead_unit_id, after={"body": body[:500]})
    return comment


def officers_of(unit_id: int, roles: Iterable[Role] = (Role.OFFICER,)) -> list[Person]:
    """Active people holding `roles` directly on a unit."""
    return list(db.session.scalars(
        sa.select(Person).join(RoleAssignment).where(
            RoleAssignment.unit_id == unit_id, RoleAssignment.role.in_(list(roles)), Person.is_active
        ).distinct()
    ))
