"""Rules added after six more unseen plans (a department plan, an appendix task table with a product
column, a decision issuing a plan, "Giao ..." sentences inside paragraphs, a post-2025 ward, targets in
prose and in a table). Each rule is pinned by the smallest text that needs it."""

from __future__ import annotations

from tracker.importer import extract_plan
from tracker.importer.dates import find_recurrence, monthly_rule, yearly_recurrence
from tracker.importer.headings import _heading_continues
from tracker.importer.targets import targets_from_clause
from tracker.importer.unitphrase import leading_unit, unit_list_at


def _plan(body: str, header: str = "UBND TỈNH AN GIANG\nSố: 10/KH-UBND An Giang, ngày 10 tháng 3 năm 2025\n") -> dict:
    return extract_plan(f"{header}KẾ HOẠCH\nCông tác năm 2025\n{body}".encode(), "kh.txt").to_dict()


def _tasks(result: dict) -> dict[tuple[str, str], dict]:
    return {(t["section"], t["unit"]): t for t in result["tasks"]}


# Header facts


_DECISION = """ỦY BAN NHÂN DÂN
HUYỆN AN PHÚ
Số: 215/QĐ-UBND                 An Phú, ngày 02 tháng 4 năm 2024
QUYẾT ĐỊNH
Về việc ban hành Kế hoạch phòng, chống thiên tai năm 2024
ỦY BAN NHÂN DÂN HUYỆN AN PHÚ
Căn cứ Kế hoạch số 30/KH-UBND ngày 20/02/2024 của UBND tỉnh An Giang về phòng, chống thiên tai;
QUYẾT ĐỊNH:
Điều 1. Ban hành kèm theo Quyết định này Kế hoạch phòng, chống thiên tai năm 2024.
Điều 2. Giao Phòng Nông nghiệp và Phát triển nông thôn chủ trì, theo dõi việc thực hiện.
Điều 3. Chánh Văn phòng HĐND và UBND huyện, Chủ tịch UBND các xã chịu trách nhiệm thi hành Quyết định này./.
Nơi nhận:
- Như Điều 3;
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
ỦY BAN NHÂN DÂN
HUYỆN AN PHÚ
KẾ HOẠCH
Phòng, chống thiên tai năm 2024
(Ban hành kèm theo Quyết định số 215/QĐ-UBND ngày 02/4/2024
của UBND huyện An Phú)
I. TỔ CHỨC THỰC HIỆN
1. Phòng Nông nghiệp và Phát triển nông thôn: Tham mưu kiện toàn Ban Chỉ huy, hoàn thành trước ngày 30/4/2024.
2. UBND các xã: Xây dựng phương án ứng phó, hoàn thành trước ngày 15/5/2024.
"""


def test_a_decision_issuing_a_plan_gives_its_number_and_date_and_no_tasks_of_its_own() -> None:
    result = extract_plan(_DECISION.encode(), "qd.txt").to_dict()
    assert result["title"] == "Kế hoạch phòng, chống thiên tai năm 2024"  # the caption is not part of the title
    facts = (result["issuer"], result["plan_number"], result["issued"])
    assert facts == ("UBND huyện An Phú", "215/QĐ-UBND", "2024-04-02")
    expected = {("I.1", "Phòng Nông nghiệp và Phát triển nông thôn"), ("I.2", "UBND các xã")}
    assert set(_tasks(result)) == expected  # not Điều 2's "Giao Phòng Nông nghiệp ..." nor Điều 3's units
    assert result["implements"] == ["Kế hoạch số 30/KH-UBND ngày 20/02/2024 của UBND tỉnh An Giang"]
    # A long decision (its grounds wrapped over many lines) still comes before the plan it issues.
    grounds = "Căn cứ Luật Phòng, chống thiên tai năm 2013;\n" * 60
    long = extract_plan(_DECISION.replace("QUYẾT ĐỊNH:\n", f"{grounds}QUYẾT ĐỊNH:\n").encode(), "qd.txt").to_dict()
    assert set(_tasks(long)) == expected and long["plan_number"] == "215/QĐ-UBND"


def test_a_department_issuer_is_named_with_the_province_above_it() -> None:
    header = "UBND THÀNH PHỐ ĐÀ NẴNG\nSỞ Y TẾ\nSố: 5/KH-SYT Đà Nẵng, ngày 01 tháng 3 năm 2025\n"
    assert _plan("I. TỔ CHỨC THỰC HIỆN\n1. Phòng Nghiệp vụ Y: Báo cáo Sở Y tế.\n", header)["issuer"] == (
        "Sở Y tế thành phố Đà Nẵng"
    )
    own_place = "UBND TỈNH NGHỆ AN\nBAN CHỈ ĐẠO PHÒNG, CHỐNG DỊCH TỈNH\nSố: 5/KH-BCĐ Nghệ An, ngày 01/3/2025\n"
    body = "I. TỔ CHỨC THỰC HIỆN\n1. Sở Y tế: Báo cáo Ban Chỉ đạo phòng, chống dịch tỉnh.\n"
    assert _plan(body, own_place)["issuer"] == (
        "Ban Chỉ đạo phòng, chống dịch tỉnh"
    )


