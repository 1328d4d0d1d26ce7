"""Hostile or malformed text never crashes the extractor and never runs past its time budget.

How fast ordinary and hostile documents are read is measured in bench/importer.py, not asserted here.
"""

from __future__ import annotations

import pytest

from tracker.importer import DocumentError, extract_plan

from .builders import plan_text

PATHOLOGICAL = {
    "one huge line": lambda: " ".join(plan_text("003_9a978320c38bc04c").split() * 15),
    "repeated dashes": lambda: "\n".join(["- Phòng Y tế - Thương binh - " * 50] * 400),
    "endless enumeration": lambda: "1. UBND xã" + ", xã" * 20000 + " chủ trì",
    "endless colons": lambda: "1. Sở " + "Y tế: " * 5000,
    "unclosed parentheses": lambda: "KẾ HOẠCH\nI. TỔ CHỨC THỰC HIỆN\n1. Phòng Y tế (theo dõi " * 2000,
    "units joined by và": lambda: "1. " + " và ".join(["Phòng Y tế"] * 5000) + " chủ trì",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_text_gives_a_result_or_a_clear_refusal(name: str) -> None:
    data = PATHOLOGICAL[name]().encode()
    try:
        result = extract_plan(data, "x.txt").to_dict()
    except DocumentError as error:
        assert error.code in ("too_slow", "too_long") and str(error)
        return
    assert isinstance(result["tasks"], list)


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_a_spent_budget_stops_the_extraction_with_a_clear_message(name: str) -> None:
    # Text is read without any check; every later stage checks the budget, so nothing runs past it.
    with pytest.raises(DocumentError) as refused:
        extract_plan(PATHOLOGICAL[name]().encode(), "x.txt", time_limit=0.0)
    assert refused.value.code == "too_slow"
    assert "quá lâu" in refused.value.message_vi or "thời gian" in refused.value.message_vi


def test_plan_with_nothing_assigned_warns_instead_of_failing() -> None:
    result = extract_plan(
        "KẾ HOẠCH\nTổ chức Tết Trung thu năm 2025\nI. MỤC ĐÍCH\nVui chơi an toàn.\n".encode(), "a.txt"
    ).to_dict()
    assert result["tasks"] == []
    assert any("Không tìm thấy nhiệm vụ" in w for w in result["warnings"])
    assert result["year"] == 2025
