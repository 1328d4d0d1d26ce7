"""Turn a task's recurrence into reporting periods, each with its own due date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.rrule import rrulestr
from flask_babel import lazy_gettext as _l

from tracker.operations.errors import ValidationFailed

#: Named recurrences, coarsest last (a finer period ending on a coarser one's last day is subsumed).
NAMED = ("monthly", "quarterly", "semiannual", "annual")
_ROMAN = ("I", "II", "III", "IV")
#: At most this many occurrences per task, so a hostile RRULE cannot fill the database.
MAX_OCCURRENCES = 400


@dataclass(frozen=True)
class Period:
    key: str  # unique per task: "2024-09", "2024-Q3", "2024-H1", "2024", or an ISO date
    label: str  # Vietnamese, shown to officials
    start: date | None
    end: date | None
    due_on: date


def parse_recurrence(text: str | list[str] | None) -> list[str]:
    """Normalise a recurrence to a list of named periods or one "RRULE:..." string; raise if invalid."""
    if not text:
        return []
    items = text if isinstance(text, list) else [p.strip() for p in str(text).split(",")]
    items = [i for i in (x.strip() for x in items) if i]
    if len(items) == 1 and items[0].upper().startswith("RRULE:"):
        try:
            rrulestr(items[0][6:], dtstart=date(2000, 1, 1))
        except (ValueError, TypeError):
            raise ValidationFailed(_l("The recurrence rule is not valid."), field="recurrence")
        return [items[0]]
    unknown = [i for i in items if i not in NAMED]
    if unknown:
        raise ValidationFailed(
            _l("Unknown recurrence %(value)s (use monthly, quarterly, semiannual, annual or RRULE:...)."),
            field="recurrence", value=", ".join(unknown),
        )
    return sorted(set(items), key=NAMED.index)


def expand(recurrence: str | list[str] | None, start: date, end: date, *, due_offset_days: int = 0) -> list[Period]:
    """The periods of `recurrence` overlapping [start, end], ordered by due date."""
    kinds = parse_recurrence(recurrence)
    if not kinds:
        return []
    if kinds[0].upper().startswith("RRULE:"):
        return _expand_rrule(kinds[0], start, end)
    by_end: dict[date, Period] = {}
    for kind in kinds:  # finest first, so a coarser period replaces one ending on the same day
        for period in _named_periods(kind, start, end, due_offset_days):
            by_end[period.end or period.due_on] = period
    return sorted(by_end.values(), key=lambda p: p.due_on)[:MAX_OCCURRENCES]


def _named_periods(kind: str, start: date, end: date, offset: int) -> list[Period]:
    months = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}[kind]
    out: list[Period] = []
    cursor = date(start.year, ((start.month - 1) // months) * months + 1, 1)
    while cursor <= end and len(out) < MAX_OCCURRENCES:
        nxt = _add_months(cursor, months)
        last = nxt - timedelta(days=1)
        if last >= start:
            out.append(Period(_key(kind, cursor), _label(kind, cursor), cursor, last, last + timedelta(days=offset)))
        cursor = nxt
    return out


def _add_months(d: date, months: int) -> date:
    index = d.month - 1 + months
    return date(d.year + index // 12, index % 12 + 1, 1)


def _key(kind: str, first: date) -> str:
    if kind == "monthly":
        return f"{first.year}-{first.month:02d}"
    if kind == "quarterly":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    if kind == "semiannual":
        return f"{first.year}-H{1 if first.month <= 6 else 2}"
    return str(first.year)


def _label(kind: str, first: date) -> str:
    if kind == "monthly":
        return f"Tháng {first.month}/{first.year}"
    if kind == "quarterly":
        return f"Quý {_ROMAN[(first.month - 1) // 3]}/{first.year}"
    if kind == "semiannual":
        return f"6 tháng {'đầu' if first.month <= 6 else 'cuối'} năm {first.year}"
    return f"Năm {first.year}"


def _expand_rrule(rule: str, start: date, end: date) -> list[Period]:
    from datetime import datetime

    recurrence = rrulestr(rule[6:], dtstart=datetime(start.year, start.month, start.day))
    out: list[Period] = []
    for moment in recurrence:
        day = moment.date()
        if day > end or len(out) >= MAX_OCCURRENCES:
            break
        out.append(Period(day.isoformat(), f"Hạn {day:%d/%m/%Y}", None, None, day))
    return out


def single(due_on: date) -> Period:
    """The one period of a task with a plain deadline."""
    return Period(due_on.isoformat(), f"Hạn {due_on:%d/%m/%Y}", None, None, due_on)
