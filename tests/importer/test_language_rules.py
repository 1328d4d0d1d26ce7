"""The rules follow how Vietnamese administrative documents hand out work, not one document's layout."""

from __future__ import annotations

from tracker.importer import extract_plan
from tracker.importer.dates import parse_time_cell


def _tasks(text: str) -> list[tuple[str, str]]:
    return [(t["section"], t["unit"]) for t in extract_plan(text.encode(), "kh.txt").to_dict()["tasks"]]


def _result(text: str) -> dict:
    return extract_plan(text.encode(), "kh.txt").to_dict()


def test_units_listed_under_a_lead_label_each_get_the_sections_work() -> None:
    result = _result(
        "KẾ HOẠCH\nTriển khai Đề án năm 2025\nI. CÔNG TÁC TUYÊN TRUYỀN\n1. Nội dung, biện pháp\n"
        "a) Tổ chức hội nghị quán triệt.\n2. Cơ quan chủ trì, phối hợp\na) Cơ quan chủ trì\n"
        "- Bộ Quốc phòng; Bộ Lao động - Thương binh và Xã hội.\n- Tư lệnh các quân khu.\n"
        "b) Cơ quan phối hợp\n- Các cơ quan, đơn vị, địa phương.\n"
        "3. Thời gian thực hiện: Tháng 11, 12/2025 và hằng năm.\n"
    )
    tasks = {(t["section"], t["unit"]): t for t in result["tasks"]}
    assert set(tasks) == {
        ("I.2.a", "Bộ Quốc phòng"), ("I.2.a", "Bộ Lao động - Thương binh và Xã hội"), ("I.2.a", "Tư lệnh các quân khu")
    }
    task = tasks["I.2.a", "Bộ Quốc phòng"]
    assert task["coordinating_units"] == ["Các cơ quan, đơn vị, địa phương"]
    assert [d["date"] for d in task["deadlines"]] == ["2025-12-31"]
    assert task["recurrence"] == "annual"


def test_a_unit_that_opens_a_sentence_with_a_verb_is_told_to_act_wherever_it_is_written() -> None:
    tasks = _tasks(
        "KẾ HOẠCH\nBảo vệ bí mật nhà nước năm 2023\nII. NỘI DUNG CÔNG TÁC\n"
        "1. Quán triệt văn bản về bảo vệ bí mật nhà nước\n"
        "Các sở, ban, ngành trực thuộc UBND tỉnh; UBND các huyện, thành phố tổ chức quán triệt, hoàn thành "
        "trước ngày 28/2/2023.\n2. Kiểm tra\nGiao Công an tỉnh chủ trì, phối hợp với Sở Nội vụ kiểm tra định kỳ.\n"
        "III. TỔ CHỨC THỰC HIỆN\n1. Sở Tư pháp: thẩm định văn bản; Văn phòng UBND tỉnh bố trí phòng họp.\n"
    )
    assert tasks == [
        ("II.1", "Các sở, ban, ngành trực thuộc UBND tỉnh"),
        ("II.1", "UBND các huyện, thành phố"),
        ("II.2", "Công an tỉnh"),
        ("III.1", "Sở Tư pháp"),
        ("III.1", "Văn phòng UBND tỉnh"),  # named inside another unit's item
    ]


def test_a_heading_naming_units_joined_by_a_semicolon_gives_each_its_duty_list() -> None:
    tasks = _tasks(
        "KẾ HOẠCH\nPhòng chống dịch năm 2025\nI. TỔ CHỨC THỰC HIỆN\n1. Sở Y tế; Sở Giáo dục và Đào tạo:\n"
        "a) Tuyên truyền phòng bệnh.\nb) Báo cáo UBND tỉnh trước ngày 15/6/2025.\n"
        "2. Công an tỉnh, Bộ Chỉ huy Quân sự tỉnh: bảo đảm an ninh.\n"
    )
    assert tasks == [
        ("I.1", "Sở Y tế"), ("I.1", "Sở Giáo dục và Đào tạo"), ("I.2", "Công an tỉnh, Bộ Chỉ huy Quân sự tỉnh")
    ]


