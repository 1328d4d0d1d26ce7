"""The summaries (tracker.operations.summaries) equal the live queries after any sequence of domain operations.

A hypothesis state machine runs the real operations in random order (activate a plan, mark done, submit a
report with figures, return it, ask for more time and get it, cancel an occurrence, a task or a plan, a day
passing, the daily rebuild), each in a savepoint (as a view's transaction; the example's are rolled back at its
end, so that every example starts from the same database). After every step:
- the stored counts equal a recount of the occurrences with the stored clock, and the latest indicator values
  equal the window function over indicator_values;
- for a commune chair, a province viewer and a national viewer, the overview and roll-up readers give the same
  rows, in the same order, as the live query (the same reader with the summary's clock removed, in a savepoint).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from tracker.clock import status_clock
from tracker.extensions import db
from tracker.models import (
    Indicator,
    IndicatorLatest,
    IndicatorValue,
    Occurrence,
    Plan,
    PlanStatus,
    Report,
    ReviewStatus,
    Role,
    SummaryClock,
    Task,
    TaskStatus,
    UnitKind,
    UnitStatusCount,
)
from tracker.models.summaries import STATUS_COLUMNS
from tracker.operations import occurrences as occ_ops
from tracker.operations import plans as plan_ops
from tracker.operations import summaries
from tracker.operations.errors import DomainError
from tracker.operations.indicators import create_indicator
from tracker.queries import dashboard as q

START = datetime(2024, 9, 20, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội


def _recount() -> dict[tuple[int, int], tuple[int, ...]]:
    """What `unit_status_counts` should hold: the occurrences counted again with the stored clock."""
    stored = summaries.stored_clock()
    assert stored is not None
    rows = db.session.execute(summaries._counts_select(stored, sa.true()))
    return {(r[0], r[1]): tuple(int(n) for n in r[2:]) for r in rows if any(r[2:])}


def _stored() -> dict[tuple[int, int], tuple[int, ...]]:
    t = UnitStatusCount.__table__
    rows = db.session.execute(sa.select(t.c.unit_id, t.c.year, *(t.c[name] for name in STATUS_COLUMNS)))
    return {(r[0], r[1]): tuple(int(n) for n in r[2:]) for r in rows if any(r[2:])}


def _latest_live() -> set[tuple[Any, ...]]:
    v = IndicatorValue
    ranked = sa.select(v.indicator_id, v.unit_id, v.year, v.value, v.id, sa.func.row_number().over(
        partition_by=(v.indicator_id, v.unit_id, v.year), order_by=(v.reported_at.desc(), v.id.desc())
    ).label("rank")).subquery()
    return {tuple(r) for r in db.session.execute(
        sa.select(ranked.c.indicator_id, ranked.c.unit_id, ranked.c.year, ranked.c.value, ranked.c.id)
        .where(ranked.c.rank == 1))}


def _latest_stored() -> set[tuple[Any, ...]]:
    t = IndicatorLatest
    return {tuple(r) for r in db.session.execute(sa.select(t.indicator_id, t.unit_id, t.year, t.value, t.value_id))}


def _live(fn: Any, *args: Any) -> Any:
    """`fn(*args)` as the live query answers it: with the summary's clock gone, in a savepoint rolled back."""
    savepoint = db.session.begin_nested()
    try:
        db.session.execute(sa.delete(SummaryClock))
        return fn(*args)
    finally:
        savepoint.rollback()


def _readers(person: Any, unit: Any, clock: Any, year: int | None) -> dict[str, Any]:
    out = {
        "summary_by_unit": q.summary_by_unit(person, clock, unit=unit, year=year),
        "status_counts": q.status_counts(person, clock, unit=unit, year=year),
        "timeliness_by_unit": q.timeliness_by_unit(person, clock, unit=unit, year=year),
    }
    if unit is not None:
        out["rollup"] = q.rollup(person, clock, unit, year=year)
    return out


