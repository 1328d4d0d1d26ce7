"""How the report writes numbers, dates and the units' texts: Vietnamese conventions, whatever the reader's
language (the document is an official Vietnamese document)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal

_SPACES = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_END = (".", "!", "?", ";", ":", "…")


def number(value: Decimal | float | int | None, digits: int = 2) -> str:
    """1.234,5 (a thousands dot, a decimal comma)."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale="vi")


def percent(share: float | None, digits: int = 1) -> str:
    """A share (0.975) as 97,5%."""
    if share is None:
        return ""
    return number(Decimal(str(share)) * 100, digits) + "%"


def dmy(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def clean(text: str | None) -> str:
    """One line of text: control characters and runs of white space (line breaks too) become one space."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text or "")).strip()


def sentence(text: str | None) -> str:
    """A cleaned text that starts with a capital and ends with punctuation (a report body quoted in a line)."""
    text = clean(text)
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith(_END) else text + "."


def shorten(text: str | None, limit: int = 160) -> str:
    """At most `limit` characters, cut at a word and marked with an ellipsis; a trailing ';' or '.' dropped."""
    text = clean(text).rstrip(" ;,.")
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ;,.")
    return cut + "…"


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def upper(text: str) -> str:
    """Upper case as Vietnamese documents write it ("Xã Cao Ngọc" -> "XÃ CAO NGỌC")."""
    return text.upper()


def long_date(day: date) -> str:
    """"ngày 06 tháng 12 năm 2026" as Decree 30/2020 writes it: days below 10 and January, February with a
    leading zero."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def join_names(names: list[str], limit: int = 0) -> str:
    """"A, B và C" (and "A, B và 12 đơn vị khác" past `limit` names)."""
    if limit and len(names) > limit:
        return ", ".join(names[:limit]) + f" và {len(names) - limit} đơn vị khác"
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " và " + names[-1]
