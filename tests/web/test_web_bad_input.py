"""Bad input gets a clear 4xx page in the person's language and changes nothing."""

from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import AuditEvent, Comment, Occurrence, Report


def _audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


def test_acting_on_another_units_task_is_forbidden(login, client, web_data):
    login("ytekhac")  # officer of the other commune's health station
    occ_id = web_data.occurrence.id
    before = _audit_count()
    assert client.get(f"/occurrences/{occ_id}").status_code == 403
    response = client.post(f"/occurrences/{occ_id}/report", data={"body": "x"})
    assert response.status_code == 403
    assert "Bạn không có quyền" in response.get_data(as_text=True)
    assert client.post(f"/occurrences/{occ_id}/comments", data={"body": "x"}).status_code == 403
    assert _audit_count() == before
    db.session.expire_all()
    assert db.session.get(Occurrence, occ_id).completed_at is None


def test_viewer_cannot_submit_or_review(login, client, web_data):
    login("tinh")
    occ_id = web_data.occurrence.id
    response = client.post(f"/occurrences/{occ_id}/report", data={"body": "x"})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.occurrence_id == occ_id)) == 0


def test_editing_a_done_task_is_a_conflict(login, client, web_data):
    login("yte")
    occ_id = web_data.occurrence.id
    assert client.post(f"/occurrences/{occ_id}/done", data={"note": "Xong", "confirm": "y"}).status_code == 302
    response = client.post(f"/occurrences/{occ_id}/report", data={"body": "lần hai"})
    assert response.status_code == 409
    assert "Nhiệm vụ này đã được Nguyễn Văn Y đánh dấu hoàn thành lúc" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.occurrence_id == occ_id)) == 1


def _post_file(client, occ_id, name, content):
    return client.post(f"/occurrences/{occ_id}/report", data={
        "body": "Báo cáo", "attachments": [(io.BytesIO(content), name)],
    }, content_type="multipart/form-data")


def test_empty_file_is_refused(login, client, web_data):
    login("yte")
    response = _post_file(client, web_data.occurrence.id, "rong.pdf", b"")
    assert response.status_code == 422
    assert "Tệp rong.pdf không có nội dung." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 1  # only the school's report


def test_file_type_not_allowed_is_refused(login, client, web_data):
    login("yte")
    response = _post_file(client, web_data.occurrence.id, "virus.exe", b"MZ....")
    assert response.status_code == 422
    assert "Không nhận tệp loại .exe." in response.get_data(as_text=True)


def test_a_program_renamed_to_pdf_is_refused_and_nothing_changes(login, client, web_data):
    login("yte")
    response = _post_file(client, web_data.occurrence.id, "bao-cao.pdf", b"MZ\x90\x00\x03 a Windows program")
    assert response.status_code == 422
    assert "Tệp bao-cao.pdf không đúng là tệp .pdf." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Occurrence, web_data.occurrence.id).completed_at is None


def test_hundred_megabyte_file_is_refused_before_reading_it(login, client, web_data):
    login("yte")
    response = _post_file(client, web_data.occurrence.id, "lon.pdf", b"0" * (100 * 1024 * 1024))
    assert response.status_code == 413
    assert "Tệp quá lớn." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Occurrence, web_data.occurrence.id).completed_at is None


def test_file_over_the_attachment_limit_is_refused(login, client, web_data, app):
    login("yte")
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    response = _post_file(client, web_data.occurrence.id, "vua.pdf", b"0" * 2048)
    assert response.status_code == 422
    assert "lớn hơn" in response.get_data(as_text=True)


