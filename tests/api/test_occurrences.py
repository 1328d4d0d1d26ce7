"""/api/v1/occurrences: lists and filters, reading one, marking done, reports, comments, extension requests."""

from __future__ import annotations

import io
import json
from datetime import date

import sqlalchemy as sa
import time_machine

from tests.api.conftest import error_body
from tracker.extensions import db
from tracker.models import AuditEvent, Comment, ExtensionRequest, Occurrence, Report

BEFORE_DUE = "2024-09-20 10:00 +07:00"  # five days before the fixture task's 25/9/2024 deadline


def _occ(active_plan):
    return f"/api/v1/occurrences/{active_plan.occurrence.id}"


def test_list_shows_the_officer_their_unit_tasks(api_as, commune, active_plan):
    response = api_as(commune.officer).get("/api/v1/occurrences")
    assert response.status_code == 200
    [item] = response.get_json()
    assert item["id"] == active_plan.occurrence.id
    assert item["task"]["title"] == "Báo cáo kết quả tiếp cận dịch vụ y tế"
    assert item["task"]["section_code"] == "III.2.6"
    assert item["task"]["plan"] == {"id": active_plan.plan.id, "number": "56/KH-UBND",
                                    "title": "Kế hoạch giảm nghèo năm 2024"}
    assert item["task"]["report_to_unit"] == {"id": commune.xa.id, "name": "Xã Cao Ngọc"}
    assert item["lead_unit"] == {"id": commune.health.id, "name": "Trạm Y tế"}
    assert item["due_on"] == "2024-09-25"
    assert item["completed_at"] is None
    assert json.loads(response.headers["X-Pagination"]) == {
        "total": 1, "total_pages": 1, "first_page": 1, "last_page": 1, "page": 1}


def test_status_follows_today(api_as, commune, active_plan):
    client = api_as(commune.officer)
    with time_machine.travel(BEFORE_DUE, tick=False):
        assert client.get("/api/v1/occurrences").get_json()[0]["status"] == "due_soon"
    with time_machine.travel("2024-09-26 08:00 +07:00", tick=False):
        assert client.get("/api/v1/occurrences").get_json()[0]["status"] == "overdue"


def test_another_commune_sees_nothing_of_cao_ngoc(api_as, commune, active_plan):
    client = api_as(commune.other_officer)
    response = client.get("/api/v1/occurrences")
    assert response.status_code == 200
    assert response.get_json() == []
    assert client.get(f"/api/v1/occurrences?unit_id={commune.health.id}").get_json() == []


def test_filters_combine(api_as, commune, active_plan, make_plan, make_task):
    from tracker.operations.plans import activate_plan

    plan = make_plan(commune.xa, title="Kế hoạch truyền thông", number="60/KH-UBND")
    make_task(plan, commune.school, title="Tuyên truyền trong trường", due=date(2024, 10, 10))
    make_task(plan, commune.health, title="Truyền thông y tế", due=date(2024, 11, 30))
    activate_plan(None, plan)
    db.session.commit()
    client = api_as(commune.focal)

    def titles(query: str) -> list[str]:
        response = client.get(f"/api/v1/occurrences?{query}")
        assert response.status_code == 200, response.get_json()
        return [o["task"]["title"] for o in response.get_json()]

    with time_machine.travel(BEFORE_DUE, tick=False):
        assert titles("") == ["Báo cáo kết quả tiếp cận dịch vụ y tế", "Tuyên truyền trong trường",
                              "Truyền thông y tế"]
        assert titles(f"unit_id={commune.health.id}") == ["Báo cáo kết quả tiếp cận dịch vụ y tế",
                                                          "Truyền thông y tế"]
        assert titles(f"plan_id={plan.id}") == ["Tuyên truyền trong trường", "Truyền thông y tế"]
        assert titles("due_from=2024-10-01&due_to=2024-10-31") == ["Tuyên truyền trong trường"]
        assert titles("status=due_soon") == ["Báo cáo kết quả tiếp cận dịch vụ y tế"]
        assert titles("status=due_soon&status=not_due") == titles("")
        assert titles(f"unit_id={commune.xa.id}&status=not_due&plan_id={plan.id}") == [
            "Tuyên truyền trong trường", "Truyền thông y tế"]
        assert titles("status=overdue") == []


