"""Finding unit names in running text and in item headings.

Vietnamese plans name units with an org-type noun ("Phòng", "Sở", "Trạm", "UBND", "Công chức",
"Các thôn"...) followed by the unit's own name, which may contain lower-case words ("Trạm y tế xã"),
commas ("UBND huyện, thị xã, thành phố") and "và" ("Sở Giáo dục và Đào tạo"). A name ends where a verb
("chủ trì", "phối hợp", "tổ chức triển khai"...), a preposition ("theo", "trước", "để") or a clause
mark begins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tracker.importer import vocabulary
from tracker.importer.textnorm import fold_tones

_TOKEN = re.compile(r"\([^()]{0,200}\)|[,;:.!?]|[^\s,;:.!?()]+")

_MAX_WORDS = 18
# A unit name is at most _MAX_WORDS words: looking further than this many characters is wasted work.
_SCAN_WINDOW = 400
_PEEK = 120
_ALIAS_PAREN = re.compile(r"^\(\s*(?:sau đây|gọi tắt|viết tắt|dưới đây)", re.IGNORECASE)
_VIA_PAREN = re.compile(r"^\(\s*(?:qua|thông qua|để|trong|theo(?!\s+dõi)|kèm|nếu|có)\b", re.IGNORECASE)
_REQUEST = re.compile(
    r"^(?:Đề nghị|đề nghị|ĐỀ NGHỊ|Giao cho|Giao|Yêu cầu|Đối với|Trách nhiệm của|Nhiệm vụ của)\s+"
)


@dataclass
class _Tok:
    text: str
    low: str
    start: int
    end: int


@lru_cache(maxsize=8192)
def _tokens(text: str) -> list[_Tok]:
    """The tokens of `text` (cached: the same lines are scanned by several rules; callers never change them)."""
    return [_Tok(m.group(0), _lower_folded(m.group(0)), m.start(), m.end()) for m in _TOKEN.finditer(text)]


@lru_cache(maxsize=65536)
def _lower_folded(word: str) -> str:
    return fold_tones(word.lower())


def _is_capitalised(token: _Tok) -> bool:
    return token.text[:1].isupper()


def head_length(tokens: list[_Tok], i: int) -> int:
    """Return how many tokens of an org-type noun start at `i` (0 when none does)."""
    if i < len(tokens) and tokens[i].low in ("các", "những") and i + 1 < len(tokens):
        inner = _single_head(tokens, i + 1)
        if inner:
            return 1 + inner  # "Các Trung tâm Y tế huyện", "các Trạm y tế"
    return _single_head(tokens, i)


def head_length_of(text: str) -> int:
    """Return how many words of an org-type noun `text` opens with ("Viện" -> 1, "Trung tâm Y tế" -> 2)."""
    tokens = _tokens(text)
    return head_length(tokens, 0) if tokens else 0


def _single_head(tokens: list[_Tok], i: int) -> int:
    for words, condition in vocabulary.HEADS_BY_FIRST.get(tokens[i].low, ()):
        n = len(words)
        if i + n > len(tokens) or tuple(t.low for t in tokens[i : i + n]) != words:
            continue
        following = tokens[i + n] if i + n < len(tokens) else None
        if condition is None:
            return n
        if following is None:
            return n if condition not in (vocabulary.CAP, vocabulary.SCHOOL) else 0
        if condition == vocabulary.CAP and (_is_capitalised(following) or following.text.isupper()):
            return n
        if condition == vocabulary.SCHOOL and (_is_capitalised(following) or following.low in vocabulary.SCHOOL_WORDS):
            return n
        if isinstance(condition, set) and following.low not in condition:
            return n
    return 0


def _verb_at(tokens: list[_Tok], i: int) -> bool:
    """Tell whether a lower-case verb starts at token `i` (and is not part of a name)."""
    if i + 1 >= len(tokens):
        return False
    pair = f"{tokens[i].low} {tokens[i + 1].low}"
    if pair not in vocabulary.VERBS or _is_capitalised(tokens[i]):
        return False
    previous = tokens[i - 1].low if i else ""
    before_two = f"{tokens[i - 2].low} {previous}" if i > 1 else ""
    if (previous, pair) in vocabulary.NAME_VERBS_AFTER or (before_two, pair) in vocabulary.NAME_VERBS_AFTER:
        return False
    if _managed_object_at(tokens, i):
        return False
    return not (pair == "tổ chức" and previous in ("các", "những", "là", "mọi", "cho"))  # "chủ rừng là tổ chức"


def _managed_object_at(tokens: list[_Tok], i: int) -> bool:
    """Tell whether token `i` opens the object of a managing body's name ("Ban Quản lý | dự án ...")."""
    if i < 3 or i + 1 >= len(tokens) or not _is_capitalised(tokens[i - 2]):
        return False
    if f"{tokens[i].low} {tokens[i + 1].low}" not in vocabulary.MANAGED_OBJECTS:
        return False
    if f"{tokens[i - 2].low} {tokens[i - 1].low}" not in vocabulary.MANAGING_VERBS:
        return False
    body = {tokens[i - 3].low, f"{tokens[i - 4].low} {tokens[i - 3].low}" if i >= 4 else ""}
    return bool(body & vocabulary.MANAGING_BODIES)


