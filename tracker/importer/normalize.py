"""Normalise what a reader produced, so that later stages see clean lines whatever the source.

Plans reach us as text copied from web pages (emphasis and heading marks, tables flattened to
`| cell | cell |` lines), as PDF text (page numbers, running headers, footnote markers, headings wrapped
over two lines) and as OCR output (spaces inside words: "ỦY B AN NHÂN D Â N", "tháng 0 6"). This stage
undoes each of these, one small function per defect, and changes nothing else.
"""

from __future__ import annotations

import itertools
import re

from tracker.importer.budget import checkpoint
from tracker.importer.readers.base import Block
from tracker.importer.syllables import document_lexicon, join_split_syllables
from tracker.importer.textnorm import clean_line, is_mostly_upper

# --- Marks copied from web pages ----------------------------------------------------------------------

_HEADING_MARK = re.compile(r"^#{1,6}\s+")
_QUOTE_MARK = re.compile(r"^>\s+")
# "**II. NỘI DUNG**", "__a) ...__", "*a) Đối với ...*": emphasis around (part of) a line.
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?![\w*])")
_DANGLING = re.compile(r"^(?:\*\*|__)(?=\S)|(?<=\S)(?:\*\*|__)$")


def strip_markup(line: str) -> str:
    """Remove Markdown heading, quote and emphasis marks; keep a "* " bullet, which plans use."""
    line = _HEADING_MARK.sub("", line)
    line = _QUOTE_MARK.sub("", line)
    line = _STRONG.sub(r"\2", line)
    line = _EMPHASIS.sub(r"\1", line)
    # A line wrapped inside an emphasis keeps only one of its marks ("**II. NỘI DUNG" / "CÔNG TÁC**").
    line = _DANGLING.sub("", line)
    if line.startswith("*") and len(line) > 1 and line[1] != " " and line[1] != "*":
        line = line[1:]  # "*a) Đối với ..." whose closing mark is on a later line
    return line.strip()


# --- Pipe tables ----------------------------------------------------------------------------------------

_PIPE_ROW = re.compile(r"^\|.*\|\s*$|^\|(?:[^|]*\|){2,}")
_SEPARATOR_CELL = re.compile(r"^:?-{2,}:?$")


def pipe_cells(line: str) -> tuple[str, ...] | None:
    """Split a `| a | b |` line into its cells, or None when the line is not a table row."""
    stripped = line.strip()
    if not _PIPE_ROW.match(stripped):
        return None
    inner = stripped[1:-1] if stripped.endswith("|") else stripped[1:]
    cells = tuple(clean_line(cell) for cell in inner.split("|"))
    if all(_SEPARATOR_CELL.match(cell) or not cell for cell in cells):
        return ()  # "|---|---|": the header's underline
    return cells


# --- OCR spacing -----------------------------------------------------------------------------------------

# "tháng 0 6", "ngày 0 5": the two digits of a day or month split apart.
_SPLIT_DIGITS = re.compile(r"\b(ngày|tháng)\s+(\d)\s+(\d)\b", re.IGNORECASE)
# "773 /QĐ-TTg", "3210/QĐ - UBND": a document symbol with spaces around its separators.
_SPLIT_SYMBOL = re.compile(r"(\d+)\s*/\s*([A-ZĐ][A-ZĐa-zđ&.]*)\s*-\s*(?=[A-ZĐ])")
_SPACE_BEFORE_SLASH = re.compile(r"(\d)\s+/(?=[A-ZĐ])")


def fix_ocr_spacing(text: str, lexicon: frozenset[str]) -> str:
    """Rejoin words and numbers that OCR split with spaces."""
    text = join_split_syllables(text, lexicon)
    text = _SPLIT_DIGITS.sub(r"\1 \2\3", text)
    text = _SPACE_BEFORE_SLASH.sub(r"\1/", text)
    return _SPLIT_SYMBOL.sub(r"\1/\2-", text)


# --- Page furniture ---------------------------------------------------------------------------------------

