"""Vietnamese number formats: "2,03" is 2.03, "1.234" is 1234, "0.44" is 0.44."""

from __future__ import annotations

import re

NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_FULL_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*$")


def parse_number(token: str) -> float | None:
    """Parse one Vietnamese-formatted number, or return None when `token` is not a number.

    A comma is the decimal mark and a dot groups thousands, but writers copying from spreadsheets
    sometimes use a decimal dot ("0.44%"): a single dot followed by other than exactly three digits,
    or following a lone zero, is read as a decimal mark.
    """
    text = token.strip().rstrip("%").strip()
    if not _FULL_NUMBER.match(text):
        return None
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        grouping = "." if decimal == "," else ","
        return float(text.replace(grouping, "").replace(decimal, "."))
    if "," in text:
        if text.count(",") > 1:
            return float(text.replace(",", ""))
        return float(text.replace(",", "."))
    if "." in text:
        whole, _, rest = text.partition(".")
        if text.count(".") > 1:
            return float(text.replace(".", ""))
        if len(rest) == 3 and whole != "0":
            return float(whole + rest)
        return float(text)
    return float(text)


def decimals_shown(token: str) -> int:
    """Count the decimals written in `token` ("2,12" -> 2), used as the rounding tolerance."""
    text = token.strip().rstrip("%")
    value = parse_number(text)
    if value is None or (value == int(value) and "," not in text):
        return 0
    for mark in (",", "."):
        if mark in text:
            tail = text.rsplit(mark, 1)[1]
            if mark == "." and len(tail) == 3 and text.count(".") == 1 and not text.startswith("0."):
                return 0
            return len(tail)
    return 0
