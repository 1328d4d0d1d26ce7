"""The .docx plumbing of the report: the template's placeholders filled (even when Word split them over runs)
and paragraphs and tables written as XML in front of an anchor."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from typing import Any

from docx.oxml.ns import qn
from docx.oxml.parser import oxml_parser
from docx.text.paragraph import Paragraph
from lxml import etree

from tracker.reports.template import BODY_STYLES


class TemplateError(Exception):
    """The configured template cannot hold a report (missing file or placeholder)."""


Run = tuple[str, str]  # (text, "b" | "i" | "bi" | "" | "h": highlighted placeholder)
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
#: Characters XML 1.0 cannot carry (a unit's report may hold them): written as spaces.
_XML_SAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --- Placeholders ---------------------------------------------------------------------------------------------

def paragraphs(document: Any) -> Iterable[Any]:
    """Every paragraph: body, table cells (nested too), page headers and footers."""
    def walk(container: Any) -> Iterable[Any]:
        yield from container.paragraphs
        for table in getattr(container, "tables", []):
            for row in table.rows:
                for cell in row.cells:
                    yield from walk(cell)

    yield from walk(document)
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            if not part.is_linked_to_previous:  # reading an undefined one would add it to the document
                yield from walk(part)


def single_paragraph(document: Any, key: str) -> Any:
    token = "{" + key + "}"
    for paragraph in paragraphs(document):
        if paragraph.text.strip() == token:
            return paragraph
    raise TemplateError(f"the report template needs a paragraph holding only {token}")


def _replace(paragraph: Any, token: str, value: str) -> None:
    """Replace `token` in a paragraph even when Word split it over several runs; the first run's formatting
    carries the value."""
    while True:
        runs = paragraph.runs
        text = "".join(r.text for r in runs)
        start = text.find(token)
        if start < 0:
            return
        end, position, placed = start + len(token), 0, False
        for run in runs:
            run_start, run_end = position, position + len(run.text)
            position = run_end
            if run_end <= start or run_start >= end:
                continue
            before = run.text[:max(0, start - run_start)]
            after = run.text[max(0, end - run_start):] if end < run_end else ""
            run.text = before + (value if not placed else "") + after
            placed = True


def fill(document: Any, values: dict[str, str]) -> None:
    for paragraph in list(paragraphs(document)):
        if "{" not in paragraph.text:
            continue
        for key, value in values.items():
            token = "{" + key + "}"
            if token not in paragraph.text:
                continue
            if not value and paragraph.text.strip() == token:
                paragraph._p.getparent().remove(paragraph._p)  # an empty line of the heading is left out
                break
            _replace(paragraph, token, value)


def expand(document: Any, key: str, lines: Sequence[str]) -> None:
    """A paragraph holding only {key} becomes one paragraph per line, each in its formatting."""
    token = "{" + key + "}"
    for paragraph in list(paragraphs(document)):
        if paragraph.text.strip() != token:
            continue
        for line in lines:
            clone = copy.deepcopy(paragraph._p)
            paragraph._p.addprevious(clone)
            _replace(Paragraph(clone, paragraph._parent), token, line)
        paragraph._p.getparent().remove(paragraph._p)


# --- Writing ------------------------------------------------------------------------------------------------

class BodyWriter:
    """Adds paragraphs and tables in front of an anchor element (the {noi_dung} paragraph, or the body's last
    section properties for an appendix).

    The XML is built with lxml directly: python-docx's add_paragraph / add_run / add_row look for their place
    by scanning the siblings each time, which makes a long report (a province's hundred communes) quadratic.
    """

    def __init__(self, document: Any, anchor: Any) -> None:
        self.document = document
        self.anchor = anchor
        self.styles = {name: document.styles[name].style_id for name in BODY_STYLES}

    def para(self, runs: Sequence[Run] | str, style: str = "Report Body", *, align: str | None = None,
             size: float | None = None) -> Any:
        """A paragraph of `style`; runs are (text, how): "b" bold, "i" italic, "h" a highlighted placeholder."""
        paragraph = _paragraph(self.styles[style], [(runs, "")] if isinstance(runs, str) else runs, align, size)
        self.anchor.addprevious(paragraph)
        return paragraph

    def table(self, header: Sequence[str], rows: Iterable[Sequence[str]], widths: Sequence[float], *,
              numeric: Iterable[int] = (), header_rows: Sequence[Sequence[tuple[str, int]]] = ()) -> Any:
        """A bordered table of fixed column widths (cm); `header_rows` ((text, span) cells) go above `header`,
        their one-column cells spanning down over it; all header rows repeat on every page."""
        style = self.styles["Report Table"]
        right = set(numeric)
        twips = [round(w * 567) for w in widths]
        table = oxml_parser.makeelement(qn("w:tbl"))
        properties = etree.SubElement(table, qn("w:tblPr"))
        _set(etree.SubElement(properties, qn("w:tblW")), w="0", type="auto")
        _set(etree.SubElement(properties, qn("w:jc")), val="center")
        borders = etree.SubElement(properties, qn("w:tblBorders"))
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            _set(etree.SubElement(borders, qn(f"w:{edge}")), val="single", sz="4", space="0", color="000000")
        _set(etree.SubElement(properties, qn("w:tblLayout")), type="fixed")
        grid = etree.SubElement(table, qn("w:tblGrid"))
        for width in twips:
            _set(etree.SubElement(grid, qn("w:gridCol")), w=str(width))
        spanning: set[int] = set()
        for spans in header_rows:
            row = _row(table, header=True)
            column = 0
            for text, span in spans:
                merge = "restart" if span == 1 else None
                if span == 1:
                    spanning.add(column)
                _cell(row, text, style, sum(twips[column:column + span]), span=span, vmerge=merge, bold=True,
                      align="center")
                column += span
        row = _row(table, header=True)
        for i, text in enumerate(header):
            _cell(row, text, style, twips[i], vmerge="continue" if i in spanning else None, bold=True,
                  align="center")
        for values in rows:
            row = _row(table)
            for i, text in enumerate(values):
                _cell(row, text, style, twips[i], align="right" if i in right else None)
        self.anchor.addprevious(table)
        return table


def _set(element: Any, **attributes: str) -> None:
    for key, value in attributes.items():
        element.set(qn(f"w:{key}"), value)


def _paragraph(style_id: str, runs: Sequence[Run], align: str | None = None, size: float | None = None) -> Any:
    paragraph = oxml_parser.makeelement(qn("w:p"))  # python-docx's element classes: Paragraph() can wrap it
    properties = etree.SubElement(paragraph, qn("w:pPr"))
    _set(etree.SubElement(properties, qn("w:pStyle")), val=style_id)
    if align:
        _set(etree.SubElement(properties, qn("w:jc")), val=align)
    for text, how in runs:
        if not text:
            continue
        run = etree.SubElement(paragraph, qn("w:r"))
        if how or size:
            rpr = etree.SubElement(run, qn("w:rPr"))
            if "b" in how:
                etree.SubElement(rpr, qn("w:b"))
            if "i" in how or "h" in how:
                etree.SubElement(rpr, qn("w:i"))
            if size:
                _set(etree.SubElement(rpr, qn("w:sz")), val=str(round(size * 2)))
            if "h" in how:
                _set(etree.SubElement(rpr, qn("w:highlight")), val="yellow")
        element = etree.SubElement(run, qn("w:t"))
        element.text = _XML_SAFE.sub(" ", text)
        element.set(_SPACE, "preserve")
    return paragraph


def _row(table: Any, *, header: bool = False) -> Any:
    row = etree.SubElement(table, qn("w:tr"))
    if header:
        _set(etree.SubElement(etree.SubElement(row, qn("w:trPr")), qn("w:tblHeader")), val="true")
    return row


def _cell(row: Any, text: str, style_id: str, width: int, *, span: int = 1, vmerge: str | None = None,
          bold: bool = False, align: str | None = None) -> None:
    cell = etree.SubElement(row, qn("w:tc"))
    properties = etree.SubElement(cell, qn("w:tcPr"))
    _set(etree.SubElement(properties, qn("w:tcW")), w=str(width), type="dxa")
    if span > 1:
        _set(etree.SubElement(properties, qn("w:gridSpan")), val=str(span))
    if vmerge == "restart":
        _set(etree.SubElement(properties, qn("w:vMerge")), val="restart")
    elif vmerge == "continue":
        etree.SubElement(properties, qn("w:vMerge"))
        text = ""
    cell.append(_paragraph(style_id, [(text, "b" if bold else "")], align))
