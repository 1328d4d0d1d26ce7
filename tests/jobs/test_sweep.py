"""The sweep: which reminders and escalations come due when, to whom, once."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import sqlalchemy as sa

from tests.jobs.conftest import at, recipients, rows, run, sqlite_only
from tracker.extensions import db
from tracker.jobs.sweep import run_sweep
from tracker.models import Audience, Channel, DeliveryStatus, Notification, Occurrence
from tracker.operations.occurrences import mark_done
from tracker.operations.reminders import RuleSpec, create_policy, set_plan_policy, set_task_policy


def by_rule(result: dict[str, Any]) -> dict[str, int]:
    return result["by_rule"]


def test_demo_sweeps_remind_then_escalate_and_repeat_nothing(active_plan: Any) -> None:
    first = run("sweep", at("2024-09-18 08:00"))
    assert by_rule(first) == {"-5:lead_officers": 2}
    assert recipients(rows()) == ["yte"]
    assert run("sweep", at("2024-09-18 08:00"))["inserted"] == 0

    escalation = run("sweep", at("2024-09-26 08:00"))
    assert by_rule(escalation) == {"+1:lead_head": 2, "+1:report_to_focal": 2}
    assert recipients(rows(kind="escalation")) == ["ldtbxh", "truongtram"]
    assert run("sweep", at("2024-09-26 08:00"))["inserted"] == 0

    chair = run("sweep", at("2024-10-01 08:00"))
    assert by_rule(chair) == {"+3:admin_chair": 2}
    assert run("sweep", at("2024-10-01 08:00"))["inserted"] == 0
    assert recipients(rows(rule_id=rows(dedupe_key=rows()[-1].dedupe_key)[0].rule_id)) == ["chutich"]

    district = run("sweep", at("2024-10-07 08:00"))
    assert by_rule(district) == {"+7:next_level_up": 2}
    assert recipients(rows())[-1:] == ["yte"] and "huyen" in recipients(rows())
    occurrence = db.session.get(Occurrence, active_plan.occurrence.id)
    assert occurrence.escalation_level == 3
    assert occurrence.last_reminded_at == at("2024-10-07 08:00")


@sqlite_only
def test_every_row_has_the_documented_dedupe_key(active_plan: Any) -> None:
    run("sweep", at("2024-09-18 08:00"))
    occurrence_id, person = active_plan.occurrence.id, rows()[0].recipient_id
    rule_id = rows()[0].rule_id
    assert {n.dedupe_key for n in rows()} == {
        f"reminder:{occurrence_id}:{rule_id}:2024-09-25:{person}:email",
        f"reminder:{occurrence_id}:{rule_id}:2024-09-25:{person}:in_app"}
    assert {n.kind for n in rows()} == {"reminder"}


def test_dry_run_counts_but_queues_nothing(active_plan: Any) -> None:
    result = run_sweep(at("2024-09-26 08:00"), dry_run=True)
    db.session.rollback()
    assert result.inserted == 4 and result.dry_run
    assert rows() == []


@sqlite_only
def test_nothing_is_due_before_the_first_rule(active_plan: Any) -> None:
    assert run("sweep", at("2024-09-17 23:59"))["inserted"] == 0


@sqlite_only
def test_the_due_day_itself_reminds_the_officers(active_plan: Any) -> None:
    run("sweep", at("2024-09-23 08:00"))  # -2 on Monday 23/9
    assert by_rule(run("sweep", at("2024-09-25 07:00"))) == {"0:lead_officers": 2}
    assert run("sweep", at("2024-09-25 16:00"))["inserted"] == 0


@sqlite_only
def test_weekend_does_not_count_as_working_days(make_due_task: Any) -> None:
    make_due_task(date(2024, 9, 20))  # a Friday
    run("sweep", at("2024-09-20 08:00"))
    assert run("sweep", at("2024-09-21 10:00"))["inserted"] == 0  # Saturday
    assert run("sweep", at("2024-09-22 10:00"))["inserted"] == 0  # Sunday
    assert by_rule(run("sweep", at("2024-09-23 08:00"))) == {"+1:lead_head": 2, "+1:report_to_focal": 2}


@sqlite_only
def test_tet_holidays_push_the_reminders_earlier(make_due_task: Any) -> None:
    make_due_task(date(2025, 2, 5))  # the Wednesday after Tết Ất Tỵ (25/1 - 2/2/2025)
    assert run("sweep", at("2025-01-21 16:00"))["inserted"] == 0
    # Five working days before 5/2 skip the whole Tết break: 4/2, 3/2, 24/1, 23/1, 22/1.
    assert by_rule(run("sweep", at("2025-01-22 08:00"))) == {"-5:lead_officers": 2}
    assert run("sweep", at("2025-01-31 08:00"))["inserted"] == 0
    assert by_rule(run("sweep", at("2025-02-03 08:00"))) == {"-2:lead_officers": 2}


@sqlite_only
def test_national_day_delays_the_escalation(make_due_task: Any) -> None:
    make_due_task(date(2024, 8, 30))  # Friday before 2/9 (2/9 and 3/9/2024 are days off)
    run("sweep", at("2024-08-30 08:00"))
    assert run("sweep", at("2024-09-02 09:00"))["inserted"] == 0
    assert run("sweep", at("2024-09-03 09:00"))["inserted"] == 0
    assert by_rule(run("sweep", at("2024-09-04 08:00"))) == {"+1:lead_head": 2, "+1:report_to_focal": 2}


def test_catch_up_after_downtime_sends_only_the_latest_rule(active_plan: Any) -> None:
    # No sweep ran between 17/9 and 26/9: -5, -2 and 0 were missed; only +1 is still useful.
    result = run("sweep", at("2024-09-26 09:00"))
    assert by_rule(result) == {"+1:lead_head": 2, "+1:report_to_focal": 2}
    assert rows(kind="reminder") == []


@sqlite_only
def test_catch_up_sends_a_missed_rule_once(active_plan: Any) -> None:
    # Down from 17/9 to 20/9: -5 (18/9) is still the latest due rule, so it goes out late, once.
    assert by_rule(run("sweep", at("2024-09-20 10:00"))) == {"-5:lead_officers": 2}
    assert run("sweep", at("2024-09-20 10:05"))["inserted"] == 0


def test_catch_up_reaches_back_to_the_horizon(active_plan: Any) -> None:
    # Due 25/9/2024: +7 (the last rule) fired on 4/10; 31/10 is within 20 working days: still sent, once.
    assert set(by_rule(run("sweep", at("2024-10-31 09:00")))) == {"+7:next_level_up"}
    assert run("sweep", at("2024-10-31 09:05"))["inserted"] == 0


def test_catch_up_stops_at_the_horizon(active_plan: Any, app: Any) -> None:
    # A plan imported a year late escalates nothing: the item shows as overdue, nobody is messaged.
    assert run("sweep", at("2025-11-20 09:00"))["inserted"] == 0
    app.config["SWEEP_CATCH_UP_WORKING_DAYS"] = 0  # no horizon: the old escalation goes out once
    assert set(by_rule(run("sweep", at("2025-11-20 09:00")))) == {"+7:next_level_up"}


def test_the_horizon_counts_working_days(active_plan: Any, app: Any) -> None:
    from tracker.jobs.sweep import due_rules
    from tracker.operations.reminders import ensure_default_policy, work_calendar

    ensure_default_policy()
    rules = {r.offset_days: r for r in due_rules(work_calendar(), date(2024, 10, 31), 20)}
    # 20 working days before 31/10/2024 is 3/10; +7 fired before then for due dates up to 23/9.
    assert rules[7].too_old == date(2024, 9, 23) and rules[7].threshold == date(2024, 10, 22)
    assert all(r.too_old is None for r in due_rules(work_calendar(), date(2024, 10, 31), 0))


def test_a_done_task_gets_nothing_more(active_plan: Any, commune: Any) -> None:
    run("sweep", at("2024-09-18 08:00"))
    mark_done(commune.officer, db.session.get(Occurrence, active_plan.occurrence.id), "Đã báo cáo",
              now=at("2024-09-19 09:00"))
    db.session.commit()
    assert run("sweep", at("2024-09-26 08:00"))["inserted"] == 0


def test_plan_and_task_policies_override_the_default(active_plan: Any, commune: Any, make_due_task: Any) -> None:
    plan_policy = create_policy(None, name="Chỉ chủ tịch", rules=[RuleSpec(2, Audience.ADMIN_CHAIR, (Channel.EMAIL,))])
    task_policy = create_policy(None, name="Nhắc sớm", rules=[RuleSpec(-10, Audience.LEAD_HEAD, (Channel.IN_APP,))])
    set_plan_policy(None, active_plan.plan, plan_policy)
    other = make_due_task(date(2024, 9, 25), title="Nhiệm vụ khác")
    set_plan_policy(None, other.plan, plan_policy)
    set_task_policy(None, other.task, task_policy)
    db.session.commit()
    result = run("sweep", at("2024-09-27 08:00"))
    assert by_rule(result) == {"-10:lead_head": 1, "+2:admin_chair": 1}
    assert {(n.occurrence_id, n.recipient.username, n.channel) for n in rows()} == {
        (active_plan.occurrence.id, "chutich", "email"), (other.occurrence.id, "truongtram", "in_app")}


@sqlite_only
def test_report_to_falls_back_to_the_issuing_unit(make_due_task: Any, commune: Any) -> None:
    make_due_task(date(2024, 9, 25))  # no report-to unit: the plan's issuing unit (the commune)
    run("sweep", at("2024-09-26 08:00"))
    assert recipients(rows()) == ["ldtbxh", "truongtram"]


def test_digest_people_get_held_rows_and_inactive_people_none(active_plan: Any, commune: Any) -> None:
    commune.officer.prefers_digest = True
    commune.head.is_active = False
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    assert {(n.channel, n.status) for n in rows()} == {("email", "held"), ("in_app", "pending")}
    run("sweep", at("2024-09-26 08:00"))
    assert "truongtram" not in recipients(rows())


def test_zalo_rows_only_when_zalo_is_enabled(active_plan: Any, zalo: Any) -> None:
    assert run("sweep", at("2024-09-18 08:00"))["by_channel"] == {"email": 1, "in_app": 1, "zalo": 1}


def test_email_rows_queued_at_night_wait_for_the_morning(active_plan: Any) -> None:
    run("sweep", at("2024-09-18 02:00"))
    by_channel = {n.channel: n.next_attempt_at for n in rows()}
    assert by_channel["in_app"] == at("2024-09-18 02:00")
    assert by_channel["email"] == at("2024-09-18 07:30")


def test_concurrent_sweeps_queue_each_row_once(app: Any, active_plan: Any, make_due_task: Any) -> None:
    for day in (19, 20, 23, 24, 26):
        make_due_task(date(2024, 9, day), title=f"Nhiệm vụ {day}")
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(run_sweep(at("2024-09-18 08:00")).inserted)
                db.session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    total = len(rows())
    # Due 19, 20, 23, 24 and 25/9 have a rule due on 18/9 (26/9 not yet): 5 x officer x (email, in-app).
    assert total == 10 and sum(results) == total
    keys = db.session.scalars(sa.select(Notification.dedupe_key)).all()
    assert len(keys) == len(set(keys))


def test_a_dropped_connection_mid_sweep_loses_nothing(app: Any, active_plan: Any, backend: str) -> None:
    """The sweep is one transaction: a connection lost after its INSERT, before the commit, leaves no trace."""
    from sqlalchemy import event

    from tracker.jobs.runner import run_job

    engine = db.engine
    dropped = []

    def drop_after_insert(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "INSERT INTO notifications" in statement and not dropped:
            dropped.append(statement)
            if backend == "postgresql":
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                with sa.create_engine(engine.url).connect() as killer:
                    killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            else:
                # A SQLite file cannot drop off the network; its equivalent is an I/O error mid-transaction.
                import sqlite3

                raise sqlite3.OperationalError("disk I/O error")

    event.listen(engine, "after_cursor_execute", drop_after_insert)
    try:
        outcome = run_job("sweep", now=at("2024-09-26 08:00"))
    finally:
        event.remove(engine, "after_cursor_execute", drop_after_insert)
    assert dropped and not outcome.ok
    assert rows() == []
    from tracker.models import JobHeartbeat

    beat = db.session.get(JobHeartbeat, "sweep")
    assert beat.last_status == "error" and beat.last_error
    assert run("sweep", at("2024-09-26 08:05"))["inserted"] == 4
    assert db.session.get(Occurrence, active_plan.occurrence.id).escalation_level == 1


def test_sweep_is_one_insert_whatever_the_number_of_occurrences(app: Any, active_plan: Any,
                                                                   make_due_task: Any) -> None:
    """The statement count does not grow with the occurrences: no Python loop over them."""
    from sqlalchemy import event

    from tracker.operations.reminders import ensure_default_policy

    for day in (19, 20, 23, 24):
        make_due_task(date(2024, 9, day), title=f"Nhiệm vụ {day}")
    ensure_default_policy()
    db.session.commit()
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = run_sweep(at("2024-09-18 08:00"))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    db.session.commit()
    assert result.inserted == 10 and result.occurrences == 5
    inserts = [s for s in statements if "INSERT INTO notifications" in s]
    assert len(inserts) == 1
    assert len(statements) <= 7, statements
    assert {n.status for n in rows()} == {DeliveryStatus.PENDING}
