"""Working days and working hours in Vietnam (Asia/Ho_Chi_Minh).

Deadlines are local calendar dates; reminder offsets count working days; messages go out only inside
the working window of a working day. Public holidays come from the `holidays` package (country "VN"):
it includes every day of the Tết break, the compensatory days off ("nghỉ bù") and the government
swaps in which a weekend day becomes a working day (e.g. Saturday 4/5/2024 was worked for Monday
29/4/2024). Swaps announced after the package release go into `extra_days_off` / `extra_working_days`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SATURDAY = 5
SUNDAY = 6
DEFAULT_WEEKEND = frozenset({SATURDAY, SUNDAY})
DEFAULT_WORK_START = time(7, 30)
DEFAULT_WORK_END = time(17, 0)

# No real calendar has a run of non-working days this long; hitting it means a misconfiguration
# (e.g. every weekday declared weekend) and must not loop forever inside the scheduler.
_MAX_NON_WORKING_RUN = 400

_ONE_DAY = timedelta(days=1)
_NO_PUBLIC_DAYS: tuple[frozenset[date], frozenset[date]] = (frozenset(), frozenset())


#: The package's public days for a span of years, written by `write_public_days()`: importing `holidays` loads
#: every country it knows (about 0.3 s), which a command such as the sweep would pay on every run. Used only
#: while the installed package is the version that wrote it; a test checks it against the package.
PUBLIC_DAYS_FILE = Path(__file__).resolve().parent / "data" / "vn_public_days.json"
PUBLIC_DAYS_YEARS = range(2000, 2061)


def _package_calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    import holidays

    vn = holidays.country_holidays("VN", years=year)
    # weekend_workdays is filled while the year is populated, so read it after construction.
    return frozenset(vn), frozenset(vn.weekend_workdays)


def _package_version() -> str:
    from importlib.metadata import version

    return version("holidays")


@functools.cache
def _stored_public_days() -> dict[str, Any]:
    try:
        stored = json.loads(PUBLIC_DAYS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stored.get("years", {}) if stored.get("holidays") == _package_version() else {}


def write_public_days(path: Path = PUBLIC_DAYS_FILE, years: Iterable[int] = PUBLIC_DAYS_YEARS) -> None:
    """Store the package's public days off and swapped working days for `years` (after upgrading `holidays`)."""
    data: dict[str, Any] = {}
    for year in years:
        off, worked = _package_calendar(year)
        data[str(year)] = {"off": sorted(d.isoformat() for d in off), "worked": sorted(d.isoformat() for d in worked)}
    text = json.dumps({"holidays": _package_version(), "years": data}, indent=0, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


@functools.lru_cache(maxsize=128)
def _public_calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Return the public days off and the weekend days made working days for one year."""
    stored = _stored_public_days().get(str(year))
    if stored is None:
        return _package_calendar(year)
    return (frozenset(date.fromisoformat(d) for d in stored["off"]),
            frozenset(date.fromisoformat(d) for d in stored["worked"]))


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _as_time(value: time | str) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


class WorkCalendar:
    """Working days and hours of the Vietnamese public administration."""

    __slots__ = (
        "extra_days_off",
        "extra_working_days",
        "public_holidays",
        "tz",
        "weekend",
        "work_end",
        "work_start",
    )

    def __init__(
        self,
        *,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        weekend: Iterable[int] = DEFAULT_WEEKEND,
        work_start: time = DEFAULT_WORK_START,
        work_end: time = DEFAULT_WORK_END,
        public_holidays: bool = True,
        tz: ZoneInfo = LOCAL_TZ,
    ) -> None:
        self.extra_days_off = frozenset(extra_days_off)
        self.extra_working_days = frozenset(extra_working_days)
        self.weekend = frozenset(weekend)
        self.work_start = work_start
        self.work_end = work_end
        self.public_holidays = public_holidays
        self.tz = tz
        if clash := self.extra_days_off & self.extra_working_days:
            raise ValueError(f"dates both off and working: {sorted(clash)}")
        if not self.weekend <= set(range(7)) or len(self.weekend) == 7:
            raise ValueError(f"weekend must be a proper subset of weekdays 0-6, got {sorted(self.weekend)}")
        if not work_start < work_end:
            raise ValueError("work_start must be before work_end")

    @classmethod
    def from_config(cls, config: Mapping[str, Any], exceptions: Iterable[tuple[date, bool]] = ()) -> WorkCalendar:
        """Build a calendar from app config and announced exceptions ((date, is_working_day) pairs).

        Reads WORK_HOURS_START / WORK_HOURS_END ("HH:MM"), TIMEZONE and WEEKEND_DAYS (weekday numbers,
        Monday = 0); the exceptions are the `calendar_exceptions` rows an admin entered.
        """
        pairs = list(exceptions)
        return cls(
            extra_days_off=[_as_date(d) for d, working in pairs if not working],
            extra_working_days=[_as_date(d) for d, working in pairs if working],
            weekend=config.get("WEEKEND_DAYS") or DEFAULT_WEEKEND,
            work_start=_as_time(config.get("WORK_HOURS_START") or DEFAULT_WORK_START),
            work_end=_as_time(config.get("WORK_HOURS_END") or DEFAULT_WORK_END),
            tz=ZoneInfo(config.get("TIMEZONE") or LOCAL_TZ.key),
        )

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(weekend={sorted(self.weekend)}, window={self.work_start}-{self.work_end}, "
            f"+{len(self.extra_working_days)} working, +{len(self.extra_days_off)} off)"
        )

    # --- days -------------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """Tell whether `d` is a working day."""
        # Local announcements win over the package: they are newer or more specific.
        if d in self.extra_days_off:
            return False
        if d in self.extra_working_days:
            return True
        days_off, swapped_in = _public_calendar(d.year) if self.public_holidays else _NO_PUBLIC_DAYS
        if d.weekday() in self.weekend:
            return d in swapped_in
        return d not in days_off

    def add_working_days(self, d: date, n: int) -> date:
        """Return the n-th working day after `d` (before it when n < 0); n = 0 returns `d` itself.

        `d` itself never counts, so +1 from a Friday is the next Monday and -1 from a Monday is the
        previous Friday (holidays skipped). n = 0 returns `d` unchanged even on a holiday: a rule
        with offset 0 fires on the due date, and the sending window (`next_sending_time`) then holds
        the message until the next working morning. Rolling `d` forward instead would make the
        mapping non-monotonic at 0 and break `latest_due_date_fired`.
        """
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        current = d
        idle = 0
        while remaining:
            current += step
            if self.is_working_day(current):
                remaining -= 1
                idle = 0
            else:
                idle += 1
                if idle > _MAX_NON_WORKING_RUN:
                    raise ValueError(f"no working day within {_MAX_NON_WORKING_RUN} days of {current}")
        return current

    def latest_due_date_fired(self, today: date, n: int) -> date:
        """Return the greatest due date D with add_working_days(D, n) <= today.

        The sweep filters `due_on <= latest_due_date_fired(today, offset)` for each rule offset:
        add_working_days(., n) is non-decreasing in D, so the set of due dates whose rule has come
        due is exactly everything up to this threshold.
        """
        if n == 0:
            return today
        if n < 0:
            # D fires once today >= the |n|-th working day before D, i.e. D is at most the |n|-th
            # working day strictly after today.
            return self.add_working_days(today, -n)
        # D fires once (D, today] holds at least n working days: D must lie before the n-th working
        # day counted back from today inclusive, which is add_working_days(today + 1, -n).
        return self.add_working_days(today + _ONE_DAY, -n) - _ONE_DAY

    # --- time -------------------------------------------------------------------------------------

    def to_local(self, dt: datetime) -> datetime:
        """Convert an aware datetime to local time; naive datetimes are refused."""
        if dt.tzinfo is None or dt.utcoffset() is None:
            # A naive value is ambiguous (UTC from the DB or local from a user?): fail loudly.
            raise ValueError(f"naive datetime {dt!r}: pass an aware UTC datetime")
        return dt.astimezone(self.tz)

    def local_today(self, now_utc: datetime) -> date:
        """Return the local calendar date at `now_utc`."""
        return self.to_local(now_utc).date()

    def is_sending_time(self, now_utc: datetime) -> bool:
        """Tell whether `now_utc` falls in the working window of a working day."""
        local = self.to_local(now_utc)
        return self.is_working_day(local.date()) and self.work_start <= local.time() < self.work_end

    def next_sending_time(self, now_utc: datetime) -> datetime:
        """Return `now_utc` if messages may go out now, else the start of the next working window (UTC)."""
        if self.is_sending_time(now_utc):
            return now_utc.astimezone(UTC)
        local = self.to_local(now_utc)
        day = local.date()
        if not (self.is_working_day(day) and local.time() < self.work_start):
            day = self.add_working_days(day, 1)
        return datetime.combine(day, self.work_start, tzinfo=self.tz).astimezone(UTC)
