"""What kind of document this is, and where the part that assigns work begins.

Vietnamese administrative documents name their kind in a line of their own under the header (Nghị định
30/2020/NĐ-CP): "KẾ HOẠCH", "QUYẾT ĐỊNH", "NGHỊ QUYẾT", "CHỈ THỊ", "THÔNG BÁO", "CHƯƠNG TRÌNH"; a letter
(công văn) has none, only its subject "V/v ..." under its number. A decision or a resolution often issues
another document ("QUYẾT ĐỊNH Ban hành Kế hoạch ...", "NGHỊ QUYẾT Ban hành Chương trình hành động ..."):
that attachment, after the decision's articles, recipients and signature, is what assigns the work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.importer.readers.base import Block
from tracker.importer.textnorm import is_mostly_upper

# The kinds a document can be, as the extraction reports them.
KINDS = {
    "KẾ HOẠCH": "ke_hoach",
    "QUYẾT ĐỊNH": "quyet_dinh",
    "NGHỊ QUYẾT": "nghi_quyet",
    "CHỈ THỊ": "chi_thi",
    "THÔNG BÁO": "thong_bao",
    "CHƯƠNG TRÌNH": "chuong_trinh",
    "ĐỀ ÁN": "de_an",
    "CÔNG ĐIỆN": "cong_dien",
    "HƯỚNG DẪN": "huong_dan",
}
# What each kind is called at the head of its title ("Kế hoạch ...", "Chỉ thị về việc ...").
TITLE_WORDS = {
    "ke_hoach": "Kế hoạch",
    "quyet_dinh": "Quyết định",
    "nghi_quyet": "Nghị quyết",
    "chi_thi": "Chỉ thị",
    "thong_bao": "Thông báo",
    "thong_bao_ket_luan": "Thông báo",
    "chuong_trinh": "Chương trình",
    "de_an": "Đề án",
    "cong_dien": "Công điện",
    "huong_dan": "Hướng dẫn",
}
_TYPE_LINE = re.compile(
    r"^(?P<type>KẾ\s+HOẠCH|QUYẾT\s+ĐỊNH|NGHỊ\s+QUYẾT|CHỈ\s+THỊ|THÔNG\s+BÁO|CHƯƠNG\s+TRÌNH|ĐỀ\s+ÁN|CÔNG\s+ĐIỆN"
    r"|HƯỚNG\s+DẪN)(?P<rest>(?:\s+\S.*)?)$"
)
_SUBJECT = re.compile(r"\bV/v\b\.?\s*(?P<subject>.+)$")
_ISSUES = re.compile(r"ban\s+hành(?:\s+kèm\s+theo)?\s+(?P<what>kế\s+hoạch|chương\s+trình|đề\s+án)", re.IGNORECASE)
_ATTACHMENT = re.compile(r"^(?P<type>KẾ\s+HOẠCH|CHƯƠNG\s+TRÌNH(?:\s+HÀNH\s+ĐỘNG)?|ĐỀ\s+ÁN)(?P<rest>(?:\s+\S.*)?)$")
_RECIPIENTS = re.compile(r"^Kính\s+gửi\s*:?", re.IGNORECASE)
_REACH = 60
# A decision's grounds, articles, recipients and signature: the plan it issues may start far down.
_ATTACHMENT_REACH = 400


@dataclass
class DocumentKind:
    """The kind of a document, its type line, subject, and the attachment that assigns the work, if any."""

    kind: str
    heading: int | None = None  # index of the type line ("QUYẾT ĐỊNH") or of the "V/v" line
    subject: list[str] = field(default_factory=list)  # "Ban hành Kế hoạch ...", "V/v ...", "Về việc ..."
    attachment: int | None = None  # index of the issued document's type line ("KẾ HOẠCH")
    attachment_kind: str | None = None
    recipients: int | None = None  # index of "Kính gửi:" in a letter

    @property
    def plan_heading(self) -> int | None:
        """Where the document that assigns the work is titled: the attachment, else the document itself."""
        return self.attachment if self.attachment is not None else self.heading


def _type_of(text: str) -> re.Match[str] | None:
    match = _TYPE_LINE.match(text.strip())
    if not match or not is_mostly_upper(match.group("type"), 0.9):
        return None
    rest = match.group("rest").strip()
    # "KẾ HOẠCH" alone, or with its subject in capitals on the same line; never a sentence that begins so.
    if rest and not is_mostly_upper(rest, 0.7) and not rest.startswith("("):
        return None
    return match


def _normalise(kind_words: str) -> str:
    words = " ".join(kind_words.split())
    if words.startswith("CHƯƠNG TRÌNH"):
        return "chuong_trinh"
    return KINDS.get(words, "unknown")


# How the subject line of a document opens when it is not in capitals.
_SUBJECT_OPENER = re.compile(r"^(?:Về|V/v|Ban\s+hành|Về\s+việc|Kết\s+luận|Ý\s+kiến\s+chỉ\s+đạo)\b")


def _subject_lines(blocks: list[Block], start: int, first: str) -> list[str]:
    """The subject under a type line: its own rest, then upper-case or "Về việc"/"V/v" lines that follow."""
    lines = [first] if first else []
    for block in blocks[start + 1 : start + 6]:
        text = block.text.strip()
        if block.is_row or not text or set(text) <= set("-_=*. "):
            if lines:
                break
            continue
        upper = is_mostly_upper(text, 0.7)
        if not lines and (upper or _SUBJECT_OPENER.match(text)):
            lines.append(text)
            continue
        if lines and upper and not _type_of(text) and not re.match(r"^[IVX]+\.", text):
            lines.append(text)
            continue
        break
    return lines


def detect_kind(blocks: list[Block]) -> DocumentKind:
    """Find the document's kind, its type line and subject, and the attachment it issues."""
    for index, block in enumerate(blocks[:_REACH]):
        texts = list(block.cells or ()) if block.is_row else [block.text]
        subject = next((m for t in texts for m in [_SUBJECT.search(t)] if m), None)
        if subject:
            # A letter: "Số: 4085/UBND-ĐT / V/v rà soát ..." (in a cell of the header table, or a line).
            found = DocumentKind("cong_van", index, [f"V/v {subject.group('subject').strip()}"])
            found.recipients = next(
                (i for i in range(index, min(len(blocks), index + 30)) if _RECIPIENTS.match(blocks[i].text)), None
            )
            return found
        if block.is_row:
            continue
        match = _type_of(block.text)
        if match is None:
            continue
        kind = _normalise(match.group("type"))
        found = DocumentKind(kind, index, _subject_lines(blocks, index, match.group("rest").strip()))
        joined = " ".join(found.subject)
        if kind == "thong_bao" and re.search(r"kết\s+luận", joined, re.IGNORECASE):
            found.kind = "thong_bao_ket_luan"
        issued = _ISSUES.search(joined)
        if kind in ("quyet_dinh", "nghi_quyet") and issued:
            _find_attachment(blocks, found, issued.group("what"))
        return found
    return DocumentKind("unknown")


def _find_attachment(blocks: list[Block], found: DocumentKind, what: str) -> None:
    wanted = _normalise(what.upper())
    assert found.heading is not None
    for index in range(found.heading + 1, min(len(blocks), _ATTACHMENT_REACH)):
        block = blocks[index]
        if block.is_row:
            continue
        match = _ATTACHMENT.match(block.text.strip())
        if match and is_mostly_upper(match.group("type"), 0.9) and _normalise(match.group("type")) == wanted:
            if found.subject and block.text.strip() == found.subject[0]:
                continue
            found.attachment, found.attachment_kind = index, wanted
            if wanted == "ke_hoach":
                found.kind = "quyet_dinh_ban_hanh_ke_hoach" if found.kind == "quyet_dinh" else found.kind
            return
