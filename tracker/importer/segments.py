"""Cut a document into its conventional parts.

An administrative plan is laid out the same way everywhere: the agency and national motto, the number
and date, "KẾ HOẠCH" and the subject, the grounds ("Căn cứ...", "Thực hiện..."), the body in Roman
numbered parts, the recipients ("Nơi nhận") and signature, then appendices ("Phụ lục").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.importer.doctype import DocumentKind, detect_kind
from tracker.importer.readers.base import Block
from tracker.importer.sections import ROMAN_HEADING, parse_marker
from tracker.importer.textnorm import is_mostly_upper

_PLAN_HEADING = re.compile(
    r"^(?:KẾ\s+HOẠCH|CHƯƠNG\s+TRÌNH(?:\s+HÀNH\s+ĐỘNG)?|ĐỀ\s+ÁN)(?:\s+(?P<rest>.+))?$"
)
_CLOSING = re.compile(
    r"^(?:Nơi\s+nhận|NƠI\s+NHẬN|TM\.|T/M|KT\.|KT\s*\.|TL\.|TUQ\.|CHỦ\s+TỊCH\s*$|PHÓ\s+CHỦ\s+TỊCH\s*$)"
)
_APPENDIX = re.compile(
    r"^(?:PHỤ\s+LỤC|Phụ\s+lục)(?:\s+(?:số\s*)?(?P<num>[0-9]+|[IVX]+)\b)?\s*[:.\-–]?\s*(?P<title>.*)$"
)
_TITLE_STOP = re.compile(r"^(?:Căn\s+cứ|Thực\s+hiện|Triển\s+khai|Ủy\s+ban|Uỷ\s+ban|UBND|Để|Nhằm)\b")


@dataclass
class Appendix:
    """One appendix: its label ("Phụ lục 3"), title lines and blocks."""

    label: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Segments:
    """The conventional parts of a plan, each as blocks."""

    header: list[Block]
    title: list[str]
    preamble: list[Block]
    body: list[Block]
    closing: list[Block]
    appendices: list[Appendix]
    captions: list[str] = field(default_factory=list)  # "(Ban hành kèm theo Quyết định số ...)" under the title
    kind: DocumentKind = field(default_factory=lambda: DocumentKind("unknown"))
    kind_line: str = ""  # the type line the title sits under ("CHƯƠNG TRÌNH HÀNH ĐỘNG CỦA CHÍNH PHỦ")

    def dropped_text(self) -> list[str]:
        """Lines after the recipients and signature that are neither of them nor an appendix: left unread."""
        return [block.text for block in self.closing if _substantive(block)]


# "(Ban hành kèm theo Quyết định số 1520/QĐ-UBND ngày 12/4/2024 ...)" under the title is a caption.
CAPTION = re.compile(r"^\(?\s*(?:Ban\s+hành\s+)?kèm\s+theo\b", re.IGNORECASE)


def _body_start(blocks: list[Block], start: int) -> int:
    for index in range(start, len(blocks)):
        block = blocks[index]
        if not block.is_row and ROMAN_HEADING.match(block.text) and is_mostly_upper(block.text, 0.6):
            return index
    for index in range(start, len(blocks)):
        marker = parse_marker(blocks[index].text) if not blocks[index].is_row else None
        if marker and marker.style == ("dec", 1) and marker.label == "1":
            return index
    return start


def _is_appendix_heading(block: Block, after_closing: bool) -> re.Match[str] | None:
    text = block.cells[0] if block.is_row and block.cells else block.text
    match = _APPENDIX.match(text)
    if not match:
        return None
    if after_closing:
        return match
    # Inside the body "Phụ lục 01 kèm theo)" may start a wrapped line; only a capitalised heading counts.
    return match if text.startswith("PHỤ LỤC") and not text.rstrip().endswith(")") else None


def _plan_title(blocks: list[Block], heading: int) -> tuple[list[str], list[str], int]:
    """Read a plan's title under its "KẾ HOẠCH" line, and the caption that says which decision issued it."""
    title: list[str] = []
    captions: list[str] = []
    rest = _PLAN_HEADING.match(blocks[heading].text)
    cursor = heading + 1
    if rest and rest.group("rest"):
        title.append(rest.group("rest"))
    while cursor < len(blocks) and not blocks[cursor].is_row:
        text = blocks[cursor].text
        if set(text) <= set("-_=*. "):
            cursor += 1
            continue
        # A subject line right above "(Kèm theo ...)" is still the title, whatever its first word.
        captioned = (
            cursor + 1 < len(blocks) and CAPTION.match(blocks[cursor + 1].text) and len(title) < 3
            and not text.rstrip().endswith((".", ":", ";"))
        )
        stop = _TITLE_STOP.match(text) or (text[:1].isupper() and title and not is_mostly_upper(title[-1]))
        if title and stop and not captioned:
            break
        if title and (ROMAN_HEADING.match(text) or parse_marker(text)):
            break
        if title and CAPTION.match(text):
            # The caption may wrap ("... ngày 12/4/2024" / "của UBND huyện Lục Nam)"): skip it whole.
            caption = [text]
            while ")" not in " ".join(caption) and cursor + 1 < len(blocks) and len(caption) < 4:
                cursor += 1
                caption.append(blocks[cursor].text)
            captions.append(" ".join(caption))
            cursor += 1
            break
        inline = _INLINE_CAPTION.search(text)
        if inline and title is not None:
            # "THỰC HIỆN CÔNG TÁC ... NĂM 2023 (Kèm theo Quyết định số 254/QĐ-UBND ...)" on one line.
            title.append(text[: inline.start()].strip())
            captions.append(text[inline.start() :].strip())
            cursor += 1
            break
        title.append(text)
        cursor += 1
        if len(title) >= 4:
            break
    return [line for line in title if line], captions, cursor


