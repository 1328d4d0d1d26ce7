"""General rules of how plans are written, each pinned by the smallest example that needs it."""

from __future__ import annotations

from tracker.importer import extract_plan
from tracker.importer.dates import parse_time_cell
from tracker.importer.unitphrase import leading_unit, split_enumeration


def _tasks(text: str) -> list[tuple[str, str]]:
    return [(t["section"], t["unit"]) for t in extract_plan(text.encode(), "kh.txt").to_dict()["tasks"]]


def test_a_managing_body_keeps_what_it_manages_in_its_name() -> None:
    assert leading_unit("Ban Quản lý xây dựng nông thôn mới xã tham mưu") == "Ban Quản lý xây dựng nông thôn mới xã"
    assert leading_unit("Ban Quản lý dự án đầu tư xây dựng huyện chủ trì") == "Ban Quản lý dự án đầu tư xây dựng huyện"
    assert leading_unit("Ban Chỉ đạo xã tổ chức kiểm tra") == "Ban Chỉ đạo xã"


def test_numbered_units_and_fixed_terms_stay_whole() -> None:
    assert leading_unit("Đội Quản lý thị trường số 3 phối hợp") == "Đội Quản lý thị trường số 3"
    assert leading_unit("Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên huyện thực hiện") == (
        "Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên huyện"
    )
    media = "Báo và Phát thanh, Truyền hình Quảng Trị"
    assert leading_unit(f"{media} xây dựng") == media


def test_the_office_of_both_councils_is_one_unit() -> None:
    assert split_enumeration("Văn phòng HĐND và UBND xã") == ["Văn phòng HĐND và UBND xã"]
    assert leading_unit("Văn phòng Hội đồng nhân dân và Ủy ban nhân dân phường chủ trì") == (
        "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân phường"
    )
    assert split_enumeration("Sở Y tế và Sở Nội vụ") == ["Sở Y tế", "Sở Nội vụ"]


def test_a_time_cell_giving_a_range_is_due_at_its_end() -> None:
    def due(cell: str) -> list[str]:
        return [hit.date.isoformat() for hit in parse_time_cell(cell, 2023)]

    assert due("Tháng 6 - 7/2023") == ["2023-07-31"]
    assert due("Từ 01/6 - 30/6/2023") == ["2023-06-30"]
    assert due("Từ tháng 5 đến tháng 11/2024") == ["2024-11-30"]
    assert due("Trước 15/6 và 15/12") == ["2023-06-15", "2023-12-15"]


def test_lead_labels_list_several_units_and_a_time_label_sets_the_recurrence() -> None:
    text = (
        "KẾ HOẠCH\nGiải quyết việc làm năm 2024\nI. NHIỆM VỤ\n1. Hỗ trợ vay vốn tạo việc làm\n"
        "- Đơn vị chủ trì: Phòng Lao động - Thương binh và Xã hội, Phòng Giao dịch Ngân hàng Chính sách xã hội huyện.\n"
        "- Đơn vị phối hợp: Hội Nông dân huyện, UBND các xã, thị trấn.\n- Thời gian thực hiện: Hằng quý.\n"
    )
    tasks = extract_plan(text.encode(), "kh.txt").to_dict()["tasks"]
    # The contract keeps a "," group whole as one joint lead; only ";" separates units.
    assert [t["unit"] for t in tasks] == [
        "Phòng Lao động - Thương binh và Xã hội, Phòng Giao dịch Ngân hàng Chính sách xã hội huyện",
    ]
    assert {t["recurrence"] for t in tasks} == {"quarterly"}
    assert tasks[0]["coordinating_units"] == ["Hội Nông dân huyện", "UBND các xã, thị trấn"]


def test_a_clause_without_a_subject_goes_on_with_the_unit_before_it() -> None:
    text = (
        "KẾ HOẠCH\nTháng hành động vì trẻ em năm 2023\nI. TỔ CHỨC THỰC HIỆN\n"
        "Giao Phòng Lao động - TB&XH chủ trì tham mưu tổ chức các hoạt động; tổng hợp, báo cáo UBND huyện "
        "trước ngày 10/7/2023. Công an huyện xử lý các vụ xâm hại trẻ em.\n"
    )
    first, second = extract_plan(text.encode(), "kh.txt").to_dict()["tasks"]
    assert (first["unit"], [d["date"] for d in first["deadlines"]], first["report_to"]) == (
        "Phòng Lao động - TB&XH",
        ["2023-07-10"],
        ["UBND huyện"],
    )
    assert (second["unit"], second["deadlines"]) == ("Công an huyện", [])


def test_a_wrapped_hyphenated_name_is_not_a_bullet_but_a_topic_bullet_is() -> None:
    text = (
        "KẾ HOẠCH\nPhòng, chống thiên tai năm 2025\nI. PHÂN CÔNG NHIỆM VỤ\n1. Đào tạo nghề\n"
        "Đào tạo nghề cho lao động nông thôn.\nĐơn vị chủ trì: Trung tâm Giáo dục nghề nghiệp\n"
        "- Giáo dục thường xuyên huyện.\n2. Công chức Địa chính - Nông nghiệp\n- Xây dựng và Môi trường\n"
        "- Rà soát khu vực sạt lở, báo cáo trước ngày 31/5/2025.\n3. Hỗ trợ sản xuất\nĐơn vị chủ trì: Sở Y tế\n"
        "- Về nước sạch: hỗ trợ hộ nghèo.\n"
    )
    assert _tasks(text) == [
        ("I.1", "Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên huyện"),
        ("I.2", "Công chức Địa chính - Nông nghiệp - Xây dựng và Môi trường"),
        ("I.3", "Sở Y tế"),
    ]