def test_closing_formulas_and_the_issuers_own_duties_are_not_tasks() -> None:
    tasks = _tasks(
        "ỦY BAN NHÂN DÂN\nXÃ TÂN AN\nSố: 12/KH-UBND\nTân An, ngày 02 tháng 01 năm 2025\nKẾ HOẠCH\n"
        "Chuyển đổi số năm 2025\nI. TỔ CHỨC THỰC HIỆN\n1. UBND xã chỉ đạo chung.\n"
        "2. Công chức Văn hóa - Xã hội: tham mưu triển khai.\n"
        "Yêu cầu các cơ quan, đơn vị nghiêm túc triển khai thực hiện. Trong quá trình thực hiện, nếu có khó khăn, "
        "vướng mắc, các thôn báo cáo UBND xã để xem xét./.\n"
    )
    assert tasks == [("I.2", "Công chức Văn hóa - Xã hội")]


def test_a_letter_gives_tasks_from_its_numbered_giao_items_and_its_header_fields() -> None:
    result = _result(
        "| ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |\n"
        "| Số: 4085/UBND-ĐT V/v rà soát dữ liệu số nhà | Thành phố Hồ Chí Minh, ngày 25 tháng 11 năm 2025 |\n"
        "Kính gửi:\n- Sở Xây dựng;\n- Ủy ban nhân dân các phường, xã, đặc khu.\n"
        "Chủ tịch Ủy ban nhân dân Thành phố có ý kiến chỉ đạo như sau:\n"
        "1. Giao Sở Xây dựng theo dõi, đôn đốc việc cập nhật, hoàn thành trước ngày 05 tháng 12 năm 2025.\n"
        "2. Giao Ủy ban nhân dân các phường, xã, đặc khu rà soát dữ liệu số nhà trong tháng 12 năm 2025.\n"
    )
    assert (result["kind"], result["plan_number"], result["issued"]) == ("cong_van", "4085/UBND-ĐT", "2025-11-25")
    assert result["title"] == "V/v rà soát dữ liệu số nhà" and result["level"] == "province"
    assert [(t["section"], t["unit"], [d["date"] for d in t["deadlines"]]) for t in result["tasks"]] == [
        ("1", "Sở Xây dựng", ["2025-12-05"]),
        ("2", "Ủy ban nhân dân các phường, xã, đặc khu", ["2025-12-31"]),
    ]


def test_a_decision_issuing_a_plan_reads_the_plan_and_not_its_articles() -> None:
    result = _result(
        "ỦY BAN NHÂN DÂN\nTỈNH SƠN LA\nSố: 254/QĐ-UBND\nSơn La, ngày 17 tháng 02 năm 2023\nQUYẾT ĐỊNH\n"
        "Ban hành Kế hoạch bảo vệ bí mật nhà nước năm 2023\nQUYẾT ĐỊNH:\nĐiều 1. Ban hành kèm theo Quyết định này "
        "Kế hoạch.\nĐiều 3. Giám đốc Công an tỉnh, Thủ trưởng các sở chịu trách nhiệm thi hành Quyết định này.\n"
        "Nơi nhận:\n- Như Điều 3;\n- Lưu VT.\nKẾ HOẠCH\nBẢO VỆ BÍ MẬT NHÀ NƯỚC NĂM 2023\n"
        "(Kèm theo Quyết định số 254/QĐ-UBND ngày 17/02/2023 của Chủ tịch UBND tỉnh)\n"
        "I. TỔ CHỨC THỰC HIỆN\n1. Công an tỉnh: hướng dẫn, kiểm tra.\n"
    )
    assert result["kind"] == "quyet_dinh_ban_hanh_ke_hoach" and result["plan_number"] == "254/QĐ-UBND"
    assert result["title"] == "Kế hoạch bảo vệ bí mật nhà nước năm 2023"
    assert [(t["section"], t["unit"]) for t in result["tasks"]] == [("I.1", "Công an tỉnh")]


def test_a_document_of_no_known_kind_gets_a_warning_not_an_invented_title() -> None:
    result = _result("Danh sách mua sắm\n- Giấy in: 10 ram\n- Mực in: 2 hộp\n")
    assert result["kind"] == "unknown" and result["title"] == ""
    assert result["tasks"] == []
    assert any("Không nhận ra loại văn bản" in w for w in result["warnings"])


