"""Header facts: title, issuing unit, number, issue date, year or period, implemented documents."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from tracker.importer.casing import restore_case
from tracker.importer.dates import find_date_expressions
from tracker.importer.doctype import TITLE_WORDS
from tracker.importer.places import is_central_city
from tracker.importer.readers.base import Block
from tracker.importer.segments import Segments
from tracker.importer.textnorm import collapse, is_mostly_upper, title_case_name
from tracker.importer.units import normalize_unit_name

_LEVELS = r"(?:xã|phường|thị\s+trấn|huyện|quận|thị\s+xã|thành\s+phố|tỉnh|đặc\s+khu)"
_MOTTO = re.compile(r"CỘNG\s+H[OÒ][AÀ]\s*X[AÃ]\s+HỘI.*|Độc\s+lập\s*[-–]\s*Tự\s+do.*", re.IGNORECASE)
_UBND_UPPER = re.compile(r"(?:ỦY|UỶ)\s+BAN\s+NHÂN\s+DÂN|UBND", re.IGNORECASE)
_UBND_HEADER = re.compile(
    rf"(?:ỦY\s+BAN\s+NHÂN\s+DÂN|UỶ\s+BAN\s+NHÂN\s+DÂN|UBND)\s+(?P<level>{_LEVELS})\s+(?P<name>[^\s,;:|]+(?:\s+[^\s,;:|]+){{0,3}})",
    re.IGNORECASE,
)
_UBND_STATEMENT = re.compile(
    rf"(?:Ủy\s+ban\s+nhân\s+dân|Uỷ\s+ban\s+nhân\s+dân|UBND)\s+(?P<level>{_LEVELS})\b(?P<tail>.{{0,40}}?)\s*"
    r"(?:ban\s+hành|xây\s+dựng|triển\s+khai)\s+(?:K|k)ế\s+hoạch",
)
_NUMBER = re.compile(r"Số\s*:?\s*(?P<num>\d+[A-Za-z]?)?\s*(?P<sep>[/-])\s*(?P<sym>KH[-/][\wĐđ&.-]+)")
# "Số: 4085/UBND-ĐT", "Số: 03/NQ-CP", "Số: 06/CT-UBND", "Số: 2638/LĐTBXH-KHTC": whatever the kind.
_ANY_NUMBER = re.compile(
    r"^\s*Số\s*:?\s*(?P<num>\d+[A-Za-z]?)?\s*(?P<sep>/)\s*(?P<sym>[A-ZĐ][\wĐđ&.]*(?:\s*-\s*[\wĐđ&.]+)*)"
)
_CAPTION_NUMBER = re.compile(
    r"Kế\s+hoạch\s+số\s*:?\s*(?P<num>\d+[A-Za-z]?)?\s*(?P<sep>[/-])\s*(?P<sym>KH[-/][\wĐđ&.-]+)", re.IGNORECASE
)
# A plan issued by a decision carries the decision's number: "(Ban hành kèm theo Quyết định số 1520/QĐ-UBND
# ngày 12/4/2024 ...)" under its title, or "Số: 1520/QĐ-UBND" above "QUYẾT ĐỊNH".
_DECISION_NUMBER = re.compile(
    r"(?:Quyết\s+định\s+số|Số)\s*:?\s*(?P<num>\d+[A-Za-z]?)?\s*(?P<sep>[/-])\s*(?P<sym>QĐ[-/][\wĐđ&.-]+)", re.IGNORECASE
)
_DECISION = re.compile(r"^QUYẾT\s+ĐỊNH\s*$")
_VN_DATE = re.compile(r"ngày\s*(?P<d>\d{1,2})?\s*tháng\s*(?P<m>\d{1,2})?\s*năm\s*(?P<y>\d{4})", re.IGNORECASE)
_SLASH_DATE = re.compile(r"ngày\s*(?P<d>\d{1,2})?\s*/\s*(?P<m>\d{1,2})\s*/\s*(?P<y>\d{4})", re.IGNORECASE)
_TIME_LINE = re.compile(r"^(?:\d+\.\s*)?Thời\s+gian(?:\s+thực\s+hiện)?\s*:\s*(?P<value>.+)$", re.IGNORECASE)
# "Đơn vị chủ trì: ... / Đơn vị phối hợp: ... / Thời gian thực hiện: Quý II/2025" schedules one activity,
# not the plan: such a time line does not give the plan's period.
_ACTIVITY_LABEL = re.compile(
    r"^(?:(?:Đơn\s+vị|Cơ\s+quan|Bộ\s+phận)\s+(?:chủ\s+trì|phối\s+hợp|thực\s+hiện|tham\s+mưu)|Chủ\s+trì|Phối\s+hợp"
    r"|Trách\s+nhiệm|Sản\s+phẩm)"
    r"[^:]{0,20}:",
    re.IGNORECASE,
)
_PERIOD = re.compile(
    r"giai\s+đoạn\s*(?P<a>\d{4})\s*[-–—]\s*(?P<b>\d{4})|(?P<c>\d{4})\s*[-–—]\s*(?P<d>\d{4})"
    r"|từ\s+năm\s+(?P<e>\d{4})\s+đến\s+(?:hết\s+)?năm\s+(?P<f>\d{4})",
    re.IGNORECASE,
)
_SCHOOL_YEAR = re.compile(r"năm\s+học\s+(?P<a>\d{4})\s*[-–—]\s*(?P<b>\d{4})", re.IGNORECASE)
SCHOOL_YEAR_END = (5, 31)  # a Vietnamese school year ends by 31 May
_YEAR = re.compile(r"(?<!đến\s)(?<!đến\scuối\s)năm\s+(?P<y>\d{4})(?!\s*[-–—]\s*\d{4})", re.IGNORECASE)
_DOC_REF = re.compile(
    r"(?P<doc>(?:Quyết\s+định|Kế\s+hoạch|Nghị\s+quyết|Chỉ\s+thị|Chương\s+trình(?:\s+hành\s+động)?|Thông\s+tư|"
    r"Nghị\s+định|Công\s+văn|Văn\s+bản|Hướng\s+dẫn|Đề\s+án|Luật|Thông\s+báo|Kết\s+luận)\s+số\s*:?\s*"
    r"[\w./\-–]*\d[\w./\-–]*(?:\s+ngày\s*\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4})?"
    r"(?:\s+của\s+(?:(?!\s(?:về|v/v)\s)[^;,.])*)?)",
    re.IGNORECASE,
)
# A ground clause starts a sentence; "... về Thực hiện mục tiêu ..." is part of a document's subject.
_CLAUSE_START = re.compile(r"(?:^|(?<=[\s;.]))(?<!về\s)(?<!việc\s)(?:Căn\s+cứ|Thực\s+hiện|Triển\s+khai)\s+")
_ISSUE_VERB = re.compile(
    r"ban\s+hành\s+Kế\s+hoạch\s+(?P<object>.*?)(?:,|\s+như\s+sau|\s+với\s+(?:những\s+)?nội\s+dung|"
    r"\s+cụ\s+thể|:|$)",
    re.IGNORECASE,
)


@dataclass
class HeaderFacts:
    """What the header and preamble say about the plan."""

    title: str = ""
    issuer: str | None = None
    plan_number: str | None = None
    number_blank: bool = False
    issued: date | None = None
    issued_month: str | None = None
    year: int | None = None
    period: tuple[int, int] | None = None
    period_end: date | None = None
    implements: list[str] = field(default_factory=list)
    horizon: int | None = None  # "đến năm 2030": the year the plan runs to, when it names no period
    kind: str = "unknown"
    level: str | None = None

    @property
    def issued_floor(self) -> date | None:
        """Return the earliest date the plan can have been issued (first of the month if only that is known)."""
        if self.issued:
            return self.issued
        if self.issued_month:
            year, month = self.issued_month.split("-")
            return date(int(year), int(month), 1)
        return None


def _texts(blocks: list[Block]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if block.is_row:
            out.extend(cell for cell in block.cells or () if cell)
        else:
            out.append(block.text)
    return out


def _level_name(level: str, name: str) -> str:
    level = collapse(level).lower()
    return f"UBND {level} {title_case_name(name) if name.isupper() else name}".strip()


def _written_form(upper: str, whole_text: str) -> str:
    """Return how the body writes an upper-case header name ("SỞ Y TẾ" -> "Sở Y tế")."""
    pattern = re.compile(r"\b" + r"\s+".join(re.escape(w) for w in upper.split()) + r"\b", re.IGNORECASE)
    spellings = Counter(m.group(0) for m in pattern.finditer(whole_text) if not m.group(0).isupper())
    if spellings:
        return " ".join(spellings.most_common(1)[0][0].split())
    return upper[:1] + upper[1:].lower()


def _issuer_from_header(lines: list[str], whole_text: str = "") -> str | None:
    agency = []
    for line in lines:
        if re.match(r"^Số\s*:?", line) or _VN_DATE.search(line):
            break
        cleaned = _MOTTO.sub("", line).strip(" -")
        if cleaned and is_mostly_upper(cleaned, 0.7):
            agency.append(cleaned)
    joined = " ".join(agency)
    match = _UBND_HEADER.search(joined)
    if match and match.end() >= len(joined) - 1:
        return _level_name(match.group("level"), match.group("name"))
    if agency and not _UBND_UPPER.fullmatch(agency[-1]):
        # "UBND TỈNH X" / "SỞ Y TẾ": the last line is the issuing body, a department of the UBND above it
        # ("Sở Y tế tỉnh X"), unless its own name already says where it is.
        last = agency[-1]
        written = _written_form(last, whole_text)
        parent = _UBND_HEADER.search(" ".join(agency[:-1]))
        if parent and not re.search(rf"\b{_LEVELS}\b", written, re.IGNORECASE):
            level = collapse(parent.group("level")).lower()
            name = parent.group("name")
            return f"{written} {level} {title_case_name(name) if name.isupper() else name}"
        return written
    if match:
        return _level_name(match.group("level"), match.group("name"))
    return None


def _proper_name_after(text: str, level: str) -> str | None:
    """Find the most common "<level> <Proper Name>" in the text ("tỉnh Hưng Yên")."""
    pattern = re.compile(rf"\b{level}\s+((?:[A-ZĐÀ-Ỹ][^\s,;:.()]*)(?:\s+[A-ZĐÀ-Ỹ][^\s,;:.()]*){{0,3}})")
    counts = Counter(m.group(1) for m in pattern.finditer(text))
    return counts.most_common(1)[0][0] if counts else None


def _issuer_from_statement(preamble: str, whole: str) -> str | None:
    match = _UBND_STATEMENT.search(preamble)
    if not match:
        return None
    level = collapse(match.group("level")).lower()
    words = []
    for word in match.group("tail").split():
        if not word[:1].isupper():
            break
        words.append(word)
    name = " ".join(words) or _proper_name_after(whole, level)
    return f"UBND {level} {name}".strip() if name else f"UBND {level}"


def _number(texts: list[str], captions: list[str], decision: list[str]) -> tuple[str | None, bool]:
    """The document's number; (None, True) when it is left blank ("Số:   /KH-UBND", a draft)."""
    blank = False
    for pattern, source in (
        (_NUMBER, texts), (_CAPTION_NUMBER, captions), (_DECISION_NUMBER, decision), (_ANY_NUMBER, texts)
    ):
        for line in source:
            match = pattern.search(line)
            if match and match.group("num"):
                symbol = re.sub(r"\s+", "", match.group("sym"))
                return f"{match.group('num')}{match.group('sep')}{symbol}", False
            blank = blank or bool(match)
    return None, blank


