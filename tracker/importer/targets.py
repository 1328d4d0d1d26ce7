"""Targets: indicator values by year, from objective sentences and from target tables.

Objectives are written as "tỷ lệ hộ nghèo ... giảm xuống còn 2,03%", "100% người ... được ...",
"trên 80% hộ ...", "giảm từ 5,21% xuống 3,25%". A value's year is the "năm YYYY" right after it, the
year of its own parenthesis ("(tỷ lệ năm 2022 là 1,89%)"), the year written before it in the
sentence, the horizon of the heading ("Mục tiêu đến năm 2025"), or the plan's year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.importer.budget import checkpoint
from tracker.importer.numbers import parse_number
from tracker.importer.sections import Node
from tracker.importer.tablerows import TargetRow
from tracker.importer.textnorm import collapse, lower_key

_COUNT_UNITS = (
    "đường dây",
    "ổ nhóm",
    "tụ điểm",
    "vụ",
    "đối tượng",
    "tạ/ha",
    "tấn/ha",
    "tạ",
    "ca",
    "trường hợp",
    "sản phẩm",
    "doanh nghiệp",
    "hợp tác xã",
    "tấn",
    "điểm",
    "tiêu chí",
    "căn",
    "hộ",
    "người",
    "lượt",
    "lao động",
    "học sinh",
    "mô hình",
    "công trình",
    "xã",
    "thôn",
    "trường",
    "lớp",
    "km",
    "ha",
    "tỷ đồng",
    "triệu đồng",
    "cơ sở",
    "trẻ",
    "công dân",
    "thanh niên",
    "đoàn viên",
    "hội viên",
    "lớp học",
    "buổi",
    "cuộc",
    "đợt",
    "khu công nghiệp",
    "cụm công nghiệp",
    "dự án",
    "chương trình",
    "giường bệnh",
    "giường",
    "bác sĩ",
    "nhà văn hóa",
    "tỷ USD",
    "triệu USD",
    "nghìn USD",
    "USD",
    "m2",
    "m²",
    "con",
    "lần",
    "tuyến",
    "chợ",
    "làng nghề",
    "hợp đồng",
)
# "2,1 con/phụ nữ", "tấn/ha", "người/vạn dân": a rate written with a slash is a unit whatever its nouns.
_RATE_UNIT = r"[^\W\d_]+(?:\s[^\W\d_]+)?/[^\W\d_]+(?:\s[^\W\d_]+)?"
_UNIT_ALT = _RATE_UNIT + "|" + "|".join(re.escape(u) for u in sorted(_COUNT_UNITS, key=len, reverse=True))
_VALUE = re.compile(rf"(?<![\d/.,])(?P<num>\d+(?:[.,]\d+)*)\s?(?P<uom>%|(?:{_UNIT_ALT})(?![^\W\d_]))")
_FROM_TO = re.compile(
    rf"từ\s+(?P<a>\d+(?:[.,]\d+)?)\s?(?P<ua>%|(?:{_UNIT_ALT})(?![^\W\d_]))?(?P<mid>[^%;()]{{0,40}}?)\s+"
    rf"(?:xuống(?:\s+còn)?|còn|đến|lên|về)\s+(?:mức\s+)?(?:khoảng\s+)?(?P<cmp>dưới\s+|trên\s+)?"
    rf"(?P<b>\d+(?:[.,]\d+)?)\s?(?P<ub>%|(?:{_UNIT_ALT})(?![^\W\d_]))",
    re.IGNORECASE,
)
_YEAR_AFTER = re.compile(
    r"^\s*\(?\s*(?:vào\s+)?(?:cuối\s+|đến\s+(?:cuối\s+)?|trong\s+)?năm\s+(?P<y>\d{4})", re.IGNORECASE
)
_YEAR_BEFORE = re.compile(r"năm\s+(?P<y>\d{4})(?!\s*[-–])", re.IGNORECASE)
_HORIZON = re.compile(r"(?:đến|cuối|trong)\s+(?:cuối\s+)?năm\s+(?P<y>\d{4})|năm\s+(?P<z>\d{4})", re.IGNORECASE)
_DELTA = re.compile(
    r"(?:giảm|tăng)(?:\s+(?:thêm|được|bình\s+quân|khoảng|trong\s+năm|ít\s+nhất|tối\s+thiểu|trên|tối\s+đa))*\s*$",
    re.IGNORECASE,
)
_CUE = re.compile(
    r"phấn\s+đấu|đảm\s+bảo|bảo\s+đảm|\bđạt\b|hướng\s+tới|xuống\s+còn|giảm\s+xuống|tăng\s+lên", re.IGNORECASE
)
_GREATER = re.compile(r"(?:trên|hơn|vượt)\s*$", re.IGNORECASE)
_AT_LEAST = re.compile(r"(?:tối\s+thiểu|ít\s+nhất)\s*$", re.IGNORECASE)
_LESS = re.compile(r"(?:dưới|thấp\s+hơn)\s*$", re.IGNORECASE)
_AT_MOST = re.compile(r"(?:không\s+quá|tối\s+đa)\s*$", re.IGNORECASE)
_LEAD_WORDS = re.compile(
    r"^(?:[-+*•:,;\s]|phấn\s+đấu|đảm\s+bảo|bảo\s+đảm|tiếp\s+tục|duy\s+trì|trên|dưới|khoảng|đạt|"
    r"(?:trong|đến|vào)?\s*(?:cuối\s+)?năm\s+\d{4},?|giảm|tăng|chiều[^:]*:|trong\s+đó)+",
    re.IGNORECASE,
)
_TAIL_WORDS = re.compile(
    r"(?:\s|,)*(?:(?:giảm|tăng)(?:\s+(?:xuống|lên|về))?(?:\s+còn)?(?:\s+mức)?|xuống(?:\s+còn)?|còn|đạt|là|"
    r"về\s+mức|mức|khoảng|dưới|trên|từ|phấn\s+đấu|của|đến|tối\s+thiểu|tối\s+đa|ít\s+nhất|không\s+quá)(?:\s|$)*$",
    re.IGNORECASE,
)
_AFTER_STOP = re.compile(
    r"[;.(]|,\s*(?:trong\s+đó|gồm|bao\s+gồm)\b|\s+(?:theo|so\s+với|trở\s+lên|vào\s+cuối|đến\s+năm)\b"
    # "gồm 28 công dân nhập ngũ và 04 công dân ...": the next value starts another indicator.
    r"|\s*(?:,|\s+và|\s+hoặc)\s+(?=\d)"
    r"|\s+(?:trong\s+|vào\s+|đến\s+)?(?:cuối\s+)?năm\s+\d{4}",
    re.IGNORECASE,
)
_PAREN_FILLER = re.compile(
    r"^\(?\s*(?:tỷ\s+lệ\s+)?(?:(?:tính\s+)?(?:đến\s+)?(?:cuối|đầu|hết)?\s*(?:năm\s+\d{4}\s*)?)?(?:là|đạt|:)?\s*$",
    re.IGNORECASE,
)


def _baseline_paren(after: str) -> bool:
    """Tell whether the text after a value opens a parenthesis holding a value of its own."""
    stripped = after.lstrip()
    if not stripped.startswith("("):
        return False
    closing = stripped.find(")")
    return bool(_VALUE.search(stripped[: closing if closing >= 0 else None]))
_TARGET_KINDS = {"objective", "content", "impl", "report", None}


@dataclass
class TargetDraft:
    """A target as found: indicator, unit of measure, values by year, comparator, responsible unit."""

    indicator: str
    unit_of_measure: str
    values: dict[int, float] = field(default_factory=dict)
    comparator: str = "="
    responsible: str | None = None
    section: str = ""
    source: str = ""
    year_stated: bool = True
    group: str = ""


def split_clauses(text: str) -> list[str]:
    """Split on ";" and sentence ends, never inside parentheses."""
    out, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += char == "("
        depth -= char == ")" and depth > 0
        if depth == 0 and (char == ";" or (char == "." and (index + 1 == len(text) or text[index + 1] == " "))):
            out.append(text[start : index + 1])
            start = index + 1
    out.append(text[start:])
    return [clause.strip() for clause in out if clause.strip()]


def _paren_span(text: str, position: int) -> tuple[int, int] | None:
    opening = text.rfind("(", 0, position)
    if opening < 0 or text.rfind(")", opening, position) >= 0:
        return None
    closing = text.find(")", position)
    return opening, closing if closing >= 0 else len(text)


_TRAILING_DELTA = re.compile(r"\s+(?:giảm|tăng)\s+(?:khoảng\s+)?\d+(?:[.,]\d+)?\s?%?\s*$", re.IGNORECASE)
_PREPOSITION = re.compile(r"^\s*(?:cho|của|tại|ở|trên|về|thuộc|được|đạt|có)\b", re.IGNORECASE)


def _clean_indicator(text: str, uom: str) -> str:
    text = collapse(text.replace("“", "").replace("”", ""))
    if text.count("(") > text.count(")"):
        text = text.replace("(", " ", text.count("(") - text.count(")"))
    text = collapse(text)
    text = _TRAILING_DELTA.sub("", text)
    for _ in range(3):
        text = _LEAD_WORDS.sub("", text).strip()
        text = _TAIL_WORDS.sub("", text).strip(" ,:;-")
    words = text.split()
    if len(words) > 30:
        text = " ".join(words[:30])
    if uom != "%" and lower_key(text).startswith("tỷ lệ "):
        text = "Số " + text[6:].strip()
    return text[:1].upper() + text[1:]


def _count_noun(value_text: str) -> str:
    """Return the count noun of "15 đường dây" ("đường dây"); "" for a percentage."""
    parts = value_text.split(None, 1)
    return parts[1] if len(parts) == 2 and not parts[1].startswith("%") else ""


def _comparator(before: str, after: str) -> str:
    if _AT_LEAST.search(before) or re.match(r"^\s*trở\s+lên", after):
        return ">="
    if _GREATER.search(before):
        return ">"
    if _AT_MOST.search(before):
        return "<="
    if _LESS.search(before):
        return "<"
    return "="


def _indicator_for(clause: str, start: int, end: int, region_start: int) -> str:
    """Name what the value at clause[start:end] measures."""
    before = clause[region_start:start]
    key = before.lower()
    at = key.rfind("tỷ lệ")
    after = clause[end:]
    stop = _AFTER_STOP.search(after)
    after = after[: stop.start()] if stop else after
    if at >= 0:
        named = _TAIL_WORDS.sub("", before[at:]).strip()
        # "Đạt tỷ lệ trên 95% trẻ em ... được tiêm": the rate is named after the value.
        return f"{named} {after}" if len(named.split()) <= 2 and len(after.split()) >= 2 else before[at:]
    if len(after.split()) >= 2:
        counted = _count_noun(clause[start:end])
        if _PREPOSITION.match(after) or counted:
            # "10 căn nhà cho hộ nghèo", "3 tiêu chí nông thôn mới", "15 đường dây, ổ nhóm ...": the unit
            # noun names the thing counted.
            noun = counted or clause[start:end].split(None, 1)[-1]
            return noun + ("" if after.startswith(",") else " ") + after
        return after
    return before


def targets_from_clause(clause: str, default_year: int | None, baseline_year: int | None) -> list[TargetDraft]:
    """Find the target values in one clause."""
    found: list[TargetDraft] = []
    consumed: list[tuple[int, int]] = []
    last_indicator = ""
    for pair in _FROM_TO.finditer(clause):
        uom = pair.group("ub")
        if pair.group("ua") and pair.group("ua") != uom:
            continue
        region = _paren_span(clause, pair.start())
        since = consumed[-1][1] if consumed else 0
        context = clause[since : region[0]] if region else clause[since : pair.start()]
        indicator = _clean_indicator(_indicator_for(context + " ", len(context), len(context), 0), uom)
        if "tỷ lệ" not in context.lower() and last_indicator:
            # "giảm từ 5,21% xuống 3,25%, tương đương giảm từ 64 hộ xuống còn 40 hộ": same indicator.
            indicator = _clean_indicator(last_indicator, uom)
        last_indicator = indicator
        for key, default in (("a", baseline_year), ("b", default_year)):
            value = parse_number(pair.group(key))
            unit_group = "ub" if key == "b" else "ua"
            after = clause[pair.end(unit_group) if pair.group(unit_group) else pair.end(key) :]
            year_match = _YEAR_AFTER.match(after)
            year = int(year_match.group("y")) if year_match else default
            if value is not None and year:
                comparator = _comparator(pair.group("cmp") or "", "") if key == "b" else "="
                found.append(TargetDraft(indicator, uom, {year: value}, comparator, year_stated=bool(year_match)))
        consumed.append((pair.start(), pair.end()))
    previous_indicator = ""
    region_start = 0
    for match in _VALUE.finditer(clause):
        if any(a <= match.start() < b for a, b in consumed):
            continue
        value = parse_number(match.group("num"))
        if value is None or (1900 <= value <= 2100 and match.group("uom") != "%"):
            continue
        before = clause[: match.start()]
        delta = _DELTA.search(before)
        if delta:
            # "Giảm 10% số trẻ em bị đuối nước so với năm 2024": a change, not a level to reach.
            change = _delta_target(clause, match, delta, region_start, default_year)
            if change:
                found.append(change)
            region_start = match.end()
            continue
        uom = match.group("uom")
        after = clause[match.end() :]
        paren = _paren_span(clause, match.start())
        year_match = _YEAR_AFTER.match(after)
        if year_match and _baseline_paren(after):
            year_match = None  # "xuống dưới 2% (cuối năm 2023 là 3,15%)": the year is the baseline's
        if paren:
            inner = clause[paren[0] : match.start()]
            years = _YEAR_BEFORE.findall(inner)
            year = int(year_match.group("y")) if year_match else int(years[-1]) if years else default_year
            stated = bool(year_match or years)
            if _PAREN_FILLER.match(re.sub(r"năm\s+\d{4}", "", inner, flags=re.IGNORECASE).replace("tỷ lệ", "")):
                indicator = previous_indicator or _clean_indicator(clause[: paren[0]], uom)
            else:
                indicator = _clean_indicator(_indicator_for(clause, match.start(), match.end(), paren[0] + 1), uom)
        else:
            outside = re.sub(r"\([^()]*\)", lambda m: " " * len(m.group(0)), before)
            years = _YEAR_BEFORE.findall(outside[region_start:]) or _YEAR_BEFORE.findall(outside)
            year = int(year_match.group("y")) if year_match else int(years[-1]) if years else default_year
            stated = bool(year_match or years)
            indicator = _clean_indicator(_indicator_for(clause, match.start(), match.end(), region_start), uom)
            indicator = indicator or _clean_indicator(clause[region_start : match.start()], uom)
            previous_indicator = indicator
        region_start = match.end()
        if year and indicator:
            draft = TargetDraft(indicator, uom, {year: value}, _comparator(before, after), year_stated=stated)
            found.append(draft)
    return found


def _delta_target(
    clause: str, match: re.Match[str], delta: re.Match[str], region_start: int, default_year: int | None
) -> TargetDraft | None:
    uom = match.group("uom")
    value = parse_number(match.group("num"))
    after = clause[match.end() :]
    stop = _AFTER_STOP.search(after)
    named = after[: stop.start()] if stop else after
    named = re.split(r"\s+so\s+với\b", named, maxsplit=1)[0]
    if len(named.split()) < 2:
        named = clause[region_start : delta.start()]
    indicator = _clean_indicator(named, uom)
    year_match = _YEAR_AFTER.match(after)
    outside = re.sub(r"\([^()]*\)", lambda m: " " * len(m.group(0)), clause[: match.start()])
    years = _YEAR_BEFORE.findall(outside)
    year = int(year_match.group("y")) if year_match else int(years[-1]) if years else default_year
    if value is None or not year or not indicator:
        return None
    comparator = "decrease" if delta.group(0).lower().startswith("giảm") else "increase"
    return TargetDraft(indicator, uom, {year: value}, comparator, year_stated=bool(year_match or years))


def _horizon(node: Node) -> int | None:
    """Return the year a heading sets for the targets under it ("2.1. Mục tiêu giảm nghèo đến cuối năm 2024").

    Only title-like headings count: a bullet whose first line is the target itself ("- Giảm tỷ lệ ... từ
    12% năm 2024 xuống dưới 8%") names a baseline year there, not a horizon.
    """
    for candidate in [node, *node.ancestors()]:
        heading = candidate.heading
        if candidate.style[0] in ("dash", "plus", "star") or not _is_title(heading, candidate):
            continue
        match = _HORIZON.search(heading)
        if match:
            return int(match.group("y") or match.group("z"))
    return None


def _is_title(heading: str, node: Node) -> bool:
    """Tell whether a heading is a short title rather than the first line of a sentence."""
    if node.style[0] == "roman":
        return True
    title = heading.split(":")[0]
    return len(title.split()) <= 14 and not _VALUE.search(title) and not title.rstrip().endswith((".", ";"))


def text_targets(root: Node, plan_year: int | None, responsible_of: dict[int, str]) -> list[TargetDraft]:
    """Collect the targets stated in the body's sentences."""
    found: list[TargetDraft] = []
    for node in root.walk():
        checkpoint()
        if node.style[0] in ("root",) or node.kind not in _TARGET_KINDS or not node.lines:
            continue
        default_year = _horizon(node) or plan_year
        baseline = default_year - 1 if default_year else None
        responsible = next((responsible_of[id(n)] for n in [node, *node.ancestors()] if id(n) in responsible_of), None)
        text = " ".join(node.lines[1:]) if node.style[0] == "roman" else node.own_text()
        for clause in split_clauses(text):
            if node.kind != "objective" and not _CUE.search(clause):
                continue
            for draft in targets_from_clause(clause, default_year, baseline):
                draft.section = node.section()
                draft.source = clause
                draft.responsible = responsible
                found.append(draft)
    return found


def table_targets(rows: list[TargetRow], prefix: str) -> list[TargetDraft]:
    """Turn target-table rows into target drafts."""
    out = []
    for row in rows:
        values = {year: value for year, (value, _text) in row.values.items()}
        indicator = _clean_indicator(row.indicator, row.unit_of_measure or "%") or row.group
        out.append(
            TargetDraft(
                indicator,
                row.unit_of_measure,
                values,
                row.comparator,
                row.responsible,
                f"{prefix}.{row.number}" if row.number else prefix,
                row.indicator,
                True,
                row.group,
            )
        )
    return out


_PLACE_QUALIFIER = re.compile(
    r"\s+(?:(?:của|trên\s+địa\s+bàn|toàn|trong)\s+)?(?:toàn\s+)?(?:xã|phường|thị\s+trấn|huyện|quận|thị\s+xã|"
    r"thành\s+phố|tỉnh)(?:\s+[A-ZĐÀ-Ỹ][^\s,;]*)*\s*$",
)


def _without_place(indicator: str) -> str:
    """Drop the place a plan writes after its own indicators ("Tỷ lệ hộ nghèo toàn huyện" -> "Tỷ lệ hộ nghèo")."""
    stripped = _PLACE_QUALIFIER.sub("", indicator).strip(" ,")
    return stripped if len(stripped.split()) >= 2 else indicator


def merge_targets(drafts: list[TargetDraft]) -> list[TargetDraft]:
    """Merge drafts naming the same indicator into one target with several years."""
    merged: dict[tuple[str, str, str, bool], TargetDraft] = {}
    for draft in drafts:
        draft.indicator = _without_place(draft.indicator)
        change = draft.comparator in ("decrease", "increase")
        key = (lower_key(draft.indicator), draft.unit_of_measure, draft.responsible or "", change)
        existing = merged.get(key)
        if existing is None:
            merged[key] = draft
            continue
        for year, value in draft.values.items():
            existing.values.setdefault(year, value)
        if existing.comparator == "=" and not change:
            existing.comparator = draft.comparator
    return list(merged.values())
