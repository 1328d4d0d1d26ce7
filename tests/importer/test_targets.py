"""Targets from objective sentences and tables; Vietnamese numbers; poverty-table consistency."""

from __future__ import annotations

import pytest

from tracker.importer import extract_plan
from tracker.importer.numbers import parse_number
from tracker.importer.tables import PovertyRow, poverty_warnings
from tracker.importer.targets import split_clauses, targets_from_clause

from .builders import PLANS


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("2,03", 2.03),
        ("1.234", 1234.0),
        ("0.44", 0.44),
        ("29.822", 29822.0),
        ("1.234.567", 1234567.0),
        ("1.234,5", 1234.5),
        ("08", 8.0),
        ("100%", 100.0),
        ("2.5", 2.5),
        ("abc", None),
    ],
)
def test_vietnamese_number_formats(token: str, value: float | None) -> None:
    assert parse_number(token) == value


def _targets(sentence: str, year: int = 2024) -> list[tuple[str, dict, str, str]]:
    out = []
    for clause in split_clauses(sentence):
        for draft in targets_from_clause(clause, year, year - 1):
            out.append((draft.indicator, draft.values, draft.comparator, draft.unit_of_measure))
    return out


def test_rate_falling_to_a_value_is_a_target_for_the_stated_year() -> None:
    found = _targets("Phấn đấu năm 2023, tỷ lệ hộ nghèo trên địa bàn xã giảm xuống còn 2,03% (theo chuẩn nghèo).")
    assert found == [("Tỷ lệ hộ nghèo trên địa bàn xã", {2023: 2.03}, "=", "%")]


def test_comparators_below_and_above() -> None:
    found = _targets(
        "Giảm tỷ lệ suy dinh dưỡng xuống còn dưới 1% (tỷ lệ năm 2022 là 1,89%); "
        "trên 80% hộ nghèo sử dụng nhà tiêu hợp vệ sinh.",
        2023,
    )
    assert found[0][1:3] == ({2023: 1.0}, "<")
    assert found[1][0] == found[0][0] and found[1][1] == {2022: 1.89}
    assert found[2] == ("Hộ nghèo sử dụng nhà tiêu hợp vệ sinh", {2023: 80.0}, ">", "%")


def test_from_to_gives_baseline_and_target_years() -> None:
    found = _targets("Tỷ lệ hộ nghèo toàn xã giảm từ 5,21% xuống 3,25%, tương đương giảm từ 64 hộ xuống còn 40 hộ.")
    assert ("Tỷ lệ hộ nghèo toàn xã", {2023: 5.21}, "=", "%") in found
    assert ("Tỷ lệ hộ nghèo toàn xã", {2024: 3.25}, "=", "%") in found
    assert ("Số hộ nghèo toàn xã", {2024: 40.0}, "=", "hộ") in found


def test_a_reduction_amount_is_a_change_not_a_level() -> None:
    found = _targets(
        "Phấn đấu trong năm 2023 tỷ lệ hộ nghèo giảm 0,55% (từ 2,5 cuối năm 2022 xuống còn 1,95 % cuối năm 2023).",
        2023,
    )
    assert ("Tỷ lệ hộ nghèo", {2022: 2.5}, "=", "%") in found
    assert ("Tỷ lệ hộ nghèo", {2023: 1.95}, "=", "%") in found
    assert ("Tỷ lệ hộ nghèo", {2023: 0.55}, "decrease", "%") in found
    assert _targets("Giảm 10% số trẻ em bị đuối nước so với năm 2024.", 2025) == [
        ("Số trẻ em bị đuối nước", {2025: 10.0}, "decrease", "%")
    ]


def test_decimal_dot_written_by_mistake_is_read_as_decimal() -> None:
    found = _targets("Năm 2023 tỷ lệ hộ nghèo là 0.44%, phấn đấu năm 2024 tỷ lệ hộ nghèo giảm xuống còn 0.31%.")
    assert [values for _, values, _, _ in found] == [{2023: 0.44}, {2024: 0.31}]


def test_count_targets_keep_their_unit_of_measure() -> None:
    found = _targets("Hỗ trợ xây mới, sửa chữa khoảng 10 căn nhà cho hộ nghèo; giảm số ca mắc sởi xuống dưới 50 ca.")
    assert [(values, uom) for _, values, _, uom in found] == [({2024: 10.0}, "căn"), ({2024: 50.0}, "ca")]


def test_appendix_target_table_gives_every_year_and_the_responsible_unit() -> None:
    result = extract_plan((PLANS / "003_9a978320c38bc04c.txt").read_bytes(), "kh.txt").to_dict()
    table = [t for t in result["targets"] if t["section"].startswith("Phụ lục 2")]
    assert len(table) == 12
    nutrition = next(t for t in table if "cân nặng" in t["indicator"])
    assert nutrition["values"] == {"2022": 9.7, "2023": 9.8, "2024": 9.6, "2025": 9.0}
    assert nutrition["responsible"] == "Sở Y tế"
    schooling = next(t for t in table if "đúng độ tuổi" in t["indicator"])
    assert schooling["responsible"] == "Sở Giáo dục và Đào tạo"


def test_poverty_table_rows_are_read_per_area_and_year() -> None:
    result = extract_plan((PLANS / "003_9a978320c38bc04c.txt").read_bytes(), "kh.txt").to_dict()
    (table,) = result["poverty_tables"]
    assert len(table["rows"]) == 55
    assert table["rows"][0] == {"area": "Phù Cừ", "year": 2021, "households": 29822, "poor": 946, "rate": 3.17}


def test_poverty_table_disagreement_is_warned() -> None:
    rows = [
        PovertyRow("Thôn 1", 2024, 500, 10, 2.0, "2,0"),
        PovertyRow("Thôn 2", 2024, 400, 10, 3.5, "3,5"),  # 10/400 is 2,5%
        PovertyRow("Tổng", 2024, 900, 25, 2.22, "2,22"),  # the areas add up to 20 poor households
    ]
    warnings = poverty_warnings(rows, "Phụ lục")
    assert any("Thôn 2" in w and "2,50%" in w for w in warnings)
    assert any("số hộ nghèo" in w and "Tổng" in w for w in warnings)
    assert not any("Thôn 1" in w for w in warnings)


def test_consistent_poverty_table_raises_no_warning() -> None:
    result = extract_plan((PLANS / "000_48636eaaef47ce67.txt").read_bytes(), "kh.txt").to_dict()
    assert result["poverty_tables"][0]["rows"][-1]["rate"] == 2.03
    assert not any(w.startswith("Phụ lục") for w in result["warnings"])


def test_the_real_plans_own_inconsistency_is_found() -> None:
    result = extract_plan((PLANS / "003_9a978320c38bc04c.txt").read_bytes(), "kh.txt").to_dict()
    assert any("năm 2024" in w and "2.963" in w and "2.954" in w for w in result["warnings"])
