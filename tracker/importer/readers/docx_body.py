"""The body of word/document.xml as blocks: each paragraph's lines, each table row's cells.

The part is streamed (see docx_xml) and read as a small state machine over the start and end of
paragraphs, tables, rows and cells, so that cost is linear in the size of the XML and independent of its
nesting: no recursion, nothing held but the table rows being built. Tables are read from the XML itself:
a horizontal span (w:gridSpan) is one cell, and a cell that continues a vertical merge (w:vMerge) takes
the text of the cell it continues, so a merged "lead unit" or "deadline" cell appears in every row it
covers. A table nested in a cell is flattened into that cell's text, one space-joined line per row.
Text boxes are not body text and are skipped, as are tables of contents and deleted (tracked) text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from tracker.importer import errors
from tracker.importer.budget import Deadline
from tracker.importer.readers.base import Block, Limits
from tracker.importer.readers.docx_numbering import Numbering, num_pr_of
from tracker.importer.readers.docx_xml import VAL, XmlStream, drop_done, w
from tracker.importer.textnorm import clean_line, nfc

P, R, T = w("p"), w("r"), w("t")
TBL, TR, TC = w("tbl"), w("tr"), w("tc")
TEXT_BOX = w("txbxContent")
BODY, SDT, SDT_CONTENT = w("body"), w("sdt"), w("sdtContent")
PPR, TCPR, TRPR, P_STYLE = w("pPr"), w("tcPr"), w("trPr"), w("pStyle")
_TAB, _PTAB, _BR, _CR, _NO_BREAK_HYPHEN = w("tab"), w("ptab"), w("br"), w("cr"), w("noBreakHyphen")
_TYPE = w("type")
_TOC_GALLERY = f"{w('sdtPr')}/{w('docPartObj')}/{w('docPartGallery')}"

# Elements between a paragraph and its runs whose text Word displays (python-docx reads only w:hyperlink):
# tracked insertions, content controls, smart tags, simple fields. Runs under anything else (w:del,
# w:moveFrom, a text box's own paragraphs) are not the paragraph's text.
_RUN_CONTAINERS = frozenset(
    w(name)
    for name in ("hyperlink", "ins", "moveTo", "smartTag", "fldSimple", "customXml", "sdt", "sdtContent", "dir", "bdo")
)

#: Word allows 63 columns; a row with more cells than this is damaged or hostile.
MAX_CELLS_PER_ROW = 1000
#: XML one paragraph or cell may span before it is refused (lxml holds an open element whole).
ELEMENT_FUSE = 2 * 1024 * 1024


def paragraph_text(paragraph: Any) -> str:
    """Return a w:p element's text as Word shows it: tabs as "\\t", line breaks as "\\n"."""
    parts: list[str] = []
    for node in paragraph.iter(T, _TAB, _PTAB, _BR, _CR, _NO_BREAK_HYPHEN):
        run = node.getparent()
        if run.tag != R:  # a tab stop of w:pPr/w:tabs, not a tab character
            continue
        container = run.getparent()
        while container is not paragraph and container.tag in _RUN_CONTAINERS:
            container = container.getparent()
        if container is not paragraph:
            continue
        tag = node.tag
        if tag == T:
            parts.append(node.text or "")
        elif tag == _BR:
            if node.get(_TYPE, "textWrapping") == "textWrapping":  # page and column breaks are not text
                parts.append("\n")
        elif tag == _CR:
            parts.append("\n")
        elif tag == _NO_BREAK_HYPHEN:
            parts.append("-")
        else:
            parts.append("\t")
    return "".join(parts)


def _first_child(node: Any, tag: str) -> Any:
    for child in node:
        return child if child.tag == tag else None
    return None


def _int_val(props: Any, name: str, default: int) -> int:
    node = props.find(w(name)) if props is not None else None
    try:
        return int(node.get(VAL)) if node is not None else default
    except (TypeError, ValueError):
        return default


def _is_table_of_contents(sdt: Any) -> bool:
    gallery = sdt.find(_TOC_GALLERY) if sdt is not None and sdt.tag == SDT else None
    return gallery is not None and (gallery.get(VAL) or "").startswith("Table of Contents")


@dataclass
class _Cell:
    parts: list[str] = field(default_factory=list)
    chars: int = 0


@dataclass
class _Row:
    #: (grid column, text, vertical merge: None, "restart" or "continue") of each cell but the hMerged
    cells: list[tuple[int, str, str | None]] = field(default_factory=list)
    column: int | None = None  # the next cell's grid column; set from w:gridBefore at the first cell
    cell: _Cell | None = None
    chars: int = 0  # characters of its cells' own text, pending until the row is emitted


@dataclass
class _Table:
    number: int | None  # top-level tables are numbered from 1 in document order
    parent: _Cell | None  # the cell a nested table is flattened into
    above: dict[int, str] = field(default_factory=dict)  # grid column -> text there in the previous row
    row: _Row | None = None


