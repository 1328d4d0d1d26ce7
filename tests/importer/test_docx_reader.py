"""The .docx reader: the same blocks as python-docx gives for ordinary documents, Word's list numbers,
merged and nested cells read from the XML, and the text Word shows (not text boxes, deletions or tables of
contents)."""

from __future__ import annotations

import io

import pytest

from tracker.importer.readers import Block, read_document
from tracker.importer.textnorm import clean_line, nfc

from . import raw_docx
from .builders import FIXTURES, docx_from_lines, lines_of
from .raw_docx import cell, paragraph

REAL = sorted((FIXTURES / "real").glob("*.txt"))


def _python_docx_blocks(data: bytes) -> list[Block]:
    """Read a document without list numbering, merged or nested cells the way python-docx sees it."""
    import docx
    from docx.table import Table

    blocks: list[Block] = []
    tables = 0
    for item in docx.Document(io.BytesIO(data)).iter_inner_content():
        if isinstance(item, Table):
            tables += 1
            for row in item.rows:
                cells = tuple(" ".join(clean_line(nfc(p.text)) for p in c.paragraphs) for c in row.cells)
                if any(cells):
                    blocks.append(Block(" | ".join(cells), cells, tables))
            continue
        blocks.extend(Block(line) for line in map(clean_line, nfc(item.text).split("\n")) if line)
    return blocks


@pytest.mark.parametrize("path", REAL, ids=[path.stem[:2] for path in REAL])
def test_ordinary_documents_give_the_blocks_python_docx_gives(path) -> None:
    lines = lines_of(path.read_text(encoding="utf-8"))
    table = [["STT", "Nhiệm vụ", "Đơn vị chủ trì"], ["1", lines[-1], "Sở Nội vụ"], ["2", "", ""]]
    data = docx_from_lines(lines, tables=[table, table])
    blocks = read_document(data, f"{path.stem}.docx").blocks
    assert blocks == _python_docx_blocks(data)
    last = clean_line(lines[-1])
    assert blocks[-2:] == [
        Block(f"1 | {last} | Sở Nội vụ", ("1", last, "Sở Nội vụ"), 2),
        Block("2 |  | ", ("2", "", ""), 2),
    ]


def _read(body: list[str], **parts: str) -> list[str]:
    return [block.text for block in read_document(raw_docx.package(body, parts), "kh.docx").blocks]


def _numbered(text: str, num_id: int, level: int = 0, style: str = "") -> str:
    style_xml = f'<w:pStyle w:val="{style}"/>' if style else ""
    return (
        f'<w:p><w:pPr>{style_xml}<w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr>'
        f"<w:r><w:t>{text}</w:t></w:r></w:p>"
    )


def _level(level: int, fmt: str, text: str, start: int = 1) -> str:
    return (
        f'<w:lvl w:ilvl="{level}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/></w:lvl>'
    )


NUMBERING = (
    f"<w:numbering {raw_docx.NS}>"
    '<w:abstractNum w:abstractNumId="0">'
    + _level(0, "upperRoman", "%1.")
    + _level(1, "decimal", "%2.")
    + _level(2, "lowerLetter", "%3)")
    + _level(3, "decimal", "%2.%4.")
    + "</w:abstractNum>"
    '<w:abstractNum w:abstractNumId="1">' + _level(0, "bullet", "\uf0b7") + "</w:abstractNum>"
    '<w:abstractNum w:abstractNumId="2">' + _level(0, "decimal", "Điều %1.", start=3) + "</w:abstractNum>"
    '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
    '<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>'
    '<w:num w:numId="3"><w:abstractNumId w:val="2"/></w:num>'
    "</w:numbering>"
)


