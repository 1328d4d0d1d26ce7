"""Appendix and body tables: assignment tables, yearly target tables and poverty tables.

Tables reach us two ways. DOCX and ruled PDF tables arrive as rows of cells. PDF text extracted
without layout (the .txt plans) puts one cell fragment per line; those are read by `linetables`.
Both produce the same row records, interpreted from the header words, never from column positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.importer.numbers import decimals_shown, parse_number
from tracker.importer.readers.base import Block
from tracker.importer.textnorm import lower_key

YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


@dataclass
class AssignmentRow:
    """A row of a "Nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian" table."""

    number: str
    task: str = ""
    lead: str = ""
    coordinating: str = ""
    time: str = ""


@dataclass
class TargetRow:
    """A row of a yearly target table: indicator, unit of measure, {year: (value, text)}, responsible."""

    number: str
    group: str
    indicator: str
    unit_of_measure: str
    values: dict[int, tuple[float, str]]
    responsible: str | None = None
    comparator: str = "="  # "decrease"/"increase" for a column of changes ("Số hộ nghèo giảm (hộ)")


@dataclass
class PovertyRow:
    """One area and year of a poverty table: households, poor households and the stated rate."""

    area: str
    year: int | None
    households: float | None
    poor: float | None
    rate: float | None
    rate_text: str = ""


@dataclass
class ParsedTable:
    """A table read from the document, with the section prefix its rows are filed under."""

    kind: str
    prefix: str
    title: str = ""
    assignments: list[AssignmentRow] = field(default_factory=list)
    targets: list[TargetRow] = field(default_factory=list)
    poverty: list[PovertyRow] = field(default_factory=list)


def classify_header(text: str) -> str | None:
    """Name a table's kind from its header words."""
    from tracker.importer.areatables import is_area_header

    key = lower_key(text)
    if re.search(r"tỷ lệ\s*(?:hộ\s*)?nghèo", key) and re.search(r"tổng số hộ|số hộ dân|hộ dân cư|tổng số", key):
        return "poverty"
    if is_area_header(text):
        return "area_target"  # "STT | Tên thôn | Số hộ nghèo giảm (hộ) | Tỷ lệ tham gia BHYT (%)"
    if len(set(YEAR_RE.findall(key))) >= 2 and re.search(r"chỉ tiêu|đvt|đơn vị tính", key):
        return "target"  # yearly targets, even when a column names the unit in charge
    # "Nhiệm vụ | Cơ quan chủ trì | ...", "Nội dung hoạt động | Đơn vị thực hiện | Thời gian".
    doing = re.search(r"nhiệm vụ|nội dung|hoạt động", key)
    if "chủ trì" in key or (
        doing and re.search(r"thời gian|thời hạn|tiến độ", key) and re.search(r"cơ quan|đơn vị", key)
    ):
        return "assignment"
    if re.search(r"chỉ tiêu|đvt|đơn vị tính", key) and YEAR_RE.search(key):
        return "target"
    return None


_ROLE_WORDS = [
    (
        "lead",
        re.compile(
            r"chủ trì|đơn vị thực hiện|cơ quan thực hiện|đơn vị phụ trách|chịu trách nhiệm"
            r"|^(?:cơ quan|đơn vị)(?:,? (?:cá nhân|tổ chức))?$"
        ),
    ),
    ("coordinating", re.compile(r"phối hợp")),
    ("time", re.compile(r"thời gian|thời hạn|tiến độ|hoàn thành")),
    ("uom", re.compile(r"^đvt|đơn vị tính|^đơn vị$")),
    ("number", re.compile(r"^(?:stt|tt|số tt)$")),
    ("task", re.compile(r"nhiệm vụ|nội dung|chỉ tiêu|hoạt động|tên|thôn|huyện|xã|địa bàn|đơn vị hành chính")),
    ("note", re.compile(r"ghi chú|sản phẩm|kết quả dự kiến|kinh phí|nguồn")),
]


def _role(header: str) -> str | None:
    key = lower_key(header)
    if YEAR_RE.search(key) and not re.search(r"chủ trì|phối hợp|thời gian", key):
        return "year"
    for role, pattern in _ROLE_WORDS:
        if pattern.search(key):
            return role
    return None


def _is_data_row(cells: tuple[str, ...]) -> bool:
    first = next((c for c in cells if c.strip()), "")
    if re.fullmatch(r"\d{1,3}\.?|[IVX]{1,4}\.?|[a-zđ]\)", first.strip()):
        return True
    numeric = sum(1 for c in cells if parse_number(c) is not None)
    return numeric * 2 >= len(cells) > 2