def _stop_at(tokens: list[_Tok], i: int) -> bool:
    token = tokens[i]
    if token.low in (";", ".", ":", "!", "?"):
        return True
    if token.low[:1].isdigit():
        # "Đội Quản lý thị trường số 3", "Trường Tiểu học số 1": a number after "số" is part of the name.
        return not (i and tokens[i - 1].low == "số" and token.low.isdigit())
    if _verb_at(tokens, i):
        return True
    pair = f"{token.low} {tokens[i + 1].low}" if i + 1 < len(tokens) else ""
    if pair in vocabulary.PHRASE_STOPS and not _is_capitalised(token) and not _managed_object_at(tokens, i):
        return True
    if i and (tokens[i - 1].low, token.low) in vocabulary.NAME_PAIRS:
        return False
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    if token.low == "thuộc" and following is not None and (_is_capitalised(following) or following.low == "trung"):
        return False  # "Các phòng chức năng thuộc Sở", "các đơn vị thuộc UBND phường": whose units they are
    if token.low in vocabulary.STOPS and not _is_capitalised(token):
        following = tokens[i + 1].low if i + 1 < len(tokens) else ""
        return (token.low, following) not in vocabulary.ALLOWED_AFTER
    return False


def scan_unit(text: str, start: int = 0) -> tuple[str, int] | None:
    """Read one unit name starting at character `start`; return (name, end offset) or None."""
    tokens = [t for t in _tokens(text[: start + _SCAN_WINDOW]) if t.start >= start]
    if not tokens or not head_length(tokens, 0):
        return None
    return _scan_tokens(text, tokens, 0, head_length(tokens, 0))


def _scan_tokens(text: str, tokens: list[_Tok], i: int, head: int) -> tuple[str, int]:
    j = i + head
    words = head
    while j < len(tokens) and words < _MAX_WORDS:
        token = tokens[j]
        if token.text.startswith("("):
            if _ALIAS_PAREN.match(token.text) or _VIA_PAREN.match(token.text):
                break
            j += 1
            continue
        if token.low == ",":
            if not _comma_continues(tokens, i, j):
                break
            j += 1
            continue
        if token.low in ("và", "&"):
            following = tokens[j + 1] if j + 1 < len(tokens) else None
            new_unit = following is None or following.low in ("các", "những") or head_length(tokens, j + 1)
            if _plural_object(tokens, j):
                j += 2
                continue
            if new_unit and not _joint_office(tokens, i, j):
                break
            if _stop_at(tokens, j + 1):
                break
            j += 1
            continue
        if _stop_at(tokens, j) or (_after_level(tokens, j) and not _is_capitalised(token)):
            break
        j += 1
        words += 1
    end = tokens[j - 1].end
    return text[tokens[i].start : end].strip(" -–,"), end