def test_time_cells_as_officials_write_them() -> None:
    def due(cell: str) -> list[str]:
        return [hit.date.isoformat() for hit in parse_time_cell(cell, 2025)]

    assert due("Quý IV/2025") == ["2025-12-31"]
    assert due("6/2025") == ["2025-06-30"]
    assert due("Tháng 11-12/2025") == ["2025-12-31"]
    assert due("2026 - 2030") == ["2030-12-31"]
    assert due("Năm 2026") == ["2026-12-31"]
    assert due("Quý III, quý IV/2025") == ["2025-12-31"]  # several periods: the last one ends it
    assert due("2025; 2026") == ["2025-12-31", "2026-12-31"]  # joined by ";": one deadline each
    assert due("Thường xuyên") == [] and due("Hằng năm") == []


def test_recurrence_follows_the_duty_not_a_noun() -> None:
    result = _result(
        "KẾ HOẠCH\nGiáo dục năm 2025\nI. TỔ CHỨC THỰC HIỆN\n1. Sở Giáo dục và Đào tạo: Hằng năm, tổ chức kiểm tra.\n"
        "2. Sở Tài chính: bố trí kinh phí hằng năm.\n3. Sở Y tế: định kỳ kiểm tra an toàn thực phẩm.\n"
        "4. UBND các xã: báo cáo UBND huyện trước ngày 20 hằng tháng.\n"
    )
    recurrence = {t["unit"]: t["recurrence"] for t in result["tasks"]}
    assert recurrence["Sở Giáo dục và Đào tạo"] == "annual"
    assert recurrence["Sở Tài chính"] is None  # a yearly budget is a thing, not a recurring duty
    assert recurrence["Sở Y tế"] == ["periodic", "annual"]
    assert recurrence["UBND các xã"] == "RRULE:FREQ=MONTHLY;BYMONTHDAY=20"


def test_targets_keep_their_unit_and_direction() -> None:
    targets = {
        t["indicator"]: t
        for t in _result(
            "KẾ HOẠCH\nDân số năm 2025\nI. MỤC TIÊU\n1. Giảm tỷ lệ sinh con thứ 3 trở lên xuống còn dưới 9%.\n"
            "2. Tổng tỷ suất sinh đạt 2,1 con/phụ nữ.\n3. Trồng mới 500 ha rừng.\n"
            "II. TỔ CHỨC THỰC HIỆN\n1. Trạm Y tế xã: tổ chức thực hiện.\n"
        )["targets"]
    }
    assert targets["Tỷ lệ sinh con thứ 3 trở lên"]["comparator"] == "<"  # "xuống còn dưới": at most
    assert targets["Tổng tỷ suất sinh"]["unit_of_measure"] == "con/phụ nữ"
    assert targets["Tổng tỷ suất sinh"]["values"] == {"2025": 2.1}
    assert targets["Trồng mới"]["unit_of_measure"] == "ha"


def test_a_meeting_conclusion_gives_each_unit_named_in_it_a_task_and_none_to_the_office_that_announces_it() -> None:
    result = _result(
        "ỦY BAN NHÂN DÂN\nTỈNH QUẢNG NINH\nSố: 120/TB-UBND\nQuảng Ninh, ngày 10 tháng 3 năm 2025\n"
        "THÔNG BÁO\nKết luận của Chủ tịch UBND tỉnh tại cuộc họp về công tác giải phóng mặt bằng\n"
        "Ngày 05/3/2025, Chủ tịch UBND tỉnh chủ trì cuộc họp. Chủ tịch UBND tỉnh kết luận như sau:\n"
        "1. Sở Tài nguyên và Môi trường hoàn thành hồ sơ thu hồi đất, báo cáo UBND tỉnh trước ngày 30/3/2025.\n"
        "2. Giao UBND thành phố Hạ Long chủ trì, phối hợp với Sở Xây dựng bàn giao mặt bằng trong tháng 4/2025.\n"
        "3. Sở Tài chính thẩm định phương án bồi thường.\n"
        "Văn phòng UBND tỉnh thông báo để các cơ quan, đơn vị biết, thực hiện./.\n"
        "Nơi nhận:\n- Như trên;\n- Lưu: VT.\n"
    )
    assert result["kind"] == "thong_bao_ket_luan"
    assert result["title"].startswith("Thông báo kết luận của Chủ tịch UBND tỉnh")
    assert [(t["section"], t["unit"], [d["date"] for d in t["deadlines"]]) for t in result["tasks"]] == [
        ("1", "Sở Tài nguyên và Môi trường", ["2025-03-30"]),
        ("2", "UBND thành phố Hạ Long", ["2025-04-30"]),
        ("3", "Sở Tài chính", []),
    ]
