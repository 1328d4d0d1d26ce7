"""/api/v1/reports and /api/v1/extension-requests: lists, review (accept / return), decisions on more time."""

from __future__ import annotations

import json

import sqlalchemy as sa

from tests.api.conftest import error_body
from tracker.extensions import db
from tracker.models import ExtensionRequest, Occurrence, Report, ReviewStatus


def _submit(api_as, commune, active_plan, body="Báo cáo"):
    response = api_as(commune.officer).post(f"/api/v1/occurrences/{active_plan.occurrence.id}/reports",
                                            json={"body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_list_and_get_reports(api_as, commune, active_plan):
    report = _submit(api_as, commune, active_plan)
    focal = api_as(commune.focal)
    response = focal.get("/api/v1/reports?review_status=submitted")
    assert response.status_code == 200
    assert [r["id"] for r in response.get_json()] == [report["id"]]
    assert json.loads(response.headers["X-Pagination"])["total"] == 1
    assert focal.get("/api/v1/reports?review_status=accepted").get_json() == []
    assert [r["id"] for r in focal.get(f"/api/v1/reports?unit_id={commune.health.id}&plan_id="
                                       f"{active_plan.plan.id}&occurrence_id={active_plan.occurrence.id}").get_json()
            ] == [report["id"]]
    one = focal.get(f"/api/v1/reports/{report['id']}")
    assert one.status_code == 200
    assert one.get_json()["body"] == "Báo cáo"


def test_reports_of_cao_ngoc_are_hidden_from_another_commune(api_as, commune, active_plan):
    report = _submit(api_as, commune, active_plan)
    other = api_as(commune.other_officer)
    assert other.get("/api/v1/reports").get_json() == []
    assert other.get(f"/api/v1/reports/{report['id']}").status_code == 403
    assert other.get(f"/api/v1/reports/{report['id']}/attachments/1").status_code == 403
    assert error_body(other.get("/api/v1/reports/987654"))["code"] == "not_found"


def test_accept_report(api_as, commune, active_plan):
    report = _submit(api_as, commune, active_plan)
    response = api_as(commune.focal).post(f"/api/v1/reports/{report['id']}/accept", json={"comment": "Tốt"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["review_status"] == "accepted"
    assert body["reviewed_by_id"] == commune.focal.id
    assert body["review_comment"] == "Tốt"


def test_return_report_reopens_the_occurrence(api_as, commune, active_plan):
    report = _submit(api_as, commune, active_plan)
    response = api_as(commune.focal).post(f"/api/v1/reports/{report['id']}/return",
                                          json={"comment": "Thiếu số liệu thôn 1"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["review_status"] == "returned"
    db.session.expire_all()
    assert db.session.get(Occurrence, active_plan.occurrence.id).completed_at is None


def test_return_needs_a_reason(api_as, commune, active_plan):
    report = _submit(api_as, commune, active_plan)
    response = api_as(commune.focal, "en").post(f"/api/v1/reports/{report['id']}/return", json={})
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"comment": ["This field is required."]}, "code": "invalid"}


def test_officer_cannot_review_and_review_twice_conflicts(api_as, commune, active_plan):
    report = _submit(api_as, commune, active_plan)
    response = api_as(commune.officer).post(f"/api/v1/reports/{report['id']}/accept", json={})
    assert response.status_code == 403
    assert error_body(response)["code"] == "forbidden"
    assert db.session.get(Report, report["id"]).review_status == ReviewStatus.SUBMITTED
    focal = api_as(commune.focal)
    assert focal.post(f"/api/v1/reports/{report['id']}/accept", json={}).status_code == 200
    again = focal.post(f"/api/v1/reports/{report['id']}/return", json={"comment": "Sai"})
    assert again.status_code == 409
    assert error_body(again)["code"] == "conflict"
    db.session.expire_all()
    assert db.session.get(Report, report["id"]).review_status == ReviewStatus.ACCEPTED


def test_unknown_attachment_is_not_found(api_as, commune, active_plan):
    report = _submit(api_as, commune, active_plan)
    response = api_as(commune.officer).get(f"/api/v1/reports/{report['id']}/attachments/5")
    assert response.status_code == 404
    assert error_body(response)["code"] == "not_found"


def _ask(api_as, commune, active_plan):
    response = api_as(commune.officer).post(f"/api/v1/occurrences/{active_plan.occurrence.id}/extension-requests",
                                            json={"requested_due_on": "2024-10-15", "reason": "Chờ số liệu"})
    assert response.status_code == 201
    return response.get_json()


def test_list_extension_requests(api_as, commune, active_plan):
    request = _ask(api_as, commune, active_plan)
    chair = api_as(commune.chair)
    response = chair.get("/api/v1/extension-requests?status=pending")
    assert response.status_code == 200
    assert [r["id"] for r in response.get_json()] == [request["id"]]
    assert chair.get(f"/api/v1/extension-requests?occurrence_id={active_plan.occurrence.id}&unit_id="
                     f"{commune.xa.id}").get_json()[0]["reason"] == "Chờ số liệu"
    assert api_as(commune.other_officer).get("/api/v1/extension-requests").get_json() == []


def test_chair_approves_more_time(api_as, commune, active_plan):
    request = _ask(api_as, commune, active_plan)
    response = api_as(commune.chair).post(f"/api/v1/extension-requests/{request['id']}/decision",
                                          json={"approve": True, "note": "Đồng ý"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "approved"
    occurrence = api_as(commune.officer).get(f"/api/v1/occurrences/{active_plan.occurrence.id}").get_json()
    assert occurrence["due_on"] == "2024-10-15"
    assert occurrence["original_due_on"] == "2024-09-25"


def test_officer_cannot_decide_and_unknown_request_is_not_found(api_as, commune, active_plan):
    request = _ask(api_as, commune, active_plan)
    officer = api_as(commune.officer)
    response = officer.post(f"/api/v1/extension-requests/{request['id']}/decision", json={"approve": True})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(ExtensionRequest.status)) == "pending"
    assert officer.post("/api/v1/extension-requests/4242/decision", json={"approve": True}).status_code == 404
    other = api_as(commune.other_officer)
    assert other.post(f"/api/v1/extension-requests/{request['id']}/decision",
                      json={"approve": False}).status_code == 403