def _plural_object(tokens: list[_Tok], j: int) -> bool:
    """Tell whether "và các" at `j` goes on with what the name covers, not a new unit.

    "Ban Quản lý Khu kinh tế Dung Quất và các Khu công nghiệp Quảng Ngãi": after "các" comes a capitalised
    noun that is no org type, so the words name the body's remit.
    """
    if j + 2 >= len(tokens) or tokens[j + 1].low not in ("các", "những"):
        return False
    noun = tokens[j + 2]
    return _is_capitalised(noun) and not head_length(tokens, j + 1) and noun.low not in vocabulary.LEVEL_WORDS


def _joint_office(tokens: list[_Tok], i: int, j: int) -> bool:
    """Tell whether the "và" at `j` joins the two councils an office serves ("Văn phòng HĐND và UBND xã")."""
    if j + 1 >= len(tokens) or (tokens[i].low, tokens[i + 1].low) != ("văn", "phòng"):
        return False
    return tokens[j - 1].low in ("hđnd", "dân") and tokens[j + 1].low in ("ubnd", "ủy")


def _after_level(tokens: list[_Tok], j: int) -> bool:
    """Tell whether token `j` follows a level word: "UBND xã" ends there unless a proper name follows."""
    if j < 1:
        return False
    if tokens[j].low == "trực" and j + 1 < len(tokens) and tokens[j + 1].low == "thuộc":
        return False  # "các tỉnh, thành phố trực thuộc Trung ương"
    previous = tokens[j - 1].low
    if previous == "xã":
        return tokens[j].low != "hội"
    return previous in vocabulary.LEVEL_END


def _comma_continues(tokens: list[_Tok], i: int, j: int) -> bool:
    """Tell whether the comma at `j` lies inside the name that starts at `i`.

    It does before a level word ("UBND huyện, thị xã, thành phố"), inside an enumeration opened by
    "các" ("Các sở, ban, ngành, đơn vị có liên quan") and before a lower-case word that is neither a
    verb nor a new unit ("Ban Chỉ đạo dạy nghề, việc làm và giảm nghèo"); it does not before a new
    unit ("UBND xã, UBND huyện").
    """
    if j + 1 >= len(tokens):
        return False
    following = tokens[j + 1]
    if _is_capitalised(following) and head_length(tokens, j + 1):
        return False  # "Hội LHPN huyện, Huyện đoàn": a new unit, not "huyện" repeated
    if following.low in vocabulary.LEVEL_WORDS:
        return True
    if _stop_at(tokens, j + 1) or following.text.startswith("("):
        return False
    if _is_capitalised(following):
        return not head_length(tokens, j + 1) and following.low not in ("các", "những")
    if tokens[i].low == "các":
        return True
    return not head_length(tokens, j + 1)


def find_units(text: str) -> list[tuple[str, int, int]]:
    """Find the unit names written in `text`: (name, start, end) in order of appearance."""
    tokens = _tokens(text)
    found = []
    i = 0
    while i < len(tokens):
        head = head_length(tokens, i)
        if head and (i == 0 or tokens[i - 1].low not in ("các",) or tokens[i].low == "các"):
            name, end = _scan_tokens(text, tokens, i, head)
            found.append((name, tokens[i].start, end))
            while i < len(tokens) and tokens[i].start < end:
                i += 1
            continue
        i += 1
    return found


def unit_list_at(text: str) -> list[str]:
    """Read the list of units that `text` starts with ("UBND xã, UBND huyện và Sở Y tế theo quy định")."""
    names: list[str] = []
    tokens = _tokens(text[: 4 * _SCAN_WINDOW])
    i = 0
    while i < len(tokens):
        head = head_length(tokens, i)
        if not head:
            break
        name, end = _scan_tokens(text, tokens, i, head)
        names.append(name)
        while i < len(tokens) and tokens[i].start < end:
            i += 1
        while i < len(tokens) and tokens[i].text.startswith("("):
            i += 1
        if i < len(tokens) and tokens[i].low in (",", "và", "&", ";"):
            i += 1
            continue
        break
    return names


def strip_request(text: str) -> tuple[str, bool]:
    """Drop a leading "Đề nghị"/"Giao"/"Yêu cầu"; tell whether the unit is asked rather than ordered."""
    match = _REQUEST.match(text)
    if not match:
        return text, False
    return text[match.end() :], match.group(0).strip().lower() == "đề nghị"


