"""The current time and local calendar date, read through one place so tests can travel in time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from tracker.models.occurrences import StatusClock

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"

#: Deadlines and plan dates outside these days are typing mistakes (9999-12-31) or attacks, never plans.
FIRST_DATE, LAST_DATE = date(1990, 1, 1), date(2100, 12, 31)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_zone() -> ZoneInfo:
    """The deployment's time zone (deadlines are calendar dates there)."""
    name = current_app.config.get("TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else DEFAULT_TIMEZONE
    return _zone(name)


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    """The local calendar date of an aware instant."""
    return moment.astimezone(local_zone()).date()


def local_today(now: datetime | None = None) -> date:
    """Today's local calendar date."""
    return local_date(now or utcnow())


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 timestamp; one without an offset is read as local time."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone())
    return moment.astimezone(UTC)


def status_clock(today: date | None = None) -> StatusClock:
    """The status thresholds for `today` (default: the local today) from the configuration."""
    config = current_app.config if has_app_context() else {}
    return StatusClock.for_day(
        today or local_today(),
        due_soon_days=int(config.get("DUE_SOON_DAYS", 5)),
        grace_days=int(config.get("OVERDUE_GRACE_DAYS", 0)),
    )