def _issue_date(texts: list[str], captions: list[str]) -> tuple[date | None, str | None]:
    for line in [*texts, *captions]:
        for pattern in (_VN_DATE, _SLASH_DATE):
            match = pattern.search(line)
            if not match:
                continue
            year = int(match.group("y"))
            month = int(match.group("m")) if match.group("m") else None
            day = int(match.group("d")) if match.group("d") else None
            if month and day:
                try:
                    return date(year, month, day), f"{year:04d}-{month:02d}"
                except ValueError:
                    continue
            if month and 1 <= month <= 12:
                return None, f"{year:04d}-{month:02d}"
    return None, None


# The dates and numbers of documents a title cites ("Quyết định số 1237/QĐ-TTg ngày 27 tháng 7 năm 2013"): their
# years say nothing about the plan's own period.
_CITED = re.compile(
    r"ngày\s*\d{1,2}\s*tháng\s*\d{1,2}\s*năm\s*\d{4}|\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}|\bsố\s*:?\s*[\w./-]*\d{4}[\w./-]*"
    r"|\b\d+[-/]?\d*/\d{4}/[\wĐđ-]+|khóa\s+[IVXL]+",
    re.IGNORECASE,
)
_HORIZON = re.compile(r"(?:từ\s+nay\s+)?đến\s+(?:hết\s+|cuối\s+)?năm\s+(?P<y>\d{4})", re.IGNORECASE)


