"""The periodic report page in real Chromium, on a 390 px phone: choose the plan and the half-year, preview,
download; the province viewer goes from the roll-up page to the roll-up report."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, sign_in
from tests.reports.conftest import seed_report_data

pytestmark = pytest.mark.browser


@pytest.fixture
def report_data(commune, make_plan, make_task, make_unit, make_person):
    return seed_report_data(commune, make_plan, make_task, make_unit, make_person)


def test_a_chair_drafts_the_half_year_report_on_a_phone(page_factory, shot, report_data):
    page = page_factory(PHONE)
    sign_in(page, "chutich")
    page.get_by_test_id("menu-button").click()  # on a phone the menu folds behind one button
    page.get_by_role("link", name="Báo cáo", exact=True).click()
    page.wait_for_load_state()
    assert page.url.endswith("/reports")
    shot(page, "report-01-choose")
    form = page.get_by_test_id("report-form")
    form.locator("select[name=plan]").select_option(str(report_data.plan.id))
    form.locator("select[name=period]").select_option("2024-H1")
    form.locator("summary", has_text="Thông tin văn bản").click()
    form.locator("input[name=number]").fill("12/BC-UBND")
    page.get_by_test_id("preview-button").click()
    page.wait_for_load_state()
    preview = page.get_by_test_id("report-preview")
    assert "XÃ CAO NGỌC" in preview.inner_text() and "6 tháng đầu năm 2024" in preview.inner_text()
    assert "Số: 12/BC-UBND" in preview.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than a phone
    shot(page, "report-02-preview-phone")
    href = page.get_by_test_id("download-docx").get_attribute("href")
    download = page.request.get(href)
    assert download.status == 200 and download.body()[:2] == b"PK"
    assert "wordprocessingml" in download.headers["content-type"]
    xlsx = page.request.get(page.get_by_test_id("download-xlsx").get_attribute("href"))
    assert xlsx.status == 200


def test_a_bad_period_is_explained_on_the_page(page_factory, shot, report_data):
    page = page_factory(PHONE)
    sign_in(page, "chutich")
    page.goto(f"/reports?plan={report_data.plan.id}&start=30/06/2024&end=01/01/2024")
    error = page.get_by_test_id("form-error")
    assert "trước ngày bắt đầu" in error.inner_text()
    shot(page, "report-03-bad-period")


def test_the_province_viewer_goes_from_the_roll_up_to_the_roll_up_report(page_factory, shot, report_data):
    c = report_data.commune
    page = page_factory()
    sign_in(page, "tinh")
    page.goto(f"/rollup?unit={c.district.id}")
    filters = page.get_by_test_id("rollup-filters")
    filters.locator("select[name=period]").select_option("2024-H1")
    filters.locator("select[name=plan]").select_option(str(report_data.plan.id))
    filters.locator("button[type=submit]").click()
    page.wait_for_load_state()
    shot(page, "report-04-rollup-filtered")
    page.get_by_test_id("rollup-report-link").click()
    page.wait_for_load_state()
    table = page.get_by_test_id("report-rollup").inner_text()
    assert "Xã Cao Ngọc" in table and "Xã Bên Cạnh" in table
    shot(page, "report-05-rollup-report")