_INLINE_CAPTION = re.compile(r"\(\s*(?:Ban\s+hành\s+)?kèm\s+theo\b", re.IGNORECASE)


def _after_recipients(blocks: list[Block], start: int) -> int:
    """Where a letter's text begins: after "Kính gửi:" and the recipients listed under it."""
    cursor = start + 1
    while cursor < len(blocks) and re.match(r"^[-+•]\s*\S", blocks[cursor].text) and len(blocks[cursor].text) < 160:
        cursor += 1
    return cursor


def split_segments(blocks: list[Block]) -> Segments:
    """Split the blocks of a document into header, title, preamble, body, closing and appendices.

    A plan (or the plan, programme or scheme a decision or resolution issues) has its title under its
    "KẾ HOẠCH" line and its body from the first part heading; a letter, a directive or a notice has its
    subject for a title and its body right after the subject (after "Kính gửi:" for a letter).
    """
    kind = detect_kind(blocks)
    title: list[str] = []
    captions: list[str] = []
    plan_like = kind.attachment is not None or kind.kind in ("ke_hoach", "chuong_trinh", "de_an")
    heading = kind.plan_heading
    if heading is not None and plan_like:
        header = blocks[:heading]
        title, captions, cursor = _plan_title(blocks, heading)
        body_start = _body_start(blocks, cursor)
    elif heading is not None:
        title = list(kind.subject)
        if kind.recipients is not None:
            cursor = _after_recipients(blocks, kind.recipients)
        else:
            cursor = heading + 1 + max(0, len(kind.subject) - (1 if _has_rest(blocks[heading]) else 0))
        header = blocks[:cursor] if kind.kind == "cong_van" else blocks[:heading]
        body_start = cursor
    else:
        header, cursor = [], 0
        body_start = _body_start(blocks, cursor)
    preamble = blocks[cursor:body_start]
    closing_start = len(blocks)
    for index in range(body_start + 1, len(blocks)):
        block = blocks[index]
        text = block.cells[0] if block.is_row and block.cells else block.text
        if _CLOSING.match(text) or _is_appendix_heading(block, after_closing=False):
            closing_start = index
            break
    body = blocks[body_start:closing_start]
    closing: list[Block] = []
    appendices: list[Appendix] = []
    for block in blocks[closing_start:]:
        match = _is_appendix_heading(block, after_closing=True)
        if match:
            number = match.group("num")
            label = f"Phụ lục {int(number) if number and number.isdigit() else number}" if number else "Phụ lục"
            if appendices and not appendices[-1].blocks:
                # "PHỤ LỤC" on one line and "Phụ lục 01: ..." on the next name the same appendix.
                appendices[-1].label = label if number else appendices[-1].label
                appendices[-1].title = appendices[-1].title or match.group("title").strip()
                continue
            appendices.append(Appendix(label, match.group("title").strip()))
            continue
        if appendices:
            appendices[-1].blocks.append(block)
        else:
            closing.append(block)
    kind_line = blocks[heading].text if heading is not None and heading < len(blocks) else ""
    return Segments(header, title, preamble, body, closing, appendices, captions, kind, kind_line)


def _has_rest(block: Block) -> bool:
    return bool(_TYPE_REST.match(block.text.strip()))


_TYPE_REST = re.compile(r"^(?:QUYẾT\s+ĐỊNH|NGHỊ\s+QUYẾT|CHỈ\s+THỊ|THÔNG\s+BÁO|CÔNG\s+ĐIỆN|HƯỚNG\s+DẪN)\s+\S")


_CLOSING_LINE = re.compile(
    r"^(?:[-+•]\s|Nơi\s+nhận|NƠI\s+NHẬN|Như\s|Lưu\s*:|TM\.|T/M|KT\.|TL\.|TUQ\.|Q\.|\(?(?:đã\s+)?ký|\(Chữ\s+ký)",
    re.IGNORECASE,
)


def _substantive(block: Block) -> bool:
    """Tell whether a closing line is text of substance (a sentence, a heading), not a recipient or a signature."""
    if block.is_row:
        cells = [c for c in block.cells or () if c.strip()]
        return any(len(c.split()) >= 12 and not _CLOSING_LINE.match(c) for c in cells)
    text = block.text.strip()
    if _CLOSING_LINE.match(text) or (is_mostly_upper(text) and len(text.split()) <= 6):
        return False  # "CHỦ TỊCH", "PHÓ CHỦ TỊCH", the signer's name in capitals
    return len(text.split()) >= 8 or bool(ROMAN_HEADING.match(text) or parse_marker(text))
