"""DOCX plans: paragraphs and table rows in document order, auto-numbering rendered as text.

A .docx is a zip: its declared sizes are checked before python-docx decompresses anything, and
Python's zipfile never inflates a member past its declared size, so a zip bomb is refused cheaply.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from tracker.importer import errors
from tracker.importer.budget import Deadline
from tracker.importer.readers.base import Block, Document, Limits
from tracker.importer.textnorm import clean_line, nfc

_MAX_MEMBERS = 5000
_BIG_MEMBER = 10 * 1024 * 1024


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse a zip that is corrupt, is not a DOCX, or would inflate abnormally."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise errors.corrupt("docx", str(exc)) from exc
    with archive:
        members = archive.infolist()
        if len(members) > _MAX_MEMBERS:
            raise errors.zip_bomb(f"{len(members)} members")
        total = sum(m.file_size for m in members)
        if total > limits.max_unzipped:
            raise errors.zip_bomb(f"{total} bytes uncompressed")
        for member in members:
            ratio = member.file_size / max(1, member.compress_size)
            if member.file_size > _BIG_MEMBER and ratio > limits.max_ratio:
                raise errors.zip_bomb(f"{member.filename}: ratio {ratio:.0f}")
        if "word/document.xml" not in archive.namelist():
            raise errors.unsupported_format("tệp ZIP nhưng không phải DOCX")


def read_docx(data: bytes, limits: Limits, deadline: Deadline | None = None) -> Document:
    """Read a .docx into blocks: each paragraph line, and each table row with its cells."""
    check_zip(data, limits)
    deadline = deadline or Deadline(limits.time_limit)
    import docx  # imported here: text imports should not pay for python-docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types on a damaged package
        raise errors.corrupt("docx", repr(exc)) from exc
    numbering = _Numbering(document)
    blocks: list[Block] = []
    table_count = 0
    for item in document.iter_inner_content():
        deadline.check()
        if hasattr(item, "rows"):
            table_count += 1
            blocks.extend(_table_blocks(item, table_count))
            continue
        label = numbering.label(item)
        text = nfc(item.text or "")
        for index, line in enumerate(text.split("\n")):
            cleaned = clean_line(line)
            if index == 0 and label:
                cleaned = f"{label} {cleaned}".strip()
            if cleaned:
                blocks.append(Block(cleaned))
    if not blocks:
        raise errors.no_text()
    return Document(blocks, "docx")


def _cell_text(cell: Any) -> str:
    parts = [clean_line(nfc(p.text or "")) for p in cell.paragraphs]
    for inner in cell.tables:
        for row in inner.rows:
            parts.append(" ".join(_cell_text(c) for c in row.cells))
    return " ".join(part for part in parts if part)


def _table_blocks(table: Any, table_id: int) -> list[Block]:
    blocks = []
    for row in table.rows:
        cells: list[str] = []
        seen: list[Any] = []
        for cell in row.cells:
            # A horizontally merged cell is returned once per grid column; keep it once.
            if any(cell._tc is other for other in seen):
                continue
            seen.append(cell._tc)
            cells.append(_cell_text(cell))
        if any(cells):
            blocks.append(Block(" | ".join(cells), tuple(cells), table_id))
    return blocks


_ROMAN = [
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
]


def _roman(value: int) -> str:
    out = ""
    for number, letters in _ROMAN:
        while value >= number:
            out += letters
            value -= number
    return out


def _format_counter(value: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (value - 1) % 26)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(value)
        return roman.lower() if fmt == "lowerRoman" else roman
    if fmt == "decimalZero":
        return f"{value:02d}"
    return str(value)


class _Numbering:
    """Render Word's automatic list numbers ("1.", "a)", "-") that python-docx leaves out of the text."""

    def __init__(self, document: Any) -> None:
        from docx.oxml.ns import qn

        self._qn = qn
        self._levels: dict[str, dict[int, tuple[int, str, str]]] = {}
        self._counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for node in root.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in node.findall(qn("w:lvl")):
                levels[int(lvl.get(qn("w:ilvl"), "0"))] = (
                    int(self._val(lvl, "w:start") or 1),
                    self._val(lvl, "w:numFmt") or "decimal",
                    self._val(lvl, "w:lvlText") or "",
                )
            abstract[node.get(qn("w:abstractNumId"))] = levels
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            if ref is not None:
                self._levels[num.get(qn("w:numId"))] = abstract.get(ref.get(qn("w:val")), {})

    def _val(self, node: Any, tag: str) -> str | None:
        child = node.find(self._qn(tag))
        return child.get(self._qn("w:val")) if child is not None else None

    def label(self, paragraph: Any) -> str:
        """Return the list label Word would display before `paragraph`, or ""."""
        ppr = paragraph._p.pPr
        num_pr = ppr.numPr if ppr is not None else None
        style = paragraph.style
        while (num_pr is None or num_pr.numId is None) and style is not None:
            # "List Number" and heading styles carry their numbering in the style definition.
            style_ppr = style.element.pPr
            num_pr = style_ppr.numPr if style_ppr is not None else None
            style = style.base_style
        if num_pr is None or num_pr.numId is None:
            return ""
        num_id = str(num_pr.numId.val)
        level = int(num_pr.ilvl.val) if num_pr.ilvl is not None else 0
        levels = self._levels.get(num_id)
        if not levels or level not in levels:
            return ""
        counters = self._counters.setdefault(num_id, [0] * 9)
        start, fmt, text = levels[level]
        counters[level] = start if counters[level] == 0 else counters[level] + 1
        for deeper in range(level + 1, 9):
            counters[deeper] = 0
        if fmt == "bullet" or fmt == "none":
            return "-" if fmt == "bullet" else ""
        for index in range(level + 1):
            lvl_start, lvl_fmt, _ = levels.get(index, (1, "decimal", ""))
            value = counters[index] or lvl_start
            text = text.replace(f"%{index + 1}", _format_counter(value, lvl_fmt))
        return text