def _period_of(text: str) -> tuple[int | None, tuple[int, int] | None, int | None]:
    """Read (year, (first, last) period, horizon) from a title or a time line; cited documents' dates ignored."""
    text = _CITED.sub(" ", text)
    school = _SCHOOL_YEAR.search(text)
    if school:
        return None, (int(school.group("a")), int(school.group("b"))), None
    period = _PERIOD.search(text)
    if period:
        a, b = (int(x) for x in [g for g in period.groups() if g][:2])
        if a <= b:
            return None, (a, b), None
    year = _YEAR.search(text)
    if year:
        return int(year.group("y")), None, None
    horizon = _HORIZON.search(text)
    return None, None, int(horizon.group("y")) if horizon else None


def _title(segments: Segments, preamble: str, whole_text: str) -> str:
    """The document's title as officials write it: "Kế hoạch ...", "Chương trình hành động ...", "Chỉ thị về
    việc ...", a letter's "V/v ..."; "" for a document whose kind is not recognised (the caller warns)."""
    kind = segments.kind
    if segments.title:
        subject = " ".join(_cased(line, whole_text) for line in segments.title)
        subject = collapse(subject)
        if kind.kind == "cong_van":
            return subject
        word = _title_word(segments)
        return f"{word} {subject[:1].lower()}{subject[1:]}".strip() if subject else word
    match = _ISSUE_VERB.search(preamble)
    subject = match.group("object").strip() if match else ""
    if subject.lower() in ("", "thực hiện", "triển khai"):
        clause = re.search(r"(?:Thực\s+hiện|Triển\s+khai)\s+(?P<what>[^;]+?)(?:;|\.\s|$)", preamble)
        if clause:
            subject = f"{subject or 'thực hiện'} {clause.group('what').strip()}".strip()
    if not subject and kind.kind == "unknown":
        return ""
    return f"Kế hoạch {subject}".strip()


