"""An officer of another commune reaches nothing of xã Cao Ngọc through the API: not by id, not by filter."""

from __future__ import annotations

import io

import sqlalchemy as sa

from tests.api.conftest import error_body
from tracker.extensions import db
from tracker.models import AuditEvent, Report


def _occurrence_of(task):
    from tracker.models import Occurrence

    return db.session.scalar(sa.select(Occurrence).where(Occurrence.task_id == task.id))


def _cao_ngoc(commune, active_plan, make_person):
    """A report with a file, a comment and a pending request for more time, all of Cao Ngọc's health station."""
    from tracker.models import Role
    from tracker.operations.indicators import create_indicator
    from tracker.operations.occurrences import UploadedFile, add_comment, request_extension, submit_report

    indicator = create_indicator(None, active_plan.plan, name="Tỷ lệ hộ nghèo", unit_of_measure="%")
    report = submit_report(commune.officer, active_plan.occurrence, body="Đã xong", values={indicator.id: "2,03"},
                           attachments=[UploadedFile("bien-ban.pdf", "application/pdf", b"%PDF-1.4 x")])
    add_comment(commune.officer, active_plan.occurrence, "Ghi chú nội bộ")
    from datetime import date

    from tracker.operations.plans import add_task

    later = add_task(None, active_plan.plan, title="Việc sau", lead_unit=commune.health, due_dates=[date(2030, 1, 1)])
    db.session.flush()
    extension = request_extension(commune.officer, _occurrence_of(later), new_due_on=date(2030, 2, 1), reason="Chờ")
    other_chair = make_person("chutichkhac", roles=[(Role.CHAIR, commune.other_xa)])
    db.session.commit()
    return report, indicator, extension, other_chair


def test_another_commune_cannot_read_or_act_on_anything_of_cao_ngoc(api_as, commune, active_plan, make_person):
    report, indicator, extension, other_chair = _cao_ngoc(commune, active_plan, make_person)
    occ = active_plan.occurrence.id
    attachment = report.attachments[0].id
    clients = {person.username: api_as(person, "en") for person in (commune.other_officer, other_chair)}
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))  # tokens made: nothing else may be written
    for username, client in clients.items():
        for path in [f"/api/v1/occurrences/{occ}", f"/api/v1/occurrences/{occ}/comments",
                     f"/api/v1/reports/{report.id}", f"/api/v1/reports/{report.id}/attachments/{attachment}",
                     f"/api/v1/plans/{active_plan.plan.id}", f"/api/v1/plans/{active_plan.plan.id}/tasks",
                     f"/api/v1/units/{commune.health.id}", f"/api/v1/indicators/{indicator.id}"]:
            response = client.get(path)
            assert response.status_code == 403, (username, path)
            assert error_body(response)["code"] == "forbidden"
            assert "Đã xong" not in response.get_data(as_text=True)
        for path, body in [(f"/api/v1/occurrences/{occ}/comments", {"body": "x"}),
                           (f"/api/v1/occurrences/{occ}/done", {}),
                           (f"/api/v1/occurrences/{occ}/extension-requests", {"requested_due_on": "2030-01-01",
                                                                             "reason": "x"}),
                           (f"/api/v1/reports/{report.id}/accept", {}),
                           (f"/api/v1/reports/{report.id}/return", {"comment": "x"}),
                           (f"/api/v1/extension-requests/{extension.id}/decision", {"approve": True}),
                           (f"/api/v1/plans/{active_plan.plan.id}/tasks", {"title": "x",
                                                                          "lead_unit_id": commune.other_health.id}),
                           (f"/api/v1/plans/{active_plan.plan.id}/activate", None)]:
            response = client.post(path, json=body)
            assert response.status_code == 403, (username, path, response.get_json())
        response = client.put(f"/api/v1/indicators/{indicator.id}/targets/{commune.xa.id}/2024", json={"value": 1})
        assert response.status_code == 403
        # Filters naming Cao Ngọc's ids answer nothing rather than leaking.
        plan_id = active_plan.plan.id
        for path in [f"/api/v1/occurrences?unit_id={commune.xa.id}", f"/api/v1/occurrences?plan_id={plan_id}",
                     f"/api/v1/reports?occurrence_id={occ}", f"/api/v1/reports?unit_id={commune.health.id}",
                     f"/api/v1/extension-requests?occurrence_id={extension.occurrence_id}",
                     f"/api/v1/plans?issuing_unit_id={commune.xa.id}", f"/api/v1/indicators?plan_id={plan_id}",
                     f"/api/v1/units?within={commune.xa.id}", f"/api/v1/units?parent_id={commune.xa.id}"]:
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.get_json() == [], (username, path)
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before
    db.session.expire_all()
    assert db.session.get(Report, report.id).review_status.value == "submitted"


def test_an_attachment_is_only_reachable_through_its_own_report(api_as, commune, active_plan, make_person):
    from tracker.operations.occurrences import UploadedFile, submit_report

    report, *_ = _cao_ngoc(commune, active_plan, make_person)
    from datetime import date

    from tracker.operations.plans import activate_plan, add_task, create_plan

    plan = create_plan(None, title="Kế hoạch xã bên", issuing_unit=commune.other_xa, year=2024)
    task = add_task(None, plan, title="Việc xã bên", lead_unit=commune.other_health, due_dates=[date(2024, 9, 30)])
    activate_plan(None, plan)
    db.session.flush()
    own = submit_report(commune.other_officer, _occurrence_of(task), body="Của tôi",
                        attachments=[UploadedFile("cua-toi.pdf", "application/pdf", b"%PDF-1.4 mine")])
    db.session.commit()
    client = api_as(commune.other_officer, "en")
    # The officer's own report id with Cao Ngọc's attachment id: not found, not the other file.
    response = client.get(f"/api/v1/reports/{own.id}/attachments/{report.attachments[0].id}")
    assert response.status_code == 404
    assert b"%PDF-1.4 x" not in response.data
    assert client.get(f"/api/v1/reports/{own.id}/attachments/{own.attachments[0].id}").data == b"%PDF-1.4 mine"
    assert io.BytesIO(response.data)