class BodyReader:
    """Turn the event stream of word/document.xml into blocks, within the limits."""

    def __init__(self, limits: Limits, numbering: Numbering) -> None:
        self.blocks: list[Block] = []
        self._limits = limits
        self._numbering = numbering
        self._tables: list[_Table] = []
        self._table_count = 0
        self._hidden = 0  # open text boxes
        self._chars = 0  # characters emitted
        self._pending = 0  # characters held in cells of rows not yet emitted
        self._units = 0  # lines, cell paragraphs and rows read

    def read(self, source: IO[bytes], deadline: Deadline) -> list[Block]:
        """Read the whole part and return its blocks."""
        stream = XmlStream(source, ("start", "end"), (P, TBL, TR, TC, TEXT_BOX), deadline, ELEMENT_FUSE)
        for event, node in stream:
            tag = node.tag
            if tag == TEXT_BOX:
                self._hidden += 1 if event == "start" else -1
            elif self._hidden:
                if event == "end":
                    drop_done(node)  # its text box stays until the paragraph holding it ends
            elif event == "start":
                if tag == TC:
                    self._start_cell(node)
                elif tag == TR:
                    self._start_row()
                elif tag == TBL:
                    self._start_table()
            else:
                if tag == P:
                    self._paragraph(node)
                elif tag == TC:
                    self._end_cell(node)
                elif tag == TR:
                    self._end_row()
                else:
                    self._end_table()
                drop_done(node)
                stream.progress()
        return self.blocks

    # -- limits

    def _count(self) -> None:
        self._units += 1
        if self._units > self._limits.max_blocks:
            raise errors.too_many_blocks(self._limits.max_blocks)
        if self._chars + self._pending > self._limits.max_chars:
            raise errors.too_long(self._chars + self._pending, self._limits.max_chars, partial=True)

    def _emit(self, block: Block) -> None:
        self.blocks.append(block)
        self._chars += len(block.text)
        self._count()

    def _add_part(self, cell: _Cell, text: str) -> None:
        cell.parts.append(text)
        cell.chars += len(text)
        self._pending += len(text)
        self._count()

    # -- paragraphs

    def _paragraph(self, paragraph: Any) -> None:
        if self._tables:
            row = self._tables[-1].row
            cell = row.cell if row is not None else None
            text = clean_line(nfc(paragraph_text(paragraph))) if cell is not None else ""
            if text:
                self._add_part(cell, text)
            return
        if not self._in_body(paragraph):
            return
        props = _first_child(paragraph, PPR)
        style = props.find(P_STYLE) if props is not None else None
        label = self._numbering.label(
            num_pr_of(props) if props is not None else None, style.get(VAL) if style is not None else None
        )
        for index, line in enumerate(nfc(paragraph_text(paragraph)).split("\n")):
            cleaned = clean_line(line)
            if index == 0 and label:
                cleaned = f"{label} {cleaned}".strip()
            if cleaned:
                self._emit(Block(cleaned))

    @staticmethod
    def _in_body(paragraph: Any) -> bool:
        parent = paragraph.getparent()
        while parent is not None and parent.tag != BODY:
            if parent.tag == SDT_CONTENT and _is_table_of_contents(parent.getparent()):
                return False
            parent = parent.getparent()
        return True

    # -- tables

    def _start_table(self) -> None:
        if self._tables:
            row = self._tables[-1].row
            self._tables.append(_Table(None, row.cell if row is not None else None))
        else:
            self._table_count += 1
            self._tables.append(_Table(self._table_count, None))

    def _start_row(self) -> None:
        if self._tables:
            self._tables[-1].row = _Row()

    def _start_cell(self, cell: Any) -> None:
        if not self._tables:
            return
        table = self._tables[-1]
        if table.row is None:  # a cell straight under w:tbl: damaged, read as a row of its own
            table.row = _Row()
        row = table.row
        if row.column is None:
            row.column = max(0, _int_val(_first_child(cell.getparent(), TRPR), "gridBefore", 0))
        row.cell = _Cell()

    def _end_cell(self, cell: Any) -> None:
        row = self._tables[-1].row if self._tables else None
        if row is None or row.cell is None:
            return
        content, row.cell = row.cell, None
        row.chars += content.chars
        props = _first_child(cell, TCPR)
        span = min(max(1, _int_val(props, "gridSpan", 1)), MAX_CELLS_PER_ROW)
        column = row.column or 0
        row.column = column + span
        h_merge = props.find(w("hMerge")) if props is not None else None
        if h_merge is not None and h_merge.get(VAL, "continue") == "continue":
            return  # the legacy form of a horizontal span: part of the cell before it
        v_merge = props.find(w("vMerge")) if props is not None else None
        merge = v_merge.get(VAL, "continue") if v_merge is not None else None
        row.cells.append((column, " ".join(content.parts), merge))
        if len(row.cells) > MAX_CELLS_PER_ROW:
            raise errors.too_many_cells(MAX_CELLS_PER_ROW)

    def _end_row(self) -> None:
        if not self._tables or self._tables[-1].row is None:
            return
        table = self._tables[-1]
        row, table.row = table.row, None
        above: dict[int, str] = {}
        cells: list[str] = []
        for column, text, merge in row.cells:
            if merge == "continue":
                text = table.above.get(column, "")
            above[column] = text
            cells.append(text)
        table.above = above
        self._pending -= row.chars
        if not any(cells):
            return
        if table.parent is not None:
            self._add_part(table.parent, " ".join(cell for cell in cells if cell))
        elif table.number is not None:
            self._emit(Block(" | ".join(cells), tuple(cells), table.number))

    def _end_table(self) -> None:
        if self._tables and self._tables[-1].row is not None:
            self._end_row()
        if self._tables:
            self._tables.pop()
