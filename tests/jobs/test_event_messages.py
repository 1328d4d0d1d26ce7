"""Messages caused by people's actions (password reset, a returned report) go out through the outbox."""

from __future__ import annotations

import re

import time_machine

from tests.jobs.conftest import at, rows, run
from tracker.extensions import db


def test_password_reset_mail_is_delivered_and_its_link_sets_a_new_password(app, client, commune, mail_server):
    with time_machine.travel(at("2024-09-18 09:00"), tick=False):
        response = client.post("/password/forgot", data={"username": "yte"})
        assert response.status_code == 302
        result = run("dispatch", at("2024-09-18 09:00"))
    assert result["sent"] == 1, rows()
    (message,) = mail_server.messages
    body = message.parsed.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/password/reset/\S+", body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    with time_machine.travel(at("2024-09-18 09:10"), tick=False):
        page = client.post("/" + path, data={"password": "mat-khau-moi-2024", "confirm": "mat-khau-moi-2024"})
    assert page.status_code in (200, 302)
    login = client.post("/login", data={"username": "yte", "password": "mat-khau-moi-2024"})
    assert login.status_code == 302 and "/login" not in login.headers["Location"]


def test_returned_report_tells_the_submitter_by_email(app, active_plan, commune, mail_server):
    from tracker.operations.occurrences import review_report, submit_report

    with time_machine.travel(at("2024-09-24 09:00"), tick=False):
        report = submit_report(commune.officer, active_plan.occurrence, body="Bản đầu")
        review_report(commune.focal, report, accept=False, comment="Thiếu số liệu theo biểu mẫu")
        db.session.commit()
    result = run("dispatch", at("2024-09-24 10:00"))
    assert result["sent"] >= 1
    (message,) = [m for m in mail_server.messages if "yte@example.org" in m.rcpt_tos]
    assert "Thiếu số liệu theo biểu mẫu" in message.parsed.get_body(("plain",)).get_content()


def test_enqueue_counts_what_it_inserted_on_every_backend(app, commune):
    from tracker.models import NotificationKind
    from tracker.notify.outbox import enqueue

    assert enqueue(NotificationKind.REPORT_ACCEPTED, [commune.officer, commune.head], key="r1") == 4
    assert enqueue(NotificationKind.REPORT_ACCEPTED, [commune.officer], key="r1") == 0


def test_an_approved_extension_starts_the_reminders_again_for_the_new_date(app, active_plan, commune):
    from datetime import date

    from tracker.operations.occurrences import decide_extension, request_extension

    assert run("sweep", at("2024-09-26 08:00"))["inserted"] > 0  # +1: the head and the focal officer
    request = request_extension(commune.officer, active_plan.occurrence, new_due_on=date(2024, 10, 15),
                                reason="Chờ số liệu")
    decide_extension(commune.chair, request, approve=True)
    db.session.commit()
    assert run("sweep", at("2024-10-08 08:00"))["by_rule"] == {"-5:lead_officers": 2}  # in-app and e-mail
    assert run("sweep", at("2024-10-08 08:00"))["inserted"] == 0
