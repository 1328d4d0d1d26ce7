"""Hostile or malformed text stays fast (no catastrophic regex) and never crashes the extractor."""

from __future__ import annotations

import time

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
def test_pathological_text_is_handled_quickly(name: str) -> None:
    data = PATHOLOGICAL[name]().encode()
    started = time.perf_counter()
    try:
        result = extract_plan(data, "x.txt")
    except DocumentError:
        return
    assert time.perf_counter() - started < 2.0
    assert isinstance(result["tasks"], list)


def test_plan_with_nothing_assigned_warns_instead_of_failing() -> None:
    result = extract_plan(
        "KẾ HOẠCH\nTổ chức Tết Trung thu năm 2025\nI. MỤC ĐÍCH\nVui chơi an toàn.\n".encode(), "a.txt"
    )
    assert result["tasks"] == []
    assert any("Không tìm thấy nhiệm vụ" in w for w in result["warnings"])
    assert result["year"] == 2025
