"""Hostile input to the API: every case is a clear 4xx in the one error shape, and nothing changes."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from tests.api.conftest import error_body
from tracker.extensions import db
from tracker.models import AuditEvent, Comment, ExtensionRequest, IndicatorTarget, OrgUnit, Plan, Report

HUGE_IDS = [2**31, 2**63, 2**64 + 5, 10**30]


def _count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _comments(active_plan) -> str:
    return f"/api/v1/occurrences/{active_plan.occurrence.id}/comments"


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[31m"])
def test_control_characters_in_text_are_refused(api_as, commune, active_plan, text):
    response = api_as(commune.officer, "en").post(_comments(active_plan), json={"body": text})
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"body": ["The text contains characters that are not allowed."]},
                                    "code": "invalid"}
    assert _count(Comment) == 0


def test_lone_surrogate_in_json_is_refused_in_vietnamese(api_as, commune, active_plan):
    response = api_as(commune.officer).post(_comments(active_plan), data='{"body": "a\\ud800b"}',
                                            headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"body": ["Văn bản chứa ký tự không được phép."]}, "code": "invalid"}
    assert _count(Comment) == 0


def test_tabs_new_lines_and_vietnamese_text_are_kept(api_as, commune, active_plan):
    response = api_as(commune.officer).post(_comments(active_plan), json={"body": "Dòng 1\n\tDòng 2 🙂"})
    assert response.status_code == 201
    assert response.get_json()["body"] == "Dòng 1\n\tDòng 2 🙂"


def test_deeply_nested_json_is_a_clear_400(api_as, commune, active_plan):
    body = '{"body": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = api_as(commune.officer, "en").post(_comments(active_plan), data=body,
                                                  headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_body(response) == {"errors": {"_general": ["The request body is nested too deeply."]},
                                    "code": "malformed_json"}
    assert _count(Comment) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415(api_as, commune, active_plan, content_type):
    response = api_as(commune.officer, "en").post(_comments(active_plan), data='{"body": "x"}',
                                                  headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert error_body(response) == {
        "errors": {"_general": ["Send the body as JSON (Content-Type: application/json)."]},
        "code": "unsupported_media_type"}
    assert _count(Comment) == 0


def test_a_body_without_a_content_type_is_415(api_as, commune, active_plan):
    response = api_as(commune.officer, "en").post(_comments(active_plan), data=b'{"body": "x"}')
    assert response.status_code == 415
    assert error_body(response)["code"] == "unsupported_media_type"


def test_an_empty_body_is_still_fine_where_nothing_is_required(api_as, commune, active_plan):
    response = api_as(commune.officer).post(f"/api/v1/occurrences/{active_plan.occurrence.id}/done")
    assert response.status_code == 200


def test_body_over_the_request_limit_is_413_json(api_as, commune, active_plan, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = api_as(commune.officer, "en").post(_comments(active_plan), json={"body": "x" * 4096})
    assert response.status_code == 413
    assert error_body(response) == {"errors": {"_general": ["The file is too large."]},
                                    "code": "request_entity_too_large"}
    assert _count(Comment) == 0


@pytest.mark.parametrize("value", [0, 1, "true", "yes", "1", 1.0, [], {}])
def test_booleans_in_bodies_must_be_true_or_false(api_as, commune, value):
    response = api_as(commune.admin, "en").post("/api/v1/units", json={
        "parent_id": commune.xa.id, "name": "Thôn 9", "kind": "village", "is_administrative": value})
    assert response.status_code == 422
    assert error_body(response)["errors"] == {"is_administrative": ["Not a valid boolean (true or false)."]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrgUnit).where(OrgUnit.name == "Thôn 9")) == 0


def test_a_query_boolean_still_reads_true_and_false(api_as, commune):
    client = api_as(commune.admin)
    assert client.get("/api/v1/units?include_archived=true").status_code == 200
    assert client.get("/api/v1/units?include_archived=false").status_code == 200
    response = client.get("/api/v1/units?include_archived=maybe", headers={"Accept-Language": "en"})
    assert response.status_code == 422


@pytest.mark.parametrize("due", ["0001-01-01", "1989-12-31", "2101-01-01", "9999-12-31"])
def test_implausible_deadlines_are_refused(api_as, commune, active_plan, due):
    path = f"/api/v1/occurrences/{active_plan.occurrence.id}/extension-requests"
    response = api_as(commune.officer, "en").post(path, json={"requested_due_on": due, "reason": "Chờ số liệu"})
    assert response.status_code == 422
    assert error_body(response) == {
        "errors": {"requested_due_on": ["Must be a date between 1990-01-01 and 2100-12-31."]}, "code": "invalid"}
    assert _count(ExtensionRequest) == 0


@pytest.mark.parametrize("due", ["0000-00-00", "2024-02-30", "2024-09-25T00:00:00", "2024-09-25T00:00:00+07:00",
                                 "25/09/2024", "", " ", "2024-9-5x"])
def test_malformed_dates_are_refused(api_as, commune, active_plan, due):
    path = f"/api/v1/occurrences/{active_plan.occurrence.id}/extension-requests"
    response = api_as(commune.officer, "en").post(path, json={"requested_due_on": due, "reason": "x"})
    assert response.status_code == 422
    assert error_body(response)["errors"] == {"requested_due_on": ["Not a valid date (YYYY-MM-DD)."]}


def test_plan_dates_and_task_deadlines_are_bounded_too(api_as, commune):
    client = api_as(commune.focal, "en")
    response = client.post("/api/v1/plans", json={"title": "Kế hoạch", "issuing_unit_id": commune.xa.id,
                                                  "issued_on": "9999-12-31", "period_end_on": "0001-01-01"})
    assert response.status_code == 422
    assert error_body(response)["errors"] == {
        "issued_on": ["Must be a date between 1990-01-01 and 2100-12-31."],
        "period_end_on": ["Must be a date between 1990-01-01 and 2100-12-31."]}
    assert _count(Plan) == 0


@pytest.mark.parametrize("value", [10**40, "1e30", 100_000_000_000_000, -100_000_000_000_000, "99999999999999.9999"])
def test_a_target_beyond_what_the_database_holds_is_refused(api_as, commune, active_plan, value):
    from tracker.operations.indicators import create_indicator

    indicator = create_indicator(None, active_plan.plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%")
    db.session.commit()
    response = api_as(commune.chair, "en").put(
        f"/api/v1/indicators/{indicator.id}/targets/{commune.xa.id}/2024", json={"value": value})
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"value": ["The number is too large."]}, "code": "invalid"}
    assert _count(IndicatorTarget) == 0


@pytest.mark.parametrize("year", [0, 1, 1989, 2101, 2**40, 2**63 - 1])
def test_a_target_year_outside_the_plausible_range_is_refused(api_as, commune, active_plan, year):
    from tracker.operations.indicators import create_indicator

    indicator = create_indicator(None, active_plan.plan, name="Tỷ lệ hộ nghèo")
    db.session.commit()
    response = api_as(commune.chair, "en").put(
        f"/api/v1/indicators/{indicator.id}/targets/{commune.xa.id}/{year}", json={"value": 1})
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"year": [f"The year {year} is not plausible."]}, "code": "invalid"}
    assert _count(IndicatorTarget) == 0


@pytest.mark.parametrize("year", [2**63, 10**30, "-1", "2024.0"])
def test_a_target_year_no_number_type_holds_is_not_a_resource(api_as, commune, active_plan, year):
    response = api_as(commune.chair, "en").put(f"/api/v1/indicators/1/targets/{commune.xa.id}/{year}",
                                               json={"value": 1})
    assert response.status_code == 404


def test_the_document_states_the_ranges_of_path_parameters(client):
    document = client.get("/api/openapi.json").get_json()
    params = {p["name"]: p["schema"] for p in
              document["paths"]["/api/v1/indicators/{indicator_id}/targets/{unit_id}/{year}"]["parameters"]}
    assert params["year"] == {"type": "integer", "minimum": 1990, "maximum": 2100}
    assert params["unit_id"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    occurrence = document["paths"]["/api/v1/occurrences/{occurrence_id}"]["parameters"][0]["schema"]
    assert occurrence == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def test_the_same_indicator_twice_in_one_report_is_refused(api_as, commune, active_plan):
    from tracker.operations.indicators import create_indicator

    indicator = create_indicator(None, active_plan.plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%")
    db.session.commit()
    response = api_as(commune.officer, "en").post(f"/api/v1/occurrences/{active_plan.occurrence.id}/reports", json={
        "values": [{"indicator_id": indicator.id, "value": 1}, {"indicator_id": indicator.id, "value": 2}]})
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"values": ["Each indicator may appear only once."]},
                                    "code": "invalid"}
    assert _count(Report) == 0


@pytest.mark.parametrize("path", ["/api/v1/occurrences/{id}", "/api/v1/reports/{id}", "/api/v1/plans/{id}",
                                  "/api/v1/units/{id}", "/api/v1/indicators/{id}", "/api/v1/plans/{id}/tasks",
                                  "/api/v1/occurrences/{id}/comments"])
def test_huge_negative_and_odd_ids_are_404(api_as, commune, path):
    client = api_as(commune.officer, "en")
    for ident in [*HUGE_IDS, -1, 0, "abc", "1.5", "1e3", "%00", "١٢"]:
        response = client.get(path.format(id=ident))
        assert response.status_code == 404, (path, ident)
        assert error_body(response)["code"] == "not_found"


def test_huge_ids_in_changes_are_404_and_change_nothing(api_as, commune):
    client = api_as(commune.chair, "en")
    before = _count(AuditEvent)
    for ident in HUGE_IDS:
        for path, body in [(f"/api/v1/occurrences/{ident}/comments", {"body": "x"}),
                           (f"/api/v1/reports/{ident}/accept", {}),
                           (f"/api/v1/extension-requests/{ident}/decision", {"approve": True}),
                           (f"/api/v1/plans/{ident}/activate", None)]:
            response = client.post(path, json=body)
            assert response.status_code == 404, (path, response.get_json())
    assert _count(AuditEvent) == before


def test_huge_ids_in_bodies_are_422(api_as, commune):
    response = api_as(commune.focal, "en").post("/api/v1/plans", json={
        "title": "Kế hoạch", "issuing_unit_id": 2**63, "focal_unit_id": 2**31})
    assert response.status_code == 422
    assert set(error_body(response)["errors"]) == {"issuing_unit_id", "focal_unit_id"}


def _upload(client, active_plan, name: str):
    return client.post(f"/api/v1/occurrences/{active_plan.occurrence.id}/reports", content_type="multipart/form-data",
                       data={"body": "Kèm tệp", "attachments": [(io.BytesIO(b"%PDF-1.4 x"), name, "application/pdf")]})


@pytest.mark.parametrize("name", ["a\x00b.pdf", "bien\x1bban.pdf", "hoa-don\u202efdp.pdf", "tab\there.pdf"])
def test_file_names_with_control_or_direction_characters_are_refused(api_as, commune, active_plan, name):
    response = _upload(api_as(commune.officer, "en"), active_plan, name)
    assert response.status_code == 422
    assert error_body(response) == {"errors": {"attachments": ["A file name contains characters that are not "
                                                               "allowed."]}, "code": "invalid"}
    assert _count(Report) == 0


def test_a_vietnamese_file_name_downloads_with_a_header_every_server_can_send(api_as, commune, active_plan):
    client = api_as(commune.officer)
    response = _upload(client, active_plan, "../../Báo cáo kết quả quý III.pdf")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["attachments"][0]["filename"] == "Báo cáo kết quả quý III.pdf"  # no directories
    download = client.get(f"/api/v1/reports/{body['id']}/attachments/{body['attachments'][0]['id']}")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    disposition.encode("latin-1")  # WSGI servers send headers as latin-1: this must not raise
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20k%E1%BA%BFt%20qu%E1%BA%A3%20qu%C3%BD%20III.pdf" in disposition
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_nothing_is_audited_for_refused_input(api_as, commune, active_plan):
    client = api_as(commune.officer, "en")
    before = _count(AuditEvent)
    client.post(_comments(active_plan), json={"body": "a\x00"})
    client.post(_comments(active_plan), data="{" * 50_000, headers={"Content-Type": "application/json"})
    client.post(f"/api/v1/occurrences/{active_plan.occurrence.id}/extension-requests",
                json={"requested_due_on": "9999-12-31", "reason": "x"})
    _upload(client, active_plan, "a\x00.pdf")
    assert _count(AuditEvent) == before
    db.session.expire_all()
    assert active_plan.occurrence.completed_at is None
    assert active_plan.occurrence.due_on == date(2024, 9, 25)


def test_malformed_figures_next_to_good_ones_are_422_not_500(api_as, commune, active_plan):
    path = f"/api/v1/occurrences/{active_plan.occurrence.id}/reports"
    client = api_as(commune.officer, "en")
    for values in ([{"value": 1}, {"indicator_id": 1, "value": 2}], [{"indicator_id": 1, "value": 1, "x": 2}, {}],
                   [None, {"indicator_id": 1, "value": 2}], "[{}]"):
        response = client.post(path, json={"values": values}) if not isinstance(values, str) else client.post(
            path, content_type="multipart/form-data", data={"values": values})
        assert response.status_code == 422, values
        assert error_body(response)["code"] == "invalid"
    assert _count(Report) == 0


def test_the_document_states_the_text_rule_on_inputs_only(client):
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    pattern = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]*$"
    assert schemas["CommentCreate"]["properties"]["body"]["pattern"] == pattern
    assert "pattern" not in schemas["Comment"]["properties"]["body"]


def test_bodies_that_are_all_optional_are_documented_as_optional(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert paths["/api/v1/occurrences/{occurrence_id}/done"]["post"]["requestBody"].get("required") is not True
    assert paths["/api/v1/reports/{report_id}/accept"]["post"]["requestBody"].get("required") is not True
    assert paths["/api/v1/occurrences/{occurrence_id}/comments"]["post"]["requestBody"]["required"] is True


def test_lists_are_bounded_in_items_with_a_message_about_items(api_as, commune, active_plan):
    client = api_as(commune.focal, "en")
    response = client.post(f"/api/v1/plans/{active_plan.plan.id}/tasks", json={
        "title": "Việc", "lead_unit_id": commune.health.id, "due_dates": ["2024-10-01"] * 101})
    assert response.status_code == 422
    assert error_body(response)["errors"] == {"due_dates": ["Must have at most 100 items."]}
    response = client.get("/api/v1/occurrences?" + "&".join(["status=overdue"] * 50))
    assert response.status_code == 422
    assert error_body(response)["errors"] == {"status": ["Must have at most 6 items."]}
    vi = api_as(commune.focal).post(f"/api/v1/plans/{active_plan.plan.id}/tasks", json={
        "title": "Việc", "lead_unit_id": commune.health.id, "coordinating_unit_ids": [commune.xa.id] * 101})
    assert error_body(vi)["errors"] == {"coordinating_unit_ids": ["Chỉ được có tối đa 100 mục."]}


def test_an_unexpected_failure_is_a_500_in_the_one_error_shape_and_rolls_back(app, client, commune, active_plan):
    from tracker.models import Comment as CommentModel

    def boom():
        db.session.add(CommentModel(occurrence_id=active_plan.occurrence.id, author_id=commune.officer.id, body="x"))
        db.session.flush()
        raise RuntimeError("a bug")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production
    app.add_url_rule("/api/v1/_boom", "api_boom", boom)
    app.add_url_rule("/_boom", "web_boom", boom)
    response = client.get("/api/v1/_boom")
    assert response.status_code == 500
    assert error_body(response) == {"errors": {"_general": [
        "Đã xảy ra lỗi ở phía hệ thống. Không có thay đổi nào được lưu; hãy thử lại sau."]},
        "code": "internal_server_error"}
    page = client.get("/_boom", headers={"Accept-Language": "en"})
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "Không có thay đổi nào được lưu" in page.get_data(as_text=True)
    assert _count(CommentModel) == 0
