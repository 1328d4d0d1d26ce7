"""Plans on other subjects, from other provinces and levels, written in the usual administrative style."""

from __future__ import annotations

from tracker.importer import extract_plan

from .builders import FIXTURES
from .synthetic_docx import digital_transformation_docx


def _by_section(result: dict) -> dict[tuple[str, str], dict]:
    return {(t["section"], t["unit"]): t for t in result["tasks"]}


def test_provincial_health_plan() -> None:
    result = extract_plan((FIXTURES / "health_province.txt").read_bytes(), "kh.txt").to_dict()
    tasks = _by_section(result)
    assert set(tasks) == {
        ("III.1.a", "Trung tâm Kiểm soát bệnh tật tỉnh"),
        ("III.1.b", "Đài Phát thanh và Truyền hình tỉnh"),
        ("III.2.2", "Trung tâm Y tế các huyện, thành phố, thị xã"),
        ("IV.1", "Phòng Nghiệp vụ Y"),
        ("IV.2", "Trung tâm Y tế các huyện, thành phố, thị xã"),
        ("IV.3", "Sở Giáo dục và Đào tạo"),
        ("IV.4", "UBND các huyện, thành phố, thị xã"),
        ("IV.5", "Văn phòng Sở"),
        ("V.1", "Các Trung tâm Y tế huyện"),
        ("V.2", "Trung tâm Kiểm soát bệnh tật tỉnh"),
    }
    assert [d["date"] for d in tasks["III.1.a", "Trung tâm Kiểm soát bệnh tật tỉnh"]["deadlines"]] == ["2025-02-28"]
    assert tasks["III.1.b", "Đài Phát thanh và Truyền hình tỉnh"]["coordinating_units"] == [
        "Trung tâm Kiểm soát bệnh tật tỉnh"
    ]
    lead_line = tasks["III.2.2", "Trung tâm Y tế các huyện, thành phố, thị xã"]
    assert lead_line["coordinating_units"] == ["Phòng Giáo dục và Đào tạo các huyện"]
    assert [d["date"] for d in lead_line["deadlines"]] == ["2025-03-31"]
    assert lead_line["fanout_kind"] == "district"
    assert tasks["IV.1", "Phòng Nghiệp vụ Y"]["recurrence"] == "weekly"
    assert tasks["IV.1", "Phòng Nghiệp vụ Y"]["report_to"] == ["Giám đốc Sở Y tế"]
    assert tasks["IV.2", "Trung tâm Y tế các huyện, thành phố, thị xã"]["deadlines"][0]["date"] == "2025-04-15"
    assert tasks["IV.3", "Sở Giáo dục và Đào tạo"]["requested"] is True
    assert tasks["V.1", "Các Trung tâm Y tế huyện"]["recurrence"] == "RRULE:FREQ=MONTHLY;BYMONTHDAY=20"
    assert tasks["V.2", "Trung tâm Kiểm soát bệnh tật tỉnh"]["recurrence"] == ["semiannual", "annual"]
    targets = {t["indicator"]: t for t in result["targets"]}
    assert targets["Tỷ lệ trẻ em từ 1 đến 5 tuổi được tiêm bổ sung vắc xin sởi"]["comparator"] == ">"
    assert targets["Số ca mắc sởi"]["values"] == {"2025": 50.0}


