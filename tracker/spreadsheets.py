"""Excel sheets in the layout of the plans' appendices (Phụ lục): titles, header rows, clean cells.

Shared by the web exports and the periodic report's companion workbook (which the CLI and the API write too).
"""

from __future__ import annotations

import io
from typing import Any


def _cell(value: Any) -> Any:
    """Text without the control characters XML (so openpyxl) refuses; an imported document may carry them."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub(" ", value).strip() if isinstance(value, str) else value


#: What a spreadsheet reads as the start of a formula (or of a command, in some programs): a cell of text that
#: begins with one of these is written as text, with Excel's quote prefix, never as a live formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    """Tell whether a spreadsheet would read `text` as a formula."""
    return text.startswith(FORMULA_STARTS)


def append_row(ws: Any, values: list[Any]) -> None:
    """Append a row to an export sheet, its text cleaned for the file format and never a formula.

    A task title "=HYPERLINK(...)" typed by an officer would otherwise run in the chair's Excel. openpyxl
    turns any string starting with "=" into a formula; such cells (and those starting with + - @, a tab or a
    carriage return) become plain strings with the quote prefix, which Excel shows as the text typed.
    """
    cleaned = [_cell(v) for v in values]
    ws.append(cleaned)
    row = ws.max_row
    for column, (raw, value) in enumerate(zip(values, cleaned, strict=True), start=1):
        if isinstance(value, str) and value and (is_formula_like(value) or is_formula_like(raw)):
            cell = ws.cell(row, column)
            cell.value = value
            cell.data_type = "s"
            cell.quotePrefix = True


def write_title(ws: Any, title: str, subtitle: str, columns: int) -> None:
    """The two centred title lines an appendix starts with."""
    from openpyxl.styles import Alignment, Font

    append_row(ws, [title.upper()])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=columns)
    ws.cell(ws.max_row, 1).font = Font(bold=True, size=13)
    ws.cell(ws.max_row, 1).alignment = Alignment(horizontal="center", wrap_text=True)
    append_row(ws, [subtitle])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=columns)
    ws.cell(ws.max_row, 1).font = Font(italic=True)
    ws.cell(ws.max_row, 1).alignment = Alignment(horizontal="center", wrap_text=True)
    append_row(ws, [])


def style_header(ws: Any, row: int) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="999999")
    for cell in ws[row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)


def workbook_bytes(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