def _cased(line: str, whole_text: str) -> str:
    """An upper-case title line written as the body writes its words; a mixed-case line as it is."""
    return restore_case(line, whole_text) if is_mostly_upper(line, 0.6) else line


_TYPE_WORDS = re.compile(
    r"^(?:KẾ\s+HOẠCH|CHƯƠNG\s+TRÌNH(?:\s+HÀNH\s+ĐỘNG)?|ĐỀ\s+ÁN|QUYẾT\s+ĐỊNH|NGHỊ\s+QUYẾT|CHỈ\s+THỊ|THÔNG\s+BÁO"
    r"|CÔNG\s+ĐIỆN|HƯỚNG\s+DẪN)"
)


def _title_word(segments: Segments) -> str:
    """The words a title starts with: the type line's own ("Chương trình hành động"), in sentence case."""
    kind = segments.kind
    heading = kind.plan_heading
    line = segments.kind_line or ""
    match = _TYPE_WORDS.match(line.strip())
    if match:
        words = " ".join(match.group(0).split()).lower()
        return words[:1].upper() + words[1:]
    if heading is not None:
        key = kind.attachment_kind if kind.attachment is not None else kind.kind
        return TITLE_WORDS.get(key or "", "Kế hoạch")
    return "Kế hoạch"


_NATIONAL = re.compile(r"^(?:chính phủ|thủ tướng|quốc hội|ban chỉ đạo (?:quốc gia|trung ương)|ban bí thư|bộ chính trị"
                       r"|văn phòng chính phủ|ủy ban thường vụ quốc hội)", re.IGNORECASE)
