"""Build test documents: plans saved as .docx (python-docx) and as .pdf (fpdf2 + DejaVu Sans)."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PLANS = Path("/work/shared/plans")
GOLD = PLANS / "gold"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "importer"
UNSEEN = FIXTURES / "unseen"


def plan_names() -> list[str]:
    """Return the stems of the shared plans that have a gold file."""
    return sorted(path.stem for path in GOLD.glob("*.json"))


def unseen_names() -> list[str]:
    """Return the stems of the plans in tests/fixtures/importer/unseen (each a .txt with a gold .json)."""
    return sorted(path.stem for path in UNSEEN.glob("*.json"))


def plan_text(name: str) -> str:
    """Return a shared plan's text."""
    return (PLANS / f"{name}.txt").read_text(encoding="utf-8")


@cache
def extracted(name: str) -> dict:
    """Return the extraction of a shared plan's .txt (computed once per test session)."""
    from tracker.importer import extract_plan

    return extract_plan((PLANS / f"{name}.txt").read_bytes(), f"{name}.txt").to_dict()


def lines_of(text: str) -> list[str]:
    """Return the non-blank lines of a text, as a person retyping it into Word would keep them."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def fill_table(table: Any, rows: list[list[str]]) -> None:
    """Write rows of cells into a fresh python-docx table (no merged cells) in one pass: `table.cell(r, c)` lists
    the whole table on every call, which made building a document of large tables take half a minute."""
    from docx.table import _Cell

    for tr, row in zip(table._tbl.tr_lst, rows, strict=False):
        for tc, value in zip(tr.tc_lst, row, strict=False):
            _Cell(tc, table).text = value


def docx_from_lines(lines: list[str], tables: list[list[list[str]]] | None = None) -> bytes:
    """Save lines as paragraphs of a .docx, then append `tables` (rows of cells)."""
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    for rows in tables or []:
        fill_table(document.add_table(rows=len(rows), cols=len(rows[0])), rows)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_from_lines(
    lines: list[str],
    *,
    font_size: float = 8,
    encrypt: str | None = None,
    wrap_mm: float | None = None,
    running: str | None = None,
) -> bytes:
    """Save lines as a text-layer PDF with the DejaVu font: one text line per input line, or, with
    `wrap_mm`, each line re-wrapped to that width as a narrower page would; `running` adds that line
    as a header on every page and "Trang N" as a footer."""
    return _pdf(tuple(lines), font_size, encrypt, wrap_mm, running)


@cache
def _pdf(
    lines: tuple[str, ...], font_size: float, encrypt: str | None, wrap_mm: float | None, running: str | None
) -> bytes:
    from fpdf import FPDF

    class _Paged(FPDF):
        def header(self) -> None:
            if running:
                self.cell(0, 6, running, new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            if running:
                self.set_y(-8)
                self.cell(0, 5, f"Trang {self.page_no()}")

    pdf = _Paged(orientation="L", format="A4")
    pdf.set_auto_page_break(True, margin=10)
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.set_font("DejaVu", size=font_size)
    pdf.add_page()
    for line in lines:
        if wrap_mm:
            pdf.multi_cell(wrap_mm, font_size * 0.5, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.cell(0, font_size * 0.5, line, new_x="LMARGIN", new_y="NEXT")
    if encrypt:
        pdf.set_encryption(owner_password="owner", user_password=encrypt)
    return bytes(pdf.output())


def image_pdf(pages: int = 1) -> bytes:
    """Return a PDF whose pages are images only, like a scan without OCR."""
    from fpdf import FPDF
    from PIL import Image

    image = Image.new("RGB", (400, 300), "white")
    for x in range(50, 350):
        image.putpixel((x, 150), (0, 0, 0))
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.image(image, x=10, y=10, w=150)
    return bytes(pdf.output())


def ruled_table_pdf(before: list[str], rows: list[list[str]], after: list[str]) -> bytes:
    """Return a PDF with text lines, a ruled table (as Word exports one) and more text lines."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.set_font("DejaVu", size=10)
    pdf.add_page()
    for line in before:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    with pdf.table(headings_style=FontFace(emphasis=None)) as table:
        for cells in rows:
            row = table.row()
            for value in cells:
                row.cell(value)
    for line in after:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def scan_of(pdf: bytes, dpi: int = 200) -> bytes:
    """The PDF as a scanner would give it back: each page an image (grey, `dpi`), no text layer."""
    import pypdfium2 as pdfium
    from fpdf import FPDF

    source = pdfium.PdfDocument(pdf)
    try:
        first = source[0]
        width_mm, height_mm = first.get_width() * 25.4 / 72, first.get_height() * 25.4 / 72
        out = FPDF(unit="mm", format=(width_mm, height_mm))
        for index in range(len(source)):
            image = source[index].render(scale=dpi / 72, grayscale=True).to_pil()
            out.add_page()
            out.image(image, x=0, y=0, w=width_mm, h=height_mm)
    finally:
        source.close()
    return bytes(out.output())
