"""A commune plan with everything a periodic report tells: accepted and waiting reports, a late one, a returned
one, an approved extension, villages the plan fans out to (two report figures, one stays silent), targets, and
tasks due in the next half-year."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from tracker.extensions import db


def at(day: date, hour: int = 9) -> datetime:
    """Local 09:00 on `day`, in UTC."""
    return datetime.combine(day, time(hour), tzinfo=UTC) - timedelta(hours=7)


def seed_report_data(commune: Any, make_plan: Callable[..., Any], make_task: Callable[..., Any],
                     make_unit: Callable[..., Any], make_person: Callable[..., Any]) -> SimpleNamespace:
    from tracker.models import Comparator, Direction, Occurrence, Role, UnitKind
    from tracker.operations.indicators import create_indicator, set_target
    from tracker.operations.occurrences import decide_extension, request_extension, review_report, submit_report
    from tracker.operations.plans import activate_plan

    c = commune
    villages = [c.village, make_unit("Thôn 2", UnitKind.VILLAGE, parent=c.xa),
                make_unit("Thôn 3", UnitKind.VILLAGE, parent=c.xa)]
    heads = [make_person(f"truongthon{i}", roles=[(Role.OFFICER, v)], full_name=f"Trưởng {v.name}")
             for i, v in enumerate(villages, start=1)]
    principal = make_person("hieutruong", roles=[(Role.OFFICER, c.school)], full_name="Đỗ Thị Hiệu Trưởng")
    plan = make_plan(c.xa, number="56/KH-UBND", title="Kế hoạch thực hiện mục tiêu giảm nghèo năm 2024")
    health = make_task(plan, c.health, title="Hỗ trợ người nghèo tiếp cận dịch vụ y tế", due=date(2024, 6, 20),
                       report_to_unit=c.xa, section_code="III.2.6")
    health_list = make_task(plan, c.health, title="Lập danh sách người nghèo được cấp thẻ bảo hiểm y tế",
                            due=date(2024, 4, 30), report_to_unit=c.xa, section_code="III.2.6")
    labour = make_task(plan, c.labour, title="Tổng hợp kết quả giảm nghèo", recurrence="semiannual",
                       report_to_unit=c.xa, section_code="III.2.1")
    school = make_task(plan, c.school, title="Miễn giảm học phí cho học sinh nghèo", due=date(2024, 5, 15),
                       report_to_unit=c.xa, section_code="III.2.5")
    village_tasks = [make_task(plan, v, title="Rà soát hộ nghèo trên địa bàn thôn", due=date(2024, 6, 25),
                               report_to_unit=c.xa, section_code="III.2.11") for v in villages]
    poor = create_indicator(None, plan, name="Số hộ nghèo", unit_of_measure="hộ", direction=Direction.DECREASE)
    rate = create_indicator(None, plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%", direction=Direction.DECREASE)
    set_target(None, poor, unit=c.xa, year=2024, value="40", comparator=Comparator.AT_MOST)
    set_target(None, rate, unit=c.xa, year=2024, value="3,25", comparator=Comparator.AT_MOST)
    set_target(None, rate, unit=c.xa, year=2025, value="2,5", comparator=Comparator.AT_MOST)
    activate_plan(None, plan)
    db.session.flush()

    def occurrence(task: Any, due: date | None = None) -> Any:
        query = sa.select(Occurrence).where(Occurrence.task_id == task.id)
        if due is not None:
            query = query.where(Occurrence.due_on == due)
        return db.session.scalar(query)

    accepted = submit_report(c.officer, occurrence(health), body="Trạm Y tế đã khám miễn phí cho 120 người nghèo",
                             now=at(date(2024, 6, 18)))
    review_report(c.chair, accepted, accept=True)
    returned = submit_report(c.officer, occurrence(health_list), body="Danh sách kèm theo",
                             now=at(date(2024, 4, 29)))
    review_report(c.chair, returned, accept=False, comment="Thiếu số liệu thôn 3")
    late = submit_report(c.focal, occurrence(labour, date(2024, 6, 30)), body="6 tháng đầu năm giảm 12 hộ nghèo.",
                         now=at(date(2024, 7, 5)))
    request = request_extension(principal, occurrence(school), new_due_on=date(2024, 6, 10),
                                reason="Chờ danh sách học sinh")
    decide_extension(c.chair, request, approve=True)
    submit_report(heads[0], occurrence(village_tasks[0]), body="Thôn 1 còn 12 hộ nghèo",
                  values={poor.id: "12", rate.id: "3,1"}, now=at(date(2024, 6, 24)))
    submit_report(heads[1], occurrence(village_tasks[1]), body="Thôn 2 còn 15 hộ nghèo",
                  values={poor.id: "15", rate.id: "3,5"}, now=at(date(2024, 6, 26)))
    db.session.commit()
    return SimpleNamespace(commune=c, plan=plan, villages=villages, heads=heads, principal=principal, poor=poor,
                           rate=rate, late=late, returned=returned, accepted=accepted,
                           tasks=SimpleNamespace(health=health, health_list=health_list, labour=labour,
                                                 school=school, villages=village_tasks))


@pytest.fixture
def report_data(commune: Any, make_plan: Callable[..., Any], make_task: Callable[..., Any],
                make_unit: Callable[..., Any], make_person: Callable[..., Any]) -> SimpleNamespace:
    return seed_report_data(commune, make_plan, make_task, make_unit, make_person)