class Summaries(RuleBasedStateMachine):
    world: Any = None
    traveller: Any = None

    answered_by_summary = 0
    operations_done = 0

    # --- helpers ----------------------------------------------------------------------------------------

    def _commit_or_rollback(self, action: Any) -> None:
        """Run an operation as a view would, but in a savepoint: each example ends by rolling everything back,
        so that hypothesis replays (and shrinks) every example from the same database."""
        savepoint = db.session.begin_nested()
        try:
            action()
            savepoint.commit()
            Summaries.operations_done += 1
        except DomainError:
            savepoint.rollback()

    def teardown(self) -> None:
        db.session.rollback()
        self.traveller.move_to(START)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0

    def _pick(self, query: sa.Select[Any], index: int) -> Any:
        rows = list(db.session.scalars(query.order_by(sa.text("1"))))
        return rows[index % len(rows)] if rows else None

    def _open(self, index: int) -> Occurrence | None:
        return self._pick(sa.select(Occurrence).join(Task).join(Plan).where(
            Occurrence.is_open, Plan.status == PlanStatus.ACTIVE, Task.status == TaskStatus.ACTIVE), index)

    @initialize()
    def plans_to_work_on(self) -> None:
        # A write first: pysqlite opens its transaction only before one, and a SAVEPOINT outside a transaction
        # would commit when released (the example's work must stay in one transaction, rolled back at its end).
        db.session.execute(sa.delete(UnitStatusCount).where(sa.false()))
        for issuer in range(3):
            self.activate_plan(issuer, [0, 1, 2], [-20, 2, 30], issuer == 0, 2024)

    # --- rules --------------------------------------------------------------------------------------------

    @rule(issuer=st.integers(0, 2), leads=st.lists(st.integers(0, 4), min_size=1, max_size=3),
          days=st.lists(st.integers(-40, 120), min_size=1, max_size=3), recurring=st.booleans(),
          year=st.sampled_from([2024, 2025]))
    def activate_plan(self, issuer: int, leads: list[int], days: list[int], recurring: bool, year: int) -> None:
        w = self.world
        issuing, units = w.plans_of[issuer]

        def act() -> None:
            plan = plan_ops.create_plan(None, title=f"Kế hoạch {len(days)}", issuing_unit=issuing, year=year)
            create_indicator(None, plan, name="Số hộ thoát nghèo", unit_of_measure="hộ")
            today = START.date()
            for i, lead in enumerate(leads):
                due = [today + timedelta(days=d) for d in days]
                plan_ops.add_task(None, plan, title=f"Việc {i}", lead_unit=units[lead % len(units)],
                                  due_dates=due, recurrence_rule="quarterly" if recurring and i == 0 else None,
                                  report_to_unit=w.commune.xa if issuer == 1 else None)
            plan_ops.activate_plan(None, plan)

        self._commit_or_rollback(act)

    @rule(index=st.integers(0, 10**6))
    def mark_done(self, index: int) -> None:
        occurrence = self._open(index)
        if occurrence is not None:
            self._commit_or_rollback(lambda: occ_ops.mark_done(self.world.admin, occurrence, note="Xong"))

    @rule(index=st.integers(0, 10**6), value=st.integers(0, 500))
    def submit_report(self, index: int, value: int) -> None:
        occurrence = self._open(index)
        if occurrence is None:
            return
        indicator = db.session.scalar(sa.select(Indicator).where(Indicator.plan_id == occurrence.task.plan_id))
        values = {indicator.id: str(value)} if indicator is not None else {}
        self._commit_or_rollback(lambda: occ_ops.submit_report(self.world.admin, occurrence, body="Đã làm",
                                                               values=values))

    @rule(index=st.integers(0, 10**6), accept=st.booleans())
    def review(self, index: int, accept: bool) -> None:
        report = self._pick(sa.select(Report).where(Report.review_status == ReviewStatus.SUBMITTED), index)
        if report is not None:
            self._commit_or_rollback(lambda: occ_ops.review_report(self.world.admin, report, accept=accept,
                                                                   comment="Thiếu số liệu"))

    @rule(index=st.integers(0, 10**6), days=st.integers(1, 200), approve=st.booleans())
    def extend(self, index: int, days: int, approve: bool) -> None:
        occurrence = self._open(index)
        if occurrence is None:
            return
        admin = self.world.admin

        def act() -> None:
            request = occ_ops.request_extension(admin, occurrence, new_due_on=occurrence.due_on + timedelta(days=days),
                                                reason="Chờ số liệu")
            occ_ops.decide_extension(admin, request, approve=approve)

        self._commit_or_rollback(act)

    @rule(index=st.integers(0, 10**6))
    def cancel_occurrence(self, index: int) -> None:
        occurrence = self._open(index)
        if occurrence is not None:
            self._commit_or_rollback(lambda: occ_ops.cancel_occurrence(self.world.admin, occurrence, "Không cần"))

    @rule(index=st.integers(0, 10**6))
    def cancel_task(self, index: int) -> None:
        task = self._pick(sa.select(Task).join(Plan).where(Task.status == TaskStatus.ACTIVE,
                                                           Plan.status == PlanStatus.ACTIVE), index)
        if task is not None:
            self._commit_or_rollback(lambda: plan_ops.cancel_task(self.world.admin, task, "Không cần"))

    @rule(index=st.integers(0, 10**6), cancel=st.booleans())
    def close_plan(self, index: int, cancel: bool) -> None:
        plan = self._pick(sa.select(Plan).where(Plan.status == PlanStatus.ACTIVE), index)
        if plan is not None:
            status = PlanStatus.CANCELLED if cancel else PlanStatus.ARCHIVED
            self._commit_or_rollback(lambda: plan_ops.set_plan_status(self.world.admin, plan, status, "Xong"))

    @rule(days=st.integers(1, 12))
    def day_passes(self, days: int) -> None:
        self.traveller.shift(timedelta(days=days))

    @rule()
    def rebuild(self) -> None:
        summaries.rebuild_if_stale(status_clock())

    # --- invariants -----------------------------------------------------------------------------------------

    @invariant()
    def counts_equal_a_recount(self) -> None:
        if summaries.stored_clock() is not None:
            assert _stored() == _recount()
        assert _latest_stored() == _latest_live()

    @invariant()
    def readers_equal_the_live_query(self) -> None:
        """Each person, with one of their units and years in turn, at every third step (all of them over the
        steps: each check costs about a hundred statements; the recount above checks every step)."""
        self.checks = getattr(self, "checks", 0) + 1
        if self.checks % 3 != 1:
            return
        w = self.world
        clock = status_clock()
        fresh = summaries.stored_clock() == clock
        for person, units in ((w.commune.chair, [None, w.commune.xa]),
                              (w.commune.viewer, [None, w.commune.province, w.commune.district]),
                              (w.national, [None, w.commune.province, w.other_province])):
            turn = self.checks // 3
            unit = units[turn % len(units)]
            year = (None, 2024, 2025)[turn // len(units) % 3]
            answered = q._from_summary(person, clock, unit, year=year) is not None
            assert _readers(person, unit, clock, year) == _live(_readers, person, unit, clock, year)
            Summaries.answered_by_summary += answered
            if fresh and unit is not None:
                assert answered  # each of them may view the unit asked about entirely


@pytest.fixture
def world(commune: Any, make_unit: Any, make_person: Any) -> Any:
    from types import SimpleNamespace

    other_province = make_unit("Tỉnh Khác", UnitKind.PROVINCE)
    other_commune = make_unit("Xã Xa", UnitKind.COMMUNE, parent=other_province)
    far_office = make_unit("Trạm Y tế Xã Xa", UnitKind.HEALTH_STATION, parent=other_commune)
    admin = make_person("sysadmin", roles=[(Role.ADMIN, commune.province), (Role.ADMIN, other_province)])
    national = make_person("quocgia", roles=[(Role.VIEWER, commune.province), (Role.VIEWER, other_province)])
    db.session.commit()
    c = commune
    return SimpleNamespace(
        commune=c, other_province=other_province, admin=admin, national=national,
        # Issuers and the units they task: the commune's own offices; the district, whose commune tasks in the
        # neighbouring commune report to Xã Cao Ngọc (the chair sees them only through that: the live query);
        # the other province.
        plans_of=[(c.xa, [c.health, c.labour, c.school, c.village, c.xa]),
                  (c.district, [c.other_health, c.other_xa, c.district]),
                  (other_province, [far_office, other_commune, other_province])],
    )


def test_summaries_equal_the_live_queries_after_random_operations(world: Any) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        summaries.rebuild(status_clock())
        db.session.commit()
        Summaries.world, Summaries.traveller = world, traveller
        machine_settings = settings(max_examples=7, stateful_step_count=15, deadline=None,
                                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                           HealthCheck.too_slow])
        run_state_machine_as_test(Summaries, settings=machine_settings)
    # Not vacuous: operations went through, and the summary answered some of the questions.
    assert Summaries.operations_done > 0 and Summaries.answered_by_summary > 0


