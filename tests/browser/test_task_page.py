"""The task page on a phone (390x844) and a laptop (1366x768) in real Chromium: action first, a report must say
something, an error keeps the roles, the forms and everything typed, each error beside its input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.browser.conftest import PHONE, sign_in
from tracker.extensions import db
from tracker.models import Occurrence, Report

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}
LONG_NAME = ("Mục tiêu giảm nghèo đến cuối năm 2024 Tỷ lệ hộ nghèo toàn xã giảm còn dưới 2,03% theo chuẩn nghèo "
             "đa chiều giai đoạn 2022 - 2025")


def _no_wider_than_the_viewport(page) -> None:
    width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= viewport, f"the page is {width} px wide in a {viewport} px viewport"


def _in_first_screen(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


@pytest.fixture
def task_data(journey_data):
    """The health station's later task with two figures of its own (one with the plan's whole sentence) and
    one of the commune's that is not the station's, and a comment of the officer's."""
    from tracker.operations.indicators import create_indicator, set_target
    from tracker.operations.occurrences import add_comment

    commune = journey_data.commune
    visits = create_indicator(None, journey_data.plan, name=LONG_NAME, unit_of_measure="%")
    set_target(None, visits, unit=commune.health, year=2030, value="2")
    others = create_indicator(None, journey_data.plan, name="Số hộ thoát nghèo của thôn", unit_of_measure="hộ")
    set_target(None, others, unit=commune.village, year=2030, value="10")
    add_comment(commune.officer, journey_data.later, "Đang tổng hợp số liệu.")
    db.session.commit()
    journey_data.visits, journey_data.others = visits, others
    return journey_data


def test_the_task_page_on_a_phone_puts_the_status_and_the_actions_first(page_factory, shot, task_data):
    page = page_factory(PHONE)
    sign_in(page, "yte")
    page.goto(f"/occurrences/{task_data.later.id}")
    assert _in_first_screen(page, page.get_by_test_id("task-status"))
    bar = page.get_by_test_id("action-bar")
    assert _in_first_screen(page, bar.get_by_role("link", name="Báo cáo / hoàn thành"))
    assert _in_first_screen(page, bar.get_by_role("link", name="Đề nghị gia hạn"))
    # Only the station's own figures, with short labels; the plan's sentence is one tap away.
    figures = page.get_by_test_id("figure")
    assert figures.count() == 2
    assert page.locator(f"input[name=value_{task_data.others.id}]").count() == 0
    label = page.locator(f"label[for=value_{task_data.visits.id}]").inner_text()
    assert label.endswith("… (%)") and len(label) < 75
    _no_wider_than_the_viewport(page)
    page.screenshot(path=str(shot(page, "task-page-390-full").with_name("task-page-390.png")))  # the first screen
    # The bar stays at hand while the officer scrolls down to the comments.
    page.locator("#comments").scroll_into_view_if_needed()
    assert _in_first_screen(page, bar)
    bar.get_by_role("link", name="Đề nghị gia hạn").click()
    assert _in_first_screen(page, page.locator("input[name=new_due_on]"))


def test_an_empty_report_is_refused_and_a_number_error_keeps_everything(page_factory, shot, task_data):
    page = page_factory(PHONE)
    sign_in(page, "yte")
    page.goto(f"/occurrences/{task_data.later.id}")
    form = page.get_by_test_id("report-form")
    form.locator("button[type=submit]").click()  # nothing filled in
    page.wait_for_load_state()
    body_error = page.locator("textarea[name=body] + .field-error")
    assert body_error.inner_text().startswith("Báo cáo đang trống: hãy ghi kết quả thực hiện")
    assert page.locator("nav.mainnav").get_by_role("link", name="Việc của tôi").count() == 1
    _no_wider_than_the_viewport(page)

    form = page.get_by_test_id("report-form")
    form.locator("textarea[name=body]").fill("Đã tiêm chủng cho 120 trẻ.")
    form.locator(f"input[name=value_{task_data.indicator.id}]").fill("1,9a")
    form.locator(f"input[name=value_{task_data.visits.id}]").fill("hai")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    # The roles and the forms are all there, with everything typed.
    assert page.locator("nav.mainnav").get_by_role("link", name="Việc của tôi").count() == 1
    assert page.get_by_test_id("extension-form").count() == 1
    form = page.get_by_test_id("report-form")
    assert form.locator("textarea[name=body]").input_value() == "Đã tiêm chủng cho 120 trẻ."
    first = form.locator("[data-testid=figure]").filter(has=page.locator(f"#value_{task_data.indicator.id}"))
    second = form.locator("[data-testid=figure]").filter(has=page.locator(f"#value_{task_data.visits.id}"))
    assert first.locator("input").input_value() == "1,9a"
    assert first.locator(".field-error").inner_text() == "1,9a không phải là số."
    assert second.locator("input").input_value() == "hai"
    assert second.locator(".field-error").inner_text() == "hai không phải là số."
    assert "hãy sửa 2 lỗi" in page.get_by_test_id("form-error").inner_text()
    _no_wider_than_the_viewport(page)
    page.screenshot(path=str(shot(page, "task-page-error-390-full").with_name("task-page-error-390.png")))
    db.session.expire_all()
    assert db.session.get(Occurrence, task_data.later.id).completed_at is None
    assert db.session.scalar(sa.select(sa.func.count(Report.id)).where(
        Report.occurrence_id == task_data.later.id)) == 0

    # Corrected, it goes through.
    form.locator(f"input[name=value_{task_data.indicator.id}]").fill("1,9")
    form.locator(f"input[name=value_{task_data.visits.id}]").fill("")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Đã gửi báo cáo." in page.locator(".flashes").inner_text()


def test_done_without_a_report_asks_for_the_confirmation(page_factory, task_data):
    page = page_factory(PHONE)
    sign_in(page, "yte")
    page.goto(f"/occurrences/{task_data.later.id}")
    done = page.get_by_test_id("done-without-report")
    done.locator("summary").click()
    done.locator("button[type=submit]").click()
    page.wait_for_load_state()
    done = page.get_by_test_id("done-without-report")
    assert done.locator("input[name=confirm] ~ .field-error, label.check + .field-error").inner_text() \
        == "Hãy đánh dấu vào ô xác nhận."
    done.locator("input[name=confirm]").check()
    done.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Đã đánh dấu hoàn thành, không kèm báo cáo." in page.content()


def test_the_task_page_is_usable_on_a_laptop_screen(page_factory, shot, task_data):
    page = page_factory(LAPTOP)
    sign_in(page, "yte")
    page.goto(f"/occurrences/{task_data.later.id}")
    assert _in_first_screen(page, page.get_by_test_id("task-status"))
    assert _in_first_screen(page, page.get_by_test_id("action-bar"))
    assert page.get_by_test_id("report-form").locator("textarea[name=body]").is_visible()
    _no_wider_than_the_viewport(page)
    shot(page, "task-page-1366")
