"""People files: reading a .xlsx or .csv list of people into rows, and writing the template to fill in.

Only the file format lives here (columns, encodings, limits, hostile files); what a row means is decided by
tracker/operations/people_import.py.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tracker.operations.errors import ValidationFailed

#: (key, header in the template). The header is Vietnamese: the people who fill the file in read it.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("username", "Tên đăng nhập"),
    ("full_name", "Họ và tên"),
    ("title", "Chức vụ"),
    ("email", "Email"),
    ("zalo_phone", "Số điện thoại Zalo"),
    ("unit_code", "Mã đơn vị"),
    ("unit_name", "Tên đơn vị"),
    ("roles", "Vai trò"),
    ("digest", "Nhận tin tổng hợp hằng ngày"),
)
HEADERS = dict(COLUMNS)
#: Other spellings accepted in a header row (an English sheet, a hand-made list).
_ALIASES = {
    "username": "username", "tài khoản": "username", "ten dang nhap": "username",
    "full_name": "full_name", "full name": "full_name", "họ tên": "full_name", "name": "full_name",
    "title": "title", "position": "title",
    "e-mail": "email", "email": "email", "thư điện tử": "email",
    "zalo_phone": "zalo_phone", "zalo phone": "zalo_phone", "zalo": "zalo_phone", "phone": "zalo_phone",
    "số điện thoại": "zalo_phone", "điện thoại": "zalo_phone",
    "unit_code": "unit_code", "unit code": "unit_code", "mã đv": "unit_code",
    "unit_name": "unit_name", "unit": "unit_name", "unit name": "unit_name", "đơn vị": "unit_name",
    "roles": "roles", "role": "roles",
    "digest": "digest", "daily digest": "digest",
}
#: Headers refused outright: a password never travels in a spreadsheet.
_PASSWORD_HEADERS = {"mật khẩu", "password", "mat khau"}
REQUIRED_KEYS = ("full_name", "roles")
#: Characters allowed per column (the database's sizes); longer text is a row error, never cut.
MAX_LENGTHS = {"username": 64, "full_name": 255, "title": 255, "email": 255, "zalo_phone": 32, "unit_code": 32,
               "unit_name": 600, "roles": 255, "digest": 16}
#: An .xlsx is a zip: refuse one that would expand to more than this (a zip bomb), whatever its own size.
_MAX_UNZIPPED = 200 * 1024 * 1024
#: How many rows from the top are searched for the header row (a title line or two above it is common).
_HEADER_SEARCH_ROWS = 10


@dataclass
class SheetRow:
    number: int  # the row number the spreadsheet shows (1-based, header row included)
    values: dict[str, str]
    formulas: list[str] = field(default_factory=list)  # keys whose cell held a formula (value dropped)


@dataclass
class Sheet:
    rows: list[SheetRow]
    ignored_columns: list[str]


def _header_key(text: object) -> str | None:
    cleaned = re.sub(r"\(.*?\)", " ", str(text or ""))
    cleaned = " ".join(cleaned.replace("*", " ").split()).casefold()
    if not cleaned:
        return None
    for key, header in COLUMNS:
        if cleaned == header.casefold():
            return key
    return _ALIASES.get(cleaned, "?" + cleaned)


def _cell_text(value: object) -> str:
    """A cell as text: numbers typed into a text column (a code, a phone) lose Excel's ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def read_people_file(filename: str, data: bytes, *, max_bytes: int, max_rows: int) -> Sheet:
    """Read the people rows of a .xlsx (first sheet) or .csv file; ValidationFailed for an unusable file."""
    if len(data) > max_bytes:
        size = f"{max_bytes / 1048576:g} MB" if max_bytes >= 1048576 else f"{max_bytes / 1024:g} KB"
        raise ValidationFailed(_l("The file is larger than %(size)s."), field="file", size=size)
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "xlsx" or (suffix != "csv" and data[:4] == b"PK\x03\x04"):
        raw_rows = _xlsx_rows(data, max_rows)
    elif suffix == "csv":
        raw_rows = _csv_rows(data, max_rows)
    else:
        raise ValidationFailed(_l("Choose a .xlsx or .csv file."), field="file")
    return _to_sheet(raw_rows, max_rows)


