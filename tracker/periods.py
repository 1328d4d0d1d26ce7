"""Reporting periods: a year, a half-year, a quarter or any dates, as written on the command line, in the API
and in the pages ("2025", "2025-H1", "2025-Q3", "2025-01-01..2025-06-30"), with their Vietnamese names.

An occurrence belongs to a period when it is due in it (as the roll-up's year filter has always counted);
an indicator value belongs to it when the report it came in was for an occurrence whose own period (else
its due date) ends in it. Both rules live in the queries; this module only names the dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from tracker.clock import FIRST_DATE, LAST_DATE
from tracker.operations.errors import ValidationFailed

_ROMAN = ("I", "II", "III", "IV")
_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})-H([12])$", re.I)
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.I)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})$")
#: The longest period a report covers: a five-year plan's whole term, with room to spare.
MAX_DAYS = 10 * 366


@dataclass(frozen=True)
class Period:
    """A closed range of local calendar dates with its canonical key ("2025-H1")."""

    start: date
    end: date

    @property
    def key(self) -> str:
        kind, year, n = self._kind()
        if kind == "year":
            return str(year)
        if kind == "half":
            return f"{year}-H{n}"
        if kind == "quarter":
            return f"{year}-Q{n}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def label(self) -> str:
        """The period as a report names it: "6 tháng đầu năm 2025", "quý III năm 2025"."""
        kind, year, n = self._kind()
        if kind == "year":
            return f"năm {year}"
        if kind == "half":
            return f"6 tháng {'đầu' if n == 1 else 'cuối'} năm {year}"
        if kind == "quarter":
            return f"quý {_ROMAN[n - 1]} năm {year}"
        return f"từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"

    @property
    def target_year(self) -> int:
        """The year whose targets the period's figures are compared with (the year it ends in)."""
        return self.end.year

    @property
    def is_calendar_year(self) -> bool:
        return self._kind()[0] == "year"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def next(self) -> Period:
        """The period right after this one, of the same kind (H1 -> H2, Q4 -> next Q1, dates -> as many days)."""
        kind, year, n = self._kind()
        if kind == "year":
            return year_period(year + 1)
        if kind == "half":
            return half_period(year, 2) if n == 1 else half_period(year + 1, 1)
        if kind == "quarter":
            return quarter_period(year, n + 1) if n < 4 else quarter_period(year + 1, 1)
        length = self.end - self.start
        start = self.end + timedelta(days=1)
        return Period(start, min(start + length, LAST_DATE))

    def _kind(self) -> tuple[str, int, int]:
        s, e = self.start, self.end
        if s.year == e.year and s.day == 1:
            if (s.month, e.month, e.day) == (1, 12, 31):
                return "year", s.year, 0
            if (s.month, e.month, e.day) in ((1, 6, 30), (7, 12, 31)):
                return "half", s.year, 1 if s.month == 1 else 2
            if s.month in (1, 4, 7, 10) and e.month == s.month + 2 and e == _month_end(e.year, e.month):
                return "quarter", s.year, (s.month - 1) // 3 + 1
        return "range", s.year, 0


def _month_end(year: int, month: int) -> date:
    return (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31))


def half_period(year: int, half: int) -> Period:
    return Period(date(year, 1, 1), date(year, 6, 30)) if half == 1 else Period(date(year, 7, 1), date(year, 12, 31))


def quarter_period(year: int, quarter: int) -> Period:
    first = 3 * (quarter - 1) + 1
    return Period(date(year, first, 1), _month_end(year, first + 2))


def _plausible_year(year: int, text: str) -> int:
    if not FIRST_DATE.year <= year <= LAST_DATE.year:
        raise ValidationFailed(_l("The period %(value)s is not plausible."), field="period", value=text)
    return year


def parse_period(text: str | None) -> Period:
    """Read "2025", "2025-H1", "2025-Q3" or "2025-01-01..2025-06-30"; anything else is refused, in Vietnamese
    first, naming the forms accepted."""
    raw = (text or "").strip()
    if not raw:
        raise ValidationFailed(_l("Choose a period."), field="period")
    if m := _YEAR.match(raw):
        return year_period(_plausible_year(int(m[1]), raw))
    if m := _HALF.match(raw):
        return half_period(_plausible_year(int(m[1]), raw), int(m[2]))
    if m := _QUARTER.match(raw):
        return quarter_period(_plausible_year(int(m[1]), raw), int(m[2]))
    if m := _RANGE.match(raw):
        try:
            start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError:
            raise ValidationFailed(_l("The period %(value)s is not plausible."), field="period", value=raw)
        if not (FIRST_DATE <= start <= LAST_DATE and FIRST_DATE <= end <= LAST_DATE):
            raise ValidationFailed(_l("The period %(value)s is not plausible."), field="period", value=raw)
        if end < start:
            raise ValidationFailed(_l("The period ends before it starts."), field="period")
        if (end - start).days > MAX_DAYS:
            raise ValidationFailed(_l("A period covers at most ten years."), field="period")
        return Period(start, end)
    raise ValidationFailed(
        _l("%(value)s is not a period: write 2025, 2025-H1, 2025-Q3 or 2025-01-01..2025-06-30."),
        field="period", value=raw[:40],
    )


def suggested_periods(today: date, years: int = 3) -> list[Period]:
    """The periods a page offers first: this year's and the previous years' years, halves and quarters,
    most recent first (only those that have started)."""
    out: list[Period] = []
    for year in range(today.year, today.year - years, -1):
        candidates = [year_period(year), half_period(year, 2), half_period(year, 1)]
        candidates += [quarter_period(year, q) for q in (4, 3, 2, 1)]
        out += [p for p in candidates if p.start <= today]
    return out


def default_period(today: date) -> Period:
    """The period an office most likely reports on today: the half-year just ended (or running)."""
    if today.month <= 2:
        return year_period(today.year - 1)
    if today.month <= 8:
        return half_period(today.year, 1)
    return year_period(today.year)
