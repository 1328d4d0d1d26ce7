"""Targets handed out per area: one row per village, commune or district, one column per indicator.

"Giao chỉ tiêu cho các thôn" appendices are laid out as "STT | Tên thôn | Số hộ nghèo giảm (hộ) | Tỷ lệ
tham gia BHYT (%) | ...": the area column comes right after the row number and every other column names
an indicator with its unit of measure in parentheses. The year is the one the table's title names, else
the plan's. A cell is a target for the area of its row; the total row ("Toàn xã", "Tổng cộng") is the
issuer's own. Base figures such as "Tổng số hộ" describe the area and are not targets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.importer.numbers import parse_number
from tracker.importer.tablerows import YEAR_RE, TargetRow
from tracker.importer.textnorm import collapse, lower_key

_AREA_WORDS = (
    r"(?:tên\s+)?(?:thôn|làng|bản|xóm|ấp|tổ\s+dân\s+phố|khu\s+phố|khu\s+dân\s+cư|xã|phường|thị\s+trấn|huyện"
    r"|quận|đơn\s+vị(?:\s+hành\s+chính)?|địa\s+bàn|địa\s+phương)"
)
_AREA_HEADER = re.compile(
    rf"^(?:stt|tt|số\s+tt)\s+(?P<area>{_AREA_WORDS}(?:\s*[,/]\s*{_AREA_WORDS})*)\s+(?P<rest>.+)$", re.IGNORECASE
)
# "Số hộ nghèo giảm (hộ)", "Tỷ lệ tham gia BHYT (%)": an indicator and its unit in parentheses.
_MEASURE = re.compile(r"(?P<name>[^()]+?)\s*\((?P<uom>[^()]{1,20})\)")
_UOM = re.compile(
    r"^(?:%|hộ|người|lượt|căn|nhà|km|ha|tấn|trẻ|lao động|học sinh|mô hình|sản phẩm|tiêu chí|"
    r"công trình|cơ sở|triệu đồng|tỷ đồng|trđ|triệu đồng/người(?:/năm)?)$",
    re.IGNORECASE,
)
_BASE_FIGURE = re.compile(r"^(?:tổng\s+)?(?:số\s+hộ(?:\s+dân(?:\s+cư)?)?|dân\s+số|số\s+nhân\s+khẩu|diện\s+tích)$")
_CHANGE = re.compile(r"\s+(giảm|tăng)(?:\s+(?:thêm|mới))?\s*$", re.IGNORECASE)  # "Số hộ nghèo giảm"
_TOTAL = re.compile(r"^(?:tổng(?:\s+cộng|\s+số)?|cộng|toàn\s+(?:xã|phường|huyện|tỉnh|thị\s+trấn))\b", re.IGNORECASE)


@dataclass(frozen=True)
class Measure:
    """One indicator column: its name, unit of measure and whether it is a base figure."""

    name: str
    unit_of_measure: str
    is_base: bool


def area_columns(header: str) -> list[Measure] | None:
    """Read the indicator columns of an area table's header, or None when `header` is not one."""
    match = _AREA_HEADER.match(collapse(header))
    if not match:
        return None
    measures = [
        Measure(collapse(m.group("name")).strip(" ,;"), m.group("uom").strip(), False)
        for m in _MEASURE.finditer(match.group("rest"))
    ]
    if not measures or not all(_UOM.match(m.unit_of_measure) for m in measures):
        return None
    covered = "".join(m.group(0) for m in _MEASURE.finditer(match.group("rest")))
    if len(collapse(covered)) < 0.8 * len(collapse(match.group("rest"))):
        return None  # other columns without a unit: not this shape
    return [Measure(m.name, m.unit_of_measure, bool(_BASE_FIGURE.match(lower_key(m.name)))) for m in measures]


def is_area_header(header: str) -> bool:
    """Tell whether a table header is "STT | <area> | indicator (unit) | ...", with no year columns."""
    return area_columns(header) is not None and len(set(YEAR_RE.findall(header))) == 0


def title_year(title_lines: list[str], plan_year: int | None) -> int | None:
    """Return the one year a table's title names ("... CÁC THÔN NĂM 2024"), else the plan's year."""
    years = {
        int(y)
        for line in title_lines
        if not re.match(r"^\(?\s*Kèm\s+theo", line, re.IGNORECASE)
        for y in YEAR_RE.findall(line)
    }
    return years.pop() if len(years) == 1 else plan_year


def _row(number: str, area: str, values: list[str], measures: list[Measure], year: int | None) -> list[TargetRow]:
    responsible = None if _TOTAL.match(area) else area
    rows = []
    for measure, cell in zip(measures, values, strict=False):
        value = parse_number(cell)
        if measure.is_base or value is None or year is None:
            continue
        change = _CHANGE.search(measure.name)
        name = measure.name[: change.start()].strip() if change else measure.name
        comparator = ("decrease" if change.group(1).lower() == "giảm" else "increase") if change else "="
        rows.append(
            TargetRow(number, "", name, measure.unit_of_measure, {year: (value, cell)}, responsible, comparator)
        )
    return rows


def area_rows_from_lines(body: list[str], measures: list[Measure], year: int | None) -> list[TargetRow]:
    """Read rows laid out as text: "1 Nà Làng 215 4 96 70", the cells of a row possibly on several lines."""
    tokens = " ".join(body).split()
    width = len(measures)
    out: list[TargetRow] = []
    expected = 1
    i = 0
    while i < len(tokens):
        number = ""
        if tokens[i].rstrip(".") == str(expected):
            number = str(expected)
            i += 1
        name: list[str] = []
        while i < len(tokens) and parse_number(tokens[i]) is None:
            name.append(tokens[i])
            i += 1
        values: list[str] = []
        while i < len(tokens) and len(values) < width and parse_number(tokens[i]) is not None:
            values.append(tokens[i])
            i += 1
        if len(values) < width or not name:
            if not name and not values:
                i += 1
            continue
        out.extend(_row(number, " ".join(name), values, measures, year))
        if number:
            expected += 1
    return out


def area_rows_from_cells(columns: list[str], body: list[tuple[str, ...]], year: int | None) -> list[TargetRow]:
    """Read rows that arrived as cells (DOCX, ruled PDF): the area in the second column."""
    measures = area_columns(" ".join(columns))
    if not measures:
        return []
    out: list[TargetRow] = []
    for cells in body:
        values = [c for c in cells[2:]] if len(cells) > 2 else []
        if len(cells) < 2 or not cells[1].strip():
            continue
        out.extend(_row(cells[0].strip().rstrip("."), collapse(cells[1]), values, measures, year))
    return out
