"""Tables of rows of cells (DOCX, ruled PDF, `| a | b |` copies): assignment, target and poverty tables.

A table is read from its header words, never from column positions: "STT/TT", "Nhiệm vụ", "Cơ quan chủ
trì / Đơn vị thực hiện", "Phối hợp", "Thời gian / Tiến độ / Thời hạn", "Sản phẩm", "Kinh phí", "Chỉ
tiêu", "ĐVT", years. Copies from web pages lose merged cells: a row whose number cell was merged with the
row above comes without it, a time cell merged down a group is written once. Each short row is laid
onto the header's columns by what its cells look like (a number, a unit name, a time, a long duty), and
the cells it lacks are the merged ones: the row above's, for the number, the time and the products.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from tracker.importer.areatables import area_rows_from_cells, is_area_header
from tracker.importer.budget import checkpoint
from tracker.importer.dates import parse_time_cell
from tracker.importer.numbers import decimals_shown, parse_number
from tracker.importer.readers.base import Block
from tracker.importer.tablerows import YEAR_RE, AssignmentRow, ParsedTable, PovertyRow, TargetRow
from tracker.importer.textnorm import collapse, lower_key
from tracker.importer.unitphrase import starts_with_unit

__all__ = ["YEAR_RE", "AssignmentRow", "ParsedTable", "PovertyRow", "TargetRow", "classify_header",
           "poverty_warnings", "read_row_table"]

_MARKER = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){0,3}\.?|[IVXL]{1,6}\.?|[A-HĐ]\.?|[a-zđ][.)]|[-+•*–])$")
_GROUP = re.compile(r"^(?:[IVXL]{1,6}|[A-HĐ])\.?$")
_SUB_ROW = re.compile(r"^[a-zđ][.)]$|^[-+•*–]$")
_COLUMN_NUMBER = re.compile(r"^\(?(?:\d{1,2}|[A-Z])\)?$")
_BASELINE = re.compile(
    r"\b(?:ưth|ước\s+(?:thực\s+hiện|th|đạt)|thực\s+hiện|hiện\s+trạng|cơ\s+sở|năm\s+trước|th\s+\d{4})\b"
)


def classify_header(text: str) -> str | None:
    """Name a table's kind from its header words."""
    key = lower_key(text)
    if re.search(r"tỷ lệ\s*(?:hộ\s*)?nghèo", key) and re.search(r"tổng số hộ|số hộ dân|hộ dân cư|tổng số", key):
        return "poverty"
    if is_area_header(text):
        return "area_target"  # "STT | Tên thôn | Số hộ nghèo giảm (hộ) | Tỷ lệ tham gia BHYT (%)"
    indicator = re.search(r"chỉ tiêu|tiêu chí", key)
    years = len(set(YEAR_RE.findall(key)))
    if indicator and (years >= 2 or re.search(r"đvt|đơn vị tính|kết quả|mục tiêu|kế hoạch|giá trị", key)):
        return "target"  # yearly targets, even when a column names the unit in charge
    if re.search(r"sản phẩm|mặt hàng", key) and years >= 2 and not re.search(r"chủ trì|thực hiện", key):
        return "target"  # "Sản phẩm | Kế hoạch 2026 | Kế hoạch 2027 ..."
    doing = re.search(r"nhiệm vụ|nội dung|hoạt động|giải pháp|công việc", key)
    lead = re.search(r"chủ trì|(?:đơn vị|cơ quan)(?:,? (?:đơn vị|tổ chức))? (?:thực hiện|phụ trách)|trách nhiệm", key)
    if lead and (doing or re.search(r"thời gian|thời hạn|tiến độ", key)):
        return "assignment"
    if doing and re.search(r"thời gian|thời hạn|tiến độ", key) and re.search(r"cơ quan|đơn vị", key):
        return "assignment"  # "Nội dung hoạt động | Đơn vị | Thời gian"
    if indicator and years:
        return "target"
    return None


