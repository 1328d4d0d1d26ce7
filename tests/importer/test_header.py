"""Header facts: title, issuer, number, issue date, year or period, implemented documents."""

from __future__ import annotations

import json

import pytest

from tracker.importer import extract_plan

from .builders import FIXTURES, GOLD, PLANS, plan_names


def _extract(name: str) -> dict:
    return extract_plan((PLANS / f"{name}.txt").read_bytes(), f"{name}.txt").to_dict()


@pytest.mark.parametrize("name", plan_names())
def test_header_facts_match_the_gold(name: str) -> None:
    gold = json.loads((GOLD / f"{name}.json").read_text(encoding="utf-8"))
    result = _extract(name)
    assert result["title"] == gold["title"]
    assert result["issuer"] == gold["issuer"]
    assert result["plan_number"] == gold["plan_number"]
    assert result["year"] == gold["year"]
    assert result["period_end"] == gold["period_end"]
    issued = gold["issued"]
    if issued and len(issued) == 10:
        assert result["issued"] == issued
    else:
        assert result["issued"] is None
        assert result["issued_month"] == issued


def test_blank_number_and_day_are_reported() -> None:
    result = _extract("004_c8b79a7600a1cc52")
    assert result["issued_month"] == "2024-04"
    assert any("Số hiệu kế hoạch để trống" in w for w in result["warnings"])


def test_multi_year_plan_has_a_period_and_no_year() -> None:
    result = _extract("003_9a978320c38bc04c")
    assert (result["year"], result["period"], result["period_end"]) == (None, "2023-2025", "2025-12-31")


def test_implemented_plans_are_listed_with_their_number_and_date() -> None:
    result = _extract("000_48636eaaef47ce67")
    assert "Kế hoạch số 112/KH-UBND ngày 27/7/2023 của UBND huyện Phù Cừ" in result["implements"]
    assert any(ref.startswith("Quyết định số 90/QĐ-TTg ngày 18/01/2022") for ref in result["implements"])


def test_issuer_without_a_name_is_completed_from_the_text() -> None:
    # "Ủy ban nhân dân tỉnh ban hành Kế hoạch": the province is the one the plan keeps naming.
    assert _extract("003_9a978320c38bc04c")["issuer"] == "UBND tỉnh Hưng Yên"


def test_department_issuer_keeps_the_casing_used_in_the_body_and_names_its_province() -> None:
    result = extract_plan((FIXTURES / "health_province.txt").read_bytes(), "kh.txt").to_dict()
    assert result["issuer"] == "Sở Y tế tỉnh Nghệ An"  # "UBND TỈNH NGHỆ AN" / "SỞ Y TẾ"
    assert result["plan_number"] == "312/KH-SYT"
    assert result["issued"] == "2025-02-05"


def test_school_year_plan_ends_in_may() -> None:
    result = extract_plan((FIXTURES / "education_commune.txt").read_bytes(), "kh.txt").to_dict()
    assert result["period"] == "2024-2025"
    assert result["period_end"] == "2025-05-31"


def test_issuer_hint_fills_a_missing_issuer_and_flags_a_different_one() -> None:
    text = "KẾ HOẠCH\nPhòng chống thiên tai năm 2025\nI. TỔ CHỨC THỰC HIỆN\n1. Công an xã: Chủ trì ứng trực.\n"
    assert extract_plan(text.encode(), "a.txt", issuer_hint="UBND xã An Bình").to_dict()["issuer"] == "UBND xã An Bình"
    data = (PLANS / "000_48636eaaef47ce67.txt").read_bytes()
    other = extract_plan(data, "a.txt", issuer_hint="UBND xã Tân An").to_dict()
    assert any("khác đơn vị đã chọn" in w for w in other["warnings"])


@pytest.mark.parametrize(
    ("stated", "year", "period", "end"),
    [
        ("Năm 2023", 2023, None, "2023-12-31"),
        ("Từ tháng 5/2025 đến tháng 9/2025", 2025, None, "2025-09-30"),
        ("Năm 2024 - 2025", None, "2024-2025", "2025-12-31"),
        ("Từ ngày 01/3/2025 đến ngày 30/6/2025", 2025, None, "2025-06-30"),
        ("Giai đoạn 2026-2030", None, "2026-2030", "2030-12-31"),
    ],
)
def test_stated_time_frame_sets_year_period_and_end(stated: str, year, period, end) -> None:
    text = (
        f"KẾ HOẠCH\nTiêm phòng\nI. THỜI GIAN\n1. Thời gian: {stated}\nII. TỔ CHỨC THỰC HIỆN\n1. Trạm Y tế xã: Tiêm.\n"
    )
    result = extract_plan(text.encode(), "kh.txt").to_dict()
    assert (result["year"], result["period"], result["period_end"]) == (year, period, end)
