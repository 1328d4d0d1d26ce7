"""Hostile .docx files end within the time limit, with a clear message or a correct result, and in bounded
memory: thousands of vertically merged rows (quadratic and then recursive in python-docx), tables nested
deeper than the parser goes, a document inflating 26 times within the zip limits, a million paragraphs."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from tracker.importer import DocumentError
from tracker.importer.readers import Limits, read_document

from . import raw_docx

#: Peak memory the reader may add to the process (python-docx needed some 300 MB for 22 MB of XML).
MEMORY_BOUND_MB = 80


@pytest.mark.parametrize("rows", [800, 5000])
def test_vertically_merged_rows_give_every_row_the_merged_cells(rows: int) -> None:
    data = raw_docx.package(raw_docx.vertically_merged_table(rows))
    assert len(data) < 40_000  # the 800-row file held a worker for 300 s; a 5,000-row one raised RecursionError
    blocks = read_document(data, "kh.docx").blocks
    assert len(blocks) == rows
    assert blocks[0].cells == ("1", "Nhiệm vụ số 1", "Phòng Y tế", "Quý IV/2025")
    assert all(block.cells[2:] == ("Phòng Y tế", "Quý IV/2025") for block in blocks)
    assert blocks[-1].cells[:2] == (str(rows), f"Nhiệm vụ số {rows}")
    assert {block.table for block in blocks} == {1}


def test_tables_nested_sixty_deep_are_flattened_into_one_row() -> None:
    blocks = read_document(raw_docx.package([raw_docx.nested_tables(60)]), "kh.docx").blocks
    assert [block.cells for block in blocks] == [(" ".join(f"tầng {level}" for level in range(1, 61)),)]


@pytest.mark.parametrize("depth", [100, 5000])
def test_tables_nested_deeper_than_the_parser_goes_are_refused_clearly(depth: int) -> None:
    with pytest.raises(DocumentError) as caught:
        read_document(raw_docx.package([raw_docx.nested_tables(depth)]), "kh.docx")
    assert caught.value.code == "too_deep"
    assert "lồng nhau quá sâu" in caught.value.message_vi


def _merged_rows(path: Path) -> None:
    raw_docx.package(raw_docx.vertically_merged_table(5000), target=path)


def _nested(path: Path) -> None:
    raw_docx.package([raw_docx.nested_tables(5000)], target=path)


def _inflating(text_every: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        raw_docx.package(raw_docx.inflating_document(180_000, text_every), target=path)

    return build


def _million(path: Path) -> None:
    raw_docx.package((raw_docx.paragraph(f"Dòng {index}") for index in range(1_000_000)), target=path)


_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from tracker.importer import DocumentError
    from tracker.importer.readers import read_document
    import tracker.importer.readers.docx_reader

    data = open(sys.argv[1], "rb").read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        blocks = read_document(data, "kh.docx").blocks
        outcome = {"blocks": len(blocks), "first": blocks[0].text, "last": blocks[-1].text}
    except DocumentError as error:
        outcome = {"code": error.code, "message": error.message_vi}
    outcome["growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps(outcome))
    """
)

HOSTILE: dict[str, tuple[Callable[[Path], None], dict]] = {
    "5,000 merged rows": (_merged_rows, {"blocks": 5000, "last": "5000 | Nhiệm vụ số 5000 | Phòng Y tế | Quý IV/2025"}),
    "tables nested 5,000 deep": (_nested, {"code": "too_deep"}),
    "26x inflating, sparse text": (
        _inflating(20),
        {"blocks": 9000, "last": "Đoạn 179980: Phòng Văn hóa và Thông tin theo dõi."},
    ),
    "26x inflating, text throughout": (_inflating(1), {"code": "too_long"}),
    "a million paragraphs": (_million, {"code": "too_many_blocks"}),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_docx_ends_clearly_in_bounded_memory(name: str, tmp_path: Path) -> None:
    build, expected = HOSTILE[name]
    path = tmp_path / "hostile.docx"
    build(path)
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    if "26x" in name:
        _assert_inflates_26_times_within_the_limits(path)
    assert child.returncode == 0, child.stderr
    outcome = json.loads(child.stdout)
    assert {key: outcome.get(key) for key in expected} == expected, outcome
    assert outcome["growth_mb"] < MEMORY_BOUND_MB, outcome


def _assert_inflates_26_times_within_the_limits(path: Path) -> None:
    limits = Limits()
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("word/document.xml")
    assert path.stat().st_size < limits.max_bytes
    assert 120e6 < member.file_size < limits.max_unzipped
    assert 24 < member.file_size / member.compress_size < 28


def _error(data: bytes, **limits: object) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        read_document(data, "kh.docx", Limits(**limits))
    assert caught.value.message_vi and caught.value.message_en
    return caught.value


def _lines(count: int) -> Iterable[str]:
    return (raw_docx.paragraph(f"Dòng {index}") for index in range(count))


def test_reading_stops_at_the_block_and_character_limits() -> None:
    error = _error(raw_docx.package(_lines(2000)), max_blocks=1000)
    assert error.code == "too_many_blocks"
    assert "hơn 1.000" in error.message_vi
    error = _error(raw_docx.package(_lines(2000)), max_chars=5000)
    assert error.code == "too_long"
    assert "hơn 5.000 ký tự" in error.message_vi


def test_a_merged_cell_repeated_down_many_rows_counts_toward_the_character_limit() -> None:
    data = raw_docx.package(raw_docx.vertically_merged_table(400, unit="Phòng Y tế " * 100))
    assert _error(data, max_chars=100_000).code == "too_long"


def test_the_time_budget_covers_the_docx_read() -> None:
    assert _error(raw_docx.package(_lines(100)), time_limit=0.0).code == "too_slow"


def test_one_oversized_paragraph_is_refused() -> None:
    runs = "<w:r><w:t>abc</w:t></w:r>" * 200_000
    error = _error(raw_docx.package([f"<w:p>{runs}</w:p>"]))
    assert error.code == "oversized_element"
    assert "lớn bất thường" in error.message_vi


def test_a_row_with_impossibly_many_cells_is_refused() -> None:
    row = raw_docx.cell(raw_docx.paragraph("x")) * 1001
    assert _error(raw_docx.package([f"<w:tbl><w:tr>{row}</w:tr></w:tbl>"])).code == "too_many_cells"


def test_entity_expansion_is_refused() -> None:
    entities = '<!ENTITY a "xxxxxxxxxx">' + "".join(
        f'<!ENTITY {chr(98 + level)} "{f"&{chr(97 + level)};" * 10}">' for level in range(9)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "word/document.xml",
            f"<!DOCTYPE w:document [{entities}]><w:document {raw_docx.NS}><w:body>"
            "<w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>",
        )
    assert _error(buffer.getvalue()).code == "corrupt_docx"


def test_truncated_document_xml_is_corrupt() -> None:
    whole = raw_docx.package(_lines(3))
    with zipfile.ZipFile(io.BytesIO(whole)) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["word/document.xml"] = parts["word/document.xml"][:-40]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    assert _error(buffer.getvalue()).code == "corrupt_docx"