_MINISTRY = re.compile(r"^(?:bộ|tổng cục|cục|ủy ban dân tộc|thanh tra chính phủ|ngân hàng nhà nước việt nam)\b",
                       re.IGNORECASE)
_DEPARTMENT = re.compile(r"^(?:sở|ban quản lý|công an tỉnh|bộ chỉ huy)\b", re.IGNORECASE)


def level_of(issuer: str | None) -> str | None:
    """The administrative level of the issuing body: national, ministry, province, district or commune."""
    if not issuer:
        return None
    name = collapse(issuer)
    if _NATIONAL.match(name):
        return "national"
    if _MINISTRY.match(name):
        return "ministry"
    if _DEPARTMENT.match(name):
        return "province"
    match = re.search(rf"\b(?P<level>{_LEVELS})\b\s*(?P<name>.*)$", name, re.IGNORECASE)
    if not match:
        return None
    level = collapse(match.group("level")).lower()
    if level == "tỉnh":
        return "province"
    if level == "thành phố":
        return "province" if is_central_city(match.group("name")) else "district"
    if level in ("huyện", "quận", "thị xã"):
        return "district"
    return "commune"


def _implements(preamble: str) -> list[str]:
    found: list[str] = []
    starts = [m.end() for m in _CLAUSE_START.finditer(preamble)]
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(preamble)
        for position, piece in enumerate(preamble[start:end].split(";")):
            ref = _DOC_REF.search(piece)
            if ref and ref.start() < 60:
                found.append(collapse(ref.group("doc")).rstrip(" ,"))
            elif not ref and position == 0 and "số" not in piece[:40]:
                fallback = piece.split(".")[0].strip()
                if 3 <= len(fallback.split()) <= 30:
                    found.append(fallback)
    return list(dict.fromkeys(found))


def _body_horizon(body_text: str, issued_year: int | None) -> int | None:
    """The furthest "đến năm 2030" the objectives aim at, for a plan that names no period of its own."""
    years = [int(m.group("y")) for m in _HORIZON.finditer(_CITED.sub(" ", body_text))]
    if issued_year:
        years = [y for y in years if issued_year <= y <= issued_year + 20]
    return max(years, default=None)


