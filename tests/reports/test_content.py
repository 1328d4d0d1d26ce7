"""What the periodic report says, drawn from what was tracked, and what each person's scope lets it say."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.reports.conftest import at
from tracker.clock import status_clock
from tracker.extensions import db
from tracker.operations.errors import PermissionDenied, ValidationFailed
from tracker.reports import draft
from tracker.reports.model import GroupEntry, UnitEntry

TODAY = date(2024, 8, 1)


def _draft(person, data, period="2024-H1", **kw):
    return draft(person, period=period, clock=status_clock(TODAY), plan=data.plan, **kw)


def _entries(content):
    return {e.unit_name if isinstance(e, UnitEntry) else e.label: e
            for block in content.plans for section in block.sections for e in section.entries}


def test_the_chair_gets_the_whole_half_year_counted_as_the_roll_up_counts_it(report_data):
    c = report_data.commune
    content = _draft(c.chair, report_data)
    s = content.summary
    assert (s.total, s.on_time, s.late, s.overdue, s.not_due) == (7, 2, 2, 3, 0)
    assert s.units == 6  # health station, labour office, school and the three villages
    assert content.heading.issuing_body == "ỦY BAN NHÂN DÂN\nXÃ CAO NGỌC"
    assert content.heading.signer_name == "Phạm Văn Chủ Tịch" and content.heading.signer_title == "CHỦ TỊCH"
    assert content.heading.recipients[0] == "- UBND huyện Thử Nghiệm (b/c);"
    assert content.heading.place_and_date == "Cao Ngọc, ngày 01 tháng 8 năm 2024"
    assert content.heading.subject.splitlines() == [
        "Kết quả thực hiện Kế hoạch số 56/KH-UBND ngày 15/03/2024 của UBND xã Cao Ngọc về thực hiện mục tiêu "
        "giảm nghèo năm 2024", "6 tháng đầu năm 2024"]


def test_part_one_quotes_each_units_report_with_its_date_and_names_late_and_missing_ones(report_data):
    content = _draft(report_data.commune.chair, report_data)
    entries = _entries(content)
    health = entries["Trạm Y tế"]
    assert [q.text for q in health.quotes] == ["Trạm Y tế đã khám miễn phí cho 120 người nghèo."]
    assert health.quotes[0].submitted_on == date(2024, 6, 18) and not health.quotes[0].pending
    assert [(o.due_on, o.overdue, o.returned) for o in health.owed] == [(date(2024, 4, 30), True, True)]
    labour = entries["Công chức Lao động - TB&XH"]
    assert labour.quotes[0].days_late == 5 and labour.quotes[0].pending  # submitted, not yet accepted
    assert content.late_units == ["Công chức Lao động - TB&XH", "Thôn 2"]
    assert content.silent_units == ["Trường Tiểu học", "Thôn 3"]


def test_units_the_plan_fans_out_to_are_one_group_with_their_figures_summed_and_counted(report_data):
    content = _draft(report_data.commune.chair, report_data)
    group = next(e for e in _entries(content).values() if isinstance(e, GroupEntry))
    assert group.label == "Các thôn, tổ dân phố"
    assert [m.unit_name for m in group.members] == ["Thôn 1", "Thôn 2", "Thôn 3"]
    assert (group.reported, group.total) == (2, 3)
    figures = {f.name: (f.value, f.reporting, f.total) for f in group.figures}
    assert figures == {"Số hộ nghèo": (Decimal("27"), 2, 3), "Tỷ lệ hộ nghèo": (Decimal("3.3"), 2, 3)}


def test_the_indicator_table_holds_the_years_targets_and_the_periods_values(report_data):
    content = _draft(report_data.commune.chair, report_data)
    lines = {p.name: p for p in content.indicators}
    assert set(lines) == {"Số hộ nghèo", "Tỷ lệ hộ nghèo"} and all(p.year == 2024 for p in lines.values())
    poor, rate = lines["Số hộ nghèo"], lines["Tỷ lệ hộ nghèo"]
    assert (poor.target, poor.actual, poor.reporting_units, poor.achieved) == (Decimal("40"), Decimal("27"), 2, True)
    assert (rate.target, rate.actual, rate.achieved) == (Decimal("3.25"), Decimal("3.3"), False)
    # The second half has no figures yet: its report shows the targets without values.
    h2 = {p.name: p.actual for p in _draft(report_data.commune.chair, report_data, "2024-H2").indicators}
    assert h2 == {"Số hộ nghèo": None, "Tỷ lệ hộ nghèo": None}


def test_part_two_lists_overdue_late_returned_and_extended_items(report_data):
    content = _draft(report_data.commune.chair, report_data)
    overdue = {(i.unit_name, i.due_on, i.days) for i in content.overdue}
    assert overdue == {("Trạm Y tế", date(2024, 4, 30), 93), ("Trường Tiểu học", date(2024, 6, 10), 52),
                       ("Thôn 3", date(2024, 6, 25), 37)}
    school = next(i for i in content.overdue if i.unit_name == "Trường Tiểu học")
    assert school.note == "đã gia hạn từ ngày 15/05/2024"
    assert {(i.unit_name, i.days) for i in content.late} == {("Công chức Lao động - TB&XH", 5), ("Thôn 2", 1)}
    [returned] = content.returned
    assert (returned.unit_name, returned.comment, returned.resubmitted) == ("Trạm Y tế", "Thiếu số liệu thôn 3", False)
    [extension] = content.extensions
    assert (extension.unit_name, extension.from_on, extension.to_on) == ("Trường Tiểu học", date(2024, 5, 15),
                                                                         date(2024, 6, 10))


def test_part_three_holds_the_next_periods_tasks(report_data):
    content = _draft(report_data.commune.chair, report_data)
    assert content.next_period.key == "2024-H2"
    assert [(i.unit_name, i.due_on) for i in content.next_items] == [("Công chức Lao động - TB&XH", date(2024, 12, 31))]


def test_an_officer_gets_only_their_units_part(report_data):
    content = _draft(report_data.commune.officer, report_data)
    assert set(_entries(content)) == {"Trạm Y tế"}
    assert content.summary.total == 2 and content.indicators == []
    assert {i.unit_name for i in content.overdue} == {"Trạm Y tế"}


def test_an_officer_of_another_commune_gets_nothing(report_data):
    with pytest.raises(PermissionDenied):
        _draft(report_data.commune.other_officer, report_data)


def test_a_province_viewer_rolls_the_communes_up_side_by_side(report_data):
    c = report_data.commune
    content = _draft(c.viewer, report_data, rollup_unit=c.district)
    rows = {r.unit_name: r.stats for r in content.rollup.rows}
    assert set(rows) == {"Xã Cao Ngọc", "Xã Bên Cạnh"}
    xa = rows["Xã Cao Ngọc"]
    assert (xa.expected, xa.on_time, xa.late, xa.overdue) == (7, 2, 2, 3)
    cell = content.rollup.cells[(report_data.poor.id, c.xa.id)]
    assert (cell.value, cell.reporting_units) == (Decimal("27"), 2)
    assert content.heading.issuing_body == "ỦY BAN NHÂN DÂN\nHUYỆN THỬ NGHIỆM"
    assert content.heading.subject.startswith("Tổng hợp kết quả thực hiện Kế hoạch số 56/KH-UBND")
    # Over the commune itself the villages are the rows, each with its own figures.
    villages = _draft(c.chair, report_data, rollup_unit=c.xa).rollup
    values = {(i, child): f.value for (i, child), f in villages.cells.items()}
    assert values[(report_data.poor.id, report_data.villages[1].id)] == Decimal("15")
    assert (report_data.poor.id, report_data.villages[2].id) not in values


def test_a_chair_may_not_roll_up_above_their_commune(report_data):
    c = report_data.commune
    with pytest.raises(PermissionDenied):
        _draft(c.chair, report_data, rollup_unit=c.district)


def test_a_report_on_every_plan_of_a_unit_names_each_plan(report_data, make_plan, make_task):
    from tracker.operations.plans import activate_plan

    c = report_data.commune
    other = make_plan(c.xa, number="60/KH-UBND", title="Kế hoạch phòng, chống thiên tai năm 2024")
    make_task(other, c.labour, title="Kiểm tra đê điều", due=date(2024, 5, 31), section_code="II.1")
    activate_plan(None, other)
    db.session.commit()
    content = draft(c.chair, period="2024-H1", clock=status_clock(TODAY), unit=c.xa)
    assert [b.number for b in content.plans] == ["56/KH-UBND", "60/KH-UBND"] and content.multi_plan
    assert content.summary.total == 8
    assert {i.plan_number for i in content.overdue} == {"56/KH-UBND", "60/KH-UBND"}
    with pytest.raises(ValidationFailed):
        draft(c.chair, period="2023", clock=status_clock(TODAY), unit=c.xa)  # nothing due in 2023


def test_a_draft_plan_has_no_report(commune, make_plan):
    plan = make_plan(commune.xa, number="99/KH-UBND")
    db.session.commit()
    with pytest.raises(ValidationFailed):
        draft(commune.chair, period="2024", clock=status_clock(TODAY), plan=plan)


def test_building_a_report_reads_nothing_twice_whatever_the_size(report_data, make_unit, make_task, make_person):
    """The statements issued do not grow with the number of units, tasks and reports (no N+1)."""
    from tracker.models import Occurrence, Role, UnitKind
    from tracker.operations.occurrences import submit_report

    c = report_data.commune

    def count() -> int:
        statements: list[str] = []

        def listen(conn, cursor, statement, *args):
            statements.append(statement)

        db.session.expire_all()
        sa.event.listen(db.engine, "before_cursor_execute", listen)
        try:
            content = draft(c.chair, period="2024", clock=status_clock(TODAY), plan=report_data.plan,
                            rollup_unit=c.xa)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listen)
        assert content.summary.total > 0
        return len(statements)

    before = count()
    for n in range(4, 16):
        village = make_unit(f"Thôn {n}", UnitKind.VILLAGE, parent=c.xa)
        head = make_person(f"thon{n}", roles=[(Role.OFFICER, village)])
        task = make_task(report_data.plan, village, title="Rà soát hộ nghèo trên địa bàn thôn", due=date(2024, 6, 25),
                         section_code="III.2.11")
        occurrence = db.session.scalar(sa.select(Occurrence).where(Occurrence.task_id == task.id))
        submit_report(head, occurrence, body=f"Thôn {n}", values={report_data.poor.id: str(n)},
                      now=at(date(2024, 6, 20)))
    db.session.commit()
    assert count() == before


def test_a_departments_plan_rolled_up_over_the_province_is_the_departments_report(report_data, make_unit, make_plan,
                                                                                  make_task):
    from tracker.models import UnitKind
    from tracker.operations.plans import activate_plan

    c = report_data.commune
    department = make_unit("Sở Lao động - Thương binh và Xã hội", UnitKind.DEPARTMENT, parent=c.province)
    plan = make_plan(department, number="15/KH-SLĐTBXH", title="Kế hoạch giảm nghèo bền vững năm 2024")
    for commune in (c.xa, c.other_xa):
        make_task(plan, commune, title="Báo cáo kết quả giảm nghèo của xã", due=date(2024, 6, 30),
                  report_to_unit=department, section_code="III.1")
    activate_plan(None, plan)
    db.session.commit()
    content = draft(c.viewer, period="2024-H1", clock=status_clock(TODAY), plan=plan, rollup_unit=c.province)
    h = content.heading
    assert (h.governing_body, h.issuing_body) == ("UBND TỈNH THỬ NGHIỆM", "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI")
    assert h.number.strip() == "/BC-SLĐTBXH" and h.signer_title == "GIÁM ĐỐC" and h.signer_authority == ""
    assert h.place_and_date.startswith("Thử Nghiệm, ngày") and h.recipients[0] == "- UBND tỉnh Thử Nghiệm (b/c);"
    rows = {r.unit_name: r.stats.expected for r in content.rollup.rows}
    assert rows["Huyện Thử Nghiệm"] == 2
    group = next(e for b in content.plans for s in b.sections for e in s.entries if isinstance(e, GroupEntry))
    assert group.label == "UBND các xã, phường" and group.total == 2
    # Issued by the province itself when asked.
    other = draft(c.viewer, period="2024-H1", clock=status_clock(TODAY), plan=plan, rollup_unit=c.province,
                  issuer=c.province)
    assert other.heading.issuing_body == "ỦY BAN NHÂN DÂN\nTỈNH THỬ NGHIỆM"
