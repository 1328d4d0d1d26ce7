"""The reminder link journey in real headless Chromium at 390x844: the e-mail caught by the local SMTP server,
sign-in when asked, mark done in two taps without scrolling, and no escalation from the next sweep."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.browser.conftest import PHONE
from tests.conftest import PASSWORD
from tests.fakes.smtp_server import FakeSmtpServer
from tests.jobs.conftest import at, run
from tracker.extensions import db, mail
from tracker.models import ActionLink, Notification, NotificationKind, Occurrence

pytestmark = pytest.mark.browser

TITLE = ("Báo cáo kết quả tiếp cận dịch vụ y tế, bao gồm khám chữa bệnh ban đầu, tiêm chủng mở rộng, chăm sóc sức "
         "khỏe bà mẹ và trẻ em, quản lý bệnh không lây nhiễm tại cộng đồng và cấp thẻ bảo hiểm y tế cho người thuộc "
         "hộ nghèo, hộ cận nghèo trên địa bàn xã trong 9 tháng đầu năm 2024")


@pytest.fixture
def mail_server(app: Flask) -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_TIMEOUT_SECONDS=2.0,
                          MAIL_SUPPRESS_SEND=False,
                          MAIL_DEFAULT_SENDER=("Hệ thống theo dõi nhiệm vụ", "noreply@ubnd.vn"))
        mail.init_app(app)
        yield server


def within_one_screen(page: Any, selector: str) -> bool:
    """Whether the element is wholly visible in the viewport as it is now, without scrolling."""
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_officer_marks_done_from_the_reminder_email_and_the_ladder_stops(
        app: Flask, page_factory: Any, live_server: str, shot: Any, active_plan: Any, commune: Any,
        mail_server: FakeSmtpServer) -> None:
    app.config["PUBLIC_BASE_URL"] = live_server  # the links in the messages point at this server
    occurrence_id = active_plan.occurrence.id
    # Plans' task titles are often whole sentences: the page cuts them, the task page has the full text.
    active_plan.task.title = TITLE
    db.session.commit()

    # The sweep queues the -5 working days reminder; the dispatcher sends it through SMTP.
    assert run("sweep", at("2024-09-18 08:00"))["by_rule"] == {"-5:lead_officers": 2}
    assert run("dispatch", at("2024-09-18 08:01"))["by_channel"] == {"email": 1, "in_app": 1}
    (received,) = mail_server.messages
    assert received.rcpt_tos == ("yte@example.org",)
    text = received.parsed.get_body(("plain",)).get_content()
    (url,) = set(re.findall(re.escape(live_server) + r"/r/[\w-]+", text))

    page = page_factory(PHONE)
    page.goto(url)
    # The session is gone: sign in first, then back to the link.
    assert page.url.startswith(f"{live_server}/login")
    page.fill("input[name=username]", "yte")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-form] button[type=submit]")
    page.wait_for_load_state()
    assert page.url == url
    quick = page.get_by_test_id("quick-action")
    assert "Báo cáo kết quả tiếp cận dịch vụ y tế" in quick.inner_text()
    title = page.locator(".quick-title")
    assert title.get_attribute("title") == TITLE  # the whole title on a long press / hover
    assert title.bounding_box()["height"] < 5 * 24  # cut to three lines, not eight
    assert "Trạm Y tế" in quick.inner_text() and "25/09/2024" in quick.inner_text()
    for action in ("quick-done", "quick-report", "quick-extension"):
        assert within_one_screen(page, f"[data-testid={action}]"), action
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "reminder-link-390")

    # Tap 1: "Đánh dấu hoàn thành" opens the confirmation in place, still on the first screen.
    page.get_by_test_id("quick-done").click()
    assert page.evaluate("window.scrollY") == 0
    assert within_one_screen(page, "[data-testid=quick-confirm]")
    assert page.evaluate("document.documentElement.scrollHeight") <= PHONE["height"]
    shot(page, "reminder-link-390-confirm")
    # Tap 2: confirm.
    page.get_by_test_id("quick-confirm").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server}/occurrences/{occurrence_id}"
    assert "Đã đánh dấu nhiệm vụ hoàn thành." in page.locator(".flashes").inner_text()
    shot(page, "reminder-link-390-done")

    db.session.expire_all()
    occurrence = db.session.get(Occurrence, occurrence_id)
    assert occurrence.completed_by_id == commune.officer.id
    assert occurrence.acknowledged_due_on == occurrence.due_on
    link = db.session.scalar(sa.select(ActionLink).where(ActionLink.recipient_id == commune.officer.id))
    assert link.used_for == "done"

    # The next sweeps, past the due date, escalate nothing for it.
    for when in ("2024-09-26 08:00", "2024-10-01 08:00", "2024-10-07 08:00"):
        assert run("sweep", at(when))["inserted"] == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.occurrence_id == occurrence_id, Notification.kind == NotificationKind.ESCALATION)) == 0

    # The link is used up: opening it again says so, in Vietnamese, and changes nothing.
    page.goto(url)
    assert "Liên kết này đã được sử dụng" in page.get_by_test_id("link-problem").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "reminder-link-390-used")
