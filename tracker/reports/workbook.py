"""The report's Excel companion, in the layout of the plans' appendices (Phụ lục): the indicators with a column
per year of the plan's targets and the period's result; for a roll-up the units below side by side; the overdue
items."""

from __future__ import annotations

from typing import Any

from tracker.reports.model import ReportContent
from tracker.spreadsheets import append_row, style_header, workbook_bytes, write_title

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_COMPARATOR = {"at_least": "Tối thiểu", "at_most": "Tối đa", "equal": "Bằng"}


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None


def _widths(ws: Any, widths: list[float]) -> None:
    from openpyxl.utils import get_column_letter

    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def render_xlsx(content: ReportContent) -> bytes:
    """The companion workbook as .xlsx bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    c = content
    attached = f"(Kèm theo Báo cáo số {c.heading.number.strip()} của {c.heading.issuer_short})"
    wb = Workbook()

    ws = wb.active
    ws.title = "Phụ lục 01"
    years = c.target_years()
    by_target: dict[tuple[int, int], dict[int, float]] = {}
    for t in c.targets:
        by_target.setdefault((t.indicator_id, t.unit_id), {})[t.year] = float(t.value)
    header = ["STT", "Các chỉ tiêu", "ĐVT", "Đơn vị giao chỉ tiêu", "Yêu cầu"]
    header += [f"Chỉ tiêu năm {y}" for y in years]
    header += [f"Thực hiện {c.period.label}", f"Tỷ lệ so với chỉ tiêu năm {c.period.target_year}", "Đánh giá",
               "Số đơn vị báo cáo", "Ghi chú"]
    write_title(ws, f"Kết quả thực hiện các chỉ tiêu {c.period.label}", attached, len(header))
    append_row(ws, header)
    style_header(ws, ws.max_row)
    for i, p in enumerate(c.indicators, start=1):
        per_year = by_target.get((p.indicator_id, p.target_unit_id or 0), {})
        name = p.name
        if c.multi_plan and c.plan_numbers.get(p.plan_id):
            name += f" (Kế hoạch số {c.plan_numbers[p.plan_id]})"
        row = [i, name, p.unit_of_measure, p.target_unit, _COMPARATOR.get(p.comparator, "")]
        row += [per_year.get(y) for y in years]
        row += [_number(p.actual), p.ratio, "" if p.achieved is None else ("Đạt" if p.achieved else "Chưa đạt"),
                p.reporting_units, "" if p.actual is not None else "Chưa có số liệu"]
        append_row(ws, row)
        ws.cell(ws.max_row, 7 + len(years)).number_format = "0.0%"
        for column in (2, 4):
            ws.cell(ws.max_row, column).alignment = Alignment(wrap_text=True, vertical="top")
    _widths(ws, [6, 48, 8, 22, 10] + [11] * len(years) + [13, 13, 10, 10, 16])

    if c.rollup is not None:
        _side_by_side(wb.create_sheet("Phụ lục 02"), c, attached)
        _units(wb.create_sheet("Phụ lục 03"), c, attached)

    ws = wb.create_sheet("Nhiệm vụ quá hạn")
    header = ["STT", "Đơn vị", "Nhiệm vụ", "Kế hoạch", "Kỳ", "Hạn", "Số ngày quá hạn", "Ghi chú"]
    write_title(ws, "Nhiệm vụ quá hạn chưa hoàn thành", attached, len(header))
    append_row(ws, header)
    style_header(ws, ws.max_row)
    for i, item in enumerate(c.overdue, start=1):
        append_row(ws, [i, item.unit_name, item.title, item.plan_number or "", item.period_label or "", item.due_on,
                        item.days, item.note])
        ws.cell(ws.max_row, 6).number_format = "DD/MM/YYYY"
    _widths(ws, [6, 30, 60, 16, 18, 12, 12, 30])
    return workbook_bytes(wb)


def _side_by_side(ws: Any, c: ReportContent, attached: str) -> None:
    """Units as rows, each indicator's target, value and reporting units as a group of three columns."""
    assert c.rollup is not None
    indicators = c.rollup.indicators
    columns = 2 + 3 * len(indicators)
    write_title(ws, f"Số liệu các chỉ tiêu theo đơn vị {c.period.label}", attached, max(columns, 3))
    first = ws.max_row + 1
    titles: list[Any] = ["STT", "Đơn vị"]
    for _, name, uom in indicators:
        titles += [f"{name} ({uom})" if uom else name, None, None]
    append_row(ws, titles)
    append_row(ws, [None, None, *(["Chỉ tiêu", "Thực hiện", "Số đơn vị báo cáo"] * len(indicators))])
    for column in range(len(indicators)):
        start = 3 + 3 * column
        ws.merge_cells(start_row=first, start_column=start, end_row=first, end_column=start + 2)
    for column in (1, 2):
        ws.merge_cells(start_row=first, start_column=column, end_row=first + 1, end_column=column)
    style_header(ws, first)
    style_header(ws, first + 1)
    for i, r in enumerate(c.rollup.rows, start=1):
        row: list[Any] = [i, f"{r.unit_name} (nhiệm vụ của đơn vị)" if r.is_self else r.unit_name]
        for indicator_id, _, _ in indicators:
            cell = c.rollup.cells.get((indicator_id, r.unit_id))
            row += [_number(cell.target) if cell else None, _number(cell.value) if cell else None,
                    cell.reporting_units if cell and cell.reporting_units else None]
        append_row(ws, row)
    _widths(ws, [6, 30] + [12] * (3 * len(indicators)))
    ws.freeze_panes = ws.cell(first + 2, 3)


def _units(ws: Any, c: ReportContent, attached: str) -> None:
    """The roll-up page's rows: each unit's tasks due, done on time, late, overdue."""
    assert c.rollup is not None
    header = ["STT", "Đơn vị", "Đến hạn", "Đúng hạn", "Chậm", "Quá hạn", "Chưa đến hạn", "Tỷ lệ hoàn thành",
              "Tỷ lệ đúng hạn"]
    write_title(ws, f"Kết quả thực hiện nhiệm vụ theo đơn vị {c.period.label}", attached, len(header))
    append_row(ws, header)
    style_header(ws, ws.max_row)
    for i, r in enumerate(c.rollup.rows, start=1):
        s = r.stats
        append_row(ws, [i, f"{r.unit_name} (nhiệm vụ của đơn vị)" if r.is_self else r.unit_name, s.expected,
                        s.on_time, s.late, s.overdue, s.open_not_due, s.completion, s.timeliness])
        ws.cell(ws.max_row, 8).number_format = "0.0%"
        ws.cell(ws.max_row, 9).number_format = "0.0%"
    _widths(ws, [6, 36, 10, 10, 10, 10, 12, 14, 14])
