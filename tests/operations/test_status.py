"""Status is derived from due date, completion and today, the same in Python and in SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.extensions import db
from tracker.models import Occurrence, OccurrenceStatus, StatusClock

DUE = date(2024, 9, 25)


def _occ(completed_on: date | None = None, cancelled: bool = False) -> Occurrence:
    occ = Occurrence(due_on=DUE, original_due_on=DUE, period_key="x", task_id=1, lead_unit_id=1)
    if completed_on:
        occ.completed_on = completed_on
        occ.completed_at = datetime(completed_on.year, completed_on.month, completed_on.day, 3, tzinfo=UTC)
    if cancelled:
        occ.cancelled_at = datetime(2024, 9, 1, tzinfo=UTC)
    return occ


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2024, 9, 1), OccurrenceStatus.NOT_DUE),
        (date(2024, 9, 19), OccurrenceStatus.NOT_DUE),
        (date(2024, 9, 20), OccurrenceStatus.DUE_SOON),  # 5 days before
        (DUE, OccurrenceStatus.DUE_SOON),  # the due day itself is not late
        (date(2024, 9, 26), OccurrenceStatus.OVERDUE),  # the day after is
        (date(2025, 1, 1), OccurrenceStatus.OVERDUE),
    ],
)
def test_open_occurrence_status_across_the_due_day(today, expected):
    assert _occ().status(StatusClock.for_day(today)) == expected


def test_grace_days_delay_overdue():
    clock = StatusClock.for_day(date(2024, 9, 27), grace_days=2)
    assert _occ().status(clock) == OccurrenceStatus.DUE_SOON
    assert _occ().status(StatusClock.for_day(date(2024, 9, 28), grace_days=2)) == OccurrenceStatus.OVERDUE


@pytest.mark.parametrize(
    ("completed_on", "expected"),
    [
        (date(2024, 9, 20), OccurrenceStatus.DONE_ON_TIME),
        (DUE, OccurrenceStatus.DONE_ON_TIME),
        (date(2024, 9, 26), OccurrenceStatus.DONE_LATE),
    ],
)
def test_done_status_compares_completion_day_with_due_day(completed_on, expected):
    assert _occ(completed_on).status(StatusClock.for_day(date(2024, 12, 1))) == expected


def test_cancelled_wins_over_everything():
    assert _occ(cancelled=True).status(StatusClock.for_day(date(2025, 1, 1))) == OccurrenceStatus.CANCELLED


def test_days_late_counts_until_completion_or_today():
    clock = StatusClock.for_day(date(2024, 10, 5))
    assert _occ().days_late(clock) == 10
    assert _occ(date(2024, 9, 27)).days_late(clock) == 2
    assert _occ(date(2024, 9, 24)).days_late(clock) == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offset=st.integers(min_value=-40, max_value=40),
    done_offset=st.one_of(st.none(), st.integers(min_value=-20, max_value=20)),
    grace=st.integers(min_value=0, max_value=3),
)
def test_sql_status_matches_python(active_plan, offset, done_offset, grace):
    occ = active_plan.occurrence
    occ.completed_at = occ.completed_on = None
    if done_offset is not None:
        occ.completed_on = DUE + timedelta(days=done_offset)
        occ.completed_at = datetime.combine(occ.completed_on, datetime.min.time(), UTC)
    db.session.flush()
    clock = StatusClock.for_day(DUE + timedelta(days=offset), grace_days=grace)
    in_sql = db.session.scalar(sa.select(Occurrence.status_expression(clock)).where(Occurrence.id == occ.id))
    assert in_sql == occ.status(clock).value
    db.session.rollback()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offset=st.integers(min_value=-40, max_value=40),
    done_offset=st.one_of(st.none(), st.integers(min_value=-20, max_value=20)),
    cancelled=st.booleans(),
)
def test_sql_status_filter_selects_exactly_the_python_status(active_plan, offset, done_offset, cancelled):
    occ = active_plan.occurrence
    occ.completed_at = occ.completed_on = occ.cancelled_at = None
    if done_offset is not None:
        occ.completed_on = DUE + timedelta(days=done_offset)
        occ.completed_at = datetime.combine(occ.completed_on, datetime.min.time(), UTC)
    if cancelled:
        occ.cancelled_at = datetime(2024, 9, 1, tzinfo=UTC)
    db.session.flush()
    clock = StatusClock.for_day(DUE + timedelta(days=offset))
    matching = {
        status.value for status in OccurrenceStatus
        if db.session.scalar(sa.select(Occurrence.id).where(Occurrence.id == occ.id,
                                                            Occurrence.status_in(clock, [status.value])))
    }
    assert matching == {occ.status(clock).value}
    db.session.rollback()
