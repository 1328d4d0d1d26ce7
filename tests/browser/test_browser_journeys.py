"""The three journeys in real headless Chromium, with a screenshot of each page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.browser.conftest import PHONE, sign_in
from tracker.extensions import db
from tracker.models import Occurrence, Report, ReviewStatus

pytestmark = pytest.mark.browser


def test_officer_submits_the_health_station_report_of_25_9(page_factory, shot, journey_data, tmp_path):
    page = page_factory(PHONE)
    page.goto("/")
    # The home page is the sign-in page; a real (non-demo) plan's tasks are not shown to visitors.
    assert page.get_by_test_id("home-signin").is_visible()
    assert page.get_by_test_id("demo-showcase").count() == 0
    shot(page, "officer-01-login")
    page.fill("input[name=username]", "yte")
    page.fill("input[name=password]", "secret-pass-1")
    page.click("[data-testid=login-form] button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/tasks")
    assert page.locator("h1").inner_text() == "Việc của tôi"
    task = page.locator("[data-testid=open-tasks] li").filter(has_text="Báo cáo kết quả tiếp cận dịch vụ y tế")
    assert "25/09/2024" in task.inner_text()
    assert task.locator(".status-overdue").count() == 1
    shot(page, "officer-02-my-tasks")

    task.locator("a.title").click()
    page.wait_for_load_state()
    assert "Báo cáo kết quả tiếp cận dịch vụ y tế" in page.locator("h1").inner_text()
    assert page.get_by_test_id("due-on").inner_text().startswith("25/09/2024")
    shot(page, "officer-03-task")

    attachment = tmp_path / "bao-cao-25-9.pdf"
    attachment.write_bytes(b"%PDF-1.4 bao cao tram y te")
    form = page.get_by_test_id("report-form")
    form.locator("textarea[name=body]").fill("Trạm Y tế đã khám cho 312 lượt người; đạt 98,5% kế hoạch.")
    form.locator(f"input[name=value_{journey_data.indicator.id}]").fill("1,95")
    form.locator("input[type=file]").set_input_files(str(attachment))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Đã gửi báo cáo." in page.locator(".flashes").inner_text()
    assert page.locator("a", has_text="bao-cao-25-9.pdf").count() == 1
    shot(page, "officer-04-report-submitted")

    db.session.expire_all()
    occurrence = db.session.get(Occurrence, journey_data.occurrence.id)
    assert occurrence.completed_on is not None
    assert occurrence.reports[-1].attachments[0].filename == "bao-cao-25-9.pdf"


def test_chair_sees_overdue_by_unit_and_returns_a_report(page_factory, shot, journey_data):
    from tracker.operations.occurrences import submit_report

    submit_report(journey_data.commune.officer, journey_data.occurrence, body="Đã khám cho 312 lượt người.")
    db.session.commit()
    report_id = journey_data.occurrence.reports[-1].id

    page = page_factory()
    sign_in(page, "chutich")
    assert page.url.endswith("/overview")
    groups = page.get_by_test_id("overdue-unit")
    assert groups.filter(has_text="Thôn 1").filter(has_text="Rà soát hộ nghèo").count() == 1
    village = groups.filter(has_text="Thôn 1")
    assert re.search(r"\d{3,}", village.locator("td.num").first.inner_text())  # days late
    assert page.get_by_test_id("status-counts").locator("[data-status=overdue] b").inner_text() == "1"
    shot(page, "chair-01-overview")

    page.goto("/overview/print")
    shot(page, "chair-02-print")
    page.goto("/overview")

    card = page.get_by_test_id("report-to-review").filter(has_text="Báo cáo kết quả tiếp cận dịch vụ y tế")
    card.locator("input[value=return]").check()
    card.locator("textarea[name=comment]").fill("Thiếu số liệu theo biểu mẫu, đề nghị bổ sung.")
    card.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Đã trả lại báo cáo." in page.locator(".flashes").inner_text()
    # Returned: the health station's task is overdue again, listed under its unit.
    assert page.get_by_test_id("overdue-unit").filter(has_text="Trạm Y tế").count() == 1
    shot(page, "chair-03-report-returned")

    db.session.expire_all()
    assert db.session.get(Report, report_id).review_status == ReviewStatus.RETURNED


def test_province_viewer_sees_the_roll_up(page_factory, shot, journey_data):
    page = page_factory()
    sign_in(page, "tinh")
    assert "/rollup" in page.url
    table = page.get_by_test_id("rollup")
    assert table.locator("a", has_text="Huyện Thử Nghiệm").count() == 1
    shot(page, "viewer-01-province")

    table.locator("a", has_text="Huyện Thử Nghiệm").click()
    page.wait_for_load_state()
    page.get_by_test_id("rollup").locator("a", has_text="Xã Cao Ngọc").click()
    page.wait_for_load_state()
    assert "Xã Cao Ngọc" in page.locator("h1").inner_text()
    rows = page.get_by_test_id("rollup").inner_text()
    assert "Trạm Y tế" in rows and "Trường Tiểu học" in rows
    assert page.locator("svg.chart").count() >= 1
    assert "Tỷ lệ hộ nghèo" in page.get_by_test_id("indicators").inner_text()
    shot(page, "viewer-02-commune")

    phone = page_factory(PHONE)
    sign_in(phone, "tinh")
    phone.goto(page.url)
    shot(phone, "viewer-03-commune-phone")
    with page.expect_download() as download:
        page.locator("a", has_text="Xuất Excel").click()
    assert download.value.suggested_filename.startswith("phu-luc-")


def test_browser_sees_the_seeded_plan(page_factory, journey_data):
    page = page_factory()
    sign_in(page, "ldtbxh")
    page.goto(f"/plans/{journey_data.plan.id}")
    assert "56/KH-UBND" in page.locator("h1").inner_text()
    assert db.session.scalar(sa.select(sa.func.count(Occurrence.id))) >= 4
