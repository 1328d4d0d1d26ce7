"""PDF plans: with a text layer, or scans read by OCR where the server has Tesseract (readers/ocr.py).

Text comes from PDFium (pypdfium2, which pdfplumber depends on): it reads a page in about a
millisecond, so a 300-page upload stays within the time budget. Pages drawn with ruling lines are
also read with pdfplumber, whose table finder turns ruled tables into rows of cells.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from tracker.importer import errors
from tracker.importer.budget import Deadline, progress
from tracker.importer.readers.base import Block, Document, Limits
from tracker.importer.textnorm import clean_line, collapse, nfc

_MIN_LETTERS_PER_PAGE = 20
_RULED_PAGE_PATHS = 6  # a page with this many drawn paths may hold a ruled table


def read_pdf(data: bytes, limits: Limits, deadline: Deadline | None = None) -> Document:
    """Read a PDF into blocks, refusing encrypted, truncated or huge files, and scans that cannot be OCRed."""
    if b"%%EOF" not in data[-65536:] and b"%%EOF" not in data:
        raise errors.corrupt("pdf", "no %%EOF marker (truncated download?)")
    deadline = deadline or Deadline(limits.time_limit)
    import pypdfium2 as pdfium  # imported here: text imports should not pay for PDFium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise errors.encrypted_pdf() from exc
        raise errors.corrupt("pdf", str(exc)) from exc
    try:
        pages = len(pdf)
        if pages > limits.max_pages:
            raise errors.too_many_pages(pages, limits.max_pages)
        pages_blocks: list[list[Block]] = []
        letters = unreadable = images = 0
        plumber: Any = None
        table_count = 0
        for index in range(pages):
            deadline.check()
            page = pdf[index]
            kinds = [obj.type for obj in page.get_objects()]
            images += kinds.count(pdfium.raw.FPDF_PAGEOBJ_IMAGE)
            text = nfc(page.get_textpage().get_text_range())
            letters += sum(1 for c in text if c.isalpha())
            unreadable += sum(1 for c in text if "\ue000" <= c <= "\uf8ff" or c in "\ufffd\ufffe")
            page_blocks: list[Block] = []
            if kinds.count(pdfium.raw.FPDF_PAGEOBJ_PATH) >= _RULED_PAGE_PATHS:
                plumber = plumber or _open_plumber(data)
                page_blocks, table_count = _ruled_page_blocks(plumber.pages[index], table_count)
            if not page_blocks:
                page_blocks = [Block(line) for line in (clean_line(raw) for raw in text.splitlines()) if line]
            pages_blocks.append(page_blocks)
            progress("reading", index + 1, pages)
        if plumber is not None:
            plumber.close()
        if _too_little_text(letters, unreadable, pages):
            if not (images or unreadable):
                raise errors.no_text()
            return _read_scan(pdf, deadline, limits)
    finally:
        pdf.close()
    return Document(_drop_running_lines(pages_blocks), "pdf", pages=pages)


def _too_little_text(letters: int, unreadable: int, pages: int) -> bool:
    return letters < _MIN_LETTERS_PER_PAGE * max(1, pages) / 4 or unreadable > letters / 5


def _read_scan(pdf: Any, deadline: Deadline, limits: Limits) -> Document:
    """A scan: OCR it if the server can (see readers/ocr.py), else say that it needs OCR."""
    from tracker.importer.readers.ocr import ocr_available, ocr_pages

    if limits.ocr_max_pages <= 0 or not ocr_available():
        raise errors.scanned_pdf()
    pages_blocks = ocr_pages(pdf, deadline, limits.ocr_max_pages)
    letters = sum(c.isalpha() for blocks in pages_blocks for b in blocks for c in b.text)
    if _too_little_text(letters, 0, len(pages_blocks)):
        raise errors.unreadable_scan()
    document = Document(_drop_running_lines(pages_blocks), "pdf", pages=len(pages_blocks))
    document.warnings.append(
        f"Văn bản là bản scan {len(pages_blocks)} trang, chữ được nhận dạng tự động (OCR): hãy đối chiếu kỹ "
        "tên đơn vị, thời hạn và số liệu với bản giấy trước khi xác nhận."
    )
    return document


def _drop_running_lines(pages: list[list[Block]]) -> list[Block]:
    """Drop running headers and footers: the same line at the top or bottom of most pages."""
    edges: Counter[str] = Counter()
    for blocks in pages:
        edges.update({b.text for b in blocks[:2] + blocks[-2:] if not b.is_row})
    threshold = max(3, len(pages) // 2 + 1)
    running = {text for text, count in edges.items() if count >= threshold}
    out: list[Block] = []
    for blocks in pages:
        edge = {id(b) for b in blocks[:2] + blocks[-2:]}
        out.extend(b for b in blocks if not (id(b) in edge and b.text in running))
    return out


def _open_plumber(data: bytes) -> Any:
    import pdfplumber

    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many types on a damaged file
        raise errors.corrupt("pdf", repr(exc)) from exc


def _ruled_page_blocks(page: Any, table_count: int) -> tuple[list[Block], int]:
    """Return a ruled page's lines and table rows in top-to-bottom order ([] when it has no table)."""
    try:
        tables = page.find_tables()
        if not tables:
            return [], table_count
        placed: list[tuple[float, int, Block]] = []
        text_page = page
        for table in tables:
            table_count += 1
            for index, row in enumerate(table.extract()):
                cells = tuple(collapse(nfc(cell or "")) for cell in row)  # a wrapped cell is one value
                if any(cells):
                    block = Block(" | ".join(cells), cells, table_count)
                    placed.append((table.bbox[1] + index * 0.01, 1, block))
            text_page = text_page.outside_bbox(table.bbox)
        for line in text_page.extract_text_lines(strip=True, return_chars=False):
            text = clean_line(nfc(line["text"]))
            if text:
                placed.append((line["top"], 0, Block(text)))
    except Exception as exc:  # a malformed page: report it rather than crash the import
        raise errors.corrupt("pdf", repr(exc)) from exc
    placed.sort(key=lambda entry: (entry[0], entry[1]))
    return [block for _, _, block in placed], table_count