_ROLE_WORDS: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"^(?:stt|tt|số tt|số thứ tự)$")),
    ("coordinating", re.compile(r"phối hợp")),
    (
        "lead",
        re.compile(
            r"chủ trì|(?:đơn vị|cơ quan)(?:,? (?:đơn vị|tổ chức|cá nhân))? (?:thực hiện|phụ trách|chịu trách nhiệm)"
            r"|chịu trách nhiệm|trách nhiệm|^thực hiện$|^(?:cơ quan|đơn vị)(?:,? (?:cá nhân|tổ chức|đơn vị))?$"
        ),
    ),
    ("time", re.compile(r"thời gian|thời hạn|tiến độ|hoàn thành|thời điểm|năm thực hiện")),
    ("uom", re.compile(r"^đvt|đơn vị tính|^đơn vị$")),
    ("budget", re.compile(r"kinh phí|nguồn vốn|nguồn lực|dự toán")),
    ("product", re.compile(r"sản phẩm|kết quả|hình thức|yêu cầu")),
    ("note", re.compile(r"ghi chú")),
    ("task", re.compile(r"nhiệm vụ|nội dung|chỉ tiêu|hoạt động|giải pháp|công việc|tên|danh mục|mặt hàng")),
]
# Roles in a target table: the indicator, its unit of measure, value columns (by year or not).
_TARGET_ROLES: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"^(?:stt|tt|số tt|số thứ tự)$")),
    ("uom", re.compile(r"^đvt|đơn vị tính|^đơn vị(?: đo)?$")),
    ("lead", re.compile(r"chủ trì|thực hiện|phụ trách|chịu trách nhiệm|trách nhiệm|cơ quan")),
    ("note", re.compile(r"ghi chú|nguồn|cách tính|phương pháp")),
    ("task", re.compile(r"chỉ tiêu|tiêu chí|nội dung|sản phẩm|mặt hàng|tên|danh mục|lĩnh vực")),
    ("value", re.compile(r"kết quả|mục tiêu|kế hoạch|giá trị|lượng|năm|giai đoạn|đến|chỉ số")),
]


def _role(header: str) -> str | None:
    key = lower_key(header)
    if YEAR_RE.search(key) and not re.search(r"chủ trì|phối hợp|thời gian|thời hạn|tiến độ", key):
        return "year"
    for role, pattern in _ROLE_WORDS:
        if pattern.search(key):
            return role
    return None


def _target_role(header: str) -> str | None:
    key = lower_key(header)
    if YEAR_RE.search(key):
        return "baseline" if _BASELINE.search(key) else "year"
    for role, pattern in _TARGET_ROLES:
        if pattern.search(key):
            return role
    return None


def _first_cell(cells: tuple[str, ...] | list[str]) -> str:
    return next((c.strip() for c in cells if c.strip()), "")


def _is_data_row(cells: tuple[str, ...] | list[str]) -> bool:
    first = _first_cell(cells)
    if _MARKER.match(first):
        return True
    numeric = sum(1 for c in cells if parse_number(c) is not None)
    return numeric * 2 >= len(cells) > 2


def _is_column_numbering(cells: tuple[str, ...] | list[str]) -> bool:
    """Tell whether a row only numbers the columns ("(1) | (2) | (3)" or "1 | 2 | 3 | 4")."""
    filled = [c.strip() for c in cells if c.strip()]
    if len(filled) < 3 or not all(_COLUMN_NUMBER.match(c) for c in filled):
        return False
    numbers = [int(c.strip("()")) for c in filled if c.strip("()").isdigit()]
    return numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else True


