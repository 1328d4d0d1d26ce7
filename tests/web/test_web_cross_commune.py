"""An officer (or the chair) of another commune reaches nothing of xã Cao Ngọc through the pages."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import AuditEvent, Channel, DeliveryStatus, Notification, NotificationKind, Occurrence, Role


def _setup(web_data, make_person):
    from tracker.notify.outbox import enqueue
    from tracker.operations.occurrences import UploadedFile, add_comment, request_extension, submit_report

    commune = web_data.commune
    report = submit_report(commune.officer, web_data.occurrence, body="Nội dung mật",
                           attachments=[UploadedFile("bien-ban.pdf", "application/pdf", b"%PDF-1.4 mat")])
    add_comment(commune.officer, web_data.occurrence, "Bình luận nội bộ")
    extension = request_extension(commune.officer, web_data.later, new_due_on=date(2031, 1, 15), reason="Chờ số liệu")
    enqueue(NotificationKind.REPORT_ACCEPTED, [commune.officer], key="cao-ngoc", occurrence_id=web_data.occurrence.id,
            channels=[Channel.IN_APP], payload={"comment": "Thông báo riêng"})
    db.session.execute(sa.update(Notification).values(status=DeliveryStatus.SENT))
    make_person("chutichkhac", roles=[(Role.CHAIR, commune.other_xa)])
    db.session.commit()
    return report, extension


def test_pages_of_cao_ngoc_are_forbidden_to_another_commune(login, client, web_data, make_person):
    report, extension = _setup(web_data, make_person)
    commune = web_data.commune
    occ = web_data.occurrence.id
    plan = web_data.plan.id
    for username in ("ytekhac", "chutichkhac"):
        client.post("/logout")
        login(username)
        before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
        for path in [f"/occurrences/{occ}", f"/attachments/{report.attachments[0].id}", f"/plans/{plan}",
                     f"/plans/{plan}/tasks/{web_data.task.id}/source", f"/overview?unit={commune.xa.id}",
                     f"/overview.xlsx?unit={commune.xa.id}", f"/overview/print?unit={commune.xa.id}",
                     f"/rollup?unit={commune.xa.id}", f"/rollup/phu-luc.xlsx?unit={commune.xa.id}",
                     f"/plans/{plan}/review"]:
            response = client.get(path)
            assert response.status_code == 403, (username, path, response.status_code)
            assert b"%PDF-1.4 mat" not in response.data and "Nội dung mật" not in response.get_data(as_text=True)
        for path, data in [(f"/occurrences/{occ}/comments", {"body": "x"}),
                           (f"/occurrences/{web_data.later.id}/report", {"body": "x"}),
                           (f"/occurrences/{web_data.later.id}/done", {"note": "x", "confirm": "y"}),
                           (f"/occurrences/{web_data.later.id}/extension", {"new_due_on": "31/12/2031",
                                                                             "reason": "x"}),
                           (f"/reports/{report.id}/review", {"decision": "accept"}),
                           (f"/extensions/{extension.id}/decide", {"decision": "approve"}),
                           (f"/plans/{plan}/confirm", {}), (f"/plans/{plan}/discard", {})]:
            response = client.post(path, data=data)
            assert response.status_code == 403, (username, path, response.status_code)
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before
        for path in ["/tasks", "/overview", "/plans", "/notifications"]:
            html = client.get(path).get_data(as_text=True)
            assert "Báo cáo kết quả tiếp cận dịch vụ y tế" not in html, (username, path)
            assert "Thông báo riêng" not in html and "Nội dung mật" not in html, (username, path)
        client.post("/notifications/read")
        read = sa.select(sa.func.count(Notification.id)).where(Notification.read_at.is_not(None))
        assert db.session.scalar(read) == 0
    db.session.expire_all()
    assert db.session.get(Occurrence, web_data.later.id).completed_at is None
    assert db.session.get(type(extension), extension.id).status.value == "pending"


def test_the_calendar_feed_holds_only_the_persons_own_scope(login, client, web_data):
    login("ytekhac")
    client.post("/profile/calendar")
    html = client.get("/profile").get_data(as_text=True)
    start = html.index("/calendar/")
    url = html[start:html.index(".ics", start) + 4]
    feed = client.get(url).get_data(as_text=True)
    assert "Tiêm chủng" not in feed and "Báo cáo kết quả" not in feed
    # Another person's token row under this person's signature is refused.
    from tracker.auth import make_ical_token
    from tracker.models import ApiToken

    client.post("/logout")
    login("yte")
    client.post("/profile/calendar")
    yte_row = db.session.scalar(sa.select(ApiToken).where(ApiToken.person_id == web_data.commune.officer.id,
                                                          ApiToken.name == "ical", ApiToken.revoked_at.is_(None)))
    forged = make_ical_token(web_data.commune.other_officer, yte_row.id)
    assert client.get(f"/calendar/{forged}.ics").status_code == 404


def test_a_token_of_another_person_cannot_be_revoked(login, client, web_data, make_person):
    from tracker.operations.people import create_api_token

    token, _clear = create_api_token(None, web_data.commune.officer, "Excel")
    db.session.commit()
    login("ytekhac")
    assert client.post(f"/profile/tokens/{token.id}/revoke").status_code == 404
    db.session.expire_all()
    assert token.revoked_at is None
