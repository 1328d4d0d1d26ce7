"""Data the web and browser tests share: the commune fixture's plan with varied occurrences."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from tracker.extensions import db


def seed_web_data(active_plan: Any, commune: Any, make_task: Callable[..., Any],
                  make_person: Callable[..., Any]) -> SimpleNamespace:
    """The 25/9/2024 health-station report (overdue), a second health task due later, the village's overdue
    task, the school's task done with an indicator value, and 2024 targets for the commune and its health station."""
    from tracker.models import Comparator, Direction, Occurrence
    from tracker.operations.indicators import create_indicator, set_target
    from tracker.operations.occurrences import submit_report

    plan = active_plan.plan
    later = make_task(plan, commune.health, title="Tiêm chủng mở rộng cho trẻ em", due=date(2030, 12, 15),
                      report_to_unit=commune.xa, section_code="III.2.7",
                      source_text="Trạm Y tế chủ trì, phối hợp các thôn tổ chức tiêm chủng mở rộng.")
    school = make_task(plan, commune.school, title="Báo cáo sĩ số học sinh", due=date(2024, 9, 5),
                       report_to_unit=commune.xa, section_code="III.2.8")
    village = make_task(plan, commune.village, title="Rà soát hộ nghèo, hộ cận nghèo của thôn",
                        due=date(2024, 10, 15), report_to_unit=commune.xa, section_code="III.1.2")
    indicator = create_indicator(None, plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%",
                                 direction=Direction.DECREASE)
    set_target(None, indicator, unit=commune.xa, year=2024, value="2,03", comparator=Comparator.AT_MOST)
    # Assigned to the health station too (a target for it): its report form asks for this figure.
    set_target(None, indicator, unit=commune.health, year=2024, value="2", comparator=Comparator.AT_MOST)
    db.session.flush()
    occurrence_of = {t.id: db.session.scalar(sa.select(Occurrence).where(Occurrence.task_id == t.id))
                     for t in (later, school, village)}
    principal = make_person("hieutruong", roles=[("officer", commune.school)], full_name="Đỗ Thị Hiệu Trưởng")
    submit_report(principal, occurrence_of[school.id], body="Sĩ số đầy đủ", values={indicator.id: "2,5"})
    db.session.commit()
    return SimpleNamespace(plan=plan, occurrence=active_plan.occurrence, later=occurrence_of[later.id],
                           school=occurrence_of[school.id], village=occurrence_of[village.id], indicator=indicator,
                           commune=commune, task=active_plan.task)
