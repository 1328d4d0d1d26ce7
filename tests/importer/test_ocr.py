"""Scanned PDFs: read by Tesseract (Vietnamese) when the server has it, refused with a clear message when not.

The scans are made here: a plan's text-layer PDF rendered to images at 200 dpi and wrapped in a PDF with no
text layer, as a scanner returns it. They skip with a message where tesseract-ocr-vie is absent.
"""

from __future__ import annotations

import pytest

from tracker.importer import extract_plan
from tracker.importer.errors import DocumentError
from tracker.importer.readers.ocr import ocr_available

from .builders import DEJAVU, extracted, image_pdf, lines_of, pdf_from_lines, plan_text, scan_of

needs_ocr = pytest.mark.skipif(not (ocr_available() and DEJAVU.exists()),
                               reason="OCR skipped: install tesseract-ocr tesseract-ocr-vie (and fonts-dejavu-core)")
PLAN = "004_c8b79a7600a1cc52"


@pytest.fixture(scope="module")
def scanned_plan() -> bytes:
    return scan_of(pdf_from_lines(lines_of(plan_text(PLAN)), font_size=11))


def _units(result: dict) -> set[str]:
    return {t["unit"] for t in result["tasks"]}


@needs_ocr
def test_a_scanned_plan_is_read_by_ocr_and_says_so(scanned_plan: bytes) -> None:
    result = extract_plan(scanned_plan, "ke-hoach-scan.pdf").to_dict()
    assert result["source_format"] == "pdf" and result["pages"] >= 2
    assert any("OCR" in w for w in result["warnings"])
    text = extracted(PLAN)
    assert result["plan_number"] == text["plan_number"] and result["year"] == text["year"]
    # Recognition is not perfect, but a clean 200 dpi scan keeps nearly every assigned unit and deadline.
    found, expected = _units(result), _units(text)
    assert len(found & expected) >= 0.9 * len(expected)
    dates = {d["date"] for t in result["tasks"] for d in t["deadlines"]}
    assert {"2024-09-25"} <= dates


@needs_ocr
def test_ocr_can_be_turned_off_and_is_bounded_in_pages(scanned_plan: bytes) -> None:
    with pytest.raises(DocumentError) as off:
        extract_plan(scanned_plan, "scan.pdf", ocr_max_pages=0).to_dict()
    assert off.value.code == "scanned_pdf"
    with pytest.raises(DocumentError) as long:
        extract_plan(scanned_plan, "scan.pdf", ocr_max_pages=1).to_dict()
    assert long.value.code == "scan_too_long" and "tối đa 1 trang" in long.value.message_vi


@needs_ocr
def test_a_scan_with_no_legible_text_is_refused_not_imported_empty() -> None:
    with pytest.raises(DocumentError) as error:
        extract_plan(image_pdf(2), "trang-trang.pdf").to_dict()
    assert error.value.code == "unreadable_scan"


@needs_ocr
def test_ocr_respects_the_time_budget(scanned_plan: bytes) -> None:
    with pytest.raises(DocumentError) as error:
        extract_plan(scanned_plan, "scan.pdf", time_limit=0.3).to_dict()
    assert error.value.code == "too_slow"
