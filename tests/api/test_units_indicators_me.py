"""/api/v1/units, /api/v1/indicators and /api/v1/me."""

from __future__ import annotations

import json

import sqlalchemy as sa

from tests.api.conftest import error_body
from tracker.extensions import db
from tracker.models import IndicatorTarget, OrgUnit


def test_me(api_as, commune):
    response = api_as(commune.focal).get("/api/v1/me")
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "ldtbxh"
    assert body["full_name"] == "Lê Văn Đầu Mối"
    assert sorted((r["role"], r["unit"]["name"]) for r in body["roles"]) == [
        ("focal", "Xã Cao Ngọc"), ("officer", "Công chức Lao động - TB&XH")]


def test_units_in_scope(api_as, commune):
    response = api_as(commune.focal).get("/api/v1/units")
    assert response.status_code == 200
    names = [u["name"] for u in response.get_json()]
    assert names[0] == "Xã Cao Ngọc"
    assert set(names) == {"Xã Cao Ngọc", "Trạm Y tế", "Công chức Lao động - TB&XH", "Trường Tiểu học", "Thôn 1"}
    children = api_as(commune.viewer).get(f"/api/v1/units?parent_id={commune.district.id}").get_json()
    assert [u["name"] for u in children] == ["Xã Bên Cạnh", "Xã Cao Ngọc"] or {u["name"] for u in children} == {
        "Xã Bên Cạnh", "Xã Cao Ngọc"}
    schools = api_as(commune.viewer).get(f"/api/v1/units?within={commune.xa.id}&kind=school").get_json()
    assert [u["name"] for u in schools] == ["Trường Tiểu học"]


def test_get_unit(api_as, commune):
    body = api_as(commune.officer).get(f"/api/v1/units/{commune.health.id}").get_json()
    assert body["kind"] == "health_station"
    assert body["parent_id"] == commune.xa.id
    assert api_as(commune.other_officer).get(f"/api/v1/units/{commune.health.id}").status_code == 403
    assert api_as(commune.officer).get("/api/v1/units/31415").status_code == 404


def test_admin_creates_a_unit(api_as, commune):
    admin = api_as(commune.admin)
    response = admin.post("/api/v1/units", json={"parent_id": commune.xa.id, "name": " Thôn 2 ", "kind": "village"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "Thôn 2"
    assert response.get_json()["depth"] == commune.xa.depth + 1
    again = admin.post("/api/v1/units", json={"parent_id": commune.xa.id, "name": "Thôn 2", "kind": "village"})
    assert again.status_code == 409


def test_non_admin_cannot_create_units_and_kind_is_checked(api_as, commune):
    response = api_as(commune.chair).post("/api/v1/units", json={"parent_id": commune.xa.id, "name": "Thôn 3",
                                                                 "kind": "village"})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.name == "Thôn 3")) is None
    response = api_as(commune.admin, "en").post("/api/v1/units", json={"parent_id": commune.xa.id, "name": "T",
                                                                       "kind": "hamlet"})
    assert response.status_code == 422
    assert error_body(response)["errors"]["kind"][0].startswith("Must be one of: country, ministry,")


def test_indicators(api_as, commune, active_plan):
    focal = api_as(commune.focal)
    response = focal.post("/api/v1/indicators", json={"plan_id": active_plan.plan.id, "name": "Tỷ lệ hộ nghèo",
                                                      "unit_of_measure": "%", "direction": "decrease"})
    assert response.status_code == 201, response.get_json()
    indicator = response.get_json()
    assert indicator["direction"] == "decrease"
    response = focal.put(f"/api/v1/indicators/{indicator['id']}/targets/{commune.xa.id}/2024",
                         json={"value": 2.5, "comparator": "at_most"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"id": response.get_json()["id"], "unit_id": commune.xa.id, "year": 2024,
                                   "value": 2.5, "comparator": "at_most"}
    response = focal.put(f"/api/v1/indicators/{indicator['id']}/targets/{commune.xa.id}/2024", json={"value": "2.03"})
    assert response.get_json()["value"] == 2.03
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IndicatorTarget)) == 1

    listed = api_as(commune.officer).get(f"/api/v1/indicators?plan_id={active_plan.plan.id}")
    assert listed.status_code == 200
    assert [i["name"] for i in listed.get_json()] == ["Tỷ lệ hộ nghèo"]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 1
    one = api_as(commune.officer).get(f"/api/v1/indicators/{indicator['id']}").get_json()
    assert one["targets"][0]["value"] == 2.03


def test_indicators_scope_and_errors(api_as, commune, active_plan):
    focal = api_as(commune.focal, "en")
    indicator = focal.post("/api/v1/indicators", json={"plan_id": active_plan.plan.id, "name": "Số hộ"}).get_json()
    other = api_as(commune.other_officer)
    assert other.get("/api/v1/indicators").get_json() == []
    assert other.get(f"/api/v1/indicators/{indicator['id']}").status_code == 403
    officer = api_as(commune.officer)
    response = officer.put(f"/api/v1/indicators/{indicator['id']}/targets/{commune.xa.id}/2024", json={"value": 1})
    assert response.status_code == 403
    response = focal.put(f"/api/v1/indicators/{indicator['id']}/targets/{commune.xa.id}/1800", json={"value": 1})
    assert error_body(response) == {"errors": {"year": ["The year 1800 is not plausible."]}, "code": "invalid"}
    assert focal.put(f"/api/v1/indicators/{indicator['id']}/targets/999999/2024", json={"value": 1}
                     ).status_code == 404
    response = focal.post("/api/v1/indicators", json={"plan_id": 5555, "name": "X"})
    assert error_body(response)["errors"] == {"plan_id": ["No plan with id 5555."]}
    assert focal.get("/api/v1/indicators/5555").status_code == 404
