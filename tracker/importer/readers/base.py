"""The reader's output: the document as an ordered list of text blocks and table rows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """One line of text, or one table row (`cells` set, `table` numbering the table it belongs to)."""

    text: str
    cells: tuple[str, ...] | None = None
    table: int | None = None

    @property
    def is_row(self) -> bool:
        """Tell whether this block is a table row."""
        return self.cells is not None


@dataclass
class Document:
    """A read document: its blocks in reading order, its format and page count."""

    blocks: list[Block]
    source_format: str
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    """Bounds on what a reader accepts: bytes, pages, seconds, uncompressed DOCX size, text read."""

    max_bytes: int = 20 * 1024 * 1024
    max_pages: int = 300
    time_limit: float = 30.0
    max_unzipped: int = 256 * 1024 * 1024
    max_ratio: float = 100.0
    #: Readers that stream (DOCX) stop once the text read passes this many characters, as the pipeline
    #: would refuse it anyway, so that a document inflating within the zip limits cannot fill memory.
    max_chars: int = 4_000_000
    #: ... or once they have read this many paragraph lines and table rows (paragraphs inside table
    #: cells count too): some 25 MB of blocks, several times what a 600-page plan holds.
    max_blocks: int = 100_000
    #: Scanned PDFs up to this many pages are read by OCR when Tesseract is installed (0: never).
    ocr_max_pages: int = 40
