"""The report as a .docx: Decree 30/2020's layout from the template, every placeholder filled, parts I-IV."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document

from tracker.clock import status_clock
from tracker.reports import docx_bytes, draft, xlsx_bytes
from tracker.reports.document import render_docx
from tracker.reports.docxml import TemplateError
from tracker.reports.template import BUNDLED_TEMPLATE, PLACEHOLDERS, build_default_template

TODAY = date(2024, 8, 1)


def _content(data, person=None, **kw):
    return draft(person or data.commune.chair, period="2024-H1", clock=status_clock(TODAY), plan=data.plan, **kw)


def _text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def test_the_document_has_decree_30s_heading_margins_and_fonts(report_data):
    document = Document(io.BytesIO(docx_bytes(_content(report_data))))
    section = document.sections[0]
    mm = [round(x.mm) for x in (section.page_width, section.page_height, section.top_margin, section.bottom_margin,
                                section.left_margin, section.right_margin)]
    assert mm == [210, 297, 20, 20, 30, 15]
    heading = document.tables[0].rows[0].cells
    assert heading[0].text.split("\n")[:2] == ["ỦY BAN NHÂN DÂN", "XÃ CAO NGỌC"]
    assert "Số:" in heading[0].text and "/BC-UBND" in heading[0].text
    assert heading[1].text.split("\n")[:2] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert "Cao Ngọc, ngày 01 tháng 8 năm 2024" in heading[1].text
    body = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in body
    assert any(t.startswith("Kết quả thực hiện Kế hoạch số 56/KH-UBND") for t in body)
    normal = document.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size.pt == 14
    assert round(document.styles["Report Body"].paragraph_format.first_line_indent.mm) == 10


def test_every_placeholder_is_filled_and_the_parts_come_in_order(report_data):
    document = Document(io.BytesIO(docx_bytes(_content(report_data))))
    text = _text(document)
    assert "{" not in text and "}" not in text
    body = [p.text for p in document.paragraphs]
    parts = [next(i for i, t in enumerate(body) if t.startswith(title)) for title in (
        "I. KẾT QUẢ THỰC HIỆN", "II. TỒN TẠI, HẠN CHẾ", "III. NHIỆM VỤ TRỌNG TÂM 6 THÁNG CUỐI NĂM 2024",
        "IV. ĐỀ XUẤT, KIẾN NGHỊ")]
    assert parts == sorted(parts)
    assert body[-1].startswith("Trên đây là báo cáo kết quả thực hiện Kế hoạch số 56/KH-UBND")
    signature = document.tables[-1].rows[0].cells
    assert signature[0].text.startswith("Nơi nhận:") and "- Lưu: VT." in signature[0].text
    assert [line for line in signature[1].text.split("\n") if line] == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH",
                                                                          "Phạm Văn Chủ Tịch"]


def test_the_body_quotes_units_names_groups_and_lists_the_overdue(report_data):
    text = _text(Document(io.BytesIO(docx_bytes(_content(report_data)))))
    assert "Trạm Y tế: Trạm Y tế đã khám miễn phí cho 120 người nghèo (báo cáo ngày 18/06/2024)" in text
    assert "Các thôn, tổ dân phố (2/3 đơn vị đã báo cáo):" in text
    assert "+ Chưa báo cáo (quá hạn): Thôn 3." in text
    assert "* Số hộ nghèo: 27 hộ (2/3 đơn vị báo cáo)." in text and "* Tỷ lệ hộ nghèo: 3,3% (2/3" in text
    assert "Đơn vị chưa báo cáo: Trường Tiểu học và Thôn 3." in text
    assert "hạn 10/06/2024, quá hạn 52 ngày; đã gia hạn từ ngày 15/05/2024" in text
    assert "bị trả lại ngày" in text and "“Thiếu số liệu thôn 3”" in text
    assert "gia hạn từ ngày 15/05/2024 đến ngày 10/06/2024" in text
    assert "Tổng hợp kết quả giảm nghèo (hạn 31/12/2024)" in text  # part III


def test_the_indicator_table_has_targets_values_and_shares(report_data):
    document = Document(io.BytesIO(docx_bytes(_content(report_data))))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "STT"
                 and "Chỉ tiêu năm 2024" in [c.text for c in t.rows[0].cells])
    rows = {r.cells[1].text: [c.text for c in r.cells] for r in table.rows[1:]}
    assert rows["Số hộ nghèo"][2:] == ["hộ", "≤ 40", "27", "148,1%", "Đạt", "2"]
    assert rows["Tỷ lệ hộ nghèo"][2:] == ["%", "≤ 3,25", "3,3", "98,5%", "Chưa đạt", "2"]


def test_a_roll_up_adds_the_units_side_by_side_on_a_landscape_appendix(report_data):
    c = report_data.commune
    document = Document(io.BytesIO(docx_bytes(_content(report_data, c.viewer, rollup_unit=c.district))))
    assert len(document.sections) == 2
    appendix = document.sections[1]
    assert appendix.page_width > appendix.page_height
    text = _text(document)
    assert "PHỤ LỤC" in text and "Xã Bên Cạnh" in text
    side = document.tables[-1]
    names = [r.cells[1].text for r in side.rows[2:]]
    assert names == ["Xã Bên Cạnh", "Xã Cao Ngọc"]
    cao_ngoc = [cell.text for cell in side.rows[3].cells]
    assert "27" in cao_ngoc and "3,3" in cao_ngoc


def test_the_officers_draft_holds_only_their_unit(report_data):
    text = _text(Document(io.BytesIO(docx_bytes(_content(report_data, report_data.commune.officer)))))
    assert "Trạm Y tế" in text and "Thôn 2" not in text and "Trường Tiểu học" not in text


def test_an_office_may_use_its_own_template(app, report_data, tmp_path):
    """A template made elsewhere: Word split a placeholder over runs, its own heading, none of our styles."""
    document = Document()
    paragraph = document.add_paragraph("Cơ quan: ")
    for piece in ("{co_quan_", "ban_hanh", "}"):
        paragraph.add_run(piece).bold = True
    document.add_paragraph("Số {so_ky_hieu} — {dia_danh_ngay}")
    document.add_paragraph("{ten_loai}: {trich_yeu}")
    document.add_paragraph("{noi_dung}")
    document.add_paragraph("{noi_nhan}")
    document.add_paragraph("{chuc_vu_ky} {nguoi_ky}")
    document.sections[0].header.paragraphs[0].text = "Văn bản của {co_quan_ban_hanh}"
    path = tmp_path / "mau-rieng.docx"
    document.save(path)
    app.config["REPORT_TEMPLATE_PATH"] = str(path)
    rendered = Document(io.BytesIO(docx_bytes(_content(report_data))))
    lines = [p.text for p in rendered.paragraphs]
    assert lines[0] == "Cơ quan: ỦY BAN NHÂN DÂN\nXÃ CAO NGỌC"
    assert rendered.paragraphs[0].runs[1].bold
    assert "I. KẾT QUẢ THỰC HIỆN" in lines and "- Lưu: VT." in lines
    assert lines[-1] == "CHỦ TỊCH Phạm Văn Chủ Tịch"
    assert "Report Body" in [s.name for s in rendered.styles]
    assert rendered.sections[0].header.paragraphs[0].text == "Văn bản của ỦY BAN NHÂN DÂN\nXÃ CAO NGỌC"


def test_a_template_without_the_body_placeholder_is_refused(report_data, tmp_path):
    document = Document()
    document.add_paragraph("{co_quan_ban_hanh}")
    path = tmp_path / "thieu.docx"
    document.save(path)
    with pytest.raises(TemplateError):
        render_docx(_content(report_data), path)


def test_the_bundled_template_is_what_the_builder_makes():
    bundled, built = Document(str(BUNDLED_TEMPLATE)), build_default_template()
    assert _text(bundled) == _text(built)
    for placeholder in PLACEHOLDERS:
        assert "{" + placeholder + "}" in _text(bundled), placeholder
    a, b = bundled.sections[0], built.sections[0]
    assert (a.left_margin, a.right_margin, a.top_margin, a.bottom_margin) == (
        b.left_margin, b.right_margin, b.top_margin, b.bottom_margin)


def test_the_excel_companion_has_the_plans_appendix_layout(report_data):
    from openpyxl import load_workbook

    c = report_data.commune
    workbook = load_workbook(io.BytesIO(xlsx_bytes(_content(report_data, c.chair, rollup_unit=c.xa))))
    assert workbook.sheetnames == ["Phụ lục 01", "Phụ lục 02", "Phụ lục 03", "Nhiệm vụ quá hạn"]
    sheet = workbook["Phụ lục 01"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "STT")
    assert header[:7] == ("STT", "Các chỉ tiêu", "ĐVT", "Đơn vị giao chỉ tiêu", "Yêu cầu", "Chỉ tiêu năm 2024",
                          "Chỉ tiêu năm 2025")
    rate = next(r for r in rows if r[1] == "Tỷ lệ hộ nghèo")
    assert rate[5:8] == (3.25, 2.5, 3.3) and rate[9] == "Chưa đạt"
    side = list(workbook["Phụ lục 02"].iter_rows(values_only=True))
    village = next(r for r in side if r[1] == "Thôn 2")
    assert 15.0 in village and 3.5 in village
    overdue = [r for r in workbook["Nhiệm vụ quá hạn"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert {r[1] for r in overdue} == {"Trạm Y tế", "Trường Tiểu học", "Thôn 3"}
