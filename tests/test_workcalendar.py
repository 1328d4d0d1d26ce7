"""Working days, the sweep threshold and the sending window of `WorkCalendar`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.workcalendar import WorkCalendar

CAL = WorkCalendar()
D = date


# --- working days ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        # Tết Giáp Thìn 2024: 8/2 (29 Tết) to 14/2 (mùng 5).
        *(D(2024, 2, d) for d in range(8, 15)),
        # Tết Ất Tỵ 2025: 25/1 to 2/2, the weekdays 27/1 to 31/1 plus two weekends.
        *(D(2025, 1, d) for d in range(25, 32)),
        D(2025, 2, 1),
        D(2025, 2, 2),
        # 30/4-1/5 2024 with the swapped Monday 29/4.
        D(2024, 4, 29),
        D(2024, 4, 30),
        D(2024, 5, 1),
        # 30/4-1/5 2025 with the swapped Friday 2/5.
        D(2025, 4, 30),
        D(2025, 5, 1),
        D(2025, 5, 2),
        # National Day 2024 fell on a Monday; the package adds Tuesday 3/9.
        D(2024, 9, 2),
        D(2024, 9, 3),
        # National Day 2025: Monday 1/9 and Tuesday 2/9.
        D(2025, 9, 1),
        D(2025, 9, 2),
        # Hùng Kings 2024 and New Year.
        D(2024, 4, 18),
        D(2025, 1, 1),
        # Plain weekends.
        D(2024, 9, 21),
        D(2024, 9, 22),
    ],
)
def test_holidays_and_weekends_are_not_working_days(day: date) -> None:
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        D(2024, 2, 7),  # the working day before Tết 2024
        D(2024, 2, 15),  # back to work after Tết 2024
        D(2025, 2, 3),  # back to work after Tết 2025
        D(2024, 5, 4),  # Saturday worked in exchange for Monday 29/4/2024
        D(2025, 4, 26),  # Saturday worked in exchange for Friday 2/5/2025
        D(2024, 9, 4),
        D(2024, 9, 25),
    ],
)
def test_ordinary_and_swapped_in_days_are_working_days(day: date) -> None:
    assert CAL.is_working_day(day)


def test_extra_dates_override_the_public_calendar() -> None:
    cal = WorkCalendar(extra_working_days=[D(2024, 9, 28)], extra_days_off=[D(2024, 9, 27), D(2024, 5, 4)])
    assert cal.is_working_day(D(2024, 9, 28))
    assert not cal.is_working_day(D(2024, 9, 27))
    assert not cal.is_working_day(D(2024, 5, 4))


def test_weekend_is_configurable() -> None:
    six_day_week = WorkCalendar(weekend={6})
    assert six_day_week.is_working_day(D(2024, 9, 21))
    assert not six_day_week.is_working_day(D(2024, 9, 22))


def test_public_holidays_can_be_switched_off() -> None:
    assert WorkCalendar(public_holidays=False).is_working_day(D(2024, 9, 3))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"extra_days_off": [D(2024, 1, 2)], "extra_working_days": [D(2024, 1, 2)]},
        {"weekend": range(7)},
        {"weekend": {7}},
        {"work_start": time(17), "work_end": time(7, 30)},
    ],
)
def test_inconsistent_configuration_is_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        WorkCalendar(**kwargs)


def test_from_config_reads_app_settings_and_exceptions() -> None:
    cal = WorkCalendar.from_config(
        {"WORK_HOURS_START": "08:00", "WORK_HOURS_END": "16:30", "TIMEZONE": "Asia/Ho_Chi_Minh"},
        exceptions=[(D(2024, 9, 28), True), ("2024-09-27", False)],
    )
    assert cal.is_working_day(D(2024, 9, 28))
    assert not cal.is_working_day(D(2024, 9, 27))
    assert (cal.work_start, cal.work_end) == (time(8), time(16, 30))
    assert cal.weekend == {5, 6}


def test_from_config_defaults() -> None:
    cal = WorkCalendar.from_config({})
    assert (cal.work_start, cal.work_end, cal.tz.key) == (time(7, 30), time(17), "Asia/Ho_Chi_Minh")


# --- add_working_days ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # The design's example: due Wednesday 25/9/2024.
        (D(2024, 9, 25), -5, D(2024, 9, 18)),
        (D(2024, 9, 25), -2, D(2024, 9, 23)),
        (D(2024, 9, 25), 0, D(2024, 9, 25)),
        (D(2024, 9, 25), 1, D(2024, 9, 26)),
        (D(2024, 9, 25), 3, D(2024, 9, 30)),
        (D(2024, 9, 25), 7, D(2024, 10, 4)),
        # Across Tết 2024 in both directions.
        (D(2024, 2, 7), 1, D(2024, 2, 15)),
        (D(2024, 2, 15), -1, D(2024, 2, 7)),
        (D(2024, 2, 10), 1, D(2024, 2, 15)),  # from inside the break
        # Across Tết 2025.
        (D(2025, 1, 24), 1, D(2025, 2, 3)),
        (D(2025, 2, 3), -2, D(2025, 1, 23)),
        # 30/4-1/5 2024: Monday 29/4 off, Saturday 4/5 worked.
        (D(2024, 4, 26), 1, D(2024, 5, 2)),
        (D(2024, 4, 26), 3, D(2024, 5, 4)),
        (D(2024, 4, 26), 4, D(2024, 5, 6)),
        # 30/4-1/5 2025: Saturday 26/4 worked, Friday 2/5 off.
        (D(2025, 4, 25), 1, D(2025, 4, 26)),
        (D(2025, 4, 25), 4, D(2025, 5, 5)),
        # National Day 2024 and 2025.
        (D(2024, 8, 30), 1, D(2024, 9, 4)),
        (D(2024, 9, 4), -1, D(2024, 8, 30)),
        (D(2025, 8, 29), 1, D(2025, 9, 3)),
        # Weekend starts.
        (D(2024, 9, 27), 1, D(2024, 9, 30)),
        (D(2024, 9, 28), 1, D(2024, 9, 30)),
        (D(2024, 9, 30), -1, D(2024, 9, 27)),
        (D(2024, 9, 29), -1, D(2024, 9, 27)),
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert CAL.add_working_days(start, n) == expected


def test_zero_offset_keeps_a_holiday_due_date() -> None:
    assert CAL.add_working_days(D(2024, 9, 2), 0) == D(2024, 9, 2)


def test_extra_working_saturday_counts() -> None:
    cal = WorkCalendar(extra_working_days=[D(2024, 9, 28)])
    assert cal.add_working_days(D(2024, 9, 25), 3) == D(2024, 9, 28)


def test_calendar_without_working_days_fails_instead_of_looping() -> None:
    sundays = [D(2024, 1, 7) + timedelta(weeks=w) for w in range(80)]
    cal = WorkCalendar(weekend=range(6), extra_days_off=sundays, public_holidays=False)
    with pytest.raises(ValueError):
        cal.add_working_days(D(2024, 1, 1), 1)


# --- latest_due_date_fired: examples and a property against brute force ----------------------------


@pytest.mark.parametrize(
    ("today", "n", "expected"),
    [
        (D(2024, 9, 18), -5, D(2024, 9, 25)),
        (D(2024, 9, 26), 1, D(2024, 9, 25)),
        (D(2024, 9, 30), 3, D(2024, 9, 25)),
        (D(2024, 10, 4), 7, D(2024, 9, 25)),
        (D(2024, 9, 25), 0, D(2024, 9, 25)),
        # Saturday: +1 has fired for due dates up to Thursday only (Friday's +1 is Monday).
        (D(2024, 9, 28), 1, D(2024, 9, 26)),
        # First day back after Tết 2024: everything due during the break gets its +1 today.
        (D(2024, 2, 15), 1, D(2024, 2, 14)),
        # Last day before Tết 2024: -3 covers due dates up to the third working day after the break.
        (D(2024, 2, 7), -3, D(2024, 2, 19)),
        (D(2024, 4, 26), -1, D(2024, 5, 2)),
        (D(2024, 8, 30), -1, D(2024, 9, 4)),
    ],
)
def test_latest_due_date_fired_examples(today: date, n: int, expected: date) -> None:
    assert CAL.latest_due_date_fired(today, n) == expected


def _working_days(cal: WorkCalendar, lo: date, hi: date) -> list[date]:
    days = (lo + timedelta(days=i) for i in range((hi - lo).days + 1))
    return [d for d in days if cal.is_working_day(d)]


def _brute_add(working: list[date], d: date, n: int) -> date:
    """Count working days one by one from a precomputed list (independent of the implementation)."""
    if n == 0:
        return d
    if n > 0:
        return [w for w in working if w > d][n - 1]
    return [w for w in working if w < d][n]


SWAP_CAL = WorkCalendar(extra_working_days=[D(2025, 1, 18)], extra_days_off=[D(2025, 9, 3)])


@settings(max_examples=400, deadline=None)
@given(
    today=st.dates(min_value=D(2023, 6, 1), max_value=D(2027, 6, 30)),
    n=st.integers(min_value=-15, max_value=15),
    cal=st.sampled_from([CAL, SWAP_CAL, WorkCalendar(weekend={6})]),
)
def test_latest_due_date_fired_matches_brute_force(today: date, n: int, cal: WorkCalendar) -> None:
    span = timedelta(days=3 * abs(n) + 40)
    lo, hi = today - span, today + span
    working = _working_days(cal, lo - span, hi + span)
    candidates = [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
    fired = [d for d in candidates if _brute_add(working, d, n) <= today]
    threshold = cal.latest_due_date_fired(today, n)
    assert threshold == max(fired)
    # SQL filters due_on <= threshold, so the fired set must be exactly that prefix.
    assert all(d <= threshold for d in fired)
    assert all(d in fired for d in candidates if d <= threshold)
    assert cal.add_working_days(threshold, n) == _brute_add(working, threshold, n)


@settings(max_examples=300, deadline=None)
@given(
    d=st.dates(min_value=D(2023, 6, 1), max_value=D(2027, 6, 30)),
    n=st.integers(min_value=-20, max_value=20),
)
def test_add_working_days_matches_brute_force(d: date, n: int) -> None:
    working = _working_days(CAL, d - timedelta(days=80), d + timedelta(days=80))
    assert CAL.add_working_days(d, n) == _brute_add(working, d, n)


# --- time zone and sending window ------------------------------------------------------------------


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_local_zone_is_a_fixed_plus_seven() -> None:
    for month in range(1, 13):
        assert CAL.to_local(utc(2024, month, 15, 12)).utcoffset() == timedelta(hours=7)


def test_local_today_rolls_over_at_local_midnight() -> None:
    assert CAL.local_today(utc(2024, 9, 24, 16, 59)) == D(2024, 9, 24)
    assert CAL.local_today(utc(2024, 9, 24, 17, 0)) == D(2024, 9, 25)


def test_to_local_accepts_other_aware_zones_and_refuses_naive() -> None:
    paris = timezone(timedelta(hours=2))
    assert CAL.to_local(datetime(2024, 9, 25, 2, 30, tzinfo=paris)).hour == 7
    with pytest.raises(ValueError):
        CAL.to_local(datetime(2024, 9, 25, 7, 30))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2024, 9, 25, 0, 29, 59), False),  # 07:29:59 local
        (utc(2024, 9, 25, 0, 30), True),  # 07:30
        (utc(2024, 9, 25, 9, 59, 59), True),  # 16:59:59
        (utc(2024, 9, 25, 10, 0), False),  # 17:00 closes the window
        (utc(2024, 9, 28, 3, 0), False),  # Saturday 10:00
        (utc(2024, 9, 2, 3, 0), False),  # National Day 10:00
        (utc(2024, 5, 4, 3, 0), True),  # the worked Saturday 4/5/2024
    ],
)
def test_is_sending_time(now: datetime, expected: bool) -> None:
    assert CAL.is_sending_time(now) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2024, 9, 25, 3, 0), utc(2024, 9, 25, 3, 0)),  # inside: now
        (utc(2024, 9, 24, 23, 0), utc(2024, 9, 25, 0, 30)),  # 06:00 local: this morning
        (utc(2024, 9, 25, 0, 29), utc(2024, 9, 25, 0, 30)),  # 07:29 local
        (utc(2024, 9, 25, 10, 0), utc(2024, 9, 26, 0, 30)),  # 17:00 local: tomorrow
        (utc(2024, 9, 25, 20, 0), utc(2024, 9, 26, 0, 30)),  # 03:00 Thursday local
        (utc(2024, 9, 27, 12, 0), utc(2024, 9, 30, 0, 30)),  # Friday night: Monday
        (utc(2024, 2, 7, 11, 0), utc(2024, 2, 15, 0, 30)),  # eve of Tết 2024: after the break
        (utc(2024, 8, 30, 15, 0), utc(2024, 9, 4, 0, 30)),  # before 2/9/2024
    ],
)
def test_next_sending_time(now: datetime, expected: datetime) -> None:
    result = CAL.next_sending_time(now)
    assert result == expected
    assert result.tzinfo is UTC


@settings(max_examples=200, deadline=None)
@given(now=st.datetimes(min_value=datetime(2023, 6, 1), max_value=datetime(2027, 6, 1), timezones=st.just(UTC)))
def test_next_sending_time_is_the_first_sending_instant(now: datetime) -> None:
    result = CAL.next_sending_time(now)
    assert result >= now
    assert CAL.is_sending_time(result)
    # Nothing earlier qualifies: the window opens on minute boundaries, so probe each minute.
    probe = now
    while probe < result:
        assert not CAL.is_sending_time(probe)
        probe = (probe + timedelta(minutes=1)).replace(second=0, microsecond=0)


def test_stored_public_days_are_the_packages() -> None:
    """The calendar reads the Vietnamese public days stored in tracker/data (the sweep does not import `holidays`,
    which loads every country); they are exactly the package's, for every stored year. After upgrading the
    package, run `python -c "from tracker.workcalendar import write_public_days; write_public_days()"`."""
    from tracker.workcalendar import (
        PUBLIC_DAYS_YEARS,
        _package_calendar,
        _package_version,
        _public_calendar,
        _stored_public_days,
    )

    stored = _stored_public_days()
    assert stored, f"tracker/data/vn_public_days.json was not written by holidays {_package_version()}"
    assert sorted(stored) == [str(y) for y in PUBLIC_DAYS_YEARS]
    for year in PUBLIC_DAYS_YEARS:
        assert _public_calendar(year) == _package_calendar(year), year
