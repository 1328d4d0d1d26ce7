"""Plans, tasks, activation and occurrence generation."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Occurrence, PlanStatus, TaskStatus
from tracker.operations import plans as ops
from tracker.operations.errors import Conflict, PermissionDenied, ValidationFailed


def _occurrences(task):
    return list(db.session.scalars(sa.select(Occurrence).where(Occurrence.task_id == task.id)
                                   .order_by(Occurrence.due_on)))


def test_draft_plan_has_no_occurrences_until_activated(commune, make_plan, make_task):
    plan = make_plan(commune.xa)
    task = make_task(plan, commune.health, due=date(2024, 9, 25))
    assert plan.status == PlanStatus.DRAFT and _occurrences(task) == []
    assert ops.activate_plan(commune.focal, plan) == 1
    assert [o.due_on for o in _occurrences(task)] == [date(2024, 9, 25)]
    with pytest.raises(Conflict):
        ops.activate_plan(commune.focal, plan)


def test_six_months_and_one_year_gives_first_half_and_the_year(commune, make_plan, make_task):
    plan = make_plan(commune.xa)
    task = make_task(plan, commune.health, recurrence="semiannual,annual")
    ops.activate_plan(None, plan)
    occs = _occurrences(task)
    assert [(o.period_key, o.due_on) for o in occs] == [("2024-H1", date(2024, 6, 30)), ("2024", date(2024, 12, 31))]
    assert occs[0].period_label == "6 tháng đầu năm 2024"


def test_quarterly_and_monthly_periods(commune, make_plan, make_task):
    plan = make_plan(commune.xa)
    quarterly = make_task(plan, commune.health, recurrence="quarterly")
    monthly = make_task(plan, commune.labour, recurrence="monthly")
    ops.activate_plan(None, plan)
    assert [o.period_label for o in _occurrences(quarterly)] == [f"Quý {q}/2024" for q in ("I", "II", "III", "IV")]
    assert len(_occurrences(monthly)) == 12


def test_several_deadlines_become_several_occurrences_and_regeneration_is_idempotent(commune, make_plan):
    plan = make_plan(commune.xa)
    task = ops.add_task(None, plan, title="Rà soát", lead_unit=commune.health,
                        due_dates=[date(2024, 12, 31), date(2024, 9, 25)])
    ops.activate_plan(None, plan)
    assert [o.due_on for o in _occurrences(task)] == [date(2024, 9, 25), date(2024, 12, 31)]
    assert ops.generate_occurrences(task) == []


def test_task_without_deadline_is_due_at_the_end_of_the_plan(commune, make_plan, make_task):
    plan = make_plan(commune.xa, year=2024)
    task = make_task(plan, commune.health)
    assert task.due_on == date(2024, 12, 31)


def test_bad_task_input_is_refused(commune, make_plan):
    plan = make_plan(commune.xa)
    with pytest.raises(ValidationFailed):
        ops.add_task(None, plan, title="  ", lead_unit=commune.health, due_dates=[date(2024, 9, 25)])
    with pytest.raises(ValidationFailed):
        ops.add_task(None, plan, title="x", lead_unit=commune.health, due_dates=["25/9/2024"])
    with pytest.raises(ValidationFailed):
        ops.add_task(None, plan, title="x", lead_unit=commune.health, recurrence_rule="fortnightly")
    for implausible in (date(9999, 12, 31), date(1, 1, 1)):
        with pytest.raises(ValidationFailed):
            ops.add_task(None, plan, title="x", lead_unit=commune.health, due_dates=[implausible])
    with pytest.raises(ValidationFailed):
        ops.create_plan(None, title="x", issuing_unit=commune.xa, period_start_on=date(2024, 12, 1),
                        period_end_on=date(2024, 1, 1))


def test_only_plan_managers_of_the_issuing_unit_create_plans(commune):
    with pytest.raises(PermissionDenied):
        ops.create_plan(commune.officer, title="Kế hoạch", issuing_unit=commune.xa, year=2024)
    with pytest.raises(PermissionDenied):
        ops.create_plan(commune.focal, title="Kế hoạch", issuing_unit=commune.district, year=2024)
    plan = ops.create_plan(commune.focal, title="Kế hoạch", issuing_unit=commune.xa, year=2024)
    assert plan.created_by_id == commune.focal.id


def test_cancelling_a_task_cancels_its_open_occurrences_only(active_plan, commune, make_task):
    from tracker.operations.occurrences import mark_done

    task = make_task(active_plan.plan, commune.labour, recurrence="quarterly")
    first = _occurrences(task)[0]
    mark_done(commune.focal, first)
    ops.cancel_task(commune.chair, task, reason="Gộp vào nhiệm vụ khác")
    occs = _occurrences(task)
    assert task.status == TaskStatus.CANCELLED
    assert occs[0].cancelled_at is None and occs[0].completed_at is not None
    assert all(o.cancelled_at is not None for o in occs[1:])
    with pytest.raises(ValidationFailed):
        ops.cancel_task(commune.chair, make_task(active_plan.plan, commune.school, due=date(2024, 9, 1)), reason="")


def test_cancelled_plan_cannot_take_new_tasks(active_plan, commune):
    ops.set_plan_status(commune.chair, active_plan.plan, PlanStatus.CANCELLED, reason="Thay thế")
    assert active_plan.occurrence.cancelled_at is not None
    with pytest.raises(Conflict):
        ops.add_task(None, active_plan.plan, title="x", lead_unit=commune.health, due_dates=[date(2024, 10, 1)])


def test_activation_generates_every_tasks_occurrences_in_a_fixed_number_of_statements(commune, make_plan,
                                                                                     make_task):
    statements: list[str] = []

    def listen(conn, cursor, statement, *args):
        statements.append(statement)

    counts = []
    for tasks in (3, 30):
        plan = make_plan(commune.xa)
        for i in range(tasks):
            make_task(plan, commune.health, title=f"Báo cáo {tasks}-{i}", recurrence="monthly")
        db.session.flush()
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", listen)
        try:
            created = ops.activate_plan(None, plan)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listen)
        assert created == tasks * 12
        counts.append(len(statements))
        assert ops.generate_plan_occurrences(plan.tasks) == 0  # idempotent
    assert counts[0] == counts[1], counts