def test_mark_done_moves_one_count_and_a_new_day_falls_back_to_the_live_query(active_plan: Any, commune: Any) -> None:
    with time_machine.travel(datetime(2024, 9, 24, 3, 0, tzinfo=UTC), tick=False) as traveller:
        clock = status_clock()
        summaries.rebuild(clock)
        db.session.commit()
        assert q.status_counts(commune.chair, clock, unit=commune.xa)["due_soon"] == 1
        assert q._from_summary(commune.chair, clock, commune.xa) is not None
        occ_ops.mark_done(commune.officer, active_plan.occurrence, note="Xong")
        db.session.commit()
        counts = q.status_counts(commune.chair, clock, unit=commune.xa)
        assert (counts["due_soon"], counts["done_on_time"]) == (0, 1)
        traveller.shift(timedelta(days=1))
        assert q._from_summary(commune.chair, status_clock(), commune.xa) is None  # stale: the live query
        assert summaries.rebuild_if_stale(status_clock()) is True
        assert summaries.rebuild_if_stale(status_clock()) is False
        assert summaries.stored_clock() == status_clock()


def test_indicator_latest_keeps_the_later_value(active_plan: Any, commune: Any) -> None:
    indicator = create_indicator(None, active_plan.plan, name="Số hộ", unit_of_measure="hộ")
    db.session.commit()
    occ_ops.submit_report(commune.officer, active_plan.occurrence, values={indicator.id: "7"},
                          now=datetime(2024, 9, 24, 3, tzinfo=UTC))
    db.session.commit()
    row = db.session.scalar(sa.select(IndicatorLatest))
    assert (row.value, row.year, row.unit_id) == (Decimal("7"), 2024, commune.health.id)
    assert _latest_stored() == _latest_live()


