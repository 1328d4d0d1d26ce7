"""/api/v1/plans: list, read, create a draft, add tasks, activate."""

from __future__ import annotations

import sqlalchemy as sa

from tests.api.conftest import error_body
from tracker.extensions import db
from tracker.models import Occurrence, Plan


def test_list_and_get_plans(api_as, commune, active_plan):
    officer = api_as(commune.officer)
    response = officer.get("/api/v1/plans")
    assert response.status_code == 200
    [plan] = response.get_json()
    assert plan["number"] == "56/KH-UBND"
    assert plan["status"] == "active"
    assert plan["issuing_unit"] == {"id": commune.xa.id, "name": "Xã Cao Ngọc"}
    assert plan["period_start_on"] == "2024-01-01"
    assert officer.get("/api/v1/plans?status=draft").get_json() == []
    assert len(officer.get(f"/api/v1/plans?year=2024&issuing_unit_id={commune.xa.id}").get_json()) == 1
    assert officer.get(f"/api/v1/plans/{active_plan.plan.id}").get_json()["id"] == active_plan.plan.id


def test_plans_of_cao_ngoc_are_hidden_from_another_commune(api_as, commune, active_plan):
    other = api_as(commune.other_officer)
    assert other.get("/api/v1/plans").get_json() == []
    assert other.get(f"/api/v1/plans/{active_plan.plan.id}").status_code == 403
    assert other.get(f"/api/v1/plans/{active_plan.plan.id}/tasks").status_code == 403
    assert error_body(other.get("/api/v1/plans/77777"))["code"] == "not_found"


def test_list_tasks(api_as, commune, active_plan):
    response = api_as(commune.focal).get(f"/api/v1/plans/{active_plan.plan.id}/tasks")
    assert response.status_code == 200
    [task] = response.get_json()
    assert task["title"] == "Báo cáo kết quả tiếp cận dịch vụ y tế"
    assert task["lead_unit"] == {"id": commune.health.id, "name": "Trạm Y tế"}
    assert task["section_code"] == "III.2.6"
    assert task["due_on"] == "2024-09-25"
    assert task["coordinating_units"] == []


def test_create_plan_add_task_and_activate(api_as, commune):
    focal = api_as(commune.focal)
    response = focal.post("/api/v1/plans", json={
        "title": "  Kế hoạch phòng chống dịch  ", "issuing_unit_id": commune.xa.id, "number": "12/KH-UBND",
        "year": 2025})
    assert response.status_code == 201, response.get_json()
    plan = response.get_json()
    assert plan["title"] == "Kế hoạch phòng chống dịch"
    assert plan["status"] == "draft"
    assert plan["period_end_on"] == "2025-12-31"

    response = focal.post(f"/api/v1/plans/{plan['id']}/tasks", json={
        "title": "Phun thuốc diệt muỗi", "lead_unit_id": commune.health.id, "due_dates": ["2025-06-30"],
        "report_to_unit_id": commune.xa.id, "coordinating_unit_ids": [commune.village.id], "section_code": "II.1"})
    assert response.status_code == 201, response.get_json()
    task = response.get_json()
    assert task["coordinating_units"] == [{"id": commune.village.id, "name": "Thôn 1"}]
    assert task["section_code"] == "II.1"

    response = focal.post(f"/api/v1/plans/{plan['id']}/activate")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "active"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Occurrence)) == 1

    again = focal.post(f"/api/v1/plans/{plan['id']}/activate")
    assert again.status_code == 409
    assert error_body(again)["code"] == "conflict"


def test_officer_cannot_create_plans(api_as, commune):
    response = api_as(commune.officer).post("/api/v1/plans", json={"title": "X", "issuing_unit_id": commune.xa.id})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0


def test_plan_body_errors(api_as, commune):
    focal = api_as(commune.focal, "en")
    response = focal.post("/api/v1/plans", json={"title": "X", "issuing_unit_id": 99999})
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"issuing_unit_id": ["No unit with id 99999."]}, "code": "invalid"}
    response = focal.post("/api/v1/plans", json={"issuing_unit_id": commune.xa.id, "year": 1800,
                                                 "issued_on": "15/03/2024"})
    assert error_body(response)["errors"] == {
        "title": ["This field is required."], "year": ["Must be between 1990 and 2100."],
        "issued_on": ["Not a valid date (YYYY-MM-DD)."]}


def test_add_task_refuses_unknown_units_and_other_communes(api_as, commune, active_plan):
    focal = api_as(commune.focal, "en")
    response = focal.post(f"/api/v1/plans/{active_plan.plan.id}/tasks", json={
        "title": "Việc mới", "lead_unit_id": commune.health.id, "coordinating_unit_ids": [123456]})
    assert error_body(response) == {"errors": {"coordinating_unit_ids": ["No unit with id 123456."]},
                                    "code": "invalid"}
    other = api_as(commune.other_officer)
    response = other.post(f"/api/v1/plans/{active_plan.plan.id}/tasks", json={
        "title": "Việc mới", "lead_unit_id": commune.other_health.id})
    assert response.status_code == 403


def test_activating_an_imported_draft_with_a_blocking_warning_is_refused(api_as, commune):
    """"Các tổ chức chính trị xã hội" found no unit of its kind: the row must get a lead first (422), as on the
    review page."""
    from tests.importer_web.conftest import PLAN_004, plan_bytes
    from tracker.models import Plan, PlanStatus
    from tracker.operations.plan_import import import_plan

    draft = import_plan(commune.focal, filename="kh.txt", data=plan_bytes(PLAN_004), issuing_unit=commune.xa).plan
    db.session.commit()
    assert api_as(commune.viewer).post(f"/api/v1/plans/{draft.id}/activate").status_code in (403, 404)
    response = api_as(commune.focal).post(f"/api/v1/plans/{draft.id}/activate")
    assert response.status_code == 422, response.get_json()
    assert "tasks" in str(response.get_json())
    db.session.expire_all()
    assert db.session.get(Plan, draft.id).status == PlanStatus.DRAFT
