"""The normalising stage: whatever the source, later stages see clean lines and table rows."""

from __future__ import annotations

from tracker.importer import extract_plan
from tracker.importer.normalize import normalize_blocks, pipe_cells, strip_markup
from tracker.importer.readers.base import Block
from tracker.importer.syllables import document_lexicon, is_syllable, join_split_syllables


def _lines(*texts: str) -> list[Block]:
    return [Block(text) for text in texts]


def test_web_marks_go_and_a_star_bullet_stays() -> None:
    assert strip_markup("## **II. NỘI DUNG**") == "II. NỘI DUNG"
    assert strip_markup("*a) Đối với hộ nghèo*") == "a) Đối với hộ nghèo"
    assert strip_markup("**II. NỘI DUNG") == "II. NỘI DUNG"  # a mark whose pair is on the next line
    assert strip_markup("* Mục tiêu cụ thể") == "* Mục tiêu cụ thể"  # "* " is a bullet plans use


def test_pipe_lines_become_rows_of_one_table_and_the_underline_goes() -> None:
    blocks = normalize_blocks(_lines(
        "Bảng phân công",
        "| TT | Nhiệm vụ | Chủ trì |",
        "|---|---|---|",
        "| 1 | Rà soát hộ nghèo | Trạm Y tế xã |",
        "| Cập nhật dữ liệu | Công an xã |",  # a row whose number cell was merged with the one above
        "Đoạn văn sau bảng.",
    ))
    rows = [b for b in blocks if b.is_row]
    assert [r.cells for r in rows] == [
        ("TT", "Nhiệm vụ", "Chủ trì"), ("1", "Rà soát hộ nghèo", "Trạm Y tế xã"), ("Cập nhật dữ liệu", "Công an xã")
    ]
    assert len({r.table for r in rows}) == 1
    assert pipe_cells("Không phải | bảng") is None


def test_ocr_spaces_inside_words_are_rejoined_only_into_real_syllables() -> None:
    lexicon = document_lexicon(["Ủy ban nhân dân Thành phố Hồ Chí Minh ban hành", "Thủ tướng Chính phủ"])
    assert join_split_syllables("ỦY B AN NHÂN D Â N T HÀNH P HỐ HỒ C H Í M I NH", lexicon) == (
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH"
    )
    assert join_split_syllables("- T hủ tướ ng C h í nh ph ủ ;", lexicon) == "- Thủ tướng Chính phủ ;"
    # Ordinary text, abbreviations and one-letter words are left alone.
    kept = "Trạm y tế xã và UBND tỉnh, Sở GD&ĐT, điểm a khoản 1, Phụ lục I, thú y, ý kiến"
    assert join_split_syllables(kept, lexicon) == kept
    assert is_syllable("nghiêng") and is_syllable("quyết") and not is_syllable("tướ") and not is_syllable("B")


def test_split_digits_and_document_symbols_close_up() -> None:
    blocks = normalize_blocks(_lines("Số: 773 /QĐ-TTg", "Hà Nội, ngày 26 tháng 0 6 năm 2018", "3210/QĐ - UBND"))
    assert [b.text for b in blocks] == ["Số: 773/QĐ-TTg", "Hà Nội, ngày 26 tháng 06 năm 2018", "3210/QĐ-UBND"]


def test_page_furniture_goes_but_a_row_number_stays() -> None:
    lines = []
    for page in range(1, 5):
        body = [f"Dòng {n} trang {page} của văn bản kế hoạch được in trên trang này." for n in range(18)]
        lines += ["CÔNG BÁO/Số 12", *body, "1", "Trạm Y tế xã", f"- {page} -"]
    text = [b.text for b in normalize_blocks(_lines(*lines))]
    assert "CÔNG BÁO/Số 12" not in text and "- 2 -" not in text
    assert "1" in text  # a bare number may be a table's row number: the outline decides
    assert "Luật Dữ liệu" in [b.text for b in normalize_blocks(_lines("Luật Dữ liệu¹"))]


def test_a_part_heading_wrapped_over_two_lines_is_one_heading_but_stt_is_not_its_end() -> None:
    joined = normalize_blocks(_lines("V. TỔ", "CHỨC THỰC HIỆN", "1. Trạm Y tế xã"))
    assert [b.text for b in joined] == ["V. TỔ CHỨC THỰC HIỆN", "1. Trạm Y tế xã"]
    assert [b.text for b in normalize_blocks(_lines("II. PHÂN CÔNG NHIỆM VỤ", "STT"))] == [
        "II. PHÂN CÔNG NHIỆM VỤ", "STT"
    ]


def test_a_web_copy_with_marks_reads_like_the_clean_text() -> None:
    clean = (
        "KẾ HOẠCH\nPhòng chống dịch năm 2025\nI. TỔ CHỨC THỰC HIỆN\n"
        "1. Trạm Y tế xã: giám sát ca bệnh, báo cáo UBND xã trước ngày 15/6/2025.\n"
        "2. Công an xã: bảo đảm an ninh trật tự.\n"
    )
    marked = clean.replace("I. TỔ CHỨC THỰC HIỆN", "## **I. TỔ CHỨC THỰC HIỆN**").replace(
        "2. Công an xã", "**2. Công an xã**"
    )
    a, b = (extract_plan(t.encode(), "kh.txt").to_dict() for t in (clean, marked))
    assert [(t["section"], t["unit"]) for t in a["tasks"]] == [(t["section"], t["unit"]) for t in b["tasks"]]
    assert a["tasks"][0]["deadlines"][0]["date"] == "2025-06-15"


def test_text_left_after_the_signature_is_reported() -> None:
    text = (
        "KẾ HOẠCH\nPhòng chống lụt bão năm 2025\nI. NHIỆM VỤ\n1. Trạm Y tế xã: chuẩn bị thuốc.\n"
        "Nơi nhận:\n- Như trên;\n- Lưu VT.\nTM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\nNguyễn Văn A\n"
        "Ghi chú: các thôn gửi danh sách hộ dân cần sơ tán về UBND xã trước ngày 30/6/2025 để tổng hợp.\n"
    )
    warnings = extract_plan(text.encode(), "kh.txt").to_dict()["warnings"]
    assert any("sau phần nơi nhận" in w and "Ghi chú" in w for w in warnings)