def test_commune_education_plan_extracted_from_a_pdf() -> None:
    result = extract_plan((FIXTURES / "education_commune.txt").read_bytes(), "kh.txt").to_dict()
    tasks = _by_section(result)
    assert set(tasks) == {
        ("III.1", "Ban Chỉ đạo phổ cập giáo dục xã"),
        ("III.2", "Công chức Văn hóa - Xã hội"),
        ("III.3", "Các trường Mầm non, Tiểu học, THCS trên địa bàn"),
        ("III.4", "Công an xã"),
        ("III.5", "Hội Khuyến học xã, Hội Liên hiệp Phụ nữ xã, Đoàn Thanh niên xã"),
        ("III.6", "Trưởng các thôn"),
    }
    assert tasks["III.2", "Công chức Văn hóa - Xã hội"]["report_to"] == ["UBND thành phố"]
    assert tasks["III.3", "Các trường Mầm non, Tiểu học, THCS trên địa bàn"]["recurrence"] == "quarterly"
    assert tasks["III.3", "Các trường Mầm non, Tiểu học, THCS trên địa bàn"]["fanout_kind"] == "school"
    assert tasks["III.4", "Công an xã"]["deadlines"][0]["date"] == "2024-10-15"  # "trước 15/10": plan's year
    members = tasks["III.5", "Hội Khuyến học xã, Hội Liên hiệp Phụ nữ xã, Đoàn Thanh niên xã"]["members"]
    assert [m["unit"] for m in members] == ["Hội Khuyến học xã", "Hội Liên hiệp Phụ nữ xã", "Đoàn Thanh niên xã"]
    assert {m["fanout_kind"] for m in members} == {None}
    villages = tasks["III.6", "Trưởng các thôn"]
    assert villages["recurrence"] == ["periodic", "annual"]
    assert any("định kỳ" in w and "III.6" in w for w in result["warnings"])
    table = [t for t in result["targets"] if t["section"].startswith("Phụ lục")]
    assert {t["responsible"] for t in table} == {"Trường Mầm non Tam Thăng", "Trường Tiểu học Kim Đồng"}
    assert next(t for t in table if "tiểu học" in t["indicator"])["values"] == {"2024": 99.2, "2025": 99.5}


def test_district_docx_with_tables_and_word_numbering() -> None:
    result = extract_plan(digital_transformation_docx(), "kh.docx").to_dict()
    assert (result["issuer"], result["plan_number"], result["issued"]) == (
        "UBND huyện Đức Trọng",
        "45/KH-UBND",
        "2025-03-03",
    )
    tasks = [(t["section"], t["unit"]) for t in result["tasks"]]
    assert tasks == [
        ("III.1", "Phòng Văn hóa và Thông tin"),
        ("III.2", "Phòng Tư pháp"),
        ("III.2", "UBND các xã, thị trấn"),
        ("III.3", "Huyện đoàn"),
        ("IV.1", "Phòng Văn hóa và Thông tin"),
        ("IV.2", "Phòng Tài chính - Kế hoạch"),
        ("IV.3", "UBND các xã, thị trấn"),
        ("IV.4", "Ủy ban MTTQ Việt Nam huyện và các tổ chức chính trị - xã hội huyện"),
    ]
    by = _by_section(result)
    assert by["III.1", "Phòng Văn hóa và Thông tin"]["deadlines"][0]["date"] == "2025-06-30"
    assert by["III.2", "UBND các xã, thị trấn"]["coordinating_units"] == ["Phòng Nội vụ"]
    assert by["III.3", "Huyện đoàn"]["recurrence"] == "quarterly"
    assert by["IV.1", "Phòng Văn hóa và Thông tin"]["report_to"] == ["UBND huyện", "Sở Thông tin và Truyền thông"]
    assert by["IV.3", "UBND các xã, thị trấn"]["recurrence"] == ["semiannual", "annual"]
    assert by["IV.3", "UBND các xã, thị trấn"]["deadlines"][0]["date"] == "2025-03-31"
    table = {t["indicator"]: t for t in result["targets"] if t["responsible"]}
    assert table["Tỷ lệ hồ sơ thủ tục hành chính xử lý trực tuyến"]["values"] == {"2024": 75.5, "2025": 90.0}
    assert table["Số điểm truy cập Internet công cộng"]["unit_of_measure"] == "điểm"


def test_plan_without_roman_parts_or_header() -> None:
    text = (
        "KẾ HOẠCH\nPhòng, chống dịch bệnh gia súc năm 2025\n"
        "1. Mục tiêu: Tiêm phòng đạt trên 80% tổng đàn trâu, bò.\n"
        "2. Tổ chức thực hiện\n"
        "a) Trạm Chăn nuôi và Thú y huyện: Cung ứng vắc xin, hoàn thành trước ngày 15/4/2025.\n"
        "b) Hội Nông dân xã: Vận động hội viên tham gia tiêm phòng.\n"
        "c) Các thôn, bản: Lập danh sách hộ chăn nuôi, báo cáo UBND xã hằng tháng.\n"
    )
    result = extract_plan(text.encode(), "kh.txt").to_dict()
    assert [(t["section"], t["unit"]) for t in result["tasks"]] == [
        ("2.a", "Trạm Chăn nuôi và Thú y huyện"),
        ("2.b", "Hội Nông dân xã"),
        ("2.c", "Các thôn, bản"),
    ]
    assert result["tasks"][0]["deadlines"][0]["date"] == "2025-04-15"
    assert result["tasks"][2]["recurrence"] == "monthly"
    assert result["tasks"][2]["fanout_kind"] == "village"
    assert result["targets"][0]["values"] == {"2025": 80.0}


