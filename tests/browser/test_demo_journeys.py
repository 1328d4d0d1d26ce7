"""The three journeys on the demo itself (the five real plans, as `tracker demo` builds them: anchored to today,
so the health station's 25/9/2024 report of the story is two days overdue today)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.browser.conftest import PHONE, sign_in
from tracker.extensions import db
from tracker.models import Occurrence, OrgUnit, Report, ReviewStatus

pytestmark = pytest.mark.browser
PASSWORD = "demo-journey-pass"


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> tuple[Path, dict[str, str]]:
    """The demo, built once for the module into a SQLite file that each test copies (as test_phone_widths.py
    does); with the accounts `tracker demo` lists, by username."""
    from tracker import create_app
    from tracker.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        accounts = build_demo(PASSWORD)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return path, {username: role for role, username in accounts}


@pytest.fixture
def database_url(tmp_path: Path, demo_database: tuple[Path, dict[str, str]]) -> Iterator[str]:
    path = tmp_path / "tracker.db"
    shutil.copy(demo_database[0], path)
    yield f"sqlite:///{path}"


@pytest.fixture
def demo(app, demo_database):
    return demo_database[1]


def _health_station_25_9() -> Occurrence:
    from tracker.demo import anchor_offset

    return db.session.scalar(
        sa.select(Occurrence).join(OrgUnit, OrgUnit.id == Occurrence.lead_unit_id)
        .where(OrgUnit.name == "Trạm Y tế", Occurrence.due_on == date(2024, 9, 25) + timedelta(days=anchor_offset()))
    )


def test_demo_officer_submits_the_25_9_report_of_the_health_station(page_factory, shot, demo):
    assert demo["yte.caongoc"] == "officer"
    occurrence = _health_station_25_9()
    assert occurrence is not None and occurrence.completed_at is None

    page = page_factory(PHONE)
    page.goto("/")
    showcase = page.get_by_test_id("demo-showcase")
    assert "yte.caongoc" in showcase.get_by_test_id("demo-accounts").inner_text()
    assert showcase.get_by_test_id("demo-tasks").count() == 5
    shot(page, "demo-00-home")
    sign_in(page, "yte.caongoc", PASSWORD)
    assert page.url.endswith("/tasks")
    item = page.locator("[data-testid=open-tasks] li").filter(has_text=f"{occurrence.due_on:%d/%m/%Y}")
    assert item.count() == 1 and item.locator(".status-overdue").count() == 1
    shot(page, "demo-officer-01-my-tasks")
    item.locator("a.title").click()
    page.wait_for_load_state()
    assert "Trạm Y tế" in page.content()
    form = page.get_by_test_id("report-form")
    form.locator("textarea[name=body]").fill("Trạm Y tế báo cáo kết quả các chỉ tiêu tiếp cận dịch vụ y tế.")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Đã gửi báo cáo." in page.locator(".flashes").inner_text()
    shot(page, "demo-officer-02-submitted")
    db.session.expire_all()
    assert db.session.get(Occurrence, occurrence.id).completed_on is not None


def test_demo_chair_sees_overdue_by_unit_and_returns_a_report(page_factory, shot, demo):
    returned_before = db.session.scalar(sa.select(sa.func.count(Report.id)).where(
        Report.review_status == ReviewStatus.RETURNED))
    page = page_factory()
    sign_in(page, "chutich.caongoc", PASSWORD)
    assert page.url.endswith("/overview")
    groups = page.get_by_test_id("overdue-unit")
    assert groups.filter(has_text="Trạm Y tế").count() == 1
    assert groups.count() >= 3  # several units owe something
    shot(page, "demo-chair-01-overview")
    card = page.get_by_test_id("report-to-review").first
    details = card.locator("details").first
    if details.count() and details.get_attribute("open") is None:
        card.locator("summary").first.click()  # the review form folds away under "Xem xét" when many wait
    card.locator("input[value=return]").check()
    card.locator("textarea[name=comment]").fill("Đề nghị bổ sung số liệu theo biểu mẫu.")
    card.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Đã trả lại báo cáo." in page.locator(".flashes").inner_text()
    shot(page, "demo-chair-02-returned")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Report.id)).where(
        Report.review_status == ReviewStatus.RETURNED)) == returned_before + 1


def test_demo_province_viewer_sees_the_roll_up(page_factory, shot, demo):
    page = page_factory()
    sign_in(page, "tinh.hungyen", PASSWORD)
    assert "/rollup" in page.url
    table = page.get_by_test_id("rollup").inner_text()
    assert "Huyện Phù Cừ" in table and "Thị xã Mỹ Hào" in table
    shot(page, "demo-viewer-01-province")
    page.get_by_test_id("rollup").locator("a", has_text="Huyện Phù Cừ").click()
    page.wait_for_load_state()
    assert "Xã Nhật Quang" in page.get_by_test_id("rollup").inner_text()
    shot(page, "demo-viewer-02-district")


def test_demo_admin_looks_after_people_reminders_and_channels(page_factory, shot, demo):
    assert demo["quantri"] == "admin"
    page = page_factory()
    sign_in(page, "quantri", PASSWORD)
    for path, testid, name in (("/admin/outbox", "heartbeats", "demo-admin-01-outbox"),
                               ("/admin/policies", None, "demo-admin-02-policies"),
                               ("/admin/channels", "zalo-settings", "demo-admin-03-channels")):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        if testid == "heartbeats":
            assert page.get_by_text("Hộp thư đi").count() >= 1
        elif testid:
            assert page.get_by_test_id(testid).count() == 1
        shot(page, name)
    assert "Chưa kết nối" in page.get_by_test_id("zalo-connected").inner_text()
    assert page.get_by_test_id("email-settings").get_by_text("Máy chủ SMTP").count() == 1
