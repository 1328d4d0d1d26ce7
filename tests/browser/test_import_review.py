"""Plan import in real headless Chromium: the focal officer uploads plan 004, reviews it and confirms it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.importer_web.conftest import DEMO_PLANS, PLAN_004, run_worker
from tracker.extensions import db
from tracker.models import Occurrence, Plan, PlanStatus, Task, TaskStatus, UnitKind
from tracker.operations.units import COMMUNE_INTERNAL_UNITS, ensure_unit

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    """CSRF on, as in production: every form of the journey must carry its token."""
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def cao_ngoc(commune):
    """The fixture's commune with the usual offices, schools, mass organisations and three villages."""
    for name, kind in COMMUNE_INTERNAL_UNITS:
        ensure_unit(commune.xa, name, kind)
    for village in ("Thôn 2", "Thôn 3"):
        ensure_unit(commune.xa, village, UnitKind.VILLAGE)
    db.session.commit()
    return commune


def _screen(page, name: str) -> None:
    """What the reviewer sees at that moment (the review page is too long for a useful full-page shot)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def _row(page, section: str, unit_text: str):
    return page.get_by_test_id("import-row").filter(has_text=section).filter(has_text=unit_text)


def test_focal_officer_imports_reviews_and_confirms_plan_004(page_factory, shot, cao_ngoc, app):
    page = page_factory()
    sign_in(page, "ldtbxh")
    page.goto("/plans")
    page.get_by_test_id("import-plan").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Nhập kế hoạch"
    form = page.get_by_test_id("upload-form")
    form.locator("input[type=file]").set_input_files(str(DEMO_PLANS / PLAN_004))
    assert form.locator("select[name=issuing_unit_id] option:checked").inner_text() == "Xã Cao Ngọc"
    shot(page, "importer-01-upload")

    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "/plans/import/jobs/" in page.url  # the upload only queued the reading
    assert page.get_by_test_id("import-progress").is_visible()
    run_worker(app)  # `tracker worker` reads it; the page, refreshing itself, then opens the review
    page.wait_for_url("**/review", timeout=30_000)
    assert "/review" in page.url
    assert page.locator("h1").inner_text() == "Rà soát kế hoạch đã nhập"
    rows = page.get_by_test_id("import-row")
    assert rows.count() >= 13
    health = _row(page, "III.2.6", "Trạm Y tế xã")
    assert health.get_by_test_id("matched-unit").inner_text() == "Trạm Y tế"
    assert health.get_by_test_id("confidence").get_attribute("data-badge") == "sure"
    assert health.get_by_test_id("source").locator("mark.deadline", has_text="trước ngày 25/9/2024").count() == 1
    assert page.locator("[data-badge=probable]").count() >= 1
    budget = _row(page, "III.2.9", "Công chức Kế toán- Ngân sách")
    assert budget.get_by_test_id("confidence").get_attribute("data-badge") == "new"
    page.get_by_test_id("import-row").filter(has_text="III.2.3").first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")
    _screen(page, "importer-02-review")

    # The budget officer's row names no unit the commune has: take the best candidate instead.
    unit_form = budget.get_by_test_id("unit-form")
    unit_form.locator("select").select_option(label="Công chức Tài chính - Kế toán (63%)")
    unit_form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Đã đổi đơn vị." in page.locator(".flashes").inner_text()
    budget = _row(page, "III.2.9", "Công chức Kế toán- Ngân sách")
    assert budget.get_by_test_id("matched-unit").inner_text() == "Công chức Tài chính - Kế toán"
    assert budget.get_by_test_id("confidence").get_attribute("data-badge") == "sure"

    # The Fatherland Front is only asked ("Đề nghị"): drop that row.
    front = _row(page, "IV.2", "Ủy ban Mặt trận tổ quốc xã")
    front.get_by_test_id("drop-form").locator("button").click()
    page.wait_for_load_state()
    front = _row(page, "IV.2", "Ủy ban Mặt trận tổ quốc xã")
    assert "Đã bỏ" in front.inner_text() and front.get_by_test_id("restore-form").count() == 1
    budget.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -80)")
    _screen(page, "importer-03-edited")

    page.get_by_test_id("confirm").first.click()
    page.wait_for_load_state()
    assert "Kế hoạch đã có hiệu lực" in page.locator(".flashes").inner_text()
    assert page.locator("h1").inner_text().startswith("Kế hoạch thực hiện chương trình giảm nghèo")
    table_text = page.locator("main").inner_text()
    assert "Công chức Tài chính - Kế toán" in table_text and "25/09/2024" in table_text
    assert page.get_by_test_id("task-source").count() >= 13
    assert page.get_by_test_id("document-link").count() == 1
    shot(page, "importer-04-plan")

    db.session.expire_all()
    plan = db.session.scalar(sa.select(Plan))
    assert plan.status == PlanStatus.ACTIVE
    tasks = {(t.section.code, t.import_meta["unit_text"]): t for t in plan.tasks}
    assert tasks["IV.2", "Ủy ban Mặt trận tổ quốc xã"].status == TaskStatus.CANCELLED
    assert tasks["III.2.9", "Công chức Kế toán- Ngân sách"].lead_unit.name == "Công chức Tài chính - Kế toán"
    active = [t for t in plan.tasks if t.status == TaskStatus.ACTIVE]
    with_occurrences = set(db.session.scalars(sa.select(Occurrence.task_id).distinct()))
    assert {t.id for t in active} == with_occurrences
    assert db.session.scalar(sa.select(sa.func.count(Task.id)).where(Task.lead_unit_id.is_(None))) == 0