def extract_header(segments: Segments, body_text: str, whole_text: str) -> HeaderFacts:
    """Read the header facts from the plan's segments."""
    facts = HeaderFacts()
    header_texts = _texts(segments.header)
    preamble = collapse(" ".join(_texts(segments.preamble)))
    captions = [collapse(" ".join([a.title, *_texts(a.blocks[:6])])) for a in segments.appendices]
    captions = [
        re.search(r"Kèm\s+theo.*", c, re.IGNORECASE).group(0)
        for c in captions
        if re.search(r"Kèm\s+theo", c, re.IGNORECASE)
    ]
    is_decision = segments.kind.attachment is not None or any(_DECISION.match(text) for text in header_texts[:30])
    decision = [*segments.captions, *(header_texts if is_decision else [])]
    facts.issuer = _issuer_from_header(header_texts, whole_text) or _issuer_from_statement(preamble, whole_text)
    facts.plan_number, facts.number_blank = _number(header_texts, captions, decision)
    facts.issued, facts.issued_month = _issue_date(header_texts, [*captions, *segments.captions])
    facts.title = _title(segments, preamble, whole_text)
    facts.kind = segments.kind.kind
    if facts.kind == "unknown" and facts.title.startswith("Kế hoạch"):
        facts.kind = "ke_hoach"  # no "KẾ HOẠCH" line, but the grounds say "UBND xã xây dựng Kế hoạch ..."
    facts.level = level_of(facts.issuer)
    lines = body_text.splitlines()
    # One "Thời gian thực hiện:" line gives the plan's period; when every line of work has its own, none does.
    timed = [line for line in lines if _TIME_LINE.match(line.strip())]
    for index, line in enumerate(lines if len(timed) == 1 else []):
        match = _TIME_LINE.match(line.strip())
        near = [*lines[max(0, index - 3) : index], *lines[index + 1 : index + 4]]
        if match and not any(_ACTIVITY_LABEL.match(other.strip(" -+*")) for other in near):
            facts.year, facts.period, facts.horizon = _period_of(match.group("value"))
            # "Từ tháng 5/2025 đến tháng 9/2025", "Quý III/2025", "Năm 2023": the plan ends with the last date.
            hits = find_date_expressions(match.group("value"), facts.year)
            ends = [hit.date for hit in hits] + ([date(facts.period[1], 12, 31)] if facts.period else [])
            if ends:
                facts.period_end = max(ends)
            break
    if facts.year is None and facts.period is None:
        facts.year, facts.period, horizon = _period_of(facts.title)
        facts.horizon = facts.horizon or horizon
    if facts.year is None and facts.period is None and facts.period_end:
        facts.year = facts.period_end.year  # "Thời gian: từ tháng 5 đến tháng 9/2025"
    if facts.year is None and facts.period is None and facts.horizon is None:
        facts.horizon = _body_horizon(body_text, facts.issued.year if facts.issued else None)
    if facts.period_end is None and facts.period and _SCHOOL_YEAR.search(facts.title):
        facts.period_end = date(facts.period[1], *SCHOOL_YEAR_END)
    if facts.period_end is None:
        last = facts.year or (facts.period[1] if facts.period else None) or facts.horizon
        facts.period_end = date(last, 12, 31) if last else None
    facts.implements = _implements(preamble)
    if not facts.implements and is_decision:
        # The decision's own grounds ("Căn cứ ...") are what the plan implements.
        facts.implements = _implements(collapse(" ".join(header_texts)))
    return facts


_ALIAS = re.compile(
    r"\((?:sau\s+đây\s+|dưới\s+đây\s+)?(?:gọi|viết)\s+tắt\s+là:?\s*[\"“]?(?P<alias>[^()\"”]{3,80})[\"”]?\)",
    re.IGNORECASE,
)


def issuer_names(issuer: str | None, whole_text: str) -> list[str]:
    """The names the issuer goes by: its own, and a short name the text gives it ("gọi tắt là ...")."""
    if not issuer:
        return []
    names = [issuer]
    key = normalize_unit_name(issuer)
    for match in _ALIAS.finditer(whole_text):
        alias = match.group("alias").strip()
        before = normalize_unit_name(whole_text[max(0, match.start() - 200) : match.start()])
        # The short name of a body shares its first word ("Ban Chỉ đạo quốc gia 1237"), unlike a programme's.
        if key and key in before and normalize_unit_name(alias).split()[:1] == key.split()[:1]:
            names.append(alias)
    return names


def is_issuer(unit: str, names: list[str]) -> bool:
    """Tell whether a unit a task names is the issuer itself, whose own duties are not tasks.

    "Ban Chỉ đạo quốc gia" names "Ban Chỉ đạo quốc gia về tìm kiếm ..." by its first words and "UBND tỉnh"
    the "UBND tỉnh Sơn La" that issues; "Văn phòng Chính phủ" is not "Chính phủ".
    """
    unit_key = normalize_unit_name(unit)
    if len(unit_key.split()) < 2:
        return False
    for name in names:
        key = normalize_unit_name(name)
        if unit_key == key or (len(unit_key.split()) >= 3 and key.startswith(unit_key + " ")):
            return True
    return False
