"""Every page of the demo's journeys fits a phone: no page is wider than the screen at 390 and 360 px (the API
documentation may scroll inside its own box), and the folded menu opens and fits. Wide screens still work.

One browser for the module, the demo built once, one sign-in per role.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.browser.conftest import SCREENSHOTS, sign_in
from tracker.extensions import db
from tracker.models import Occurrence, OrgUnit, Person, Plan, PlanStatus, Task

pytestmark = pytest.mark.browser
PASSWORD = "demo-phone-pass"
PHONES = ({"width": 390, "height": 844}, {"width": 360, "height": 740})
WIDE = {"width": 1366, "height": 768}

# The pages of each journey, by demo account (None: not signed in). {names} are filled from the demo.
PAGES: dict[str | None, list[str]] = {
    None: ["/", "/login", "/password/forgot"],
    "yte.caongoc": ["/tasks", "/occurrences/{health_occurrence}", "/plans", "/plans/{plan}", "/reports",
                    "/profile", "/notifications"],
    "ldtbxh.caongoc": ["/tasks", "/overview", "/overview/print", "/plans", "/plans/{plan}", "/plans/import",
                       "/plans/{draft}/review", "/reports", "/rollup", "/occurrences/{labour_occurrence}"],
    "chutich.caongoc": ["/overview", "/overview?unit={health}", "/overview?unit={health}&show=done",
                        "/overview/print", "/rollup", "/reports", "/plans", "/occurrences/{health_occurrence}",
                        "/profile"],
    "tinh.thanhhoa": ["/rollup", "/rollup?unit={commune}", "/rollup/indicators", "/plans"],
    "quantri": ["/admin/units", "/admin/people", "/admin/people/{officer}", "/admin/channels", "/admin/outbox",
                "/admin/policies", "/admin/templates", "/plans/import", "/plans", "/plans/{draft}/review",
                "/overview", "/api/docs"],
}
# A short plan imported as a draft, so that the importer's review page is measured too.
DRAFT = """UỶ BAN NHÂN DÂN
XÃ CAO NGỌC
Số: 99/KH-UBND
Cao Ngọc, ngày 02 tháng 12 năm 2026
KẾ HOẠCH
Tổ chức các hoạt động hưởng ứng Tháng hành động vì người cao tuổi Việt Nam năm 2026 trên địa bàn xã
I. TỔ CHỨC THỰC HIỆN
1. Trạm Y tế xã chủ trì tổ chức khám sức khỏe định kỳ cho người cao tuổi; báo cáo kết quả về UBND xã trước \
ngày 25/12/2026.
2. Công chức Văn hóa - Xã hội phối hợp với Hội Người cao tuổi xã tuyên truyền trên hệ thống loa truyền thanh, \
hoàn thành trước ngày 20/12/2026.
3. Các thôn rà soát, lập danh sách người cao tuổi có hoàn cảnh khó khăn, gửi về UBND xã trước ngày 15/12/2026.
"""

# What stretches a page, to say in a failure which element is too wide.
WIDEST = """(limit) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > limit + 1 && !e.closest('.table-wrap, .swagger-ui'))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
    ? '.' + e.className.trim().split(/\\s+/).join('.') : '') + ':' + Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """The demo, built once for the module into a SQLite file that each test copies; one sweep has run, so
    the reminder policy, the outbox and the scheduler's heartbeat have rows to show."""
    from datetime import UTC, datetime

    from tracker import create_app
    from tracker.demo import build_demo
    from tracker.jobs.runner import run_job
    from tracker.operations.plan_import import import_plan

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        build_demo(PASSWORD)
        db.session.commit()
        # A Monday morning in working hours (messages other than in-app wait for them).
        run_job("sweep", now=datetime(2026, 12, 7, 2, 0, tzinfo=UTC), app=app)
        commune = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "Xã Cao Ngọc"))
        import_plan(None, filename="nguoi-cao-tuoi.txt", data=DRAFT.encode(), issuing_unit=commune)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture
def database_url(tmp_path: Path, demo_database: Path) -> Iterator[str]:
    path = tmp_path / "tracker.db"
    shutil.copy(demo_database, path)
    yield f"sqlite:///{path}"


def _names() -> dict[str, int]:
    """The ids the demo's URLs need."""
    commune = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "Xã Cao Ngọc"))
    health = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "Trạm Y tế", OrgUnit.parent_id == commune.id))
    labour = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.parent_id == commune.id,
                                                        OrgUnit.name.ilike("%lao động%")))

    def first_occurrence(unit: OrgUnit) -> int:
        return db.session.scalar(sa.select(Occurrence.id).where(Occurrence.lead_unit_id == unit.id)
                                 .order_by(Occurrence.due_on, Occurrence.id).limit(1))

    plan = db.session.scalar(sa.select(Plan.id).join(Task, Task.plan_id == Plan.id)
                             .where(Task.lead_unit_id == health.id, Plan.status == PlanStatus.ACTIVE).limit(1))
    officer = db.session.scalar(sa.select(Person.id).where(Person.username == "yte.caongoc"))
    draft = db.session.scalar(sa.select(Plan.id).where(Plan.status == PlanStatus.DRAFT,
                                                       Plan.issuing_unit_id == commune.id))
    return {"commune": commune.id, "health": health.id, "plan": plan, "officer": officer, "draft": draft,
            "health_occurrence": first_occurrence(health), "labour_occurrence": first_occurrence(labour)}


