"""Submitting, reviewing, extending, cancelling and commenting: permissions, state rules and the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    ExtensionStatus,
    Notification,
    NotificationKind,
    OccurrenceStatus,
    Report,
    ReviewStatus,
    StatusClock,
)
from tracker.operations import occurrences as ops
from tracker.operations.errors import Conflict, PermissionDenied, ValidationFailed

ON_TIME = datetime(2024, 9, 24, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội, the day before the deadline
LATE = datetime(2024, 9, 26, 2, 0, tzinfo=UTC)


def _events(action: str | None = None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def test_officer_submits_report_on_time(active_plan, commune):
    occ = active_plan.occurrence
    report = ops.submit_report(commune.officer, occ, body="Đã hoàn thành", now=ON_TIME)
    db.session.commit()
    assert report.is_late is False
    assert occ.completed_on == date(2024, 9, 24)
    assert occ.status(StatusClock.for_day(date(2024, 10, 1))) == OccurrenceStatus.DONE_ON_TIME
    (event,) = _events("occurrence.complete")
    assert event.actor_id == commune.officer.id
    assert event.before["completed_at"] is None and event.after["late"] is False


def test_report_after_the_due_day_is_late(active_plan, commune):
    report = ops.submit_report(commune.officer, active_plan.occurrence, body="Muộn", now=LATE)
    assert report.is_late is True
    assert active_plan.occurrence.status(StatusClock.for_day(date(2024, 10, 1))) == OccurrenceStatus.DONE_LATE


def test_local_date_decides_lateness_not_utc(active_plan, commune):
    # 23:30 on 25/9 in Hà Nội is 16:30 UTC the same day: on time. 00:30 on 26/9 local is 17:30 UTC on 25/9: late.
    report = ops.submit_report(commune.officer, active_plan.occurrence, body="Xong",
                               now=datetime(2024, 9, 25, 17, 30, tzinfo=UTC))
    assert report.submitted_on == date(2024, 9, 26) and report.is_late


def test_marking_done_twice_is_refused_and_writes_nothing(active_plan, commune):
    ops.mark_done(commune.officer, active_plan.occurrence, now=ON_TIME)
    db.session.commit()
    with pytest.raises(Conflict):
        ops.mark_done(commune.officer, active_plan.occurrence, now=ON_TIME)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 1
    assert len(_events("occurrence.complete")) == 1


def test_officer_of_another_commune_cannot_act(active_plan, commune):
    with pytest.raises(PermissionDenied):
        ops.submit_report(commune.other_officer, active_plan.occurrence, body="x", now=ON_TIME)
    db.session.rollback()
    assert active_plan.occurrence.completed_at is None
    assert _events("occurrence.complete") == []


def test_viewer_cannot_submit(active_plan, commune):
    with pytest.raises(PermissionDenied):
        ops.submit_report(commune.viewer, active_plan.occurrence, now=ON_TIME)


def test_report_on_a_cancelled_occurrence_is_refused(active_plan, commune):
    ops.cancel_occurrence(commune.chair, active_plan.occurrence, reason="Không còn phù hợp")
    db.session.commit()
    with pytest.raises(Conflict):
        ops.submit_report(commune.officer, active_plan.occurrence, now=ON_TIME)
    assert active_plan.occurrence.status(StatusClock.for_day(date(2024, 10, 1))) == OccurrenceStatus.CANCELLED


def test_attachment_rules(active_plan, commune, app):
    occ = active_plan.occurrence
    with pytest.raises(ValidationFailed):
        ops.submit_report(commune.officer, occ, attachments=[ops.UploadedFile("a.pdf", "application/pdf", b"")])
    with pytest.raises(ValidationFailed):
        ops.submit_report(commune.officer, occ, attachments=[ops.UploadedFile("a.exe", "application/x", b"MZ")])
    big = b"x" * (app.config["ATTACHMENT_MAX_BYTES"] + 1)
    with pytest.raises(ValidationFailed):
        ops.submit_report(commune.officer, occ, attachments=[ops.UploadedFile("a.pdf", "application/pdf", big)])
    report = ops.submit_report(commune.officer, occ, attachments=[
        ops.UploadedFile("../../bao cao.pdf", "application/pdf", b"%PDF-1.4 ok")], now=ON_TIME)
    assert report.attachments[0].filename == "bao cao.pdf"
    assert report.attachments[0].size_bytes == len(b"%PDF-1.4 ok")


def test_indicator_values_accept_vietnamese_decimals(active_plan, commune):
    from tracker.operations.indicators import create_indicator

    indicator = create_indicator(None, active_plan.plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%")
    report = ops.submit_report(commune.officer, active_plan.occurrence, values={indicator.id: "2,03"}, now=ON_TIME)
    assert float(report.values[0].value) == pytest.approx(2.03)
    assert report.values[0].year == 2024


def test_non_numeric_indicator_value_is_refused(active_plan, commune):
    from tracker.operations.indicators import create_indicator

    indicator = create_indicator(None, active_plan.plan, name="Số hộ", unit_of_measure="hộ")
    with pytest.raises(ValidationFailed):
        ops.submit_report(commune.officer, active_plan.occurrence, values={indicator.id: "nhiều"}, now=ON_TIME)


def test_focal_returns_report_which_reopens_the_occurrence_and_tells_the_submitter(active_plan, commune):
    report = ops.submit_report(commune.officer, active_plan.occurrence, body="Bản đầu", now=ON_TIME)
    db.session.commit()
    with pytest.raises(ValidationFailed):
        ops.review_report(commune.focal, report, accept=False, comment="  ")
    ops.review_report(commune.focal, report, accept=False, comment="Thiếu số liệu")
    db.session.commit()
    assert report.review_status == ReviewStatus.RETURNED
    assert active_plan.occurrence.completed_at is None
    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.recipient_id == commune.officer.id))
    assert set(kinds) == {NotificationKind.REPORT_RETURNED}
    # the unit resubmits; the focal accepts
    second = ops.submit_report(commune.officer, active_plan.occurrence, body="Bản bổ sung", now=LATE)
    ops.review_report(commune.focal, second, accept=True)
    db.session.commit()
    assert second.review_status == ReviewStatus.ACCEPTED
    with pytest.raises(Conflict):
        ops.review_report(commune.focal, second, accept=True)


def test_officer_cannot_review_reports(active_plan, commune):
    report = ops.submit_report(commune.officer, active_plan.occurrence, body="Xong", now=ON_TIME)
    with pytest.raises(PermissionDenied):
        ops.review_report(commune.officer, report, accept=True)


def test_extension_request_and_chair_approval_moves_the_due_date(active_plan, commune):
    occ = active_plan.occurrence
    with pytest.raises(ValidationFailed):
        ops.request_extension(commune.officer, occ, new_due_on=date(2024, 9, 20), reason="x")
    request = ops.request_extension(commune.officer, occ, new_due_on=date(2024, 10, 5), reason="Chờ số liệu")
    db.session.commit()
    with pytest.raises(Conflict):
        ops.request_extension(commune.officer, occ, new_due_on=date(2024, 10, 6), reason="lần hai")
    with pytest.raises(PermissionDenied):
        ops.decide_extension(commune.focal, request, approve=True)
    ops.decide_extension(commune.chair, request, approve=True, note="Đồng ý")
    db.session.commit()
    assert request.status == ExtensionStatus.APPROVED
    assert occ.due_on == date(2024, 10, 5) and occ.original_due_on == date(2024, 9, 25)
    assert occ.status(StatusClock.for_day(date(2024, 9, 30))) == OccurrenceStatus.DUE_SOON
    (event,) = _events("extension.approve")
    assert event.before["due_on"] == "2024-09-25" and event.after["due_on"] == "2024-10-05"


def test_rejected_extension_keeps_the_due_date(active_plan, commune):
    request = ops.request_extension(commune.officer, active_plan.occurrence, new_due_on=date(2024, 10, 5),
                                    reason="Chờ số liệu")
    ops.decide_extension(commune.chair, request, approve=False, note="Không đủ lý do")
    assert active_plan.occurrence.due_on == date(2024, 9, 25)


def test_comment_is_stored_as_plain_text(active_plan, commune):
    comment = ops.add_comment(commune.officer, active_plan.occurrence, "<script>alert(1)</script>")
    assert comment.body == "<script>alert(1)</script>"
    with pytest.raises(ValidationFailed):
        ops.add_comment(commune.officer, active_plan.occurrence, "   ")
    with pytest.raises(PermissionDenied):
        ops.add_comment(commune.other_officer, active_plan.occurrence, "xin chào")


def test_every_change_is_audited_with_actor(active_plan, commune):
    ops.submit_report(commune.officer, active_plan.occurrence, body="Xong", now=ON_TIME)
    ops.add_comment(commune.chair, active_plan.occurrence, "Tốt")
    db.session.commit()
    actions = [(e.action, e.actor_id) for e in _events() if e.action in {"occurrence.complete", "comment.create"}]
    assert actions == [("occurrence.complete", commune.officer.id), ("comment.create", commune.chair.id)]


def test_a_double_clicked_comment_is_stored_once(active_plan, commune):
    first = ops.add_comment(commune.officer, active_plan.occurrence, "Đã gửi bản giấy")
    again = ops.add_comment(commune.officer, active_plan.occurrence, "Đã gửi bản giấy")
    assert again.id == first.id
    assert len(_events("comment.create")) == 1
    other = ops.add_comment(commune.officer, active_plan.occurrence, "Bổ sung số liệu")
    assert other.id != first.id


def test_a_comment_on_a_cancelled_occurrence_is_refused(active_plan, commune):
    ops.cancel_occurrence(commune.chair, active_plan.occurrence, reason="Không còn phù hợp")
    db.session.commit()
    with pytest.raises(Conflict):
        ops.add_comment(commune.officer, active_plan.occurrence, "xin chào")
    assert _events("comment.create") == []


def test_an_implausible_extension_date_is_refused(active_plan, commune):
    with pytest.raises(ValidationFailed) as caught:
        ops.request_extension(commune.officer, active_plan.occurrence, new_due_on=date(9999, 12, 31), reason="Chậm")
    assert caught.value.field == "requested_due_on"
    assert _events("extension.request") == []


def test_a_target_beyond_what_the_database_holds_is_refused(active_plan, commune):
    from tracker.operations.indicators import create_indicator, set_target

    indicator = create_indicator(commune.admin, active_plan.plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%")
    with pytest.raises(ValidationFailed):
        set_target(commune.admin, indicator, unit=commune.xa, year=2024, value="1e30")
