"""Cut a document into its conventional parts.

An administrative plan is laid out the same way everywhere: the agency and national motto, the number
and date, "KẾ HOẠCH" and the subject, the grounds ("Căn cứ...", "Thực hiện..."), the body in Roman
numbered parts, the recipients ("Nơi nhận") and signature, then appendices ("Phụ lục").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.importer.readers.base import Block
from tracker.importer.sections import ROMAN_HEADING, parse_marker
from tracker.importer.textnorm import is_mostly_upper

_PLAN_HEADING = re.compile(r"^KẾ\s+HOẠCH(?:\s+(?P<rest>.+))?$")
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


_DECISION_HEADING = re.compile(r"^QUYẾT\s+ĐỊNH\s*$")
# A decision that issues a plan ("QUYẾT ĐỊNH Về việc ban hành Kế hoạch ...") comes first, with its
# grounds, articles, recipients and signature; the plan it issues may start a long way down.
_DECISION_REACH = 400


def _plan_heading_index(blocks: list[Block]) -> int | None:
    reach = 60
    if any(not b.is_row and _DECISION_HEADING.match(b.text) for b in blocks[:30]):
        reach = _DECISION_REACH
    for index, block in enumerate(blocks[:reach]):
        if not block.is_row and _PLAN_HEADING.match(block.text):
            return index
    return None


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


def split_segments(blocks: list[Block]) -> Segments:
    """Split the blocks of a plan into header, title, preamble, body, closing and appendices."""
    heading = _plan_heading_index(blocks)
    header = blocks[:heading] if heading is not None else []
    title: list[str] = []
    captions: list[str] = []
    cursor = 0
    if heading is not None:
        rest = _PLAN_HEADING.match(blocks[heading].text).group("rest")
        cursor = heading + 1
        if rest:
            title.append(rest)
        while cursor < len(blocks) and not blocks[cursor].is_row:
            text = blocks[cursor].text
            if set(text) <= set("-_=*. "):
                cursor += 1
                continue
            if title and (_TITLE_STOP.match(text) or (text[:1].isupper() and not is_mostly_upper(title[-1]))):
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
            title.append(text)
            cursor += 1
            if len(title) >= 4:
                break
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
    return Segments(header, title, preamble, body, closing, appendices, captions)