def _width_problems(page: Any, url: str) -> list[str]:
    """Where the document is wider than the window at the page's current size."""
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll_width <= inner_width:
        return []
    return [f"{url} at {inner_width}px: {scroll_width}px wide ({', '.join(page.evaluate(WIDEST, inner_width))})"]


@pytest.mark.parametrize("username", list(PAGES), ids=lambda u: u or "signed-out")
def test_every_page_of_the_journeys_fits_a_phone(browser: Any, live_server: str, username: str | None) -> None:
    names = _names()
    context = browser.new_context(viewport=PHONES[0], locale="vi-VN", base_url=live_server)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(live_server)
               else route.abort())
    try:
        if username:
            sign_in(page, username, PASSWORD)
        problems: list[str] = []
        for template in PAGES[username]:
            url = template.format(**names)
            for viewport in (*PHONES, WIDE):
                page.set_viewport_size(viewport)
                response = page.goto(url)
                assert response is not None and response.status == 200, (url, response and response.status)
                if url == "/api/docs":
                    page.wait_for_selector(".swagger-ui .opblock")
                problems += _width_problems(page, url)
        if username:
            problems += _menu_problems(page, names)
        assert problems == []
    finally:
        context.close()


def _menu_problems(page: Any, names: dict[str, int]) -> list[str]:
    """On a phone the menu is one button; opened, every entry shows whole, inside the screen."""
    problems = []
    for viewport in PHONES:
        page.set_viewport_size(viewport)
        page.goto("/plans")
        menu = page.get_by_test_id("menu")
        if menu.is_visible():
            problems.append(f"the menu shows before it is opened at {viewport['width']}px")
        page.get_by_test_id("menu-button").click()
        links = menu.locator("nav a")
        if not menu.is_visible() or links.count() == 0:
            problems.append(f"the menu does not open at {viewport['width']}px")
            continue
        for i in range(links.count()):
            box = links.nth(i).bounding_box()
            fits = links.nth(i).evaluate("e => e.scrollWidth <= e.clientWidth")
            if box is None or box["x"] < 0 or box["x"] + box["width"] > viewport["width"] or not fits:
                problems.append(f"menu entry {links.nth(i).inner_text()!r} is cut at {viewport['width']}px")
        problems += _width_problems(page, "/plans (menu open)")
    page.set_viewport_size(WIDE)
    page.goto("/plans")
    if not page.get_by_test_id("menu").locator("nav a").first.is_visible():
        problems.append("the menu is folded on a wide screen")
    if page.get_by_test_id("menu-button").is_visible():
        problems.append("the menu button shows on a wide screen")
    return problems


def test_screenshots_at_390_px(browser: Any, live_server: str) -> None:
    """The phone screens a commune's people see first, for a human to look at (artifacts/screenshots/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    names = _names()

    def context_page(viewport: dict[str, int]) -> Any:
        context = browser.new_context(viewport=viewport, locale="vi-VN", base_url=live_server)
        page = context.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(live_server)
                   else route.abort())
        return context, page

    def shoot(page: Any, name: str, *, full: bool = False) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full)

    context, page = context_page(PHONES[0])
    page.goto("/login")
    shoot(page, "phone-01-sign-in")
    sign_in(page, "chutich.caongoc", PASSWORD)
    assert page.get_by_test_id("unit-summary").is_visible()
    shoot(page, "phone-02-chair-summary")
    page.get_by_test_id("menu-button").click()
    shoot(page, "phone-03-menu-open")
    page.goto(f"/overview?unit={names['health']}#unit-tasks")
    shoot(page, "phone-04-chair-unit-list")
    page.goto("/profile")
    shoot(page, "phone-05-profile", full=True)
    page.goto("/overview/print")
    shoot(page, "phone-06-print")
    context.close()

    context, page = context_page(PHONES[0])
    sign_in(page, "quantri", PASSWORD)
    page.goto("/admin/people")
    shoot(page, "phone-07-admin-people")
    page.goto("/admin/policies")
    shoot(page, "phone-08-admin-policies")
    page.goto("/admin/outbox")
    shoot(page, "phone-09-admin-outbox")
    context.close()

    context, page = context_page(WIDE)
    sign_in(page, "chutich.caongoc", PASSWORD)
    shoot(page, "wide-01-chair-overview")
    context.close()