def starts_with_unit(text: str) -> bool:
    """Tell whether `text` opens with an org-type noun (after an optional "Đề nghị")."""
    body, _ = strip_request(text[:_PEEK].strip())
    tokens = _tokens(body)
    return bool(tokens) and head_length(tokens, 0) > 0


def has_verb(text: str) -> bool:
    """Tell whether `text` contains a lower-case verb outside parentheses (so it is not a bare name)."""
    tokens = [t for t in _tokens(text) if not t.text.startswith("(")]
    return any(_verb_at(tokens, i) for i in range(len(tokens)))


def opens_with_verb(text: str) -> bool:
    """Tell whether `text` opens with a verb, capitalised or not ("Tham mưu UBND huyện ...")."""
    tokens = _tokens(text[:_PEEK])
    return len(tokens) > 1 and f"{tokens[0].low} {tokens[1].low}" in vocabulary.VERBS


def leading_unit(text: str) -> str | None:
    """Return the unit name `text` opens with, ending at the first verb ("Các sở ... căn cứ ...")."""
    body, _ = strip_request(text.strip())
    scanned = scan_unit(body)
    return scanned[0] if scanned else None


def split_alias(name: str) -> tuple[str, list[str]]:
    """Remove a "(sau đây viết tắt là X)" definition from a name, returning the name and its aliases."""
    aliases = []
    match = re.search(r"\(\s*(?:sau đây|dưới đây)?\s*(?:gọi|viết)\s+tắt\s+là\s+([^()]+)\)", name, re.IGNORECASE)
    if match:
        aliases.append(match.group(1).strip(' "“”'))
        name = (name[: match.start()] + name[match.end() :]).strip()
    return " ".join(name.split()).strip(" :-–,;."), aliases


_GENERIC = re.compile(
    r"^(?:các|những)?\s*(?:cấp|ngành|cơ quan|đơn vị|ban|bộ phận|sở|tổ chức|địa phương|đoàn thể|lực lượng|"
    r"phòng|ban ngành|cơ quan chức năng)(?:[\s,]+(?:các\s+)?(?:cấp|ngành|cơ quan|đơn vị|ban|bộ phận|sở|"
    r"tổ chức|địa phương|đoàn thể|ban ngành|cá nhân|chuyên môn))*(?:\s+(?:có\s+)?liên\s+quan)?"
    r"(?:\s+(?:xã|huyện|tỉnh|phường))?$",
    re.IGNORECASE,
)


def is_generic(name: str) -> bool:
    """Tell whether a unit phrase is a vague group ("các ngành liên quan", "cơ quan, đơn vị")."""
    return bool(_GENERIC.match(" ".join(fold_tones(name.lower()).split())))


_ENUMERATION_SPLIT = re.compile(r",\s*|\s+và\s+")


def _inside_name(text: str, start: int, separator: int) -> bool:
    """Tell whether the name read from `start` runs past `separator` ("Văn phòng HĐND và UBND xã")."""
    scanned = scan_unit(text, start)
    return bool(scanned) and scanned[1] > separator + 1


def split_enumeration(name: str) -> list[str]:
    """Split a heading naming several units ("Hội Khuyến học xã, Hội LHPN xã, Đoàn Thanh niên xã").

    A piece starts a new unit only when it opens with an org-type noun written with a capital or after
    "các", so "UBND huyện, thị xã, thành phố", "Sở Văn hóa, Thể thao và Du lịch" and "Các sở, ban,
    ngành" stay whole.
    """
    out: list[str] = []
    position = 0
    for match in _ENUMERATION_SPLIT.finditer(name):
        following = name[match.end() :]
        opens = following[:1].isupper() or following.lower().startswith(("các ", "những "))
        joined = match.group(0).strip() == "và" and _inside_name(name, position, match.start())
        if opens and starts_with_unit(following) and not joined:
            out.append(name[position : match.start()].strip())
            position = match.end()
    out.append(name[position:].strip())
    return [piece for piece in out if piece]