def test_an_activitys_time_label_is_not_the_plans_period() -> None:
    body = (
        "I. NỘI DUNG\n1. Giám sát dịch tễ\nĐơn vị chủ trì: Trung tâm Kiểm soát bệnh tật tỉnh.\n"
        "Thời gian thực hiện: Quý II/2025.\nII. TỔ CHỨC THỰC HIỆN\n1. Sở Tài chính: Bố trí kinh phí.\n"
    )
    result = _plan(body)
    assert (result["year"], result["period_end"]) == (2025, "2025-12-31")
    task = _tasks(result)["I.1", "Trung tâm Kiểm soát bệnh tật tỉnh"]
    assert [d["date"] for d in task["deadlines"]] == ["2025-06-30"]
    # A plan-level time line is still read: "1. Thời gian: Từ tháng 5 đến tháng 9/2025".
    scoped = _plan("I. PHẠM VI, THỜI GIAN\n1. Thời gian: Từ tháng 5 đến tháng 9/2025\nII. TỔ CHỨC THỰC HIỆN\n")
    assert scoped["period_end"] == "2025-09-30"


# Units


def test_a_managing_board_keeps_the_zones_it_manages() -> None:
    name = "Ban Quản lý Khu kinh tế Dung Quất và các Khu công nghiệp Quảng Ngãi"
    assert unit_list_at(f"{name} chủ trì, phối hợp") == [name]
    assert unit_list_at("UBND xã và các Thôn thực hiện") == ["UBND xã", "các Thôn"]


def test_whose_units_they_are_stays_in_the_name() -> None:
    assert unit_list_at("Các phòng chức năng thuộc Sở.") == ["Các phòng chức năng thuộc Sở"]
    assert leading_unit("Các đơn vị thuộc UBND phường thực hiện") == "Các đơn vị thuộc UBND phường"
    assert leading_unit("Trung tâm Y tế các quận, huyện chủ trì") == "Trung tâm Y tế các quận, huyện"


def test_actors_outside_the_administration_can_head_an_item() -> None:
    body = (
        "I. TỔ CHỨC THỰC HIỆN\n1. Các chủ thể sản xuất, kinh doanh: Hoàn thiện hồ sơ sản phẩm trước ngày 30/6/2025.\n"
        "2. Các doanh nghiệp trên địa bàn: Bảo đảm an toàn lao động.\n"
    )
    assert set(_tasks(_plan(body))) == {
        ("I.1", "Các chủ thể sản xuất, kinh doanh"),
        ("I.2", "Các doanh nghiệp trên địa bàn"),
    }


def test_a_function_word_after_a_wrapped_heading_starts_the_duties() -> None:
    assert not _heading_continues("Các phòng chức năng khác thuộc Sở", "Theo chức năng, nhiệm vụ được")
    assert _heading_continues("Công chức Lao động - Thương binh và", "Xã hội")


# Sentences


def test_each_giao_in_a_paragraph_is_its_own_task_with_its_own_deadline() -> None:
    body = (
        "I. NHIỆM VỤ\n1. Bảo vệ môi trường nông thôn\nHướng dẫn xử lý chất thải chăn nuôi. Giao Sở Nông nghiệp và "
        "Môi trường chủ trì hướng dẫn thu gom bao bì; giao Sở Y tế chủ trì, phối hợp với UBND các huyện kiểm tra "
        "chất thải y tế, hoàn thành trước ngày 30/9/2025.\n"
    )
    tasks = _tasks(_plan(body))
    assert set(tasks) == {("I.1", "Sở Nông nghiệp và Môi trường"), ("I.1", "Sở Y tế")}
    assert tasks["I.1", "Sở Nông nghiệp và Môi trường"]["deadlines"] == []
    assert tasks["I.1", "Sở Nông nghiệp và Môi trường"]["coordinating_units"] == []
    health = tasks["I.1", "Sở Y tế"]
    assert [d["date"] for d in health["deadlines"]] == ["2025-09-30"]
    assert health["coordinating_units"] == ["UBND các huyện"]


# Dates and recurrence


def test_a_day_of_each_month_in_parentheses_gives_a_monthly_rule() -> None:
    assert monthly_rule("định kỳ hằng tháng (trước ngày 20) tổng hợp, báo cáo UBND tỉnh") == (
        "RRULE:FREQ=MONTHLY;BYMONTHDAY=20"
    )
    assert monthly_rule("báo cáo hằng tháng, chậm nhất ngày 25") == "RRULE:FREQ=MONTHLY;BYMONTHDAY=25"
    assert monthly_rule("báo cáo hằng tháng trước ngày 20/6/2025") is None


