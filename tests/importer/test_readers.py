"""Readers: format detection by content, decoding, and a clear Vietnamese error for every bad input."""

from __future__ import annotations

import codecs
import io
import unicodedata
import zipfile

import pytest

from tracker.importer import DocumentError, extract_plan
from tracker.importer.readers import Limits, detect_format, read_document
from tracker.importer.readers.docx_reader import check_zip

from .builders import DEJAVU, docx_from_lines, image_pdf, pdf_from_lines

needs_font = pytest.mark.skipif(not DEJAVU.exists(), reason=f"{DEJAVU} is absent (apt: fonts-dejavu-core)")
PLAN = (
    "KẾ HOẠCH\nPhòng chống dịch năm 2025\nI. TỔ CHỨC THỰC HIỆN\n"
    "1. Trạm Y tế xã: Chủ trì, báo cáo UBND xã trước ngày 30/6/2025.\n"
)


def _error(data: bytes, filename: str = "plan.bin", **limits) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        read_document(data, filename, Limits(**limits))
    error = caught.value
    assert error.message_vi and error.message_en
    return error


def test_empty_file_is_refused() -> None:
    assert _error(b"").code == "empty"
    assert _error(b"  \n\n ").code == "empty"


def test_file_over_the_size_limit_is_refused_before_reading() -> None:
    error = _error(b"x" * 2048, max_bytes=1024)
    assert error.code == "too_large"
    assert "giới hạn" in error.message_vi


def test_binary_junk_is_refused() -> None:
    junk = bytes(range(256)) * 40
    assert _error(junk).code == "unsupported_format"


def test_old_word_documents_are_refused_with_advice() -> None:
    error = _error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert error.code == "unsupported_format" and ".docx" in error.message_vi


def test_text_encodings_are_decoded_to_nfc() -> None:
    for data in (codecs.BOM_UTF8 + PLAN.encode(), PLAN.encode("utf-16"), PLAN.encode("utf-16-le")):
        assert read_document(data, "a.txt").blocks[0].text == "KẾ HOẠCH"
    legacy = _cp1258("Ủy ban nhân dân xã Mường Lói")
    assert read_document(legacy, "a.txt").blocks[0].text == "Ủy ban nhân dân xã Mường Lói"


def _cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed vowels where it has them, tone marks as combining bytes."""
    out = b""
    for char in text:
        decomposed = unicodedata.normalize("NFD", char)
        for split in range(len(decomposed), 0, -1):
            try:
                out += unicodedata.normalize("NFC", decomposed[:split]).encode("cp1258")
                out += decomposed[split:].encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
    return out


def test_format_is_detected_by_content_not_extension() -> None:
    data = docx_from_lines(PLAN.splitlines())
    assert detect_format(data) == "docx"
    document = read_document(data, "plan.txt")
    assert document.source_format == "docx"
    assert "nội dung là DOCX" in document.warnings[0]


def test_truncated_docx_is_refused() -> None:
    data = docx_from_lines(PLAN.splitlines())
    assert _error(data[: len(data) // 2]).code == "corrupt_docx"


def test_zip_that_is_not_a_docx_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert _error(buffer.getvalue()).code == "unsupported_format"


def _zip_bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                member.write(chunk)
    return buffer.getvalue()


def test_docx_zip_bomb_is_refused_from_its_declared_sizes() -> None:
    bomb = _zip_bomb(64 << 20)
    assert len(bomb) < 200_000
    error = _error(bomb, max_unzipped=32 << 20)
    assert error.code == "zip_bomb"


def test_high_ratio_member_is_refused_even_under_the_total_limit() -> None:
    with pytest.raises(DocumentError) as caught:
        check_zip(_zip_bomb(16 << 20), Limits())
    assert caught.value.code == "zip_bomb"


@needs_font
def test_truncated_pdf_is_refused() -> None:
    data = pdf_from_lines(PLAN.splitlines())
    assert _error(data[: len(data) // 2]).code == "corrupt_pdf"


@needs_font
def test_password_protected_pdf_is_refused() -> None:
    data = pdf_from_lines(PLAN.splitlines(), encrypt="secret")
    error = _error(data)
    assert error.code == "encrypted_pdf"
    assert "mật khẩu" in error.message_vi


def test_scanned_pdf_asks_for_ocr_where_the_server_has_none() -> None:
    error = _error(image_pdf(2), ocr_max_pages=0)  # as on a server without Tesseract (tests/importer/test_ocr.py)
    assert error.code == "scanned_pdf"
    assert "cần OCR" in error.message_vi


@needs_font
def test_page_count_is_capped() -> None:
    data = pdf_from_lines(PLAN.splitlines() * 40, font_size=12)
    assert _error(data, max_pages=2).code == "too_many_pages"


@needs_font
def test_two_hundred_pages_are_read() -> None:
    """A long text PDF is read whole (its speed is a benchmark: bench/import_bench.py)."""
    lines = [f"{i}. Trạm Y tế xã thực hiện nhiệm vụ số {i} trước ngày 30/6/2025." for i in range(1, 41)]
    data = pdf_from_lines(lines * 160, font_size=12)
    document = read_document(data, "big.pdf")
    assert document.pages >= 200
    assert any("nhiệm vụ số 40 trước ngày 30/6/2025" in block.text for block in document.blocks)


@needs_font
def test_time_budget_stops_a_slow_read() -> None:
    data = pdf_from_lines(PLAN.splitlines() * 40, font_size=12)
    assert _error(data, time_limit=0.0).code == "too_slow"


def test_extract_plan_refuses_bad_input_with_the_same_error() -> None:
    with pytest.raises(DocumentError) as caught:
        extract_plan(b"", "a.txt").to_dict()
    assert caught.value.code == "empty"
    with pytest.raises(DocumentError):
        extract_plan(b"x" * 100, "a.txt", max_bytes=10).to_dict()


def test_docx_tables_keep_document_order_and_cells() -> None:
    data = docx_from_lines(["Trước bảng"], tables=[[["STT", "Nhiệm vụ"], ["1", "Rà soát"]]])
    blocks = read_document(data, "a.docx").blocks
    assert [b.text for b in blocks] == ["Trước bảng", "STT | Nhiệm vụ", "1 | Rà soát"]
    assert blocks[2].cells == ("1", "Rà soát")


def test_text_beyond_the_character_limit_is_refused() -> None:
    with pytest.raises(DocumentError) as caught:
        extract_plan(("Trạm Y tế xã thực hiện nhiệm vụ.\n" * 2000).encode(), "a.txt", max_chars=10_000).to_dict()
    assert caught.value.code == "too_long"
    assert "quá dài" in caught.value.message_vi
