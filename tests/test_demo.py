"""`tracker demo`: five real plans, people in every role, a history; idempotent; anchored to today (or, with
--as-issued, at the documents' own dates)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

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
    # `make run` runs `--if-empty` every time: it builds nothing but still shows how to sign in.
    listed = runner.invoke(args=["demo", "--if-empty"])
    assert listed.exit_code == 0 and "already" in listed.stderr and "demo-tracker-2024" in listed.stderr
    assert [line.split("\t") for line in listed.stdout.splitlines()][:3] == lines[:3]
    listed_accounts = {tuple(line.split("\t")) for line in listed.stdout.splitlines()}
    assert {("officer", "yte.caongoc"), ("admin", "quantri")} <= listed_accounts
    assert _counts() == counts


def test_demo_as_issued_has_the_real_plans_with_their_deadlines(app):
    from tracker.demo import build_demo
    from tracker.operations.people import check_password

    build_demo("demo-pass-1234", as_issued=True)
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
    assert "56/KH-UBND" in page
    assert "Quá hạn" in page and "Sắp đến hạn" in page  # a few days overdue, a few to go


def test_home_page_of_production_never_shows_the_demo(app, client):
    from tracker.demo import build_demo

    build_demo("demo-pass-1234")
    db.session.commit()
    app.config["SHOW_DEMO_ON_HOME"] = False
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="demo-showcase"' not in page and "yte.caongoc" not in page


#: "Today" at several points of the calendar: a Monday, a Saturday in Tết 2027, a Friday, a leap day.
TODAYS = ("2026-12-07 09:30", "2027-02-06 15:00", "2025-07-04 08:00", "2028-02-29 12:00")


@pytest.mark.parametrize("now", TODAYS)
def test_demo_is_anchored_to_today(app, now):
    """Opened on any day, the demo has tasks in every status around that day: due in the next working days,
    a few days overdue, done on time and late; the pending request for more time asks for a later date;
    and the first sweep queues reminders."""
    from tracker.clock import local_today, status_clock
    from tracker.demo import STORY_DAY, build_demo
    from tracker.jobs.sweep import run_sweep
    from tracker.models import ExtensionRequest, ExtensionStatus, OccurrenceStatus

    moment = datetime.fromisoformat(now).replace(tzinfo=UTC) - timedelta(hours=7)
    with time_machine.travel(moment, tick=False):
        build_demo("demo-pass-1234")
        db.session.commit()
        today, clock = local_today(), status_clock()
        occurrences = db.session.scalars(sa.select(Occurrence)).all()
        statuses = Counter(o.status(clock) for o in occurrences)
        assert {OccurrenceStatus.NOT_DUE, OccurrenceStatus.DUE_SOON, OccurrenceStatus.OVERDUE,
                OccurrenceStatus.DONE_ON_TIME, OccurrenceStatus.DONE_LATE} <= set(statuses), statuses
        open_days = [(o.due_on - today).days for o in occurrences if o.completed_at is None]
        assert any(0 <= d <= 5 for d in open_days)  # due soon
        assert any(-5 <= d < 0 for d in open_days)  # overdue by a few days
        # Overdue by hundreds of days is the exception (the village that never reports), not the rule.
        assert sum(1 for d in open_days if d < -30) <= 2, sorted(open_days)
        # The health station's 25/9 report of the story: open, two days overdue.
        health = db.session.scalar(
            sa.select(Occurrence).join(OrgUnit, OrgUnit.id == Occurrence.lead_unit_id)
            .where(OrgUnit.name == "Trạm Y tế", Occurrence.due_on == date(2024, 9, 25) + (today - STORY_DAY)))
        assert health is not None and health.status(clock) == OccurrenceStatus.OVERDUE
        # Nothing happened after today.
        assert max(db.session.scalars(sa.select(Report.submitted_on))) < today
        pending = db.session.scalars(sa.select(ExtensionRequest).where(
            ExtensionRequest.status == ExtensionStatus.PENDING)).all()
        assert pending and all(r.requested_due_on > today for r in pending)
        issued = [p.issued_on for p in db.session.scalars(sa.select(Plan)) if p.issued_on]
        assert issued and max(issued) < today

        result = run_sweep(moment)
        db.session.commit()
        assert result.inserted > 0


def test_demo_anchoring_keeps_order_and_spacing(app):
    """Every deadline of the documents moves by the same number of days, so their order and spacing stay."""
    from tracker.demo import anchor_offset, build_demo

    build_demo("demo-pass-1234")
    db.session.commit()
    offset = timedelta(days=anchor_offset())
    assert offset.days > 700  # today is years after the documents
    moved = set(db.session.scalars(sa.select(Occurrence.original_due_on)))
    assert {day - offset for day in moved} == {
        date(2023, 6, 30), date(2023, 12, 31), date(2024, 3, 15), date(2024, 9, 25), date(2024, 9, 30),
        date(2024, 12, 31), date(2025, 12, 31)}
    issued = {p.issued_on - offset for p in db.session.scalars(sa.select(Plan)) if p.issued_on}
    assert date(2023, 8, 15) in issued  # 56/KH-UBND of Nhật Quang
