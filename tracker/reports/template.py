"""The .docx template of the report: the layout Decree 30/2020/NĐ-CP fixes, with placeholders the report fills.

The bundled template (tracker/data/report_templates/bao-cao.docx) is built by `build_default_template` and
committed; an office may replace it with its own (config REPORT_TEMPLATE_PATH), made in Word or LibreOffice,
as long as it keeps the placeholders below (each may sit anywhere: body, tables, page header or footer):

  {co_quan_chu_quan}  the governing body (empty for a People's Committee: the paragraph is dropped)
  {co_quan_ban_hanh}  the issuing body, on two lines for a People's Committee
  {so_ky_hieu}        "Số:       /BC-UBND" (the number is written when the report is signed)
  {dia_danh_ngay}     "Cao Ngọc, ngày 06 tháng 12 năm 2026"
  {ten_loai}          "BÁO CÁO"
  {trich_yeu}         the title (what was carried out, over which period)
  {noi_dung}          a paragraph of its own: the body (parts I-IV) goes there
  {noi_nhan}          a paragraph of its own: one paragraph per recipient, in its formatting
  {quyen_han_ky}      "TM. ỦY BAN NHÂN DÂN" (empty for a unit's head signing in their own name)
  {chuc_vu_ky}        "CHỦ TỊCH"
  {nguoi_ky}          the signer's name

The body uses the paragraph styles "Report Body", "Report Part", "Report Heading", "Report Item", "Report
Table" and "Report Placeholder": a template defining them sets the body's fonts and spacing; those it lacks
are added with the defaults below (Times New Roman 14, first line indented 1 cm, 6 pt before).

Regenerate the bundled file after changing this module: `python -m tracker.reports.template`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

FONT = "Times New Roman"
BUNDLED_TEMPLATE = Path(__file__).resolve().parent.parent / "data" / "report_templates" / "bao-cao.docx"
PLACEHOLDERS = ("co_quan_chu_quan", "co_quan_ban_hanh", "so_ky_hieu", "dia_danh_ngay", "ten_loai", "trich_yeu",
                "noi_dung", "noi_nhan", "quyen_han_ky", "chuc_vu_ky", "nguoi_ky")
#: Placeholders that must stand alone in their paragraph (they become several paragraphs).
BLOCK_PLACEHOLDERS = ("noi_dung", "noi_nhan")

#: A4 with the margins of Decree 30/2020 (top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm).
PAGE = {"width": Mm(210), "height": Mm(297), "top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}

#: name -> (size pt, bold, italic, alignment, first-line indent cm, space before pt, keep with next)
BODY_STYLES: dict[str, tuple[float, bool, bool, Any, float, float, bool]] = {
    "Report Body": (14, False, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 1.0, 6, False),
    "Report Part": (14, True, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 1.0, 12, True),
    "Report Heading": (14, True, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 1.0, 6, True),
    "Report Item": (14, False, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 1.0, 4, False),
    "Report Table": (12, False, False, WD_ALIGN_PARAGRAPH.LEFT, 0.0, 0, False),
    "Report Placeholder": (14, False, True, WD_ALIGN_PARAGRAPH.JUSTIFY, 1.0, 6, False),
}


def set_font(run_or_style: Any, size: float | None = None, *, bold: bool | None = None,
             italic: bool | None = None) -> None:
    """Times New Roman for every script (Word picks the east-Asian slot for some Vietnamese letters)."""
    font = run_or_style.font
    font.name = FONT
    element = run_or_style.element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if italic is not None:
        font.italic = italic


def ensure_styles(document: Any) -> None:
    """Add the body's paragraph styles a template lacks (an office's own keep theirs)."""
    names = {s.name for s in document.styles}
    for name, (size, bold, italic, align, indent, before, keep) in BODY_STYLES.items():
        if name in names:
            continue
        style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = document.styles["Normal"]
        set_font(style, size, bold=bold, italic=italic)
        fmt = style.paragraph_format
        fmt.alignment = align
        fmt.first_line_indent = Cm(indent) if indent else None
        fmt.space_before = Pt(before)
        fmt.space_after = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        fmt.keep_with_next = keep
        fmt.widow_control = True


def rule(paragraph: Any, *, indent_cm: float) -> None:
    """Turn an empty paragraph into the short centred line drawn under a heading (its bottom border)."""
    fmt = paragraph.paragraph_format
    fmt.left_indent = Cm(indent_cm)
    fmt.right_indent = Cm(indent_cm)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)
    run = paragraph.add_run()
    set_font(run, 2)


def no_borders(table: Any) -> None:
    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tblpr.append(borders)


def fixed_widths(table: Any, widths_cm: list[float]) -> None:
    """Column widths that Word and LibreOffice both honour (the grid and every cell)."""
    table.autofit = False
    tblpr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblpr.append(layout)
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def _line(cell_or_doc: Any, text: str, size: float, *, bold: bool = False, italic: bool = False,
          align: Any = WD_ALIGN_PARAGRAPH.CENTER, before: float = 0, first: bool = False) -> Any:
    paragraph = cell_or_doc.paragraphs[0] if first else cell_or_doc.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_before = Pt(before)
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.first_line_indent = None
    run = paragraph.add_run(text)
    set_font(run, size, bold=bold, italic=italic)
    return paragraph


def page_number_header(section: Any) -> None:
    """Page numbers at the top centre from the second page on (the first page shows none)."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    fonts = OxmlElement("w:rFonts")
    for slot in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(slot), FONT)
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "28")
    rpr.append(fonts)
    rpr.append(size)
    run.append(rpr)
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def build_default_template() -> Any:
    """The bundled template: Decree 30's layout with the placeholders, A4 portrait, its margins and fonts."""
    document = Document()
    normal = document.styles["Normal"]
    set_font(normal, 14)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    ensure_styles(document)
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE["width"], PAGE["height"]
    section.top_margin, section.bottom_margin = PAGE["top"], PAGE["bottom"]
    section.left_margin, section.right_margin = PAGE["left"], PAGE["right"]
    section.header_distance = Mm(10)
    page_number_header(section)
    core = document.core_properties
    core.title, core.author, core.language = "Báo cáo", "tracker", "vi-VN"

    header = document.add_table(rows=1, cols=2)
    no_borders(header)
    fixed_widths(header, [6.5, 10.0])
    left, right = header.rows[0].cells
    _line(left, "{co_quan_chu_quan}", 13, first=True)
    _line(left, "{co_quan_ban_hanh}", 13, bold=True)
    rule(left.add_paragraph(), indent_cm=2.2)
    _line(left, "Số: {so_ky_hieu}", 13, before=6)
    _line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, bold=True, first=True)
    _line(right, "Độc lập - Tự do - Hạnh phúc", 13, bold=True)
    rule(right.add_paragraph(), indent_cm=2.6)
    _line(right, "{dia_danh_ngay}", 14, italic=True, before=6)

    _line(document, "{ten_loai}", 14, bold=True, before=18)
    _line(document, "{trich_yeu}", 14, bold=True)
    rule(document.add_paragraph(), indent_cm=6.0)
    document.add_paragraph("{noi_dung}", style="Report Body")

    signature = document.add_table(rows=1, cols=2)
    no_borders(signature)
    fixed_widths(signature, [7.5, 9.0])
    recipients, signer = signature.rows[0].cells
    _line(recipients, "Nơi nhận:", 12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, first=True,
          before=12)
    _line(recipients, "{noi_nhan}", 11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _line(signer, "{quyen_han_ky}", 14, bold=True, first=True, before=12)
    _line(signer, "{chuc_vu_ky}", 14, bold=True)
    for _ in range(4):  # room for the signature and the seal
        _line(signer, "", 14)
    _line(signer, "{nguoi_ky}", 14, bold=True)
    return document


def main() -> None:
    BUNDLED_TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    build_default_template().save(str(BUNDLED_TEMPLATE))
    print(BUNDLED_TEMPLATE)


if __name__ == "__main__":
    main()