def _xlsx_rows(data: bytes, max_rows: int) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    unreadable = ValidationFailed(_l("The file is not a readable Excel workbook (.xlsx)."), field="file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > _MAX_UNZIPPED:
                raise unreadable
        # Read-only mode streams the sheet instead of building every cell: a big file stays cheap.
        # data_only=False keeps formulas as their text ("=..."), so a formula is seen and refused.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except ValidationFailed:
        raise
    except Exception:  # openpyxl raises many kinds for a broken or foreign file (a .docx, an .xls renamed)
        raise unreadable from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise unreadable
        rows: list[tuple[int, list[object]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if any(v is not None and str(v).strip() for v in values):
                rows.append((number, list(values)))
                if len(rows) > max_rows + _HEADER_SEARCH_ROWS:
                    break  # _to_sheet reports the limit; reading on would only cost time
        return rows
    finally:
        workbook.close()


def _csv_rows(data: bytes, max_rows: int) -> list[tuple[int, list[object]]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = None
    else:
        try:
            text = data.decode("utf-8-sig")  # with or without the BOM Excel writes for "CSV UTF-8"
        except UnicodeDecodeError:
            text = None
    if text is None or "\x00" in text:
        raise ValidationFailed(
            _l("A CSV file must be encoded in UTF-8 (with or without BOM): in Excel, save it as \"CSV UTF-8\"."),
            field="file")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows: list[tuple[int, list[object]]] = []
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1):
            if any(v.strip() for v in values):
                rows.append((number, list(values)))
                if len(rows) > max_rows + _HEADER_SEARCH_ROWS:
                    break
    except csv.Error:
        raise ValidationFailed(_l("The CSV file is malformed (a quote is not closed)."), field="file") from None
    return rows


def _to_sheet(raw_rows: list[tuple[int, list[object]]], max_rows: int) -> Sheet:
    header_at = None
    keys: list[str | None] = []
    for index, (_number, values) in enumerate(raw_rows[:_HEADER_SEARCH_ROWS]):
        candidate = [_header_key(v) for v in values]
        if sum(1 for k in candidate if k and not k.startswith("?")) >= 2 and "full_name" in candidate:
            header_at, keys = index, candidate
            break
    if header_at is None:
        raise ValidationFailed(
            _l("No header row found: the first sheet needs the columns %(columns)s (download the template)."),
            field="file", columns=", ".join(HEADERS[k] for k in ("username", "full_name", "unit_code", "roles")))
    refused = [str(raw_rows[header_at][1][i]) for i, k in enumerate(keys) if k and k[1:] in _PASSWORD_HEADERS]
    if refused:
        raise ValidationFailed(_l("Passwords are never imported: remove the column %(column)s. New accounts choose "
                                  "their password with the link \"Forgot password\"."), field="file",
                               column=refused[0])
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key and not key.startswith("?"):
            if key in seen:
                raise ValidationFailed(_l("The column %(column)s appears twice."), field="file",
                                       column=str(raw_rows[header_at][1][i]))
            seen.add(key)
    missing = [HEADERS[k] for k in REQUIRED_KEYS if k not in seen]
    if missing or not ({"unit_code", "unit_name"} & seen):
        missing += [] if {"unit_code", "unit_name"} & seen else [f"{HEADERS['unit_code']} / {HEADERS['unit_name']}"]
        raise ValidationFailed(_l("Missing column(s): %(columns)s."), field="file", columns=", ".join(missing))
    body = raw_rows[header_at + 1:]
    if len(body) > max_rows:
        raise ValidationFailed(_l("The file has more than %(n)s people rows; split it into several files."),
                               field="file", n=f"{max_rows:,}".replace(",", "."))
    if not body:
        raise ValidationFailed(_l("The file has no people rows under its header."), field="file")
    rows = []
    for number, values in body:
        row = SheetRow(number=number, values={})
        for key, value in zip(keys, values, strict=False):
            if not key or key.startswith("?"):
                continue
            if isinstance(value, str) and value.lstrip().startswith("="):
                row.formulas.append(key)  # a formula's text is not the person's data; the row is refused
                continue
            row.values[key] = _cell_text(value)
        rows.append(row)
    ignored = [str(raw_rows[header_at][1][i]) for i, k in enumerate(keys) if k and k.startswith("?")]
    return Sheet(rows=rows, ignored_columns=ignored)


# --- The template ------------------------------------------------------------------------------------------

def template_bytes(role_words: list[tuple[str, str]]) -> bytes:
    """The .xlsx to fill in: the people sheet (Vietnamese headers) and a sheet explaining each column.

    `role_words` is (word to write, what it allows), from the import operation that reads them back.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from tracker.spreadsheets import append_row, style_header, workbook_bytes

    workbook = Workbook()
    people = workbook.active
    people.title = "Danh sách"
    append_row(people, [HEADERS[k] + (" *" if k in REQUIRED_KEYS else "") for k, _h in COLUMNS])
    style_header(people, 1)
    people.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHI", (18, 26, 22, 28, 18, 14, 34, 26, 16), strict=True):
        people.column_dimensions[column].width = width
        # Text format for the whole column, so a phone keeps its leading 0 and a code stays a code.
        people.column_dimensions[column].number_format = "@"

    guide = workbook.create_sheet("Hướng dẫn")
    append_row(guide, [_("Column"), _("Required"), _("What to write"), _("Example")])
    style_header(guide, 1)
    explanations = {
        "username": (_("For a new account"), _("2-64 lowercase letters, digits, '.', '_' or '-'. Identifies the "
                                                  "account: importing the file again updates it."), "nguyenvana"),
        "full_name": (_("Yes"), _("The person's full name."), "Nguyễn Văn A"),
        "title": (_("No"), _("Position, shown in messages."), "Công chức Tư pháp - Hộ tịch"),
        "email": (_("No"), _("E-mail for reminders and for choosing a password. Without a username, an existing "
                             "account is found by its e-mail."), "nguyenvana@example.gov.vn"),
        "zalo_phone": (_("No"), _("Vietnamese mobile number receiving Zalo messages."), "0912345678"),
        "unit_code": (_("Code or name"), _("The unit's official code (e.g. W26734 or 26734 for a commune, "
                                            "P33 for a province)."), "W26734"),
        "unit_name": (_("Code or name"), _("The unit's name, among the units you administer. When several units "
                                            "share the name, add the unit above: 'Xã A / Trạm Y tế'."),
                      "Xã Cao Ngọc / Trạm Y tế"),
        "roles": (_("Yes"), _("One or more roles on that unit, separated by commas (see below)."), "Cán bộ"),
        "digest": (_("No"), _("'có' to receive one daily summary instead of one message per task."), "không"),
    }
    for key, header in COLUMNS:
        required_text, text, example = explanations[key]
        append_row(guide, [header, required_text, text, example])
    append_row(guide, [])
    append_row(guide, [_("Roles"), "", _("What the role allows")])
    guide.cell(guide.max_row, 1).font = Font(bold=True)
    for word, meaning in role_words:
        append_row(guide, [word, "", meaning])
    append_row(guide, [])
    for note in (
        _("Passwords are never in the file: a new account chooses its password with \"Forgot password\" on the "
          "sign-in page (a link by e-mail), or an administrator sets one."),
        _("Importing the same file again changes nothing. A blank optional cell leaves the account's value as it "
          "is; roles are added, never taken away."),
        _("Nothing is written until you confirm the preview; a file with any error is not imported."),
    ):
        append_row(guide, [note])
    for column, width in zip("ABCD", (28, 16, 80, 30), strict=True):
        guide.column_dimensions[column].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    return workbook_bytes(workbook)
