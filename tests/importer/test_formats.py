"""The same plan read from .txt, .docx and .pdf gives the same tasks."""

from __future__ import annotations

import json

import pytest

from tracker.importer import extract_plan

from .builders import (
    DEJAVU,
    docx_from_lines,
    extracted,
    lines_of,
    pdf_from_lines,
    plan_names,
    plan_text,
    ruled_table_pdf,
)

needs_font = pytest.mark.skipif(not DEJAVU.exists(), reason=f"{DEJAVU} is absent (apt: fonts-dejavu-core)")


def task_keys(result: dict) -> set[tuple]:
    """Return the comparable core of each task: section, unit, deadline dates, recurrence."""
    return {
        (t["section"], t["unit"], tuple(sorted(d["date"] for d in t["deadlines"])), json.dumps(t["recurrence"]))
        for t in result["tasks"]
    }


def target_keys(result: dict) -> set[tuple]:
    return {(t["indicator"], json.dumps(t["values"], sort_keys=True)) for t in result["targets"]}


@pytest.mark.parametrize("name", plan_names())
def test_docx_gives_the_same_tasks_as_txt(name: str) -> None:
    result = extract_plan(docx_from_lines(lines_of(plan_text(name))), f"{name}.docx").to_dict()
    assert result["source_format"] == "docx"
    assert task_keys(result) == task_keys(extracted(name))
    assert target_keys(result) == target_keys(extracted(name))


@needs_font
@pytest.mark.parametrize("name", plan_names())
def test_pdf_gives_the_same_tasks_as_txt(name: str) -> None:
    result = extract_plan(pdf_from_lines(lines_of(plan_text(name))), f"{name}.pdf").to_dict()
    assert result["source_format"] == "pdf"
    assert result["pages"] >= 1
    assert task_keys(result) == task_keys(extracted(name))
    assert target_keys(result) == target_keys(extracted(name))


@needs_font
@pytest.mark.parametrize("name", plan_names())
def test_pdf_with_different_line_breaks_keeps_the_tasks(name: str) -> None:
    # A narrower text column re-wraps every line: the outline must not depend on where lines break.
    result = extract_plan(pdf_from_lines(lines_of(plan_text(name)), font_size=10, wrap_mm=90), f"{name}.pdf").to_dict()
    assert task_keys(result) == task_keys(extracted(name))
    assert target_keys(result) == target_keys(extracted(name))


@needs_font
def test_ruled_pdf_table_becomes_assignment_rows() -> None:
    data = ruled_table_pdf(
        [
            "ỦY BAN NHÂN DÂN",
            "XÃ HÒA PHÚ",
            "Số: 15/KH-UBND Hòa Phú, ngày 02 tháng 01 năm 2025",
            "KẾ HOẠCH",
            "Phát triển sản phẩm OCOP năm 2025",
            "I. PHÂN CÔNG NHIỆM VỤ",
        ],
        [
            ["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian"],
            [
                "1",
                "Hỗ trợ hợp tác xã hoàn thiện hồ sơ sản phẩm",
                "Công chức Địa chính - Nông nghiệp",
                "Hội Nông dân xã",
                "Quý II/2025",
            ],
            [
                "2",
                "Quảng bá sản phẩm trên sàn thương mại điện tử",
                "Đoàn Thanh niên xã",
                "Các hợp tác xã",
                "Trước ngày 30/11/2025",
            ],
        ],
        ["II. TỔ CHỨC THỰC HIỆN", "1. Công chức Văn hóa - Xã hội: Theo dõi, báo cáo UBND xã hằng quý."],
    )
    result = extract_plan(data, "kh.pdf").to_dict()
    assert (result["issuer"], result["plan_number"]) == ("UBND xã Hòa Phú", "15/KH-UBND")
    assert [(t["section"], t["unit"], [d["date"] for d in t["deadlines"]]) for t in result["tasks"]] == [
        ("I.1", "Công chức Địa chính - Nông nghiệp", ["2025-06-30"]),
        ("I.2", "Đoàn Thanh niên xã", ["2025-11-30"]),
        ("II.1", "Công chức Văn hóa - Xã hội", []),
    ]
    assert result["tasks"][0]["coordinating_units"] == ["Hội Nông dân xã"]
    assert result["tasks"][2]["recurrence"] == "quarterly"


@needs_font
def test_running_headers_and_footers_are_dropped() -> None:
    name = "001_434977bb22bf411f"
    data = pdf_from_lines(lines_of(plan_text(name)), font_size=10, running="Kế hoạch giảm nghèo huyện Kim Bảng 2023")
    result = extract_plan(data, f"{name}.pdf").to_dict()
    assert result["pages"] >= 3
    assert task_keys(result) == task_keys(extracted(name))
    assert all("Kim Bảng 2023" not in t["source"] for t in result["tasks"])