def _waiting_on_counts() -> bool:
    """Whether some transaction of this database waits for a lock (PostgreSQL), from its own connection."""
    with db.engine.connect() as conn:
        return bool(conn.scalar(sa.text(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE NOT l.granted AND d.datname = current_database()")))


def _in_thread(app: Any, work: Any, errors: list[BaseException], hold: Any = None, done: Any = None) -> Any:
    """Run `work()` in its own app context (its own session and connection) and commit; with `hold`, signal
    `done` after the work and wait for `hold` before committing."""
    import threading

    def run() -> None:
        try:
            with app.app_context():
                work()
                if done is not None:
                    done.set()
                if hold is not None:
                    hold.wait(30)
                db.session.commit()
        except BaseException as exc:  # reported to the test's thread
            errors.append(exc)
            if done is not None:
                done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _until(condition: Any) -> bool:
    return any(condition() for _ in range(20_000))  # each probe is a statement: bounded, no sleep


@pytest.mark.parametrize("first", ["rebuild", "mark_done"])
def test_a_rebuild_racing_with_mark_done_loses_nothing(app: Any, backend: str, active_plan: Any, commune: Any,
                                                       first: str) -> None:
    """PostgreSQL, two connections: a rebuild for a new day (the open occurrence goes from due soon to overdue)
    and a "mark done" at the same time. Whichever takes the table's lock first, the counts afterwards equal a
    recount: the mover waits for the rebuild and then reads the new clock, or the rebuild waits for the mover's
    commit and counts its change."""
    import threading

    from tracker.models import Person

    if backend != "postgresql":
        pytest.skip("row and table locks: PostgreSQL")
    old, new = status_clock(date(2024, 9, 24)), status_clock(date(2024, 9, 27))
    summaries.rebuild(old)
    db.session.commit()
    occurrence_id, person_id = active_plan.occurrence.id, commune.officer.id
    errors: list[BaseException] = []

    def mark_done() -> None:
        occ_ops.mark_done(db.session.get(Person, person_id), db.session.get(Occurrence, occurrence_id), note="Xong")

    def rebuild() -> None:
        summaries.rebuild(new)

    hold, done = threading.Event(), threading.Event()
    first_work, second_work = (rebuild, mark_done) if first == "rebuild" else (mark_done, rebuild)
    holder = _in_thread(app, first_work, errors, hold=hold, done=done)
    assert done.wait(30) and not errors, errors
    waiter = _in_thread(app, second_work, errors)
    assert _until(lambda: _waiting_on_counts() or errors), "the second never waited for the first's lock"
    hold.set()
    holder.join(30)
    waiter.join(30)
    assert not errors, errors
    db.session.expire_all()
    assert summaries.stored_clock() == new
    assert _stored() == _recount()
    counts = q.status_counts(commune.chair, new, unit=commune.xa)
    assert (counts["overdue"], counts["due_soon"], counts["done_late"] + counts["done_on_time"]) == (0, 0, 1)


def test_the_rebuild_command_counts_as_of_today_and_says_when_up_to_date(app: Any, active_plan: Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["summaries", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt as of" in result.output and "1 count rows" in result.output
    assert summaries.stored_clock() == status_clock()
    again = runner.invoke(args=["summaries", "rebuild", "--if-stale"])
    assert again.exit_code == 0 and "Up to date" in again.output


def test_the_scheduled_job_rebuilds_once_a_day(app: Any, active_plan: Any) -> None:
    from tracker.jobs.runner import run_job

    first = run_job("summaries", now=datetime(2024, 9, 23, 17, 30, tzinfo=UTC), app=app)  # 00:30 on the 24th
    again = run_job("summaries", now=datetime(2024, 9, 23, 22, 0, tzinfo=UTC), app=app)
    next_day = run_job("summaries", now=datetime(2024, 9, 24, 17, 5, tzinfo=UTC), app=app)
    assert [o.result for o in (first, again, next_day)] == [
        {"as_of": "2024-09-24", "rebuilt": True}, {"as_of": "2024-09-24", "rebuilt": False},
        {"as_of": "2024-09-25", "rebuilt": True}]
