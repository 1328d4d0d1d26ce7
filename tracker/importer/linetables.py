"""Tables whose cells were extracted one fragment per line (PDF text without layout).

The header is found from its words ("STT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời gian", "ĐVT",
years), rows from their sequential numbers ("1", "2", ... alone on a line), and cells from what
their first words look like: a unit name opens the lead or coordinating cell, a time expression the
time cell, a unit of measure followed by one number per year the values of an indicator.
"""

from __future__ import annotations

import re

from tracker.importer.areatables import area_columns, area_rows_from_lines, title_year
from tracker.importer.dates import parse_time_cell
from tracker.importer.numbers import parse_number
from tracker.importer.tablerows import YEAR_RE, AssignmentRow, ParsedTable, PovertyRow, TargetRow
from tracker.importer.tables import classify_header
from tracker.importer.textnorm import is_mostly_upper, lower_key
from tracker.importer.unitphrase import starts_with_unit

_STT = re.compile(r"^(?:STT|Stt|stt|TT|Số\s+TT)\b")
_BARE_NUMBER = re.compile(r"^\d{1,3}\.?$")
_GROUP_ROW = re.compile(r"^(?:[IVX]{1,4})\.?$")
_FIRST_ROW = re.compile(r"^1\.?(?:\s+[^\W\d]|$)")
_TIME_START = re.compile(
    r"^(?:Năm|Quý|Tháng|Ngày|Trước|Trong|Hằng|Hàng|Định kỳ|Thường xuyên|Cuối|Từ|Giai đoạn|Chậm nhất|Hoàn thành"
    r"|Đến|\d)",
    re.IGNORECASE,
)
_TIME_WORD = re.compile(r"^(?:Trước|Chậm nhất|Hoàn thành|Hằng|Hàng|Định kỳ|Thường xuyên|Quý|Tháng|Ngày)\b")
_CONTINUES = (",", ";", "-", "–", "và", "&")
_UNITS_OF_MEASURE = {
    "%",
    "hộ",
    "người",
    "căn",
    "nhà",
    "lượt",
    "xã",
    "thôn",
    "trường",
    "km",
    "ha",
    "tấn",
    "đồng",
    "lớp",
    "cơ sở",
    "mô hình",
    "lao động",
    "học sinh",
    "trẻ",
    "cái",
    "chiếc",
    "công trình",
    "dự án",
    "tỷ đồng",
    "triệu đồng",
    "nghìn đồng",
    "trđ",
    "tr.đ",
    "phòng",
    "giường",
    "bác sĩ",
    "thẻ",
    "điểm",
    "tiêu chí",
    "lần",
}


def read_line_table(lines: list[str], prefix: str, plan_year: int | None) -> ParsedTable | None:
    """Interpret an appendix whose table cells are one per line; None when no known table is found."""
    start = next((i for i, line in enumerate(lines) if _STT.match(line)), 0)
    end = next((i for i in range(start + 1, len(lines)) if _FIRST_ROW.match(lines[i])), None)
    if end is None:
        return None
    # "I" / "CẢI CÁCH THỂ CHẾ" right before the first row opens the first group, not the header.
    group = next((i for i in range(max(start + 1, end - 4), end) if _GROUP_ROW.match(lines[i])), None)
    if group is not None and all(is_mostly_upper(line, 0.7) for line in lines[group + 1 : end]):
        end = group
    header = " ".join(lines[start:end])
    kind = classify_header(header)
    body = lines[end:]
    if kind == "assignment":
        return ParsedTable(kind, prefix, assignments=_assignments(header, body))
    if kind == "target":
        years = [int(y) for y in dict.fromkeys(YEAR_RE.findall(header))]
        has_uom = bool(re.search(r"đvt|đơn vị tính", lower_key(header)))
        return ParsedTable(kind, prefix, targets=_targets(body, years, has_uom))
    if kind == "area_target":
        year = title_year(lines[:start], plan_year)
        return ParsedTable(kind, prefix, targets=area_rows_from_lines(body, area_columns(header) or [], year))
    if kind == "poverty":
        years = [int(y) for y in dict.fromkeys(YEAR_RE.findall(header))] or ([plan_year] if plan_year else [None])
        return ParsedTable(kind, prefix, poverty=_poverty(body, years))
    return None