def read_row_table(rows: list[Block], prefix: str, year: int | None = None) -> ParsedTable | None:
    """Interpret a table that arrived as rows of cells; `year` dates a table of targets per area."""
    width = max(len(row.cells or ()) for row in rows)
    header_count = 0
    while header_count < len(rows) and not _is_data_row(rows[header_count].cells or ()):
        header_count += 1
    if header_count == 0 or header_count == len(rows):
        return None
    columns = [
        " ".join((row.cells or ())[i] for row in rows[:header_count] if i < len(row.cells or ())) for i in range(width)
    ]
    kind = classify_header(" ".join(columns))
    if kind is None:
        return None
    body = [row.cells or () for row in rows[header_count:]]
    table = ParsedTable(kind, prefix)
    if kind == "assignment":
        table.assignments = _assignment_rows(columns, body)
    elif kind == "target":
        table.targets = _target_rows(columns, body)
    elif kind == "area_target":
        from tracker.importer.areatables import area_rows_from_cells

        table.targets = area_rows_from_cells(columns, body, year)
    else:
        table.poverty = _poverty_rows(columns, body)
    return table


def _assignment_rows(columns: list[str], body: list[tuple[str, ...]]) -> list[AssignmentRow]:
    roles = [_role(c) for c in columns]
    out = []
    for index, cells in enumerate(body, 1):
        row = AssignmentRow(str(index))
        for role, cell in zip(roles, cells, strict=False):
            if role == "number" and cell.strip():
                row.number = cell.strip().rstrip(".")
            elif role in ("task", "lead", "coordinating", "time"):
                setattr(row, role, (getattr(row, role) + " " + cell).strip())
        if row.task or row.lead:
            out.append(row)
    return out


def _target_rows(columns: list[str], body: list[tuple[str, ...]]) -> list[TargetRow]:
    roles = [_role(c) for c in columns]
    years = [int(YEAR_RE.findall(c)[-1]) if role == "year" else None for role, c in zip(roles, columns, strict=True)]
    out: list[TargetRow] = []
    group = ""
    last_responsible: str | None = None
    for cells in body:
        values: dict[int, tuple[float, str]] = {}
        row = TargetRow("", group, "", "", values)
        for role, year, cell in zip(roles, years, cells, strict=False):
            if year is not None:
                number = parse_number(cell)
                if number is not None:
                    values[year] = (number, cell.strip())
            elif role == "number":
                row.number = cell.strip()
            elif role == "task" and not row.indicator:
                row.indicator = cell.strip(" +-")
            elif role == "uom":
                row.unit_of_measure = cell.strip()
            elif role == "lead" and cell.strip():
                row.responsible = cell.strip()
        if not values:
            group = row.indicator or group
            continue
        row.responsible = row.responsible or last_responsible
        last_responsible = row.responsible
        out.append(row)
    return out


def _poverty_rows(columns: list[str], body: list[tuple[str, ...]]) -> list[PovertyRow]:
    metrics: list[tuple[int | None, str | None]] = []
    current_year: int | None = None
    for column in columns:
        key = lower_key(column)
        found = YEAR_RE.findall(key)
        current_year = int(found[-1]) if found else current_year
        metric = "rate" if "tỷ lệ" in key else "poor" if "nghèo" in key else "households" if "hộ" in key else None
        metrics.append((current_year if metric else None, metric))
    out = []
    for cells in body:
        area = next(
            (
                c
                for c, (_, m) in zip(cells, metrics, strict=False)
                if m is None and c.strip() and not c.strip().rstrip(".").isdigit()
            ),
            "",
        )
        by_year: dict[int | None, PovertyRow] = {}
        for (year, metric), cell in zip(metrics, cells, strict=False):
            if metric is None:
                continue
            row = by_year.setdefault(year, PovertyRow(area, year, None, None, None))
            value = parse_number(cell)
            setattr(row, metric, value)
            if metric == "rate":
                row.rate_text = cell.strip()
        out.extend(r for r in by_year.values() if r.households is not None or r.poor is not None)
    return out


def poverty_warnings(rows: list[PovertyRow], label: str) -> list[str]:
    """Check each row's rate against poor/households and each year's total against its areas."""
    warnings = []
    for row in rows:
        if not (row.households and row.poor is not None and row.rate is not None):
            continue
        computed = 100 * row.poor / row.households
        tolerance = 0.5 * 10 ** -decimals_shown(row.rate_text) + 1e-9 if row.rate_text else 0.005
        if abs(computed - row.rate) > tolerance:
            warnings.append(
                f"{label}: {row.area} năm {row.year}: tỷ lệ hộ nghèo ghi {row.rate_text or row.rate}% nhưng "
                f"{_vn(row.poor)}/{_vn(row.households)} hộ = {computed:.2f}%".replace(".", ",", 1)
            )
    years = {row.year for row in rows}
    for year in years:
        areas = [r for r in rows if r.year == year and not re.match(r"(?i)^(?:tổng|cộng|toàn)", r.area)]
        totals = [r for r in rows if r.year == year and re.match(r"(?i)^(?:tổng|cộng|toàn)", r.area)]
        for total in totals:
            for attribute, name in (("households", "tổng số hộ"), ("poor", "số hộ nghèo")):
                parts = [getattr(r, attribute) for r in areas]
                stated = getattr(total, attribute)
                if parts and None not in parts and stated is not None and abs(sum(parts) - stated) > 0.5:
                    warnings.append(
                        f"{label}: năm {year}: cộng {name} các địa bàn = {_vn(sum(parts))} "
                        f"nhưng dòng '{total.area}' ghi {_vn(stated)}"
                    )
    return warnings


def _vn(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")
