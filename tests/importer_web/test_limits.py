"""Configured limits: a file over IMPORT_MAX_BYTES, a PDF over IMPORT_MAX_PDF_PAGES, a body over the request limit."""

from __future__ import annotations

import pytest

from tests.importer_web.conftest import PLAN_004, counts, plan_bytes


@pytest.fixture
def app_config():
    return {"IMPORT_MAX_BYTES": 10_000, "IMPORT_MAX_PDF_PAGES": 2, "MAX_CONTENT_LENGTH": 200_000}


def test_file_over_the_import_limit_is_refused(login, client, upload, commune):
    login("ldtbxh")
    before = counts()
    response = upload("kh.txt", plan_bytes(PLAN_004))  # 22 kB > 10 kB
    assert response.status_code == 422
    assert "Tệp quá lớn" in response.get_data(as_text=True)
    assert counts() == before


def _pages(count: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for page in range(count):
        pdf.add_page()
        pdf.cell(0, 10, f"Ke hoach - trang {page + 1}")
    return bytes(pdf.output())


def test_pdf_over_the_page_limit_is_refused(login, client, upload, commune):
    data = _pages(5)
    assert len(data) < 10_000
    login("ldtbxh")
    before = counts()
    response = upload("dai.pdf", data)
    assert response.status_code == 422
    assert "vượt giới hạn 2 trang" in response.get_data(as_text=True)
    assert counts() == before


def test_request_over_the_body_limit_is_refused_before_reading(login, client, upload, commune):
    login("ldtbxh")
    before = counts()
    response = upload("lon.txt", b"x" * 300_000)
    assert response.status_code == 413
    assert "Tệp quá lớn." in response.get_data(as_text=True)
    assert counts() == before