def test_district_agriculture_plan_with_a_table_inside_the_body() -> None:
    # A PDF-extracted table (one cell per line) between two parts of the body.
    result = extract_plan((FIXTURES / "agriculture_district.txt").read_bytes(), "kh.txt").to_dict()
    tasks = _by_section(result)
    assert set(tasks) == {
        ("II.1", "Trung tâm Dịch vụ nông nghiệp huyện"),
        ("II.2", "Phòng Nông nghiệp và Phát triển nông thôn"),
        ("III.1", "UBND các xã, thị trấn"),
        ("III.2", "Đài Truyền thanh huyện"),
    }
    seeds = tasks["II.1", "Trung tâm Dịch vụ nông nghiệp huyện"]
    assert seeds["coordinating_units"] == ["UBND các xã, thị trấn"]
    assert seeds["deadlines"][0] | {"kind": "completion"} == {
        "date": "2025-06-15",
        "text": "Trước ngày 15/6/2025",
        "precision": "day",
        "kind": "completion",
    }
    assert tasks["II.2", "Phòng Nông nghiệp và Phát triển nông thôn"]["deadlines"][0]["date"] == "2025-07-31"
    assert tasks["III.1", "UBND các xã, thị trấn"]["recurrence"] == "weekly"
    assert tasks["III.1", "UBND các xã, thị trấn"]["report_to"] == ["Phòng Nông nghiệp và PTNT"]
    targets = {t["indicator"]: t for t in result["targets"]}
    assert targets["Tổng diện tích gieo trồng"]["values"] == {"2025": 12500.0}
    assert targets["Năng suất lúa bình quân"]["unit_of_measure"] == "tạ/ha"


def test_assignment_sentences_outside_the_implementation_part() -> None:
    text = (
        "KẾ HOẠCH\nBảo vệ rừng mùa khô năm 2025\nI. NHIỆM VỤ\n"
        "1. Giao Hạt Kiểm lâm huyện chủ trì tuần tra các vùng trọng điểm, hoàn thành trước ngày 30/4/2025.\n"
        "2. Tăng cường tuyên truyền về phòng cháy rừng.\n"
    )
    result = extract_plan(text.encode(), "kh.txt").to_dict()
    assert [(t["section"], t["unit"]) for t in result["tasks"]] == [("I.1", "Hạt Kiểm lâm huyện")]
    assert result["tasks"][0]["deadlines"][0]["date"] == "2025-04-30"


def test_units_listed_under_a_grouping_heading() -> None:
    # "1. Trách nhiệm của các phòng, ban chuyên môn" only groups the "- Phòng ...:" units under it.
    result = extract_plan((FIXTURES / "child_safety_district.txt").read_bytes(), "kh.txt").to_dict()
    tasks = _by_section(result)
    assert set(tasks) == {
        ("II.1.1", "Phòng Giáo dục và Đào tạo"),
        ("II.1.2", "Phòng Văn hóa và Thông tin"),
        ("II.2", "UBND các xã, thị trấn"),
        ("II.3", "Phòng Lao động - Thương binh và Xã hội"),
        ("II.4", "Hội Liên hiệp Phụ nữ huyện, Huyện đoàn"),
    }
    communes = tasks["II.2", "UBND các xã, thị trấn"]  # "2. Đối với UBND các xã, thị trấn:"
    assert communes["recurrence"] == ["semiannual", "annual"]
    assert [d["date"] for d in communes["deadlines"]] == ["2025-05-30", "2025-06-15", "2025-12-15"]
    assert [d["kind"] for d in communes["deadlines"]] == ["completion", "report", "report"]
    assert communes["report_to"] == ["UBND huyện"]
    requested = tasks["II.4", "Hội Liên hiệp Phụ nữ huyện, Huyện đoàn"]
    assert requested["requested"] is True
    assert [m["unit"] for m in requested["members"]] == ["Hội Liên hiệp Phụ nữ huyện", "Huyện đoàn"]
    change = next(t for t in result["targets"] if t["comparator"] == "decrease")
    assert (change["indicator"], change["values"]) == ("Số trẻ em bị đuối nước", {"2025": 10.0})


