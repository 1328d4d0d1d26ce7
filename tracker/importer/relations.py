"""Who a task reports to, who coordinates, and the sentences a task is made of."""

from __future__ import annotations

import re

from tracker.importer.unitphrase import find_units, is_generic, split_enumeration, starts_with_unit, unit_list_at
from tracker.importer.units import normalize_unit_name

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+(?=[-+A-ZĐÀ-Ỹ])")
_REPORT_VERB = re.compile(r"\b(?:báo\s+cáo|gửi(?:\s+về)?)\b", re.IGNORECASE)
_REPORTISH = re.compile(r"\b(?:báo\s+cáo|gửi|tổng\s+hợp)\b", re.IGNORECASE)
_FILLER = re.compile(
    r"^(?:(?:kịp\s+thời|định\s+kỳ|ngay|trực\s+tiếp|bằng\s+văn\s+bản|kết\s+quả)\s+)*"
    r"(?:(?:về|lên|cho|tới|đến)\s+)?",
    re.IGNORECASE,
)
_TO_WORD = re.compile(r"\b(?:về|lên|cho|tới|gửi)\s+", re.IGNORECASE)
_COORDINATE = re.compile(r"\bphối\s+hợp(?:\s+chặt\s+chẽ)?(?:\s+(?:với|cùng))?\s+", re.IGNORECASE)
_COORDINATE_AFTER = re.compile(r"^\s*phối\s+hợp\b", re.IGNORECASE)
_REQUEST_END = re.compile(r"(?:đề\s+nghị|giao|yêu\s+cầu)$", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.;](?:\s|$)")


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences (a full stop followed by a capital or a bullet)."""
    return [part.strip() for part in _SENTENCE_SPLIT.split(text) if part.strip()]


def is_reportish(sentence: str) -> bool:
    """Tell whether a sentence is about reporting ("báo cáo", "gửi", "tổng hợp")."""
    return bool(_REPORTISH.search(sentence))


def _clause(text: str, start: int) -> str:
    end = _CLAUSE_END.search(text, start)
    return text[start : end.start() if end else len(text)]


def _keep(names: list[str], exclude: set[str]) -> list[str]:
    out: list[str] = []
    seen = set(exclude)
    for name in names:
        key = normalize_unit_name(name)
        if not key or key in seen or is_generic(name):
            continue
        seen.add(key)
        out.append(name)
    return out


def find_report_to(text: str, own_unit: str = "") -> list[str]:
    """Return the units a text says to report to ("báo cáo UBND xã", "báo cáo ... về Sở LĐTB&XH")."""
    found: list[str] = []
    matches = list(_REPORT_VERB.finditer(text))
    for index, match in enumerate(matches):
        stop = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        window = _clause(text[:stop], match.end())
        lead = _FILLER.match(window.lstrip())
        rest = window.lstrip()[lead.end() :] if lead else window.lstrip()
        if starts_with_unit(rest):
            found.extend(unit_list_at(rest))
            continue
        for to_word in _TO_WORD.finditer(window):
            tail = window[to_word.end() :]
            if starts_with_unit(tail):
                found.extend(unit_list_at(tail))
                break
    return _keep(found, {normalize_unit_name(own_unit)} if own_unit else set())


def find_coordinating(text: str, own_unit: str = "") -> list[str]:
    """Return the units a text says to coordinate with ("phối hợp với ...", "X phối hợp thực hiện")."""
    found: list[str] = []
    for match in _COORDINATE.finditer(text):
        tail = text[match.end() :]
        if starts_with_unit(tail):
            found.extend(unit_list_at(tail))
    for name, start, end in find_units(text):
        # "Đề nghị Ủy ban MTTQ tỉnh phối hợp thực hiện": the unit is the subject of "phối hợp".
        before = text[:start].rstrip()
        subject = not before or before.endswith((".", ";", ":")) or _REQUEST_END.search(before)
        if subject and _COORDINATE_AFTER.match(text[end : end + 20]):
            found.append(name)
    return _keep(found, {normalize_unit_name(own_unit)} if own_unit else set())


def units_before_report(sentence: str) -> list[str]:
    """Return the units named before "báo cáo" in a sentence (who reports), enumerations split."""
    match = _REPORT_VERB.search(sentence)
    head = sentence[: match.start()] if match else sentence
    out: list[str] = []
    for name, _s, _e in find_units(head):
        out.extend(split_enumeration(name))
    return out
