"""Unit names: normalisation, matching against an org tree, and plural ("fan-out") units.

These helpers are pure: phase 2 of the importer feeds them the org units from the database. Plans
write the same unit many ways ("Phòng LĐTB&XH", "Phòng Lao động - Thương binh và Xã hội", "phòng
Lao động-TB&XH"), so names are compared on a normal form with abbreviations expanded, tone marks in
one position and punctuation dropped.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from difflib import SequenceMatcher
from typing import TypeVar

from tracker.importer.textnorm import fold_dashes, fold_tones, nfc

Key = TypeVar("Key", bound=Hashable)

# Abbreviation -> expansion, applied to lower-case text with dashes folded. Order matters: the
# longer forms come first so "ubmttq" is not read as "ub" + "mttq".
_ABBREVIATIONS: list[tuple[str, str]] = [
    (r"l[đd]\s*-?\s*tb\s*(?:&|và)\s*xh", "lao động thương binh và xã hội"),
    (r"l[đd]tb\s*(?:&|và)?\s*xh", "lao động thương binh và xã hội"),
    (r"lao động\s*-?\s*tb\s*(?:&|và)\s*xh", "lao động thương binh và xã hội"),
    (r"ubmttq", "ủy ban mặt trận tổ quốc"),
    (r"mttq", "mặt trận tổ quốc"),
    (r"ubnd", "ủy ban nhân dân"),
    (r"hđnd", "hội đồng nhân dân"),
    (r"nn\s*(?:&|và)\s*ptnt", "nông nghiệp và phát triển nông thôn"),
    (r"ptnt", "phát triển nông thôn"),
    (r"gd\s*(?:&|và)?\s*[đd]t", "giáo dục và đào tạo"),
    (r"tt\s*(?:&|và)\s*tt", "thông tin và truyền thông"),
    (r"kh\s*(?:&|và)\s*[đd]t", "kế hoạch và đầu tư"),
    (r"tn\s*(?:&|và)\s*mt", "tài nguyên và môi trường"),
    (r"vh\s*,?\s*tt\s*(?:&|và)\s*dl", "văn hóa thể thao và du lịch"),
    (r"kt\s*-?\s*ht", "kinh tế hạ tầng"),
    (r"tc\s*-\s*kh", "tài chính kế hoạch"),
    (r"vhxh", "văn hóa xã hội"),
    (r"vh\s*-\s*xh", "văn hóa xã hội"),
    (r"bc[đd]", "ban chỉ đạo"),
    (r"nhcsxh", "ngân hàng chính sách xã hội"),
    (r"bhxh", "bảo hiểm xã hội"),
    (r"bhyt", "bảo hiểm y tế"),
    (r"hlhpn", "hội liên hiệp phụ nữ"),
    (r"lhpn", "liên hiệp phụ nữ"),
    (r"hccb", "hội cựu chiến binh"),
    (r"tncs", "thanh niên cộng sản"),
    (r"đtn", "đoàn thanh niên"),
    (r"ct\s*-\s*xh", "chính trị xã hội"),
    (r"cntt", "công nghệ thông tin"),
    (r"tp", "thành phố"),
    (r"tx", "thị xã"),
    (r"vn", "việt nam"),
    (r"tw", "trung ương"),
]
_ABBREVIATION_RES = [(re.compile(rf"(?<![\w&]){pattern}(?![\w&])"), repl) for pattern, repl in _ABBREVIATIONS]
_PUNCTUATION = re.compile(r"[\"“”‘’'()\[\],.;:!?/\\]")
_REQUEST_PREFIX = re.compile(r"^(?:đề nghị|giao|yêu cầu)\s+")

# The org-type nouns a unit name starts with; two names with different types are different units.
_ORG_TYPES = (
    "ủy ban nhân dân",
    "ủy ban mặt trận tổ quốc",
    "mặt trận tổ quốc",
    "hội đồng nhân dân",
    "ban chỉ đạo",
    "phòng",
    "sở",
    "ban",
    "trạm",
    "trung tâm",
    "công chức",
    "cán bộ",
    "hội",
    "đoàn",
    "công an",
    "đài",
    "ngân hàng",
    "bảo hiểm xã hội",
    "trường",
    "nhà trường",
    "thôn",
    "tổ dân phố",
    "chi nhánh",
    "chi cục",
    "văn phòng",
    "bệnh viện",
    "bộ",
    "cục",
    "đảng ủy",
    "kho bạc",
    "viện",
)
_LEVELS = ("xã", "phường", "thị trấn", "huyện", "quận", "thị xã", "thành phố", "tỉnh")
# "xã hội" and "hợp tác xã" are not communes.
_LEVEL_RE = re.compile(r"(?<!\w)(thị trấn|thị xã|thành phố|(?<!tác )xã(?! hội)|phường|huyện|quận|tỉnh)(?!\w)")


def normalize_unit_name(name: str) -> str:
    """Return the comparison form of a unit name.

    NFC, lower case, new-style tone placement, dashes folded, abbreviations (LĐTB&XH, UBMTTQ, MTTQ,
    UBND, NN&PTNT, GD&ĐT, VHXH, BCĐ, TT&TT, NHCSXH...) expanded, a leading "Đề nghị" dropped,
    punctuation and repeated spaces removed.
    """
    text = fold_dashes(fold_tones(nfc(name or "").lower()))
    text = " ".join(text.split())
    text = _REQUEST_PREFIX.sub("", text)
    for pattern, replacement in _ABBREVIATION_RES:
        text = pattern.sub(replacement, text)
    text = _PUNCTUATION.sub(" ", text).replace("-", " ").replace("&", " và ")
    return " ".join(text.split())


def _org_type(normalized: str) -> str | None:
    for org_type in sorted(_ORG_TYPES, key=len, reverse=True):
        if normalized == org_type or normalized.startswith(org_type + " "):
            return org_type
    return None


def _levels(normalized: str) -> set[str]:
    return set(_LEVEL_RE.findall(normalized))


def _place_name(normalized: str) -> str:
    """Return the proper name after the level word ("ủy ban nhân dân xã nhật quang" -> "nhật quang")."""
    match = _LEVEL_RE.search(normalized)
    return normalized[match.end() :].strip() if match else ""


def unit_similarity(a: str, b: str) -> float:
    """Score 0-1 how likely two unit names denote the same unit."""
    na, nb = normalize_unit_name(a), normalize_unit_name(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    ta, tb = set(na.split()), set(nb.split())
    shared = len(ta & tb)
    containment = shared / min(len(ta), len(tb))
    jaccard = shared / len(ta | tb)
    score = max(SequenceMatcher(None, na, nb).ratio(), 0.6 * containment + 0.4 * jaccard)
    type_a, type_b = _org_type(na), _org_type(nb)
    if type_a and type_b and type_a != type_b:
        score *= 0.6
    levels_a, levels_b = _levels(na), _levels(nb)
    if levels_a and levels_b and not levels_a & levels_b:
        score *= 0.5
    place_a, place_b = _place_name(na), _place_name(nb)
    if place_a and place_b and place_a != place_b:
        score *= 0.5  # "xã Tân An" and "xã Nhật Quang" are different communes
    return round(min(score, 0.99), 3)


def match_unit(name: str, candidates: Iterable[tuple[Key, str]], *, min_score: float = 0.5) -> list[tuple[Key, float]]:
    """Rank `candidates` (key, unit name) by similarity to `name`, best first, dropping weak ones."""
    scored = [(key, unit_similarity(name, candidate)) for key, candidate in candidates]
    ranked = [pair for pair in scored if pair[1] >= min_score]
    ranked.sort(key=lambda pair: pair[1], reverse=True)
    return ranked


# Plural unit phrases and the kind of org unit they fan out to, most specific first.
_PLURAL_KINDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bcác (?:thôn|làng|xóm|bản|ấp|khu dân cư)\b|\bthôn, làng\b"), "village"),
    (re.compile(r"\bcác tổ dân phố\b|\bcác khu phố\b|\bcác tdp\b"), "residential_group"),
    (re.compile(r"\bcác (?:xã|phường)\b"), "commune"),
    (
        re.compile(
            r"^ủy ban nhân dân (?:các )?(?:huyện|quận) (?:thị xã|quận|thành phố)\b"
            r"|^ủy ban nhân dân các (?:huyện|quận)\b"
        ),
        "district",
    ),
    (re.compile(r"\bcác (?:huyện|quận|thị xã|thành phố)\b"), "district"),
    (re.compile(r"\bcác (?:nhà )?trường\b|\bcác cơ sở giáo dục\b|\bcác trường học\b"), "school"),
    (re.compile(r"\bcác trạm y tế\b|\bcác cơ sở y tế\b"), "health_station"),
    (re.compile(r"\bcác (?:tổ chức chính trị xã hội|đoàn thể|hội đoàn thể)\b"), "mass_organization"),
    (re.compile(r"\bcác (?:sở|ban ngành|ban|ngành|phòng|cơ quan|đơn vị)\b"), "department"),
    (re.compile(r"\bcác (?:công chức|cán bộ)\b"), "official"),
    (re.compile(r"\bcác (?:địa phương)\b"), "locality"),
]


_LEVEL_KIND = {
    "xã": "commune",
    "phường": "commune",
    "thị trấn": "commune",
    "huyện": "district",
    "quận": "district",
    "thị xã": "district",
    "thành phố": "district",
    "tỉnh": "province",
}


def plural_unit_kind(name: str) -> str | None:
    """Return the kind of unit a plural name fans out to, or None for a single unit.

    "Các thôn" -> "village", "UBND các xã, thị trấn" -> "commune", "Các nhà trường" -> "school",
    "các tổ dân phố" -> "residential_group", "UBND huyện, thị xã, thành phố" -> "district".
    """
    normalized = normalize_unit_name(name)
    for pattern, kind in _PLURAL_KINDS:
        if pattern.search(normalized):
            return kind
    if normalized.startswith(("các ", "những ")):
        # "Các Trung tâm Y tế huyện": one unit per district; otherwise a plural of unknown kind.
        levels = _LEVEL_RE.findall(normalized)
        return _LEVEL_KIND[levels[-1]] if levels else "unit"
    return None
