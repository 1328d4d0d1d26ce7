"""Build .docx files from raw WordprocessingML, for what python-docx cannot write: text boxes, tracked
changes, content controls, and hostile files (merged rows by the thousand, tables nested deep, documents
that inflate many times within the zip limits). The XML is streamed into the zip, so building a file
costs little memory whatever its uncompressed size."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/></Relationships>'
)
_DOCUMENT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{}</Relationships>'
)
_PART_REL = (
    '<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}" '
    'Target="{kind}.xml"/>'
)


def package(body: Iterable[str], parts: dict[str, str] | None = None, target: Path | None = None) -> bytes:
    """Zip a document whose w:body holds the XML strings of `body`, with extra word/ `parts` (name -> XML).

    With `target`, the zip is written there (and b"" returned) instead of built in memory."""
    buffer = io.BytesIO()
    parts = parts or {}
    with zipfile.ZipFile(target or buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        rels = "".join(_PART_REL.format(n=n + 2, kind=kind) for n, kind in enumerate(parts))
        archive.writestr("word/_rels/document.xml.rels", _DOCUMENT_RELS.format(rels))
        for kind, xml in parts.items():
            archive.writestr(f"word/{kind}.xml", xml)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {NS}><w:body>'.encode())
            pending: list[str] = []
            size = 0
            for piece in body:
                pending.append(piece)
                size += len(piece)
                if size > 1 << 16:
                    member.write("".join(pending).encode())
                    pending, size = [], 0
            member.write(("".join(pending) + "</w:body></w:document>").encode())
    return buffer.getvalue()


def paragraph(text: str) -> str:
    """Return a plain paragraph."""
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def cell(content: str, props: str = "") -> str:
    """Return a table cell holding `content` (paragraphs or tables), with w:tcPr children `props`."""
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{content}</w:tc>" if props else f"<w:tc>{content}</w:tc>"


def vertically_merged_table(rows: int, unit: str = "Phòng Y tế", time: str = "Quý IV/2025") -> Iterator[str]:
    """Yield an assignment table whose "lead unit" and "time" cells are each one cell merged down `rows` rows."""
    yield "<w:tbl><w:tblPr/><w:tblGrid><w:gridCol/><w:gridCol/><w:gridCol/><w:gridCol/></w:tblGrid>"
    for row in range(rows):
        merge = '<w:vMerge w:val="restart"/>' if row == 0 else "<w:vMerge/>"
        yield (
            "<w:tr>"
            + cell(paragraph(str(row + 1)))
            + cell(paragraph(f"Nhiệm vụ số {row + 1}"))
            + cell(paragraph(unit if row == 0 else ""), merge)
            + cell(paragraph(time if row == 0 else "<w:p/>"), merge)
            + "</w:tr>"
        )
    yield "</w:tbl>"


def nested_tables(depth: int) -> str:
    """Return a table nested `depth` deep, one cell in another, each level's cell saying "tầng N"."""
    opening = "".join(f"<w:tbl><w:tr><w:tc>{paragraph(f'tầng {level}')}" for level in range(1, depth + 1))
    return opening + "</w:tc></w:tr></w:tbl>" * depth


def _rsid(rng: random.Random) -> str:
    return f"{rng.getrandbits(32):08X}"


def word_paragraph(rng: random.Random, text: str) -> str:
    """Return a paragraph as Word writes one: revision ids, paragraph and run properties, a proof mark."""
    return (
        f'<w:p w:rsidR="{_rsid(rng)}" w:rsidRDefault="{_rsid(rng)}" w:rsidP="00{rng.getrandbits(12):03X}000">'
        '<w:pPr><w:spacing w:before="120" w:after="120" w:line="288" w:lineRule="auto"/><w:ind w:firstLine="567"/>'
        '<w:jc w:val="both"/><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" '
        'w:cs="Times New Roman"/><w:sz w:val="28"/><w:szCs w:val="28"/><w:lang w:val="vi-VN"/></w:rPr></w:pPr>'
        '<w:bookmarkStart w:id="0" w:name="_GoBack"/><w:bookmarkEnd w:id="0"/>'
        f'<w:r w:rsidRPr="{_rsid(rng)}"><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" '
        'w:cs="Times New Roman"/><w:sz w:val="28"/><w:szCs w:val="28"/><w:lang w:val="vi-VN"/></w:rPr>'
        f'<w:t xml:space="preserve">{text}</w:t></w:r><w:proofErr w:type="spellStart"/><w:proofErr w:type="spellEnd"/>'
        "</w:p>"
    )


def inflating_document(paragraphs: int, text_every: int, seed: int = 9) -> Iterator[str]:
    """Yield Word-formatted paragraphs, one in `text_every` with text and the others empty, as a document
    padded with blank lines would be; their revision ids make the XML inflate some 25 times from the zip."""
    rng = random.Random(seed)
    for index in range(paragraphs):
        text = f"Đoạn {index}: Phòng Văn hóa và Thông tin theo dõi." if index % text_every == 0 else ""
        yield word_paragraph(rng, text)
