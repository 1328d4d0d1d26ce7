"""A report must say something (text, a figure or a file); marking done without one is its own action."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import AuditEvent, IndicatorValue, Report
from tracker.operations import occurrences as ops
from tracker.operations.errors import ValidationFailed
from tracker.operations.indicators import create_indicator, set_target
from tracker.queries.indicators import report_indicators

ON_TIME = datetime(2024, 9, 24, 3, 0, tzinfo=UTC)


def _completions() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "occurrence.complete"))


@pytest.mark.parametrize("body", ["", "   \n\t "])
def test_an_empty_report_is_refused_naming_the_body_and_changes_nothing(active_plan, commune, body):
    with pytest.raises(ValidationFailed) as refused:
        ops.submit_report(commune.officer, active_plan.occurrence, body=body, values={}, attachments=[], now=ON_TIME)
    assert refused.value.as_errors() == {"body": [
        "Báo cáo đang trống: hãy ghi kết quả thực hiện, nhập ít nhất một số liệu hoặc đính kèm tệp. Nếu không có gì "
        "để báo cáo, hãy dùng \"Đánh dấu hoàn thành không kèm báo cáo\"."]}
    db.session.rollback()
    assert active_plan.occurrence.completed_at is None
    assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 0
    assert _completions() == 0


def test_blank_figures_do_not_count_as_content(active_plan, commune):
    indicator = create_indicator(None, active_plan.plan, name="Số hộ nghèo", unit_of_measure="hộ")
    with pytest.raises(ValidationFailed):
        ops.submit_report(commune.officer, active_plan.occurrence, values={indicator.id: "  "}, now=ON_TIME)


def test_text_alone_is_a_report(active_plan, commune):
    report = ops.submit_report(commune.officer, active_plan.occurrence, body="Đã khám cho 312 người", now=ON_TIME)
    assert report.body == "Đã khám cho 312 người" and active_plan.occurrence.completed_at is not None


def test_one_figure_alone_is_a_report(active_plan, commune):
    indicator = create_indicator(None, active_plan.plan, name="Số hộ nghèo", unit_of_measure="hộ")
    report = ops.submit_report(commune.officer, active_plan.occurrence, values={indicator.id: "1 250"}, now=ON_TIME)
    db.session.flush()
    assert report.body == ""
    assert db.session.scalar(sa.select(IndicatorValue.value).where(IndicatorValue.report_id == report.id)) == 1250


def test_a_file_alone_is_a_report(active_plan, commune):
    report = ops.submit_report(commune.officer, active_plan.occurrence, now=ON_TIME,
                               attachments=[ops.UploadedFile("bao-cao.pdf", "application/pdf", b"%PDF-1.4 x")])
    assert [a.filename for a in report.attachments] == ["bao-cao.pdf"]


def test_marking_done_without_a_report_is_its_own_audited_action(active_plan, commune):
    report = ops.mark_done(commune.officer, active_plan.occurrence, now=ON_TIME)
    db.session.flush()
    assert report.body == "" and active_plan.occurrence.completed_at is not None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "occurrence.complete"))
    assert event.after["without_report"] is True


def test_a_report_with_content_is_not_marked_without_report(active_plan, commune):
    ops.submit_report(commune.officer, active_plan.occurrence, body="Xong", now=ON_TIME)
    db.session.flush()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "occurrence.complete"))
    assert "without_report" not in event.after


def test_every_figure_that_is_not_a_number_is_named(active_plan, commune):
    first = create_indicator(None, active_plan.plan, name="Số hộ nghèo", unit_of_measure="hộ")
    second = create_indicator(None, active_plan.plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%")
    third = create_indicator(None, active_plan.plan, name="Số hộ cận nghèo", unit_of_measure="hộ")
    with pytest.raises(ops.InvalidFigures) as refused:
        ops.submit_report(commune.officer, active_plan.occurrence, body="x", now=ON_TIME,
                          values={first.id: "mười", second.id: "2,5", third.id: "1e400"})
    assert refused.value.by_indicator == {first.id: "mười không phải là số.", third.id: "1e400 không phải là số."}
    assert refused.value.as_errors() == {"values": ["mười không phải là số.", "1e400 không phải là số."]}


def test_the_form_asks_for_the_indicators_assigned_to_the_unit_only(active_plan, commune, make_task):
    plan = active_plan.plan
    commune_wide = create_indicator(None, plan, name="Tỷ lệ hộ nghèo toàn xã", unit_of_measure="%")
    set_target(None, commune_wide, unit=commune.xa, year=2024, value="2")
    health = create_indicator(None, plan, name="Lượt khám cho người nghèo", unit_of_measure="lượt")
    set_target(None, health, unit=commune.health, year=2024, value="300")
    school = create_indicator(None, plan, name="Học sinh nghèo được miễn học phí", unit_of_measure="em")
    set_target(None, school, unit=commune.school, year=2024, value="40")
    reported = create_indicator(None, plan, name="Hộ được khám tại nhà", unit_of_measure="hộ")
    ops.submit_report(commune.officer, active_plan.occurrence, values={reported.id: "12"}, now=ON_TIME)
    db.session.flush()
    school_task = make_task(plan, commune.school, title="Miễn học phí", due=active_plan.occurrence.due_on)
    commune_task = make_task(plan, commune.xa, title="Tổng hợp", due=active_plan.occurrence.due_on)
    assert report_indicators(active_plan.task, commune.health.id) == [health, reported]
    assert report_indicators(school_task, commune.school.id) == [school]
    assert report_indicators(commune_task, commune.xa.id) == [commune_wide]


def test_a_unit_is_asked_for_what_the_units_of_the_same_duty_reported(active_plan, commune, make_task, make_unit):
    """A plan's duty fanned out to the villages: the village that has not reported yet is asked for the figures
    the others gave on it, and a village on another duty is not."""
    from datetime import date

    from tracker.models import Occurrence, UnitKind
    from tracker.operations.plans import add_task

    plan = active_plan.plan
    poor = create_indicator(None, plan, name="Số hộ nghèo của thôn", unit_of_measure="hộ")
    second = make_unit("Thôn 2", UnitKind.VILLAGE, parent=commune.xa)
    third = make_unit("Thôn 3", UnitKind.VILLAGE, parent=commune.xa)
    duty = "Rà soát hộ nghèo của thôn"
    first_task = add_task(None, plan, title=duty, lead_unit=commune.village, due_dates=[date(2024, 10, 15)])
    second_task = add_task(None, plan, title=duty, lead_unit=second, due_dates=[date(2024, 10, 15)])
    other_task = add_task(None, plan, title="Tuyên truyền", lead_unit=third, due_dates=[date(2024, 10, 15)])
    db.session.flush()
    from tracker.models import Role
    from tracker.operations.people import assign_role

    assign_role(None, commune.officer, commune.village, Role.OFFICER)
    occurrence = db.session.scalar(sa.select(Occurrence).where(Occurrence.task_id == first_task.id))
    ops.submit_report(commune.officer, occurrence, values={poor.id: "7"}, now=ON_TIME)
    db.session.flush()
    assert report_indicators(second_task, second.id) == [poor]
    assert report_indicators(other_task, third.id) == []