def test_unknown_ids_are_404(login, client, web_data):
    login("chutich")
    for path in ("/occurrences/999999", "/plans/999999", "/attachments/999999", "/nothing-here"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Không tìm thấy" in response.get_data(as_text=True)
    assert client.post("/reports/999999/review", data={"decision": "accept"}).status_code == 404
    assert client.post("/extensions/999999/decide", data={"decision": "approve"}).status_code == 404
    assert client.get("/occurrences/abc").status_code == 404


def test_malformed_input_is_422_in_vietnamese(login, client, web_data):
    login("yte")
    occ_id = web_data.later.id
    response = client.post(f"/occurrences/{occ_id}/extension", data={"new_due_on": "31/02/2031", "reason": "x"})
    assert response.status_code == 422
    assert "Hãy nhập ngày theo dạng dd/mm/yyyy." in response.get_data(as_text=True)
    response = client.post(f"/occurrences/{occ_id}/extension", data={"new_due_on": "01/01/2020", "reason": "x"})
    assert response.status_code == 422
    assert "Thời hạn mới phải sau thời hạn hiện tại" in response.get_data(as_text=True)
    response = client.post(f"/occurrences/{occ_id}/comments", data={"body": "   "})
    assert response.status_code == 422
    assert "Trường này là bắt buộc." in response.get_data(as_text=True)
    response = client.post(f"/occurrences/{occ_id}/report",
                           data={"body": "x", f"value_{web_data.indicator.id}": "hai phẩy"})
    assert response.status_code == 422
    assert "không phải là số" in response.get_data(as_text=True)
    assert client.get("/overview?unit=abc").status_code in (400, 403)
    assert client.get("/rollup?year=nineteen").status_code in (400, 403)
    assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0


def test_review_decision_must_be_one_of_the_options(login, client, web_data):
    from tracker.operations.occurrences import submit_report

    submit_report(web_data.commune.officer, web_data.occurrence, body="Xong")
    db.session.commit()
    report_id = web_data.occurrence.reports[-1].id
    login("chutich")
    response = client.post(f"/reports/{report_id}/review", data={"decision": "delete"})
    assert response.status_code == 422
    assert "Hãy chọn một trong các phương án." in response.get_data(as_text=True)
    response = client.post(f"/reports/{report_id}/review", data={"decision": "return", "comment": ""})
    assert response.status_code == 422
    assert "Hãy nêu lý do trả lại báo cáo." in response.get_data(as_text=True)


def test_non_admin_cannot_reach_admin_pages(login, client, web_data):
    login("chutich")
    assert client.get("/admin/units").status_code == 403
    assert client.post("/admin/units", data={"name": "X", "kind": "village",
                                              "parent_id": web_data.commune.xa.id}).status_code == 403


def test_admin_cannot_act_outside_their_subtree(login, client, web_data, make_unit):
    other_province = make_unit("Tỉnh Khác", "province")
    db.session.commit()
    login("quantri")
    response = client.post("/admin/units", data={"name": "X", "kind": "village", "parent_id": other_province.id})
    assert response.status_code == 403
    assert "Bạn không có quyền" in response.get_data(as_text=True)


def test_open_redirect_after_sign_in_is_ignored(client, web_data):
    response = client.post("/login?next=https://evil.example/", data={"username": "yte",
                                                                      "password": "secret-pass-1"})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def test_a_department_above_sees_the_tasks_that_report_to_it(login, client, web_data, make_unit, make_person,
                                                              make_task):
    """Visibility follows the API's rule: lead unit, report-to unit or issuing unit in scope."""
    from tracker.models import Role

    department = make_unit("Sở Y tế", "department", parent=web_data.commune.province)
    make_person("soyte", roles=[(Role.FOCAL, department)])
    task = make_task(web_data.plan, web_data.commune.health, title="Báo cáo lên Sở", report_to_unit=department,
                     due=date(2024, 12, 1))
    db.session.commit()
    occ = db.session.scalar(sa.select(Occurrence).where(Occurrence.task_id == task.id))
    login("soyte")
    assert client.get(f"/occurrences/{occ.id}").status_code == 200
    assert client.get(f"/occurrences/{web_data.occurrence.id}").status_code == 403
    assert "Báo cáo lên Sở" in client.get("/overview").get_data(as_text=True)