def test_word_list_numbers_are_rendered_before_the_text() -> None:
    body = [
        _numbered("MỤC TIÊU", 1),
        _numbered("Nhiệm vụ", 1, 1),
        _numbered("Rà soát", 1, 2),
        _numbered("Báo cáo", 1, 2),
        _numbered("Chi tiết", 1, 3),
        _numbered("Tổ chức", 1, 1),
        _numbered("Rà soát lại", 1, 2),
        _numbered("TỔ CHỨC THỰC HIỆN", 1),
        _numbered("Trạm Y tế", 1, 1),
        _numbered("gạch đầu dòng", 2),
        _numbered("Hiệu lực", 3),
        paragraph("Không đánh số"),
        _numbered("Tiếp", 3),
    ]
    assert _read(body, numbering=NUMBERING) == [
        "I. MỤC TIÊU",
        "1. Nhiệm vụ",
        "a) Rà soát",
        "b) Báo cáo",
        "1.1. Chi tiết",
        "2. Tổ chức",
        "a) Rà soát lại",
        "II. TỔ CHỨC THỰC HIỆN",
        "1. Trạm Y tế",
        "- gạch đầu dòng",
        "Điều 3. Hiệu lực",
        "Không đánh số",
        "Điều 4. Tiếp",
    ]


def _style(style_id: str, num_id: int | None = None, based_on: str = "", default: bool = False) -> str:
    num = f'<w:pPr><w:numPr><w:numId w:val="{num_id}"/></w:numPr></w:pPr>' if num_id else ""
    base = f'<w:basedOn w:val="{based_on}"/>' if based_on else ""
    flag = ' w:default="1"' if default else ""
    return f'<w:style w:type="paragraph"{flag} w:styleId="{style_id}">{base}{num}</w:style>'


def test_numbering_carried_by_a_style_follows_its_base_styles() -> None:
    styles = (
        f"<w:styles {raw_docx.NS}>"
        + _style("Normal", default=True)
        + _style("Heading1", 1)
        + _style("MyHeading", based_on="Heading1")
        + _style("LoopA", based_on="LoopB")
        + _style("LoopB", based_on="LoopA")
        + "</w:styles>"
    )

    def styled(text: str, style: str) -> str:
        return f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>'

    body = [styled("MỤC ĐÍCH", "Heading1"), styled("NỘI DUNG", "MyHeading"), styled("vòng", "LoopA")]
    body += [styled("kiểu lạ", "Missing"), _numbered("riêng", 2, style="Heading1")]
    assert _read(body, numbering=NUMBERING, styles=styles) == [
        "I. MỤC ĐÍCH",
        "II. NỘI DUNG",
        "vòng",
        "kiểu lạ",
        "- riêng",
    ]


def _row(*cells: str) -> str:
    return "<w:tr>" + "".join(cells) + "</w:tr>"


def test_merged_cells_are_read_once_across_and_repeated_down() -> None:
    restart, below = '<w:vMerge w:val="restart"/>', "<w:vMerge/>"
    table = (
        "<w:tbl>"
        + _row(
            cell(paragraph("STT")), cell(paragraph("Nhiệm vụ"), '<w:gridSpan w:val="2"/>'), cell(paragraph("Thời gian"))
        )
        + _row(
            cell(paragraph("1")),
            cell(paragraph("Rà soát")),
            cell(paragraph("Phòng Y tế"), restart),
            cell(paragraph("Quý IV"), restart),
        )
        + _row(cell(paragraph("2")), cell(paragraph("Báo cáo")), cell("<w:p/>", below), cell("<w:p/>", below))
        + '<w:tr><w:trPr><w:gridBefore w:val="2"/></w:trPr>'
        + cell("<w:p/>", below)
        + cell(paragraph("Năm 2026"))
        + "</w:tr>"
        + _row(
            cell(paragraph("3")),
            cell(paragraph("Tổng hợp"), '<w:hMerge w:val="restart"/>'),
            cell(paragraph("bỏ"), "<w:hMerge/>"),
            cell(paragraph("2027")),
        )
        + "</w:tbl>"
    )
    blocks = read_document(raw_docx.package([table]), "kh.docx").blocks
    assert [block.cells for block in blocks] == [
        ("STT", "Nhiệm vụ", "Thời gian"),
        ("1", "Rà soát", "Phòng Y tế", "Quý IV"),
        ("2", "Báo cáo", "Phòng Y tế", "Quý IV"),
        ("Phòng Y tế", "Năm 2026"),
        ("3", "Tổng hợp", "2027"),
    ]


