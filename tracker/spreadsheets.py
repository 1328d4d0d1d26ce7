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


def append_row(ws: Any, values: list[Any]) -> None:
    """Append a row to an export sheet, its text cleaned for the file format."""
    ws.append([_cell(v) for v in values])


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
