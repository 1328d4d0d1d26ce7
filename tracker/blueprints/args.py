"""Numbers in query strings (?unit=7, ?year=2024, ?page=2): ASCII digits in range, or a 400."""

from __future__ import annotations

import re

from flask import abort, request

from tracker.schemas.base import MAX_ID

_DIGITS = re.compile(r"[0-9]{1,10}")  # str.isdigit() also takes "²" and "١", which int() then refuses


def int_arg(name: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """The query argument `name` as a whole number within [minimum, maximum]; None when absent or empty."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    if not _DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        abort(400)
    return int(raw)


def id_arg(name: str) -> int | None:
    """The query argument `name` as an INTEGER id; None when absent or empty."""
    return int_arg(name)