def test_a_nested_table_is_flattened_into_its_cell_in_reading_order() -> None:
    inner = (
        "<w:tbl>"
        + _row(cell(paragraph("a)")), cell("<w:p/>"), cell(paragraph("Xã A")))
        + _row(cell(paragraph("b)")), cell(paragraph("Xã B")))
        + "</w:tbl>"
    )
    table = "<w:tbl>" + _row(cell(paragraph("1")), cell(paragraph("Trước") + inner + paragraph("Sau"))) + "</w:tbl>"
    blocks = read_document(raw_docx.package([paragraph("Đầu"), table, paragraph("Cuối")]), "kh.docx").blocks
    assert blocks == [
        Block("Đầu"),
        Block("1 | Trước a) Xã A b) Xã B Sau", ("1", "Trước a) Xã A b) Xã B Sau"), 1),
        Block("Cuối"),
    ]


def test_text_word_shows_is_read_and_text_it_hides_is_not() -> None:
    text_box = (
        '<w:r><w:drawing><wps:txbx xmlns:wps="urn:wps"><w:txbxContent><w:p><w:r><w:t>DỰ THẢO</w:t></w:r></w:p>'
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>bảng trong hộp</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
        "</w:txbxContent></wps:txbx></w:drawing></w:r>"
    )
    body = [
        f"<w:p><w:r><w:t>Kế hoạch </w:t></w:r>{text_box}<w:r><w:t>số 12</w:t></w:r></w:p>",
        '<w:p><w:hyperlink r:id="rId9" xmlns:r="urn:r"><w:r><w:t>Cổng thông tin</w:t></w:r></w:hyperlink>'
        '<w:ins w:id="1"><w:r><w:t> điện tử</w:t></w:r></w:ins><w:del w:id="2"><w:r><w:delText> cũ</w:delText>'
        '</w:r></w:del><w:moveFrom w:id="3"><w:r><w:t> chuyển đi</w:t></w:r></w:moveFrom></w:p>',
        '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Nơi</w:t><w:tab/>'
        '<w:t>nhận</w:t><w:br/><w:t>dòng hai</w:t><w:br w:type="page"/><w:t>-Tiếp</w:t><w:noBreakHyphen/></w:r></w:p>',
        '<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/></w:docPartObj></w:sdtPr>'
        f"<w:sdtContent>{paragraph('MỤC LỤC')}{paragraph('I. MỤC TIÊU 3')}</w:sdtContent></w:sdt>",
        f"<w:sdt><w:sdtPr/><w:sdtContent>{paragraph('Trong ô nội dung')}</w:sdtContent></w:sdt>",
        "<w:p><w:sdt><w:sdtContent><w:r><w:t>ngày 05/3/2025</w:t></w:r></w:sdtContent></w:sdt></w:p>",
    ]
    assert _read(body) == [
        "Kế hoạch số 12",
        "Cổng thông tin điện tử",
        "Nơi nhận",
        "dòng hai-Tiếp-",
        "Trong ô nội dung",
        "ngày 05/3/2025",
    ]


def test_parts_are_found_through_the_package_relationships() -> None:
    data = raw_docx.package([_numbered("Mục", 1)], {"numbering": NUMBERING})
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "word/_rels/document.xml.rels":
                content = content.replace(b'Target="numbering.xml"', b'Target="/word/lists/numbering1.xml"')
            target.writestr("word/lists/numbering1.xml" if name == "word/numbering.xml" else name, content)
    assert read_document(buffer.getvalue(), "kh.docx").blocks == [Block("I. Mục")]


def test_an_oversized_numbering_part_is_skipped_with_a_warning() -> None:
    padding = '<w:abstractNum w:abstractNumId="99"/>' * 250_000
    numbering = NUMBERING.replace("</w:numbering>", padding + "</w:numbering>")
    document = read_document(raw_docx.package([_numbered("Mục", 1)], {"numbering": numbering}), "kh.docx")
    assert document.blocks == [Block("Mục")]
    assert "numbering.xml" in document.warnings[0] and "bỏ qua" in document.warnings[0]
