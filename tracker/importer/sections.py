"""The outline of a plan's body: Roman-numbered parts, numbered items, "a)" items and bullets.

PDF extraction breaks lines mid-sentence, so a line opens a new item only when it starts with a
marker ("2.1.", "a)", "-", "+", "*"); a "-" followed by a lower-case word right after an unfinished
line is a wrapped "chính trị - xã hội", not a bullet. Each item keeps its physical lines, because the
first line of "4. Phòng Y tế" alone tells where a unit heading ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tracker.importer.budget import checkpoint
from tracker.importer.readers.base import Block
from tracker.importer.textnorm import is_mostly_upper, lower_key
from tracker.importer.unitphrase import find_units, has_verb, opens_with_verb, starts_with_unit
from tracker.importer.vocabulary import STOPS

# "II. MỤC TIÊU", "III NHIỆM VỤ", "PHẦN I. ...", and the "A. ...", "B. ..." parts some plans use.
ROMAN_HEADING = re.compile(r"^(?:(?:PHẦN|Phần)\s+)?(?P<num>[IVX]{1,5}|[A-H])\s*[.):\-–]?\s+(?P<title>\S.*)$")
_DECIMAL = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})(?P<end>[.)])?(?=\s|$)\s*(?P<rest>.*)$")
_ALPHA = re.compile(r"^(?P<num>[a-zđ])(?:\)\s*|\.\s+(?=[A-ZĐÀ-Ỹ]))(?P<rest>.*)$")
_PAREN_ITEM = re.compile(r"^\((?P<num>\d{1,2}|[a-zđ])\)\s*(?P<rest>\S.*)$")
# Word's symbol-font bullets come out of PDFs as private-use characters ("\uf0b7", "\uf0a7").
_BULLET = re.compile(r"^(?P<sym>[-–—−•·●▪○◦►❖✓+*\uf0b7\uf0a7\uf076\uf0d8\uf0fc])\s*(?P<rest>.*)$")
_PAGE_NUMBER = re.compile(r"^(?:-\s*)?\d{1,3}(?:\s*-)?$|^Trang\s+\d+|^\d{1,3}\s*/\s*\d{1,3}$")
_SENTENCE_END = (".", ";", ":", "!", "?", "…")
# Closing formulas that address the whole part rather than the last item above them.
_PART_LEVEL = re.compile(r"^(?:Yêu cầu|Trên đây|Trong quá trình|Đề nghị các|Giao các|Ủy ban nhân dân \S+ yêu cầu)")

_PART_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("impl", re.compile(r"tổ chức thực hiện|phân công|trách nhiệm")),
    ("report", re.compile(r"chế độ (?:báo cáo|thông tin)|thông tin,? báo cáo|báo cáo kết quả|^báo cáo")),
    ("objective", re.compile(r"mục tiêu|chỉ tiêu")),
    ("purpose", re.compile(r"mục đích|yêu cầu|quan điểm")),
    ("background", re.compile(r"thực trạng|kết quả|đánh giá|tình hình|khái quát")),
    ("budget", re.compile(r"kinh phí|nguồn vốn")),
    ("scope", re.compile(r"thời gian|phạm vi|đối tượng")),
    ("content", re.compile(r"nội dung|nhiệm vụ|giải pháp|hoạt động")),
]
TASK_KINDS = {"impl", "content", "report", None}


@dataclass(frozen=True)
class Marker:
    """The numbering that opens a line: its style, its label and the text after it."""

    style: tuple[str, int]
    label: str
    rest: str


def parse_marker(line: str, previous: str = "") -> Marker | None:
    """Read the item marker at the start of `line`, or None for a plain (continuation) line."""
    match = _DECIMAL.match(line)
    if match and (match.group("end") or "." in match.group("num")):
        number = match.group("num")
        if (match.group("rest") or match.group("end")) and int(number.split(".")[0]) <= 60:
            return Marker(("dec", number.count(".") + 1), number, match.group("rest"))
    match = _ALPHA.match(line)
    if match:
        return Marker(("alpha", 0), match.group("num"), match.group("rest"))
    match = _PAREN_ITEM.match(line)
    if match:
        return Marker(("paren", 0), match.group("num"), match.group("rest"))
    match = _BULLET.match(line)
    if match:
        rest = match.group("rest")
        unfinished = previous and not previous.rstrip().endswith(_SENTENCE_END)
        if unfinished and (rest[:1].islower() or _continues_name(previous, rest)):
            return None
        style = {"+": ("plus", 0), "*": ("star", 0)}.get(match.group("sym"), ("dash", 0))
        return Marker(style, "", rest)
    return None


def _continues_name(previous: str, rest: str) -> bool:
    """Tell whether "- Giáo dục thường xuyên huyện." finishes the unit name that `previous` breaks off.

    "Trung tâm Giáo dục nghề nghiệp" + "- Giáo dục thường xuyên huyện": the name reads across the dash,
    and the words after it up to the first stop are neither a new unit nor a duty ("- Tổ chức ...").
    """
    head = re.split(r"[.;:,]", rest, maxsplit=1)[0]
    if not head or len(head.split()) > 8 or starts_with_unit(rest) or has_verb(head):
        return False
    after = rest[len(head):]
    if after.lstrip().startswith(";"):
        clause = after.lstrip(" ;")
        if clause and not starts_with_unit(clause) and (clause[:1].islower() or opens_with_verb(clause)):
            # "- Vật tư phun khử khuẩn; báo cáo ...": a clause, then more duties. ("- Giáo dục thường xuyên
            # huyện; Phòng Kinh tế ..." goes on with a unit: the name and an enumeration of leads.)
            return False
    if opens_with_verb(rest) and not _title_parts(rest):
        return False  # "- Xây dựng kế hoạch ..." is a duty; "- Xây dựng và Môi trường" ends a title
    if lower_key(head.split()[0]) in STOPS:
        return False  # "- Về giáo dục ...", "- Đối với hộ ...": a topic bullet, not the rest of a name
    joined = f"{previous.rstrip()} - {rest}"
    dash = len(previous.rstrip()) + 1
    return any(start < dash < end for _unit, start, end in find_units(joined))


def _title_parts(text: str) -> bool:
    """Tell whether `text` is only capitalised name parts joined by "và" ("Xây dựng và Môi trường")."""
    parts = re.split(r"\s+và\s+|\s*,\s*", text.strip())
    return len(text.split()) <= 6 and len(parts) > 1 and all(part[:1].isupper() for part in parts)


def classify_title(title: str, *, anchored: bool) -> str | None:
    """Name the kind of a part or item from its title ("TỔ CHỨC THỰC HIỆN" -> "impl")."""
    key = lower_key(title.split(":")[0] if anchored else title)
    for kind, pattern in _PART_KINDS:
        match = pattern.search(key)
        if match and (not anchored or match.start() == 0):
            return kind
    return None


@dataclass
class Node:
    """A part or an item of the outline, with its own lines, table rows and children."""

    style: tuple[str, int]
    label: str
    lines: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    rows: list[Block] = field(default_factory=list)
    parent: Node | None = None
    kind: str | None = None

    @property
    def heading(self) -> str:
        """Return the first line (the heading) of the item."""
        return self.lines[0] if self.lines else ""

    def own_text(self) -> str:
        """Return this node's own lines joined (without children)."""
        return " ".join(self.lines)

    def subtree_text(self, skip: set[int] | None = None, sep: str = " ") -> str:
        """Return this node's text with its children's (joined by `sep`), skipping ids in `skip`."""
        parts = [self.own_text()]
        for child in self.children:
            if skip and id(child) in skip:
                continue
            marker = {"dash": "- ", "plus": "+ ", "star": "* "}.get(child.style[0], "") if sep == "\n" else ""
            parts.append(marker + child.subtree_text(skip, sep))
        return sep.join(part for part in parts if part)

    def walk(self) -> Iterator[Node]:
        """Yield this node and its descendants in document order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def path(self) -> list[str]:
        """Return the section labels from the part down to this node ("III", "5", "a", "1")."""
        labels: list[str] = []
        node: Node | None = self
        while node is not None and node.style != ("root", 0):
            labels.append(node.label)
            node = node.parent
        labels.reverse()
        # "2" then "2.1" reads as "2.1", not "2.2.1".
        out: list[str] = []
        for label in labels:
            if out and "." in label and label.startswith(out[-1] + "."):
                out[-1] = label
            else:
                out.append(label)
        return [label for label in out if label]

    def section(self) -> str:
        """Return the section label, e.g. "V.4", "III.2.6", "III.5.a.1"."""
        return ".".join(self.path())

    def ancestors(self) -> Iterator[Node]:
        """Yield the parents of this node, nearest first."""
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


def _item_kind(marker: Marker) -> str | None:
    """Classify a numbered item whose heading is a short title ("2. Mục tiêu cụ thể", "3. Kinh phí")."""
    if marker.style[0] not in ("dec", "alpha", "paren") or not marker.rest:
        return None
    title = marker.rest.split(":")[0].strip()
    if len(title.split()) > 10 or title.endswith("."):
        return None
    kind = classify_title(title, anchored=True)
    if kind == "purpose" and len(title.split()) > 4:
        return None  # "Yêu cầu về kỹ thuật và chất lượng" sets duties; only "Mục đích, yêu cầu" itself is aims
    return kind


_LONG_LINE = 150


def _paragraph_per_line(blocks: list[Block]) -> bool:
    """Tell whether each line is a whole paragraph (a web copy, a .docx) rather than a PDF line wrapped at the
    margin: then a line that follows a finished bullet starts a paragraph of its own."""
    lines = [b.text for b in blocks if not b.is_row and b.text]
    return bool(lines) and sum(len(line) > _LONG_LINE for line in lines) >= 0.25 * len(lines)


def _roman_part(line: str) -> re.Match[str] | None:
    """A part heading: "II. TỔ CHỨC THỰC HIỆN", or in a letter "I. Đánh giá tình hình thực hiện ..." (Roman only)."""
    roman = ROMAN_HEADING.match(line)
    if not roman:
        return None
    if is_mostly_upper(roman.group("title"), 0.6):
        return roman
    numeral = roman.group("num")
    mixed = numeral in _ROMAN_NUMERALS and line[len(numeral) : len(numeral) + 1] == "."
    title = roman.group("title")
    return roman if mixed and title[:1].isupper() and len(title.split()) <= 25 and not title.endswith(";") else None


_ROMAN_NUMERALS = frozenset(
    ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV"]
)


def build_tree(blocks: list[Block]) -> Node:
    """Build the outline of the body blocks."""
    root = Node(("root", 0), "")
    stack: list[Node] = [root]
    previous = ""
    paragraphs = _paragraph_per_line(blocks)
    for block in blocks:
        checkpoint()
        if block.is_row:
            stack[-1].rows.append(block)
            continue
        line = block.text
        if _PAGE_NUMBER.match(line) or line in ("./.", "/."):
            continue
        roman = _roman_part(line)
        if roman:
            part = Node(("roman", 0), roman.group("num").upper(), [roman.group("title")], parent=root)
            part.kind = classify_title(roman.group("title"), anchored=False)
            root.children.append(part)
            stack = [root, part]
            previous = line
            continue
        marker = parse_marker(line, previous)
        if marker is None:
            target = stack[-1]
            new_paragraph = not previous or previous.rstrip().endswith(_SENTENCE_END)
            top = 2 if stack[1:] and stack[1].style[0] == "roman" else 1  # the part, or the root of a letter
            if new_paragraph and _PART_LEVEL.match(line) and len(stack) > top:
                # A closing instruction of the part (or of a document without parts, such as a directive):
                # keep it out of the last item's text.
                owner = stack[top - 1]
                note = Node(("note", 0), "", [line], parent=owner, kind=owner.kind)
                owner.children.append(note)
                stack = [*stack[:top], note]
                previous = line
                continue
            if paragraphs and new_paragraph and target.style[0] in ("dash", "plus", "star") and len(stack) > 2:
                # A paragraph after a finished bullet goes on with the item the bullets belong to.
                while len(stack) > 2 and stack[-1].style[0] in ("dash", "plus", "star"):
                    stack.pop()
                target = stack[-1]
            target.lines.append(line)
            previous = line
            continue
        depth = next((i for i in range(len(stack) - 1, 0, -1) if stack[i].style == marker.style), None)
        if depth is not None:
            stack = stack[:depth]
        parent = stack[-1]
        label = marker.label or str(1 + sum(1 for c in parent.children if c.style == marker.style))
        node = Node(marker.style, label, [marker.rest] if marker.rest else [], parent=parent)
        own_kind = _item_kind(marker)
        node.kind = own_kind or parent.kind
        parent.children.append(node)
        stack.append(node)
        previous = line
    return root
