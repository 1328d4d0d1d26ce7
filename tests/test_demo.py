"""`tracker demo`: five real plans, people in every role, a history; idempotent."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Occurrence, OrgUnit, Person, Plan, PlanStatus, Report, Role, RoleAssignment


def _counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (Plan, OrgUnit, Person, RoleAssignment, Occurrence, Report))


def test_demo_command_builds_every_role_and_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "--password", "demo-pass-1234"])
    assert first.exit_code == 0, first.output
    lines = [line.split("\t") for line in first.stdout.splitlines() if "\t" in line]
    roles = {role for role, _ in lines}
    assert {"officer", "unit_head", "focal", "chair", "viewer", "admin"} <= roles
    assert ("officer", "yte.caongoc") in {(r, u) for r, u in lines}
    counts = _counts()

    again = runner.invoke(args=["demo", "--password", "demo-pass-1234"])
    assert again.exit_code == 0, again.output
    assert _counts() == counts
    assert "already" in runner.invoke(args=["demo", "--if-empty"]).output


def test_demo_has_the_real_plans_with_their_deadlines(app):
    from tracker.demo import build_demo
    from tracker.operations.people import check_password

    build_demo("demo-pass-1234")
    db.session.commit()
    plans = db.session.scalars(sa.select(Plan)).all()
    assert len(plans) == 5 and all(p.status == PlanStatus.ACTIVE for p in plans)
    due_dates = set(db.session.scalars(sa.select(Occurrence.due_on)))
    assert {date(2024, 9, 25), date(2024, 9, 30), date(2024, 3, 15)} <= due_dates
    person = db.session.scalar(sa.select(Person).where(Person.username == "chutich.caongoc"))
    assert check_password(person, "demo-pass-1234")
    assert person.email.endswith("@example.org")
    assert any(a.role == Role.CHAIR for a in person.roles)
    late = db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.is_late))
    on_time = db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.is_late.is_(False)))
    assert late > 0 and on_time > 0


def test_demo_history_has_what_a_periodic_report_tells(app):
    """Reviews (accepted, waiting, one returned), an approved extension, and figures for every plan's
    indicators from the units that report them (one village of each fan-out silent)."""
    from tracker.demo import build_demo
    from tracker.models import ExtensionRequest, ExtensionStatus, Indicator, IndicatorValue, ReviewStatus

    build_demo("demo-pass-1234")
    db.session.commit()
    by_status = dict(db.session.execute(
        sa.select(Report.review_status, sa.func.count()).group_by(Report.review_status)).tuples().all())
    assert by_status[ReviewStatus.ACCEPTED] > by_status[ReviewStatus.SUBMITTED] > 0
    assert by_status[ReviewStatus.RETURNED] == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(
        ExtensionRequest.status == ExtensionStatus.APPROVED)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(
        ExtensionRequest.status == ExtensionStatus.PENDING)) >= 1  # the chair still has one to decide
    plans_with_figures = set(db.session.scalars(
        sa.select(Indicator.plan_id).join(IndicatorValue, IndicatorValue.indicator_id == Indicator.id)))
    assert plans_with_figures == set(db.session.scalars(sa.select(Plan.id)))


def test_home_page_of_a_demo_instance_shows_the_demo_tasks_to_anyone(app, client):
    from tracker.demo import build_demo

    build_demo("demo-pass-1234")
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="demo-tasks"' in page and "yte.caongoc" in page
    # Every demo plan is there under its issuer, with its most urgent tasks, dates shown dd/mm/yyyy.
    for issuer in ("Xã Cao Ngọc", "Xã Nhật Quang", "Phường Dị Sử", "Huyện Kim Bảng", "Tỉnh Hưng Yên"):
        assert issuer in page, issuer
    assert page.count('data-testid="demo-tasks"') == 5
    assert "56/KH-UBND" in page and "/2024</td>" in page
    assert "Quá hạn" in page  # the open demo reports of 2023-2025 are overdue today


def test_home_page_of_production_never_shows_the_demo(app, client):
    from tracker.demo import build_demo

    build_demo("demo-pass-1234")
    db.session.commit()
    app.config["SHOW_DEMO_ON_HOME"] = False
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="demo-showcase"' not in page and "yte.caongoc" not in page
