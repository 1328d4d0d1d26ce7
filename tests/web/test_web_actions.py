"""The officer's and reviewers' actions through the pages: one operation, one commit, a flash and a redirect."""

from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Comment,
    ExtensionRequest,
    ExtensionStatus,
    IndicatorValue,
    Occurrence,
    Report,
    ReviewStatus,
)


def _occ(occurrence_id: int) -> Occurrence:
    db.session.expire_all()
    return db.session.get(Occurrence, occurrence_id)


def test_officer_submits_report_with_file_and_indicator_value(login, web_data):
    client = login("yte")
    occ_id = web_data.occurrence.id
    response = client.post(f"/occurrences/{occ_id}/report", data={
        "body": "Đã tổ chức khám cho 120 người.",
        f"value_{web_data.indicator.id}": "2,03",
        "attachments": [(io.BytesIO(b"%PDF-1.4 report"), "bao-cao.pdf")],
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã gửi báo cáo." in page
    assert "bao-cao.pdf" in page
    occurrence = _occ(occ_id)
    assert occurrence.completed_on is not None
    report = occurrence.reports[-1]
    assert report.attachments[0].content == b"%PDF-1.4 report"
    value = db.session.scalar(sa.select(IndicatorValue).where(IndicatorValue.report_id == report.id))
    assert str(value.value).startswith("2.03")
    download = client.get(f"/attachments/{report.attachments[0].id}")
    assert download.status_code == 200
    assert download.data == b"%PDF-1.4 report"
    assert "attachment" in download.headers["Content-Disposition"]


def test_chair_returns_report_and_the_task_opens_again(login, client, web_data):
    from tracker.operations.occurrences import submit_report

    submit_report(web_data.commune.officer, web_data.occurrence, body="Xong")
    db.session.commit()
    report_id = web_data.occurrence.reports[-1].id
    login("chutich")
    overview = client.get("/overview").get_data(as_text=True)
    assert "Báo cáo chờ xem xét" in overview
    response = client.post(f"/reports/{report_id}/review", data={"decision": "return", "comment": "Thiếu số liệu",
                                                                 "next": "/overview"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/overview")
    db.session.expire_all()
    report = db.session.get(Report, report_id)
    assert report.review_status == ReviewStatus.RETURNED
    assert _occ(web_data.occurrence.id).completed_at is None


def test_extension_requested_by_officer_and_approved_by_chair(login, client, web_data):
    login("yte")
    occ_id = web_data.later.id
    response = client.post(f"/occurrences/{occ_id}/extension",
                           data={"new_due_on": "31/12/2030", "reason": "Chờ vắc xin"})
    assert response.status_code == 302
    request = db.session.scalar(sa.select(ExtensionRequest).where(ExtensionRequest.occurrence_id == occ_id))
    assert request.requested_due_on == date(2030, 12, 31)
    client.post("/logout")
    login("chutich")
    assert "Chờ vắc xin" in client.get("/overview").get_data(as_text=True)
    response = client.post(f"/extensions/{request.id}/decide", data={"decision": "approve", "note": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ExtensionRequest, request.id).status == ExtensionStatus.APPROVED
    assert _occ(occ_id).due_on == date(2030, 12, 31)


def test_comment_with_script_is_shown_as_text(login, client, web_data):
    login("yte")
    occ_id = web_data.occurrence.id
    response = client.post(f"/occurrences/{occ_id}/comments", data={"body": "<script>alert('x')</script> ổn"})
    assert response.status_code == 302
    html = client.get(f"/occurrences/{occ_id}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; ổn" in html


def test_history_lists_the_audit_events(login, client, web_data):
    login("yte")
    occ_id = web_data.occurrence.id
    client.post(f"/occurrences/{occ_id}/comments", data={"body": "Đang làm"})
    client.post(f"/occurrences/{occ_id}/done", data={"note": "Xong", "confirm": "y"})
    html = client.get(f"/occurrences/{occ_id}").get_data(as_text=True)
    assert "Đã thêm ý kiến" in html
    assert "Đã gửi báo cáo / đánh dấu hoàn thành" in html


def test_english_is_available(login, client, web_data):
    login("yte")
    response = client.post("/language", data={"lang": "en", "next": "/tasks"})
    assert response.status_code == 302
    html = client.get("/tasks").get_data(as_text=True)
    assert "My tasks" in html
    assert "Overdue" in html


def test_numbers_and_percent_in_vietnamese(app):
    from flask_babel import force_locale

    from tracker.blueprints.main import format_number, format_pct

    with app.test_request_context(), force_locale("vi"):
        assert format_pct(0.0203) == "2,03%"
        assert format_number(1234567.5) == "1.234.567,5"


def test_calendar_feed_lists_the_deadlines(login, client, web_data):
    login("yte")
    client.post("/profile/calendar")
    html = client.get("/profile").get_data(as_text=True)
    start = html.index("/calendar/")
    url = html[start:html.index(".ics", start) + 4]
    client.post("/logout")
    feed = client.get(url)
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    body = feed.get_data(as_text=True)
    assert "BEGIN:VEVENT" in body
    assert "DTSTART;VALUE=DATE:20240925" in body
    # A new link revokes the old one; a forged one is refused.
    login("yte")
    client.post("/profile/calendar")
    assert client.get(url).status_code == 404
    assert client.get("/calendar/forged.ics").status_code == 404


def test_api_token_is_shown_once_and_works_as_bearer(login, client, web_data):
    login("yte")
    html = client.post("/profile/tokens", data={"name": "Excel"}).get_data(as_text=True)
    assert "Tạo mã truy cập API" in html
    start = html.index("trk_")
    token = html[start:html.index("<", start)].strip()
    from tracker.operations.people import person_for_token

    assert person_for_token(token).username == "yte"
    assert token not in client.get("/profile").get_data(as_text=True)


def test_excel_exports_open_with_openpyxl(login, client, web_data):
    from openpyxl import load_workbook

    login("chutich")
    overview = client.get("/overview.xlsx")
    assert overview.status_code == 200
    book = load_workbook(io.BytesIO(overview.data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert any(r and "Báo cáo kết quả tiếp cận dịch vụ y tế" in r for r in rows)
    client.post("/logout")
    login("tinh")
    export = client.get(f"/rollup/phu-luc.xlsx?unit={web_data.commune.district.id}")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.data))
    assert book.sheetnames[:3] == ["Phụ lục 01", "Phụ lục 02", "Phụ lục 03"]
    first = [c for r in book["Phụ lục 01"].iter_rows(values_only=True) for c in r if c is not None]
    assert "Tỷ lệ hộ nghèo" in first
    assert first[0].startswith("PHỤ LỤC 01")


def test_rollup_drills_down_and_shows_indicators(login, client, web_data):
    login("tinh")
    html = client.get("/rollup").get_data(as_text=True)
    assert "Huyện Thử Nghiệm" in html
    html = client.get(f"/rollup?unit={web_data.commune.district.id}").get_data(as_text=True)
    assert "Xã Cao Ngọc" in html and "Xã Bên Cạnh" in html
    html = client.get(f"/rollup?unit={web_data.commune.xa.id}&year=2024").get_data(as_text=True)
    assert "Trạm Y tế" in html
    assert "Tỷ lệ hộ nghèo" in html
    assert "<svg" in html


def test_admin_creates_unit_person_and_role(login, client, web_data):
    login("quantri")
    xa = web_data.commune.xa
    response = client.post("/admin/units", data={"name": "Thôn 2", "kind": "village", "parent_id": xa.id})
    assert response.status_code == 302
    response = client.post("/admin/people", data={
        "username": "thon2", "full_name": "Trưởng Thôn Hai", "password": "mat-khau-dai", "role": "officer",
        "unit_id": xa.id,
    })
    assert response.status_code == 302
    person_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Trưởng Thôn Hai" in person_page
    from tracker.models import Person

    person = db.session.scalar(sa.select(Person).where(Person.username == "thon2"))
    response = client.post(f"/admin/people/{person.id}/password", data={"password": "mat-khau-moi-1"})
    assert response.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"username": "thon2", "password": "mat-khau-moi-1"}).status_code == 302


def test_nothing_written_outside_the_one_operation(login, client, web_data):
    login("yte")  # signing in is itself audited, so count after it
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    client.post(f"/occurrences/{web_data.occurrence.id}/comments", data={"body": "Một"})
    after = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    assert after == before + 1
    assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 1


def test_bell_counts_unread_in_app_messages_and_the_page_lists_them(login, client, web_data):
    from tracker.clock import utcnow
    from tracker.models import Channel, DeliveryStatus, Notification, NotificationKind
    from tracker.notify.outbox import enqueue

    enqueue(NotificationKind.REMINDER, [web_data.commune.officer], key="bell", occurrence_id=web_data.occurrence.id,
            channels=[Channel.IN_APP])
    db.session.execute(sa.update(Notification).values(status=DeliveryStatus.SENT, sent_at=utcnow()))
    db.session.commit()
    login("yte")
    html = client.get("/tasks").get_data(as_text=True)
    assert 'data-testid="unread-count">1<' in html
    page = client.get("/notifications")
    assert page.status_code == 200
    assert "Báo cáo kết quả tiếp cận dịch vụ y tế" in page.get_data(as_text=True)
    assert client.post("/notifications/read").status_code == 302
    assert 'data-testid="unread-count"' not in client.get("/tasks").get_data(as_text=True)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "inbox.mark_read"))
    assert event.actor_id == web_data.commune.officer.id and event.after["count"] == 1
    client.post("/notifications/read")  # nothing left unread: nothing changes, nothing is audited
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "inbox.mark_read")) == 1