def _column_labels(header: list[list[str]], width: int) -> list[str]:
    """Merge header rows into one label per column, spreading a spanning cell over the columns under it.

    Copies lose the spans: "TT | Sản phẩm | Kế hoạch 2026 | Kế hoạch 2027" over "Lượng | Giá trị | Lượng
    | Giá trị" fits a body 6 cells wide only if the first two cells stand over both header rows and each
    year spans the two measures under it.
    """
    labels = [""] * width
    below = width
    for row in reversed(header):
        cells = [c.strip() for c in row]
        if len(cells) >= width:
            placed = list(range(width))
            cells = cells[:width]
        elif row is header[-1]:
            placed = list(range(width - len(cells), width))  # the left columns are merged from above
        else:
            leading = max(0, width - below)
            rest = len(cells) - leading
            span = max(1, below // rest) if rest > 0 else 1
            placed = list(range(min(leading, len(cells))))
            position = leading
            for _ in range(max(0, rest)):
                placed.append(position)
                position += span
        ends = [*placed[1:], width]
        for cell, start, end in zip(cells, placed, ends, strict=False):
            if row is header[-1] or len(cells) >= width:
                end = start + 1
            for column in range(start, min(end, width)):
                labels[column] = f"{cell} {labels[column]}".strip() if cell else labels[column]
        below = len(cells) if len(cells) < width else width
    return [collapse(label) for label in labels]


def _split_header(grid: list[list[str]]) -> int:
    count = 0
    while count < len(grid) and count < 4 and not _is_data_row(grid[count]):
        count += 1
    return count


def read_row_table(rows: list[Block], prefix: str, year: int | None = None) -> ParsedTable | None:
    """Interpret a table that arrived as rows of cells; `year` dates targets the table does not date."""
    grid = [[c.strip() for c in row.cells or ()] for row in rows]
    grid = [cells for cells in grid if any(cells) and not _is_column_numbering(cells)]
    header_count = _split_header(grid)
    if header_count == 0 or header_count == len(grid):
        return None
    body = grid[header_count:]
    widths = Counter(len(cells) for cells in body)
    width = max(max(widths), max(len(c) for c in grid[:header_count]))
    columns = _column_labels(grid[:header_count], width)
    kind = classify_header(" | ".join(columns))
    if kind is None:
        return None
    table = ParsedTable(kind, prefix)
    if kind == "assignment":
        table.assignments = _assignment_rows(columns, body)
    elif kind == "target":
        table.targets = _target_rows(columns, body, year)
    elif kind == "area_target":
        table.targets = area_rows_from_cells(columns, [tuple(c) for c in body], year)
    else:
        table.poverty = _poverty_rows(columns, [tuple(c) for c in body])
    return table


# --- Assignment tables ---------------------------------------------------------------------------------


def _fit(role: str | None, cell: str) -> float:
    """How well a cell's content fits a column role (positive: fits, negative: does not)."""
    text = cell.strip()
    if not text:
        return 0.0
    words = len(text.split())
    if role == "number":
        return 3.0 if _MARKER.match(text) else -3.0
    if role in ("lead", "coordinating"):
        return 2.0 if starts_with_unit(text) else -0.5
    if role == "time":
        timely = bool(parse_time_cell(text, 2000)) or bool(
            re.match(r"^(?:thường xuyên|hằng|hàng|định kỳ|năm|quý|tháng|trước|trong|từ|giai đoạn|khi)", text.lower())
        )
        return 2.0 if timely and words <= 12 else -1.0
    if role == "task":
        return 1.5 if words >= 5 else 0.3
    if role in ("product", "budget", "note"):
        return 0.2 if not starts_with_unit(text) else -0.3
    return 0.0


def _align(cells: list[str], roles: list[str | None]) -> list[int]:
    """Lay a short row's cells onto the columns in order, the best fit by content (dynamic programming)."""
    n, m = len(cells), len(roles)
    if n >= m:
        return list(range(n))[:m]
    negative = float("-inf")
    best = [[negative] * (m + 1) for _ in range(n + 1)]
    back = [[0] * (m + 1) for _ in range(n + 1)]
    for j in range(m + 1):
        best[0][j] = 0.0
    for i in range(1, n + 1):
        for j in range(i, m + 1):
            skip = best[i][j - 1]
            take = best[i - 1][j - 1] + _fit(roles[j - 1], cells[i - 1]) if best[i - 1][j - 1] > negative else negative
            # Ties keep cells to the left: merged cells are more often the trailing ones.
            if take >= skip:
                best[i][j], back[i][j] = take, 1
            else:
                best[i][j], back[i][j] = skip, 0
    placed: list[int] = []
    i, j = n, m
    while i > 0:
        if back[i][j] == 1:
            placed.append(j - 1)
            i -= 1
        j -= 1
    return placed[::-1]


_INHERITED = ("time", "product", "coordinating")


def _assignment_rows(columns: list[str], body: list[list[str]]) -> list[AssignmentRow]:
    roles = [_role(c) for c in columns]
    out: list[AssignmentRow] = []
    group = ""
    number = ""
    previous: dict[str, str] = {}
    for index, cells in enumerate(body, 1):
        checkpoint()
        first = _first_cell(cells)
        filled = [c for c in cells if c]
        if _GROUP.match(first) and len(filled) <= 2 and not any(starts_with_unit(c) for c in filled[1:]):
            group, previous = first.rstrip("."), {}  # "I | Hoàn thiện thể chế": a group of rows
            continue
        placed = _align(cells, roles)
        values: dict[str, str] = {}
        for cell, column in zip(cells, placed, strict=False):
            role = roles[column]
            if role in ("number", "task", "lead", "coordinating", "time", "product") and cell:
                values[role] = f"{values.get(role, '')} {cell}".strip()
        full = len(cells) >= len(roles)
        own_number = values.get("number", "").rstrip(".")
        if own_number and not _SUB_ROW.match(own_number + ("." if own_number.isalpha() else "")):
            number = own_number
        elif own_number and _SUB_ROW.match(f"{own_number})") and number:
            number = f"{number.split('.')[0]}.{own_number}" if "." not in number else number
        elif not own_number and not number:
            number = str(index)
        if not full:
            for role in _INHERITED:
                if role not in values and previous.get(role) and role in roles:
                    values[role] = previous[role]
        if not values.get("lead") and out and not own_number:
            # A row with neither number nor lead goes on with the row above (its cell was split).
            out[-1].task = f"{out[-1].task} {values.get('task', '')}".strip()
            continue
        if not values.get("task") and not values.get("lead"):
            continue
        label = f"{group}.{number}" if group and not number.startswith(f"{group}.") else number
        row = AssignmentRow(label, values.get("task", ""), values.get("lead", ""), values.get("coordinating", ""),
                            values.get("time", ""), values.get("product", ""))
        if not row.lead and out and out[-1].number == label:
            continue
        out.append(row)
        previous = values
    return out


# --- Target tables ---------------------------------------------------------------------------------------

_COMPARATORS = [
    (re.compile(r"^(?:≥|>=|tối thiểu|ít nhất|không dưới|từ)\s*"), ">="),
    (re.compile(r"^(?:≤|<=|tối đa|không quá)\s*"), "<="),
    (re.compile(r"^(?:>|trên|hơn)\s*"), ">"),
    (re.compile(r"^(?:<|dưới)\s*"), "<"),
]
_VALUE = re.compile(r"^(?P<num>\d+(?:[.,]\d+)*)\s*(?P<tail>%?)\s*(?P<label>.*)$")
_HORIZON = re.compile(r"(?:đến|năm|giai đoạn|kế hoạch)\D{0,12}((?:19|20)\d{2})(?!\s*[-–]\s*\d)", re.IGNORECASE)
_RANGE = re.compile(r"\d\s*[-–]\s*\d")


@dataclass
class _ValueColumn:
    index: int
    year: int | None
    measure: str
    unit_of_measure: str


def _measure(label: str) -> tuple[str, str]:
    """Split "Giá trị tham gia xuất khẩu (Nghìn USD)" into its name and unit of measure."""
    match = re.search(r"\(([^()]{1,30})\)\s*$", label)
    if not match:
        return label.strip(), ""
    return label[: match.start()].strip(), match.group(1).strip()


def _cell_values(cell: str) -> list[tuple[float, str, str, str]]:
    """Read "≥ 5", "100%", "> 0,7", "≤ 3 Đông Nam Á; ≤ 50 Thế giới": (value, comparator, label, text)."""
    out = []
    for piece in re.split(r";", cell):
        text = piece.strip()
        if not text or _RANGE.search(text):
            continue  # "40 - 50", "16 - 18": ranges are not targets
        comparator = "="
        for pattern, name in _COMPARATORS:
            match = pattern.match(text.lower())
            if match:
                comparator, text = name, text[match.end() :].strip()
                break
        value = _VALUE.match(text)
        if not value:
            continue
        number = parse_number(value.group("num"))
        label = value.group("label").strip(" .")
        if number is None or (label and len(label.split()) > 4):
            continue  # "3 tháng", "Một số lĩnh vực đạt ...": words, not a value
        out.append((number, comparator, label, piece.strip()))
    return out


def _target_rows(columns: list[str], body: list[list[str]], year: int | None) -> list[TargetRow]:
    roles = [_target_role(c) for c in columns]
    if "task" not in roles:
        roles[roles.index(None)] = "task" if None in roles else roles[1]
    values_at: list[_ValueColumn] = []
    for index, (role, label) in enumerate(zip(roles, columns, strict=True)):
        if role in ("year", "value"):
            years = YEAR_RE.findall(label)
            measure, uom = _measure(re.sub(r"(?:năm|kế hoạch|giai đoạn)?\s*(?:19|20)\d{2}", " ", label,
                                           flags=re.IGNORECASE))
            values_at.append(_ValueColumn(index, int(years[-1]) if years else None, collapse(measure), uom))
    task_at = roles.index("task")
    uom_at = roles.index("uom") if "uom" in roles else None
    lead_at = roles.index("lead") if "lead" in roles else None
    out: list[TargetRow] = []
    group = parent = ""
    group_year: int | None = None
    pending: tuple[str, str] | None = None  # a label row whose values come one merged cell per line
    merged: list[str] = []
    year_groups = sorted({c.year for c in values_at if c.year})
    for cells in body:
        checkpoint()
        filled = [c for c in cells if c]
        first = _first_cell(cells)
        if len(filled) == 1 and parse_number(first) is not None and pending:
            merged.append(first)
            if len(merged) == len(year_groups):
                out.append(_merged_row(pending, merged, year_groups))
                pending, merged = None, []
            continue
        pending, merged = None, []
        placed = list(range(len(cells))) if len(cells) >= len(columns) else _align_target(cells, roles)
        at = dict(zip(placed, cells, strict=False))
        number = at.get(roles.index("number"), "") if "number" in roles else ""
        label = at.get(task_at, "")
        numbers = [c for c in values_at if _cell_values(at.get(c.index, ""))]
        if not numbers:
            horizon = _HORIZON.search(label)
            if _GROUP.match(number.strip()) and horizon:
                group_year, group = int(horizon.group(1)), ""  # "I | Đến năm 2030"
            elif _GROUP.match(number.strip()):
                group, parent = label, ""
            else:
                parent = label
            pending = (f"{parent or group}", number) if label else None
            if not label:
                pending = None
            continue
        name = f"{parent} - {label}" if parent and number.strip() in ("-", "+", "–", "") else label
        uom = at.get(uom_at, "") if uom_at is not None else ""
        responsible = (at.get(lead_at) or None) if lead_at is not None else None
        for column in values_at:
            for value, comparator, suffix, text in _cell_values(at.get(column.index, "")):
                column_year = column.year or group_year or year
                if column_year is None:
                    continue
                indicator = f"{column.measure} {name}".strip() if column.measure and column.year else name
                if suffix and not suffix.startswith("%"):
                    indicator = f"{indicator} ({suffix})"
                row_uom = column.unit_of_measure or uom or ("%" if text.endswith("%") else "")
                out.append(TargetRow(number.strip(), group, indicator, row_uom, {column_year: (value, text)},
                                     responsible, comparator, year_stated=bool(column.year or group_year)))
    return out


def _align_target(cells: list[str], roles: list[str | None]) -> list[int]:
    """Lay a short target row onto the columns: a label row fills the first columns, values the last."""
    numeric = [parse_number(c.lstrip("≥≤<>= ")) is not None for c in cells]
    if not any(numeric[1:]):
        return list(range(len(cells)))
    return list(range(len(roles) - len(cells), len(roles)))


def _merged_row(pending: tuple[str, str], values: list[str], years: list[int]) -> TargetRow:
    """A row whose measures were merged into one cell a year ("Sữa | 14.000 | 19.000 | ...")."""
    label, number = pending
    parsed = {year: (parse_number(text) or 0.0, text) for year, text in zip(years, values, strict=False)}
    return TargetRow(number, "", label, "", parsed)


# --- Poverty tables --------------------------------------------------------------------------------------


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