def test_a_bullet_that_goes_on_after_a_semicolon_is_a_duty_not_the_rest_of_the_name() -> None:
    text = (
        "KẾ HOẠCH\nPhòng chống dịch năm 2024\nII. TỔ CHỨC THỰC HIỆN\n"
        "1. Hợp tác xã Dịch vụ nông nghiệp - Thương mại\n"
        "- Vật tư phun khử khuẩn cho các thôn; báo cáo UBND xã trước ngày 30/6/2024.\n"
        "2. Trạm Y tế xã\n- Chủ trì tiêm chủng.\n"
    )
    assert _tasks(text) == [("II.1", "Hợp tác xã Dịch vụ nông nghiệp - Thương mại"), ("II.2", "Trạm Y tế xã")]


def test_headings_cut_mid_name_are_joined() -> None:
    text = (
        "KẾ HOẠCH\nPhòng, chống ma túy năm 2025\nI. TỔ CHỨC THỰC HIỆN\n"
        "1. Công an tỉnh (Cơ quan Thường trực Ban Chỉ đạo phòng, chống tội phạm, tệ nạn xã\n"
        "hội và xây dựng phong trào toàn dân bảo vệ an ninh Tổ quốc tỉnh)\n- Chủ trì triển khai Kế hoạch.\n"
        "2. Đề nghị Hội Nông dân tỉnh, Hội Liên hiệp\nPhụ nữ tỉnh, Tỉnh đoàn\nTuyên truyền, vận động hội viên.\n"
        "3. Đề nghị Tòa án nhân dân tỉnh, Viện\nKiểm sát nhân dân tỉnh phối hợp xét xử các vụ án.\n"
        "4. Đề nghị Ủy ban Mặt trận Tổ quốc\nViệt Nam tỉnh và các tổ chức chính trị\n- xã hội tỉnh\n"
        "Giám sát việc thực hiện.\n"
    )
    units = [unit for _section, unit in _tasks(text)]
    assert units[0].startswith("Công an tỉnh (Cơ quan Thường trực")
    assert units[1:] == [
        "Hội Nông dân tỉnh, Hội Liên hiệp Phụ nữ tỉnh, Tỉnh đoàn",
        "Tòa án nhân dân tỉnh, Viện Kiểm sát nhân dân tỉnh",
        "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh và các tổ chức chính trị - xã hội tỉnh",
    ]


def test_targets_handed_out_per_village_are_read_per_village() -> None:
    text = (
        "KẾ HOẠCH\nXây dựng nông thôn mới năm 2024\nI. MỤC TIÊU\nThu nhập bình quân đạt 52 triệu đồng.\n"
        "Nơi nhận:\n- Lưu VT.\nPHỤ LỤC\nGIAO CHỈ TIÊU CHO CÁC THÔN NĂM 2024\nSTT\nTên thôn\nTổng số hộ\n(hộ)\n"
        "Số hộ nghèo\ngiảm (hộ)\nTỷ lệ tham gia\nBHYT (%)\n1 Nà Làng 215 4 96\n2 Khe Cạn 188 3 95\nToàn xã 403 7 95\n"
    )
    result = extract_plan(text.encode(), "kh.txt").to_dict()
    table = {(t["indicator"], t["responsible"]): t for t in result["targets"] if t["section"].startswith("Phụ lục")}
    assert table["Số hộ nghèo", "Nà Làng"]["values"] == {"2024": 4.0}
    assert table["Số hộ nghèo", "Nà Làng"]["comparator"] == "decrease"
    assert table["Tỷ lệ tham gia BHYT", "Khe Cạn"]["values"] == {"2024": 95.0}
    assert table["Số hộ nghèo", None]["values"] == {"2024": 7.0}  # the commune's own total
    assert not any(t["indicator"].startswith("Tổng số hộ") for t in result["targets"])  # a base figure
    assert result["poverty_tables"] == []  # not a poverty-rate table


def test_changes_and_count_nouns_in_objectives() -> None:
    text = (
        "KẾ HOẠCH\nPhòng, chống ma túy năm 2025\nI. CHỈ TIÊU\n1. Giảm ít nhất 10% số xã có tệ nạn ma túy so với "
        "năm 2024.\n2. Triệt phá ít nhất 15 đường dây, ổ nhóm mua bán ma túy.\n"
        "3. Giảm tỷ lệ cơ sở vi phạm từ 12% năm 2024 xuống dưới 8%.\n"
    )
    targets = {t["indicator"]: t for t in extract_plan(text.encode(), "kh.txt").to_dict()["targets"]}
    assert (targets["Số xã có tệ nạn ma túy"]["values"], targets["Số xã có tệ nạn ma túy"]["comparator"]) == (
        {"2025": 10.0},
        "decrease",
    )
    assert targets["Đường dây, ổ nhóm mua bán ma túy"]["comparator"] == ">="
    assert targets["Tỷ lệ cơ sở vi phạm"]["values"] == {"2024": 12.0, "2025": 8.0}
    assert targets["Tỷ lệ cơ sở vi phạm"]["comparator"] == "<"


def test_a_time_of_day_may_stand_between_the_cue_and_the_date() -> None:
    from tracker.importer.dates import find_deadlines

    hits = find_deadlines("báo cáo UBND tỉnh trước 16 giờ 00 ngày 20/10/2025; trước 17h00 ngày 05/11", 2025)
    assert [(h.date.isoformat(), h.text) for h in hits] == [
        ("2025-10-20", "trước 16 giờ 00 ngày 20/10/2025"),
        ("2025-11-05", "trước 17h00 ngày 05/11"),
    ]
