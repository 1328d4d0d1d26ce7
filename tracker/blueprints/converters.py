"""URL converters for ids: a path whose id no column could hold does not match any route (404).

`<id:plan_id>` is an INTEGER primary key (1 to 2^31 - 1), `<bigid:occurrence_id>` a BIGINT one (1 to 2^63 - 1).
Without them `/plans/99999999999` reaches the database, where SQLite cannot bind an integer beyond 64 bits and
PostgreSQL refuses one beyond the column's type: a 500 instead of a 404.

The range lives in the converter's regular expression, not only in `to_python`: Werkzeug checks a rule's method
before converting, so a number refused in `to_python` by the POST rule of a path that also has a GET rule is
answered 405, not 404. The expressions take ASCII digits without leading zeros only (the stock converter's `\\d`
also takes "١٢" and "007"), and flask-smorest documents the ranges in the OpenAPI document.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from tracker.schemas.base import MAX_BIG_ID, MAX_ID


def _group(pattern: str) -> str:
    return pattern if pattern.isdigit() or (pattern.startswith("[") and pattern.count("[") == 1) else f"(?:{pattern})"


def _same_length(low: str, high: str) -> str:
    """A pattern for the numbers from `low` to `high`, written with the same number of digits."""
    if low == high:
        return low
    rest = len(low) - 1
    if rest == 0:
        return f"[{low}-{high}]"
    if low[1:] == "0" * rest and high[1:] == "9" * rest:
        return f"[{low[0]}-{high[0]}][0-9]{{{rest}}}"
    if low[0] == high[0]:
        return low[0] + _group(_same_length(low[1:], high[1:]))
    parts = [low[0] + _group(_same_length(low[1:], "9" * rest))]
    if int(high[0]) - int(low[0]) > 1:
        parts.append(f"[{int(low[0]) + 1}-{int(high[0]) - 1}][0-9]{{{rest}}}")
    parts.append(high[0] + _group(_same_length("0" * rest, high[1:])))
    return "|".join(parts)


def range_pattern(low: int, high: int) -> str:
    """A regular expression matching exactly the decimal numbers low..high (no sign, no leading zeros)."""
    parts = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        first = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        last = min(high, 10**digits - 1)
        if first <= last:
            parts.append(_same_length(str(first), str(last)))
    return "(?:" + "|".join(parts) + ")"


class _RangeConverter(IntegerConverter):
    default_min = 0
    default_max = MAX_BIG_ID

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        low = self.default_min if min is None else min
        high = self.default_max if max is None else max
        super().__init__(map, fixed_digits, low, high, signed)
        if not signed and not fixed_digits:
            self.regex = range_pattern(low, high)


class IntConverter(_RangeConverter):
    """The stock `int`, bounded to what a BIGINT holds, so no route can pass an unstorable number on."""


class YearConverter(_RangeConverter):
    """A year: any number matches, so an implausible one gets the operation's own 422 message ("The year 1800
    is not plausible"); the OpenAPI document states the plausible range, 1990 to 2100."""

    def __init__(self, map: Map, *args: object, **kwargs: object) -> None:
        super().__init__(map)
        self.min, self.max = 1990, 2100  # documented, not matched

    def to_python(self, value: str) -> int:
        return int(value)


class IdConverter(_RangeConverter):
    """An INTEGER primary key."""

    default_min, default_max = 1, MAX_ID


class BigIdConverter(_RangeConverter):
    """A BIGINT primary key."""

    default_min, default_max = 1, MAX_BIG_ID


def register_converters(app: Flask) -> None:
    """Install the converters; before any route is added, since rules compile with them when registered."""
    app.url_map.converters.update({"int": IntConverter, "id": IdConverter, "bigid": BigIdConverter,
                                   "year": YearConverter})