def find_line_tables(lines: list[str]) -> list[tuple[int, int]]:
    """Find tables laid out one cell per line inside running text: (start, end) line ranges.

    A table starts at an "STT" line followed within a few lines by a recognised header and a first
    row, and runs to the next part heading (a Roman-numbered, mostly capitalised line).
    """
    from tracker.importer.sections import ROMAN_HEADING

    found: list[tuple[int, int]] = []
    index = 0
    while index < len(lines):
        if not (_STT.match(lines[index]) and len(lines[index].split()) <= 6):
            index += 1
            continue
        first_row = next((j for j in range(index + 1, min(len(lines), index + 25)) if _FIRST_ROW.match(lines[j])), None)
        if first_row is None or classify_header(" ".join(lines[index:first_row])) is None:
            index += 1
            continue
        end = next(
            (j for j in range(first_row, len(lines)) if ROMAN_HEADING.match(lines[j]) and _is_heading(lines[j])),
            len(lines),
        )
        found.append((index, end))
        index = end
    return found


def _is_heading(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 3 and sum(c.isupper() for c in letters) / len(letters) >= 0.6


def _column_order(header: str) -> list[str]:
    key = lower_key(header)
    found = []
    for role, pattern in (
        ("task", r"nhiệm vụ|nội dung|hoạt động|tên"),
        ("lead", r"chủ trì|đơn vị thực hiện|cơ quan thực hiện|đơn vị phụ trách"),
        ("coordinating", r"phối hợp"),
        ("time", r"thời gian|thời hạn|tiến độ|hoàn thành"),
    ):
        match = re.search(pattern, key)
        if match:
            found.append((match.start(), role))
    return [role for _, role in sorted(found)]


def _split_rows(body: list[str]) -> list[tuple[str, list[str]]]:
    """Cut the body of a table into numbered rows.

    Group rows ("I" then "CẢI CÁCH THỂ CHẾ") label the rows under them ("I.1"), whose numbers may start
    again at 1 or run on; any other lone number is a page number.
    """
    rows: list[tuple[str, list[str]]] = []
    expected = 1
    group = ""
    in_group_title = False
    for line in body:
        if _GROUP_ROW.match(line):
            group, in_group_title = line.rstrip("."), True
            continue
        if in_group_title and is_mostly_upper(line, 0.7):
            continue  # the group's title, one or more capitalised lines
        in_group_title = False
        if _BARE_NUMBER.match(line):
            number = int(line.rstrip("."))
            if number == expected or (group and number == 1 and not _opened_in(rows, group)):
                rows.append((f"{group}.{number}" if group else str(number), []))
                expected = number + 1
            continue  # a page number inside the table
        if rows:
            rows[-1][1].append(line)
    return rows


def _opened_in(rows: list[tuple[str, list[str]]], group: str) -> bool:
    return any(label.startswith(f"{group}.") for label, _lines in rows)


def _assignments(header: str, body: list[str]) -> list[AssignmentRow]:
    order = _column_order(header)
    out = []
    for number, lines in _split_rows(body):
        row = AssignmentRow(number)
        position = 0
        previous = ""
        for line in lines:
            role = order[position] if position < len(order) else "time"
            upcoming = order[position + 1 :]
            if (upcoming and not previous.rstrip().endswith(_CONTINUES)) or (role == "task" and upcoming):
                for offset, candidate in enumerate(upcoming, 1):
                    if _opens_cell(candidate, line):
                        position += offset
                        role = candidate
                        break
            setattr(row, role, (getattr(row, role) + " " + line).strip())
            previous = line
        out.append(row)
    return out


def _opens_cell(role: str, line: str) -> bool:
    if not (line[:1].isupper() or line[:1].isdigit()):
        return False  # a cell starts with a capital: "đơn vị hành chính", "ngày 17/10/2018" are wrapped lines
    if role in ("lead", "coordinating"):
        return starts_with_unit(line)
    if role == "time":
        if not _TIME_START.match(line) or len(line.split()) > 8:
            return False
        # "Trước ngày" may end the line and the date start the next one.
        return bool(parse_time_cell(line, 2000) or _TIME_WORD.match(line))
    return False


def _is_uom(tokens: list[str], i: int) -> int:
    """Return how many tokens form a unit of measure at `i` (0 when none)."""
    for width in (2, 1):
        if i + width <= len(tokens) and " ".join(tokens[i : i + width]).lower() in _UNITS_OF_MEASURE:
            return width
    return 0


def _targets(body: list[str], years: list[int], has_uom: bool) -> list[TargetRow]:
    """Read indicator rows: text, then a unit of measure and one value per year, then the responsible unit.

    Values may share the indicator's line or sit one per line, so tokens are read across lines; a
    line holding only the next row number starts a numbered group, any other lone number while no
    values are awaited is a page number.
    """
    count = len(years)
    body = _join_wrapped_labels(body)
    tokens = [
        (token, index, position == 0, line)
        for index, line in enumerate(body)
        for position, token in enumerate(line.split())
    ]
    rows: list[TargetRow] = []
    group = number = ""
    expected = 1
    pending: list[str] = []
    responsible: list[str] | None = None
    skip_line = -1
    i = 0
    while i < len(tokens):
        token, line_no, first, line = tokens[i]
        if line_no == skip_line:
            i += 1
            continue
        if first and _BARE_NUMBER.match(line):
            if int(line.rstrip(".")) == expected:
                number, expected, responsible = str(expected), expected + 1, None
            i += 1
            continue
        if first and responsible is not None and line.startswith(("+", "-")):
            responsible = None
        if first and responsible is None and line.startswith("-") and line.rstrip().endswith(":"):
            group, pending, skip_line = line.strip(" -:"), [], line_no
            continue
        width = _is_uom([t[0] for t in tokens], i) if has_uom else 0
        window = [t[0] for t in tokens[i + width : i + width + count]]
        if (width or not has_uom) and len(window) == count and all(_is_value(t) for t in window):
            values = {
                year: (parse_number(t) or 0.0, t)
                for year, t in zip(years, window, strict=True)
                if parse_number(t) is not None
            }
            uom = " ".join(t[0] for t in tokens[i : i + width])
            rows.append(TargetRow(number, group, " ".join(pending).strip(" +-:"), uom, values))
            pending, responsible = [], []
            i += width + count
            continue
        if responsible is not None and rows:
            responsible.append(token)
            rows[-1].responsible = " ".join(responsible)
        else:
            pending.append(token)
        i += 1
    _inherit_responsible(rows)
    return rows


def _join_wrapped_labels(body: list[str]) -> list[str]:
    """Join a group label wrapped over two lines ("- Chiều thiếu hụt về giáo dục, đào" + "tạo:")."""
    out: list[str] = []
    for line in body:
        previous = out[-1] if out else ""
        wrapped = (
            previous.startswith("-")
            and not previous.rstrip().endswith(":")
            and line.rstrip().endswith(":")
            and len(line.split()) <= 4
            and not line.startswith(("+", "-"))
        )
        if wrapped:
            out[-1] = f"{previous} {line}"
        else:
            out.append(line)
    return out


def _is_value(token: str) -> bool:
    return parse_number(token) is not None or token in ("-", "–", "x")


def _inherit_responsible(rows: list[TargetRow]) -> None:
    """Share a merged "Đơn vị thực hiện" cell among the rows of its numbered group."""
    by_group: dict[str, list[TargetRow]] = {}
    for row in rows:
        by_group.setdefault(row.number, []).append(row)
    for members in by_group.values():
        current = None
        for index, row in enumerate(members):
            if row.responsible:
                current = row.responsible
                for earlier in members[:index]:
                    earlier.responsible = earlier.responsible or current
            elif current:
                row.responsible = current


def _poverty(body: list[str], years: list[int | None]) -> list[PovertyRow]:
    tokens = " ".join(body).split()
    width = 3 * len(years)
    out: list[PovertyRow] = []
    expected = 1
    i = 0
    while i < len(tokens):
        if tokens[i] == str(expected) and i + 1 < len(tokens) and parse_number(tokens[i + 1]) is None:
            i += 1
        name: list[str] = []
        while i < len(tokens) and parse_number(tokens[i]) is None:
            name.append(tokens[i])
            i += 1
        run: list[str] = []
        while i < len(tokens) and parse_number(tokens[i]) is not None:
            run.append(tokens[i])
            i += 1
        if len(run) > width and run[-1] == str(expected + 1):
            run, i = run[:-1], i - 1  # the next row's number
        if len(run) < width or not name:
            continue
        name += run[: len(run) - width]  # digits that belong to the name ("Thôn 1")
        values = run[len(run) - width :]
        area = " ".join(name)
        for index, year in enumerate(years):
            households, poor, rate = values[3 * index : 3 * index + 3]
            out.append(PovertyRow(area, year, parse_number(households), parse_number(poor), parse_number(rate), rate))
        if not re.match(r"(?i)^(?:tổng|cộng|toàn)", area):
            expected += 1
    return out
