"""Vietnamese deadlines, periods and recurrences."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.importer.dates import (
    end_of_quarter,
    find_date_expressions,
    find_deadlines,
    find_recurrence,
    monthly_rule,
    parse_time_cell,
    roman_to_int,
)

DEADLINES = [
    ("báo cáo UBND xã trước ngày 25/9/2024.", [date(2024, 9, 25)]),
    ("báo cáo UBND huyện trước 30/9/2024", [date(2024, 9, 30)]),
    ("xây dựng kế hoạch, xong trước ngày 15/03/2024.", [date(2024, 3, 15)]),
    ("hoàn thành trước ngày 15 tháng 3 năm 2025", [date(2025, 3, 15)]),
    ("chậm nhất ngày 20/6", [date(2024, 6, 20)]),
    ("gửi về Sở trước 15/12", [date(2024, 12, 15)]),
    ("hoàn thành trong tháng 11/2024", [date(2024, 11, 30)]),
    ("hoàn thành trong quý III", [date(2024, 9, 30)]),
    ("tổ chức trong quý II/2025", [date(2025, 6, 30)]),
    ("tổng kết vào cuối năm 2025", [date(2025, 12, 31)]),
    ("rà soát hộ nghèo cuối năm", [date(2024, 12, 31)]),
    ("Thời hạn: 31-5-2024", [date(2024, 5, 31)]),
    ("đến hết ngày 31.10.2024", [date(2024, 10, 31)]),
]
NOT_DEADLINES = [
    "Căn cứ Quyết định số 90/QĐ-TTg ngày 18/01/2022 của Thủ tướng Chính phủ",
    "theo Nghị định 146/2018/NĐ-CP ngày 17/10/2018",
    "Tổng hợp báo cáo kết quả thực hiện mục tiêu giảm nghèo năm 2023 về UBND xã",
    "phấn đấu đến năm 2025 đạt mục tiêu",
    "Tổ chức rà soát trong năm 2023 đúng quy trình",
    "người từ 45 đến 60 tuổi",
]


@pytest.mark.parametrize(("text", "expected"), DEADLINES)
def test_deadline_phrases_resolve_to_dates(text: str, expected: list[date]) -> None:
    assert [hit.date for hit in find_deadlines(text, 2024)] == expected


@pytest.mark.parametrize("text", NOT_DEADLINES)
def test_cited_documents_and_plain_years_are_not_deadlines(text: str) -> None:
    assert find_deadlines(text, 2024) == []


def test_deadline_keeps_the_words_it_came_from() -> None:
    (hit,) = find_deadlines("- Báo cáo kết quả về giáo dục năm 2024, báo cáo UBND xã trước ngày 25/9/2024.", 2024)
    assert hit.text == "trước ngày 25/9/2024"
    assert hit.precision == "day"


def test_day_and_month_without_year_take_the_plans_year() -> None:
    (hit,) = find_deadlines("hoàn thành trước ngày 15/3", 2031)
    assert hit.date == date(2031, 3, 15)


def test_impossible_dates_are_ignored() -> None:
    assert find_deadlines("trước ngày 31/2/2024", 2024) == []


@pytest.mark.parametrize(
    ("cell", "expected", "precision"),
    [
        ("Năm 2025", date(2025, 12, 31), "year"),
        ("Quý II/2025", date(2025, 6, 30), "quarter"),
        ("Tháng 6/2024", date(2024, 6, 30), "month"),
        ("Trước ngày 30/9/2025", date(2025, 9, 30), "day"),
        ("2024-2025", date(2025, 12, 31), "year"),
        ("2026", date(2026, 12, 31), "year"),
        ("6 tháng đầu năm 2024", date(2024, 6, 30), "half"),
    ],
)
def test_time_cells_of_assignment_tables(cell: str, expected: date, precision: str) -> None:
    (hit,) = parse_time_cell(cell, 2024)
    assert (hit.date, hit.precision) == (expected, precision)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("báo cáo định kỳ kết quả giảm nghèo 6 tháng, 1 năm về UBND huyện", ["semiannual", "annual"]),
        ("báo cáo kết quả 6 tháng và năm về Sở", ["semiannual", "annual"]),
        ("báo cáo hằng quý về UBND tỉnh", ["quarterly"]),
        ("báo cáo hàng tháng", ["monthly"]),
        ("tổng hợp báo cáo hằng tuần", ["weekly"]),
        ("báo cáo định kỳ kết quả thực hiện", ["periodic"]),
        ("báo cáo kết quả thực hiện theo quy định", []),
        ("người có hộ khẩu từ 6 tháng trở lên", []),
    ],
)
def test_recurrence_words(text: str, expected: list[str]) -> None:
    assert find_recurrence(text) == expected


def test_monthly_day_becomes_an_rrule() -> None:
    assert monthly_rule("báo cáo trước ngày 20 hằng tháng") == "RRULE:FREQ=MONTHLY;BYMONTHDAY=20"


def test_quarters_and_roman_numerals() -> None:
    assert roman_to_int("III") == 3
    assert end_of_quarter(2024, 3) == date(2024, 9, 30)
    assert [h.date for h in find_date_expressions("quý IV năm 2023", None)] == [date(2023, 12, 31)]


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
    st.booleans(),
    st.sampled_from(["trước ngày ", "trước ", "chậm nhất ngày ", "xong trước ngày "]),
)
def test_any_valid_day_month_year_round_trips(day: date, padded: bool, cue: str) -> None:
    written = f"{day:%d/%m/%Y}" if padded else f"{day.day}/{day.month}/{day.year}"
    hits = find_deadlines(f"Báo cáo UBND xã {cue}{written}.", 2000)
    assert [hit.date for hit in hits] == [day]