def test_bad_filters_are_refused(api_as, commune, active_plan):
    response = api_as(commune.officer, "en").get("/api/v1/occurrences?status=late&due_from=25/09/2024&colour=red")
    assert response.status_code == 422
    body = error_body(response)
    assert body["code"] == "invalid"
    assert body["errors"] == {
        "status.0": ["Must be one of: not_due, due_soon, overdue, done_on_time, done_late, cancelled."],
        "due_from": ["Not a valid date (YYYY-MM-DD)."],
        "colour": ["Unknown field."],
    }


def test_get_one(api_as, commune, active_plan):
    response = api_as(commune.officer).get(_occ(active_plan))
    assert response.status_code == 200
    assert response.get_json()["id"] == active_plan.occurrence.id


def test_get_one_out_of_scope_is_forbidden_and_unknown_is_not_found(api_as, commune, active_plan):
    client = api_as(commune.other_officer)
    response = client.get(_occ(active_plan))
    assert response.status_code == 403
    assert error_body(response) == {
        "errors": {"_general": ["Bạn không có quyền thực hiện thao tác này đối với Trạm Y tế."]}, "code": "forbidden"}
    assert error_body(client.get("/api/v1/occurrences/999999")) == {
        "errors": {"_general": ["Không có kỳ thực hiện nhiệm vụ mã 999999."]}, "code": "not_found"}
    assert client.get("/api/v1/occurrences/99999999999999999999999").status_code == 404


def test_mark_done(api_as, commune, active_plan):
    with time_machine.travel(BEFORE_DUE, tick=False):
        response = api_as(commune.officer).post(f"{_occ(active_plan)}/done", json={"note": "  Đã xong  "})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "done_on_time"
    assert body["completed_on"] == "2024-09-20"
    assert body["completed_by_id"] == commune.officer.id
    report = db.session.scalar(sa.select(Report))
    assert report.body == "Đã xong"


def test_marking_a_done_task_again_conflicts_and_changes_nothing(api_as, commune, active_plan):
    client = api_as(commune.officer)
    assert client.post(f"{_occ(active_plan)}/done", json={}).status_code == 200
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    response = client.post(f"{_occ(active_plan)}/done", json={"note": "lần hai"})
    assert response.status_code == 409
    body = error_body(response)
    assert body["code"] == "conflict"
    # Who did it and when (local time), so the second officer knows nothing is left to do.
    assert body["errors"]["_general"][0].startswith("Nhiệm vụ này đã được Nguyễn Văn Y đánh dấu hoàn thành lúc ")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events


