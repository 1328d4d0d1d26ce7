"""POST /occurrences/{id}/reports: a report must say something; /done is the separate 'done without a report'."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from tests.api.conftest import error_body
from tracker.extensions import db
from tracker.models import AuditEvent, Occurrence, Report


def _reports_path(active_plan) -> str:
    return f"/api/v1/occurrences/{active_plan.occurrence.id}/reports"


def _nothing_changed(active_plan) -> None:
    db.session.expire_all()
    assert db.session.get(Occurrence, active_plan.occurrence.id).completed_at is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "occurrence.complete")) == 0


@pytest.mark.parametrize("payload", [{}, {"body": ""}, {"body": "   "}, {"body": " ", "values": []}])
def test_an_empty_report_is_422_naming_the_body(api_as, commune, active_plan, payload):
    response = api_as(commune.officer).post(_reports_path(active_plan), json=payload)
    assert response.status_code == 422
    assert error_body(response) == {"code": "invalid", "errors": {"body": [
        "Báo cáo đang trống: hãy ghi kết quả thực hiện, nhập ít nhất một số liệu hoặc đính kèm tệp. Nếu không có gì "
        "để báo cáo, hãy dùng \"Đánh dấu hoàn thành không kèm báo cáo\"."]}}
    _nothing_changed(active_plan)


def test_an_empty_multipart_report_is_422_in_english_too(api_as, commune, active_plan):
    response = api_as(commune.officer, "en").post(_reports_path(active_plan), content_type="multipart/form-data",
                                                  data={"body": ""})
    assert response.status_code == 422
    assert error_body(response)["errors"] == {"body": [
        "The report is empty: write what was done, give at least one figure or attach a file. To mark the task "
        "done with nothing to report, use \"Mark done without a report\"."]}
    _nothing_changed(active_plan)


def test_text_only_is_accepted(api_as, commune, active_plan):
    response = api_as(commune.officer).post(_reports_path(active_plan), json={"body": "Đã khám cho 312 người."})
    assert response.status_code == 201, response.get_json()


def test_one_figure_only_is_accepted(api_as, commune, active_plan):
    from tracker.operations.indicators import create_indicator

    indicator = create_indicator(None, active_plan.plan, name="Lượt khám", unit_of_measure="lượt")
    db.session.commit()
    response = api_as(commune.officer).post(_reports_path(active_plan), json={
        "values": [{"indicator_id": indicator.id, "value": 312}]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["body"] == ""
    assert response.get_json()["values"][0]["value"] == 312


def test_an_attachment_only_is_accepted(api_as, commune, active_plan):
    response = api_as(commune.officer).post(_reports_path(active_plan), content_type="multipart/form-data", data={
        "attachments": [(io.BytesIO(b"%PDF-1.4 bien ban"), "bien-ban.pdf", "application/pdf")]})
    assert response.status_code == 201, response.get_json()
    assert [a["filename"] for a in response.get_json()["attachments"]] == ["bien-ban.pdf"]


def test_done_without_a_report_stays_its_own_endpoint(api_as, commune, active_plan):
    response = api_as(commune.officer).post(f"/api/v1/occurrences/{active_plan.occurrence.id}/done", json={})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["completed_at"] is not None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "occurrence.complete"))
    assert event.after["without_report"] is True