def test_days_of_the_year_that_recur() -> None:
    assert yearly_recurrence("báo cáo UBND tỉnh trước 31/12 hằng năm") == (
        ["annual"],
        "RRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31",
    )
    assert yearly_recurrence("trước ngày 05/6 và ngày 05/12 hằng năm") == (["semiannual", "annual"], None)
    assert yearly_recurrence("trước ngày 31/12/2025") == ([], None)


def test_a_yearly_day_is_due_next_on_or_after_the_issue_date() -> None:
    body = (
        "I. TỔ CHỨC THỰC HIỆN\n1. Phòng Y tế: Cấp thẻ bảo hiểm y tế cho người nghèo, hoàn thành trước ngày 31/01 "
        "hằng năm.\n"
    )
    task = _tasks(_plan(body))["I.1", "Phòng Y tế"]
    assert [d["date"] for d in task["deadlines"]] == ["2026-01-31"]  # the plan was issued on 10/3/2025
    assert not task["deadlines"][0].get("before_issue")
    assert task["recurrence"] == "RRULE:FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=31"


def test_stated_frequencies_and_the_six_month_report() -> None:
    assert find_recurrence("phát sóng ít nhất 01 lần/tháng") == ["monthly"]
    assert find_recurrence("kiểm tra 02 đợt/năm") == ["semiannual"]
    assert find_recurrence("Báo cáo kết quả thực hiện 6 tháng trước ngày 15/6/2024") == ["semiannual"]
    assert find_recurrence("tiêm nhắc lại 6 tháng trước khi nhập học") == []
    body = "I. TỔ CHỨC THỰC HIỆN\n1. Trung tâm Văn hóa huyện: Phát sóng chuyên mục ít nhất 01 lần/tháng.\n"
    assert _tasks(_plan(body))["I.1", "Trung tâm Văn hóa huyện"]["recurrence"] == "monthly"


# Targets


def test_a_baseline_in_parentheses_keeps_the_target_year() -> None:
    found = targets_from_clause(
        "Phấn đấu đến năm 2025 giảm tỷ lệ hộ nghèo xuống dưới 2% (cuối năm 2023 là 3,15%);", 2025, 2024
    )
    assert [(t.indicator, t.values, t.comparator) for t in found] == [
        ("Tỷ lệ hộ nghèo", {2025: 2.0}, "<"),
        ("Tỷ lệ hộ nghèo", {2023: 3.15}, "="),
    ]


def test_a_target_broken_down_into_counts() -> None:
    found = targets_from_clause(
        "Hoàn thành 100% chỉ tiêu giao quân, gồm 28 công dân nhập ngũ và 04 công dân thực hiện nghĩa vụ tham gia "
        "Công an nhân dân.",
        2026,
        2025,
    )
    assert [(t.indicator, t.values[2026], t.unit_of_measure) for t in found] == [
        ("Chỉ tiêu giao quân", 100.0, "%"),
        ("Công dân nhập ngũ", 28.0, "công dân"),
        ("Công dân thực hiện nghĩa vụ tham gia Công an nhân dân", 4.0, "công dân"),
    ]


def test_more_ways_of_handing_out_a_duty() -> None:
    body = (
        "I. NỘI DUNG\n1. Tuyên truyền\nĐẩy mạnh tuyên truyền. Giao cho Sở Tư pháp chủ trì, phối hợp với Sở Nội vụ "
        "thực hiện, hoàn thành trong tháng 6/2025.\n2. Kiểm tra\n- Kiểm tra các cơ sở.\n"
        "- Trách nhiệm thực hiện: Thanh tra tỉnh.\n3. Nâng cao trách nhiệm thực hiện: của cán bộ, công chức.\n"
    )
    tasks = _tasks(_plan(body))
    assert set(tasks) == {("I.1", "Sở Tư pháp"), ("I.2", "Thanh tra tỉnh")}
    assert tasks["I.1", "Sở Tư pháp"]["coordinating_units"] == ["Sở Nội vụ"]


def test_the_last_month_of_each_quarter_and_written_out_yearly_days() -> None:
    assert find_recurrence("báo cáo kết quả trước ngày 20 tháng cuối quý") == ["quarterly"]
    assert find_recurrence("hoàn thành trong tháng cuối quý III") == []
    assert yearly_recurrence("báo cáo trước ngày 10 tháng 12 hằng năm") == (
        ["annual"],
        "RRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=10",
    )
    assert yearly_recurrence("trước ngày 10 tháng 12 năm 2025") == ([], None)
