"""Every reference a write carries is checked in the domain layer: a plan of xã Cao Ngọc cannot hand a task to
the next commune's health station, a report cannot carry a figure for another plan's indicator, a target
cannot go to a unit beyond the plan, an admin cannot give roles to another commune's people."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from tests.api.conftest import error_body
from tracker.extensions import db
from tracker.models import IndicatorValue, Report, Role, Task, UnitKind
from tracker.operations.errors import PermissionDenied, ValidationFailed
from tracker.operations.indicators import create_indicator, set_target
from tracker.operations.people import assign_role
from tracker.operations.plans import add_task, create_plan


def test_a_plan_manager_cannot_give_a_task_to_another_communes_unit(api_as: Any, commune: Any, active_plan: Any):
    chair = api_as(commune.chair)
    tasks_before = db.session.scalar(sa.select(sa.func.count(Task.id)))
    for field, value in (("lead_unit_id", commune.other_health.id),
                         ("coordinating_unit_ids", [commune.other_health.id]),
                         ("report_to_unit_id", commune.other_health.id)):
        body: dict[str, Any] = {"title": "Việc giao nhầm", "lead_unit_id": commune.health.id,
                                "due_dates": ["2024-11-30"], field: value}
        response = chair.post(f"/api/v1/plans/{active_plan.plan.id}/tasks", json=body)
        assert response.status_code == 422, (field, response.get_json())
        assert list(error_body(response)["errors"]) == [field]
    assert db.session.scalar(sa.select(sa.func.count(Task.id))) == tasks_before
    # Its own units, the level above and the province's departments stay allowed.
    department = commune.province  # the report goes up to the province
    ok = chair.post(f"/api/v1/plans/{active_plan.plan.id}/tasks", json={
        "title": "Việc đúng", "lead_unit_id": commune.school.id, "coordinating_unit_ids": [commune.other_xa.id],
        "report_to_unit_id": department.id, "due_dates": ["2024-11-30"]})
    assert ok.status_code == 201, ok.get_json()


def test_a_department_plan_reaches_the_communes_of_its_province(commune: Any, make_unit: Any):
    department = make_unit("Sở Y tế", UnitKind.DEPARTMENT, parent=commune.province)
    plan = create_plan(None, title="Kế hoạch của Sở", issuing_unit=department, year=2024)
    task = add_task(None, plan, title="Trạm y tế báo cáo", lead_unit=commune.other_health,
                    due_dates=[date(2024, 6, 30)])
    assert task.lead_unit_id == commune.other_health.id
    far = make_unit("Tỉnh Khác", UnitKind.PROVINCE)
    with pytest.raises(ValidationFailed):
        add_task(None, plan, title="Quá tầm", lead_unit=far, due_dates=[date(2024, 6, 30)])


def test_a_report_cannot_carry_another_plans_indicator(api_as: Any, commune: Any, active_plan: Any):
    province_plan = create_plan(None, title="Kế hoạch của tỉnh", issuing_unit=commune.province, year=2024)
    foreign = create_indicator(None, province_plan, name="Tỷ lệ bao phủ BHYT", unit_of_measure="%")
    own = create_indicator(None, active_plan.plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%")
    db.session.commit()
    officer = api_as(commune.officer)
    url = f"/api/v1/occurrences/{active_plan.occurrence.id}/reports"
    response = officer.post(url, json={"values": [{"indicator_id": foreign.id, "value": 99}]})
    assert response.status_code == 422
    assert error_body(response)["errors"] == {
        "values": [f"Chỉ tiêu {foreign.id} không thuộc kế hoạch này."]}
    assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(IndicatorValue.id))) == 0
    assert officer.post(url, json={"values": [{"indicator_id": own.id, "value": 2}]}).status_code == 201


def test_a_target_goes_only_to_units_of_the_plan(commune: Any, active_plan: Any, make_person: Any):
    indicator = create_indicator(None, active_plan.plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%")
    with pytest.raises(ValidationFailed):
        set_target(None, indicator, unit=commune.other_xa, year=2024, value=2)
    other_chair = make_person("chutichkhac", roles=[(Role.CHAIR, commune.other_xa)])
    with pytest.raises(PermissionDenied):  # managing plans of another commune is not managing this plan
        set_target(other_chair, indicator, unit=commune.other_xa, year=2024, value=2)
    assert set_target(commune.chair, indicator, unit=commune.health, year=2024, value=2).unit_id == commune.health.id


def test_an_admin_gives_roles_only_to_people_of_their_units(commune: Any, make_person: Any):
    admin = make_person("quantrixa", roles=[(Role.ADMIN, commune.xa)])
    with pytest.raises(PermissionDenied):
        assign_role(admin, commune.other_officer, commune.health, Role.OFFICER)
    newcomer = make_person("moi")
    assert assign_role(admin, newcomer, commune.health, Role.OFFICER).unit_id == commune.health.id