def test_assignments_written_inside_task_sentences() -> None:
    result = extract_plan((FIXTURES / "admin_reform_province.txt").read_bytes(), "kh.txt").to_dict()
    tasks = _by_section(result)
    assert set(tasks) == {("I.1", "Văn phòng UBND tỉnh"), ("I.2", "Sở Nội vụ"), ("I.3", "Sở Nội vụ")}
    review = tasks["I.1", "Văn phòng UBND tỉnh"]  # "(Văn phòng UBND tỉnh chủ trì, phối hợp với Sở Tư pháp; ...)"
    assert review["coordinating_units"] == ["Sở Tư pháp"]
    assert review["deadlines"][0]["date"] == "2025-06-30"
    satisfaction = tasks["I.2", "Sở Nội vụ"]  # "...; giao Sở Nội vụ chủ trì thực hiện, báo cáo ..."
    assert [d["date"] for d in satisfaction["deadlines"]] == ["2025-06-15", "2025-12-15"]
    assert satisfaction["recurrence"] == ["semiannual", "annual"]  # the six-month and the year report
    records = tasks["I.3", "Sở Nội vụ"]  # "- Chủ trì: Sở Nội vụ; Phối hợp: Sở TT&TT." under the item
    assert records["coordinating_units"] == ["Sở Thông tin và Truyền thông"]
    assert records["title"] == "Số hóa hồ sơ lưu trữ"
    assert records["deadlines"][0]["date"] == "2025-12-31"


def test_assignment_sentences_right_under_the_implementation_heading() -> None:
    text = (
        "KẾ HOẠCH\nTổ chức Lễ hội văn hóa năm 2025\nI. MỤC TIÊU\nThu hút 5.000 lượt khách tham quan.\n"
        "II. TỔ CHỨC THỰC HIỆN\nGiao Công chức Văn hóa - Xã hội chủ trì xây dựng chương trình lễ hội, hoàn thành "
        "trước ngày 15/3/2025; Công an xã bảo đảm an ninh trật tự; Trạm Y tế xã bố trí lực lượng trực cấp cứu. "
        "Đề nghị Ủy ban MTTQ xã phối hợp vận động nhân dân tham gia.\n"
    )
    result = extract_plan(text.encode(), "kh.txt").to_dict()
    assert [(t["section"], t["unit"]) for t in result["tasks"]] == [
        ("II", "Công chức Văn hóa - Xã hội"),
        ("II", "Công an xã"),
        ("II", "Trạm Y tế xã"),
        ("II", "Ủy ban MTTQ xã"),
    ]
    assert result["tasks"][0]["title"].startswith("Chủ trì xây dựng chương trình lễ hội")
    assert result["tasks"][0]["deadlines"][0]["date"] == "2025-03-15"
    assert result["tasks"][3]["requested"] is True
    assert result["targets"][0]["values"] == {"2025": 5000.0}


def test_units_opening_a_bullet_with_an_action_verb_are_assigned_in_content_parts() -> None:
    text = (
        "KẾ HOẠCH\nPhòng chống dịch sốt xuất huyết năm 2025\nI. NHIỆM VỤ VÀ GIẢI PHÁP\n1. Công tác truyền thông\n"
        "- Phòng Văn hóa và Thông tin chủ trì tổ chức tuyên truyền trên hệ thống truyền thanh.\n"
        "- Mặt trận Tổ quốc và các đoàn thể tăng cường vận động nhân dân diệt lăng quăng.\n"
        "2. Công tác chuyên môn\n- Giám sát ca bệnh, xử lý ổ dịch kịp thời (Trung tâm Y tế huyện thực hiện).\n"
        "- Thanh tra, kiểm tra việc thực hiện các biện pháp phòng dịch.\n"
        "3. Thanh tra huyện: Kiểm tra việc sử dụng kinh phí phòng, chống dịch.\n"
    )
    result = extract_plan(text.encode(), "kh.txt").to_dict()
    # "a unit followed by an action verb gets a task" (issue 9): "tăng cường" is one, as "chủ trì" is.
    assert [(t["section"], t["unit"]) for t in result["tasks"]] == [
        ("I.1.1", "Phòng Văn hóa và Thông tin"),
        ("I.1.2", "Mặt trận Tổ quốc và các đoàn thể"),
        ("I.2.1", "Trung tâm Y tế huyện"),
        ("I.3", "Thanh tra huyện"),
    ]