def test_acting_on_another_units_task_is_forbidden(api_as, commune, active_plan):
    for person in (commune.other_officer, commune.viewer):
        response = api_as(person).post(f"{_occ(active_plan)}/done", json={"note": "x"})
        assert response.status_code == 403
        assert error_body(response)["code"] == "forbidden"
    db.session.expire_all()
    assert db.session.get(Occurrence, active_plan.occurrence.id).completed_at is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_submit_report_json_with_figures(api_as, commune, active_plan):
    from tracker.operations.indicators import create_indicator

    indicator = create_indicator(None, active_plan.plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%")
    db.session.commit()
    with time_machine.travel("2024-09-27 09:00 +07:00", tick=False):
        response = api_as(commune.officer).post(f"{_occ(active_plan)}/reports", json={
            "body": "Báo cáo quý III", "values": [{"indicator_id": indicator.id, "value": 2.03}]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["body"] == "Báo cáo quý III"
    assert body["is_late"] is True
    assert body["review_status"] == "submitted"
    assert body["values"] == [{"indicator_id": indicator.id, "unit_id": commune.health.id, "year": 2024,
                               "value": 2.03}]
    assert body["attachments"] == []


def test_submit_report_multipart_with_files(api_as, commune, active_plan):
    client = api_as(commune.officer)
    response = client.post(f"{_occ(active_plan)}/reports", content_type="multipart/form-data", data={
        "body": "Kèm biên bản",
        "attachments": [(io.BytesIO(b"%PDF-1.4 bien ban"), "biên bản.pdf", "application/pdf"),
                        (io.BytesIO(b"so lieu"), "so-lieu.txt", "text/plain")],
    })
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [a["filename"] for a in body["attachments"]] == ["biên bản.pdf", "so-lieu.txt"]
    assert body["attachments"][0]["size_bytes"] == len(b"%PDF-1.4 bien ban")
    download = client.get(f"/api/v1/reports/{body['id']}/attachments/{body['attachments'][0]['id']}")
    assert download.status_code == 200
    assert download.data == b"%PDF-1.4 bien ban"
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert "attachment" in download.headers["Content-Disposition"]


def test_submit_report_multipart_refuses_bad_files_and_values(api_as, commune, active_plan):
    client = api_as(commune.officer, "en")
    response = client.post(f"{_occ(active_plan)}/reports", content_type="multipart/form-data", data={
        "attachments": [(io.BytesIO(b"MZ..."), "virus.exe", "application/octet-stream")]})
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"attachments": ["Files of type .exe are not accepted."]},
                                    "code": "invalid"}
    response = client.post(f"{_occ(active_plan)}/reports", content_type="multipart/form-data",
                           data={"values": "not json"})
    assert response.status_code == 422
    assert error_body(response)["errors"] == {"values": ["Not a valid list."]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_submit_report_refuses_unknown_indicator_and_bad_number(api_as, commune, active_plan):
    client = api_as(commune.officer, "en")
    response = client.post(f"{_occ(active_plan)}/reports", json={"values": [{"indicator_id": 424242, "value": 1}]})
    assert response.status_code == 422
    assert error_body(response)["errors"] == {"values": ["Indicator 424242 is not one of this plan's indicators."]}
    response = client.post(f"{_occ(active_plan)}/reports", json={"values": [{"indicator_id": 1, "value": "abc"}]})
    assert error_body(response)["errors"] == {"values.0.value": ["Not a valid number."]}


def test_comments(api_as, commune, active_plan):
    viewer = api_as(commune.viewer)
    response = viewer.post(f"{_occ(active_plan)}/comments", json={"body": "  Đề nghị báo cáo sớm.  "})
    assert response.status_code == 201
    assert response.get_json()["body"] == "Đề nghị báo cáo sớm."
    assert response.get_json()["author_name"] == "Vũ Thị Tỉnh"
    listed = api_as(commune.officer).get(f"{_occ(active_plan)}/comments")
    assert listed.status_code == 200
    assert [c["body"] for c in listed.get_json()] == ["Đề nghị báo cáo sớm."]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 1


def test_comments_out_of_scope(api_as, commune, active_plan):
    client = api_as(commune.other_officer)
    assert client.get(f"{_occ(active_plan)}/comments").status_code == 403
    assert client.post(f"{_occ(active_plan)}/comments", json={"body": "xin chào"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_empty_comment_is_refused_in_vietnamese(api_as, commune, active_plan):
    response = api_as(commune.officer).post(f"{_occ(active_plan)}/comments", json={"body": "   "})
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"body": ["Cần từ 1 đến 5000 ký tự."]}, "code": "invalid"}


def test_request_extension(api_as, commune, active_plan):
    with time_machine.travel(BEFORE_DUE, tick=False):
        response = api_as(commune.officer).post(f"{_occ(active_plan)}/extension-requests", json={
            "requested_due_on": "2024-10-15", "reason": "Chờ số liệu của thôn"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["requested_due_on"] == "2024-10-15"
    assert body["requested_by_id"] == commune.officer.id


def test_second_extension_request_conflicts(api_as, commune, active_plan):
    client = api_as(commune.officer, "en")
    payload = {"requested_due_on": "2024-10-15", "reason": "Chờ số liệu"}
    assert client.post(f"{_occ(active_plan)}/extension-requests", json=payload).status_code == 201
    response = client.post(f"{_occ(active_plan)}/extension-requests", json=payload)
    assert response.status_code == 409
    assert error_body(response) == {
        "errors": {"_general": ["A request for more time is already waiting for a decision."]}, "code": "conflict"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExtensionRequest)) == 1