# "- 12 -", "Trang 3", "Page 3 / 20": unmistakable page numbers. A bare "12" stays: in a table laid out one
# cell per line it is a row number, and the outline skips the rest.
_PAGE_NUMBER = re.compile(r"^-\s*\d{1,3}\s*-$|^(?:Trang|Page)\s+\d+(?:\s*/\s*\d+)?$")
# A footnote marker glued to a word: "Nghị quyết số 57-NQ/TW[1]", "Luật Dữ liệu¹".
_FOOTNOTE_MARK = re.compile(r"(?<=[^\s\d])(?:\[\d{1,2}\]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+)")
_RUNNING_MIN = 3
# Fewer lines than this between two repeats of a line cannot be two pages.
_PAGE_LINES = 15


def _running_lines(lines: list[str]) -> set[str]:
    """Lines repeated at page breaks: running headers and footers ("CÔNG BÁO/Số 12", a short title).

    A line counts as running when it comes back at least three times, each time (or nearly) beside a
    page number; a phrase that merely recurs in the text ("nghiệp và Môi trường" after a line break) does not.
    """
    def near_page_number(index: int) -> bool:
        window = lines[max(0, index - 2) : index + 3]
        return any(_PAGE_NUMBER.match(other) or other.isdigit() for other in window)

    seen: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        if 3 <= len(line) <= 90 and not line[:1].isdigit():
            seen.setdefault(line, []).append(index)
    running = set()
    for line, places in seen.items():
        if len(places) < _RUNNING_MIN or min(b - a for a, b in itertools.pairwise(places)) < _PAGE_LINES:
            continue  # a cell repeated down a table ("Năm 2025") is no page furniture
        if sum(near_page_number(index) for index in places) >= max(_RUNNING_MIN, 0.6 * len(places)):
            running.add(line)
    return running


# --- Wrapped headings --------------------------------------------------------------------------------------

_ROMAN_LINE = re.compile(r"^(?:(?:PHẦN|Phần)\s+)?(?:[IVX]{1,5}|[A-H])\s*[.):\-–]\s*\S")
_MARKER_START = re.compile(r"^(?:[IVX]{1,5}|[A-H]|\d{1,2}(?:\.\d{1,2})*|[a-zđ])\s*[.)]|^[-+*•]")


def _continues_heading(heading: str, following: str) -> bool:
    """Tell whether `following` is the rest of an upper-case part heading ("V. TỔ" / "CHỨC THỰC HIỆN")."""
    if not _ROMAN_LINE.match(heading) or not is_mostly_upper(heading, 0.9):
        return False
    if _MARKER_START.match(following) or not is_mostly_upper(following, 0.9) or _PAGE_NUMBER.match(following):
        return False
    # "STT" opens a table under the heading rather than finishing it.
    if re.match(r"^(?:STT|TT|SỐ\s+TT)$", following) or heading.rstrip().endswith((".", ":")):
        return False
    return len(heading.split()) + len(following.split()) <= 16


# --- The stage ---------------------------------------------------------------------------------------------


def normalize_blocks(blocks: list[Block]) -> list[Block]:
    """Return the document's blocks cleaned: marks, pipe tables, OCR spacing, page furniture, wrapped headings."""
    texts = [strip_markup(block.text) if not block.is_row else block.text for block in blocks]
    lexicon = document_lexicon(texts)
    running = _running_lines([t for t, b in zip(texts, blocks, strict=True) if not b.is_row])
    next_table = 1 + max((block.table or 0 for block in blocks if block.is_row), default=0)
    out: list[Block] = []
    previous_pipe = False
    for count, (block, text) in enumerate(zip(blocks, texts, strict=True)):
        if count % 256 == 0:
            checkpoint()
        if block.is_row:
            cells = tuple(fix_ocr_spacing(strip_markup(cell), lexicon) for cell in block.cells or ())
            out.append(Block(" | ".join(cells), cells, block.table))
            previous_pipe = False
            continue
        cells = pipe_cells(text)
        if cells is not None:
            if cells:
                if not previous_pipe:
                    next_table += 1
                fixed = tuple(fix_ocr_spacing(strip_markup(cell), lexicon) for cell in cells)
                out.append(Block(" | ".join(fixed), fixed, next_table))
            previous_pipe = True
            continue
        previous_pipe = False
        if not text or _PAGE_NUMBER.match(text) or text in running:
            continue
        text = fix_ocr_spacing(_FOOTNOTE_MARK.sub("", text), lexicon)
        if out and not out[-1].is_row and _continues_heading(out[-1].text, text):
            out[-1] = Block(f"{out[-1].text} {text}")
            continue
        out.append(Block(text))
    return out
