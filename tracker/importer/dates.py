"""Vietnamese deadlines, periods and recurrences.

Plans write deadlines in many shapes: "trước ngày 25/9/2024", "trước 30/9/2024", "ngày 15 tháng 3
năm 2024", a day and month with no year (the plan's year), "tháng 6/2024", "quý III" (end of the
quarter), "Năm 2025" (end of that year), "cuối năm". A date is a deadline only when a cue such as
"trước", "chậm nhất", "xong", "hoàn thành" or "vào" introduces it, so that the dates of the documents
a plan cites ("Quyết định số 90/QĐ-TTg ngày 18/01/2022") never become deadlines.
"""

from __future__ import annotations

import calendar
import itertools
import re
from dataclasses import dataclass
from datetime import date

MIN_YEAR, MAX_YEAR = 1990, 2100

ROMAN = {
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "V": 5,
    "VI": 6,
    "VII": 7,
    "VIII": 8,
    "IX": 9,
    "X": 10,
    "XI": 11,
    "XII": 12,
    "XIII": 13,
    "XIV": 14,
    "XV": 15,
}


@dataclass(frozen=True)
class DateHit:
    """One date expression found in a text."""

    date: date
    text: str
    precision: str  # "day" | "month" | "quarter" | "half" | "year"
    start: int
    end: int

    def as_dict(self) -> dict[str, str]:
        """Return the contract form {"date", "text"} plus the precision."""
        return {"date": self.date.isoformat(), "text": self.text, "precision": self.precision}


def roman_to_int(token: str) -> int | None:
    """Convert a Roman numeral used for parts and quarters ("III" -> 3)."""
    return ROMAN.get(token.strip().upper())


def end_of_month(year: int, month: int) -> date:
    """Return the last day of `month`."""
    return date(year, month, calendar.monthrange(year, month)[1])


def end_of_quarter(year: int, quarter: int) -> date:
    """Return the last day of quarter 1-4."""
    return end_of_month(year, quarter * 3)


_EXPRESSION = re.compile(
    r"(?P<vn>ngày\s*(?P<vn_d>\d{1,2})\s*tháng\s*(?P<vn_m>\d{1,2})(?:\s*năm\s*(?P<vn_y>\d{4}))?)"
    r"|(?P<dmy>(?<![\d/.])(?P<dmy_d>\d{1,2})\s?[/.\-]\s?(?P<dmy_m>\d{1,2})\s?[/.\-]\s?(?P<dmy_y>\d{4})(?![\d/]))"
    r"|(?P<mend>cuối\s+tháng\s*(?P<mend_m>\d{1,2})(?:\s*(?:/|năm)\s*(?P<mend_y>\d{4}))?)"
    r"|(?P<my>tháng\s*(?P<my_m>\d{1,2})\s*(?:/|năm)\s*(?P<my_y>\d{4}))"
    # "6/2025", "01/2025" in a time column: a month of a year (never "13/2023/NĐ-CP", a document number).
    r"|(?P<mn>(?<![\d/.])(?P<mn_m>0?[1-9]|1[0-2])\s?/\s?(?P<mn_y>(?:19|20)\d{2})(?![\d/]))"
    r"|(?P<q>(?P<q_pre>cuối\s+)?quý\s*(?P<q_n>IV|III|II|I|[1-4])(?![\w])(?:\s*(?:/|năm)\s*(?P<q_y>\d{4}))?)"
    r"|(?P<half>(?:6|sáu)\s*tháng\s*(?P<half_which>đầu|cuối)\s*năm(?:\s*(?P<half_y>\d{4}))?)"
    r"|(?P<ye>(?P<ye_which>cuối|giữa)\s+năm(?:\s*(?P<ye_y>\d{4}))?)"
    r"|(?P<y>năm\s*(?P<y_y>\d{4})(?![\d/]))"
    r"|(?P<m>tháng\s*(?P<m_m>\d{1,2})(?![\d/]))"
    r"|(?P<dm>(?<![\d/.])(?P<dm_d>\d{1,2})\s?/\s?(?P<dm_m>\d{1,2})(?![\d/]))",
    re.IGNORECASE,
)

# Expressions that need no cue: they only ever describe a point in time within the plan.
_SELF_CUED = {"mend", "q", "ye"}
# A cue right before the expression ("trước ngày", "chậm nhất vào", "xong trước", "Thời hạn:").
_CUE_BEFORE = re.compile(
    r"(?:trước|chậm\s+nhất(?:\s+là)?(?:\s+vào)?|hạn\s+chót(?:\s+là)?|thời\s+hạn\s*:?|thời\s+gian\s*:?"
    r"|tiến\s+độ\s*:?|xong|hoàn\s+thành|hoàn\s+tất|kết\s+thúc|đến\s+hết|hết|vào|trong|dịp|đến)"
    # "trước 16 giờ 00 ngày 20/10/2025", "trước 17h00 ngày 05/11": a time of day may come first.
    r"\s*(?:\d{1,2}\s*(?:giờ|h)\s*(?:\d{1,2}\s*(?:phút)?)?\s*,?\s*)?(?:ngày\s*)?[\"“(]?\s*$",
    re.IGNORECASE,
)
# "đến" and "trong" introduce a deadline for a precise date or month, not for a bare year ("đến năm
# 2025" is a horizon, "trong năm 2024" a period of activity).
_WEAK_CUES = re.compile(r"(?:đến|trong)\s*(?:ngày\s*)?$", re.IGNORECASE)
# A labelled time ("Thời gian thực hiện: Năm 2025", "Thời hạn hoàn thành: trong quý II") is always a deadline.
_LABEL_CUE = re.compile(
    r"(?:thời\s+(?:gian|hạn)(?:\s+(?:thực\s+hiện|hoàn\s+thành|báo\s+cáo))?|tiến\s+độ(?:\s+thực\s+hiện)?)"
    r"\s*:\s*(?:(?:trong|trước|hoàn\s+thành|chậm\s+nhất)\s+)?$",
    re.IGNORECASE,
)
_STRONG_FOR_YEAR = re.compile(r"(?:hoàn\s+thành|xong|hoàn\s+tất)\s+(?:trong|trước|vào)?\s*$", re.IGNORECASE)


def _valid(year: int, month: int, day: int) -> date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _resolve(match: re.Match[str], default_year: int | None) -> tuple[date, str] | None:
    """Turn one regex match into (date, precision)."""
    kind = match.lastgroup
    groups = match.groupdict()

    def year_of(key: str) -> int | None:
        """Return the year written in group `key`, else the default year."""
        value = groups.get(key)
        return int(value) if value else default_year

    if kind == "vn" or kind == "dmy" or kind == "dm":
        prefix = {"vn": "vn", "dmy": "dmy", "dm": "dm"}[kind]
        year = year_of(f"{prefix}_y") if kind != "dm" else default_year
        if year is None:
            return None
        day_value = _valid(year, int(groups[f"{prefix}_m"]), int(groups[f"{prefix}_d"]))
        return (day_value, "day") if day_value else None
    if kind in ("mend", "my", "m", "mn"):
        month = int(groups[f"{kind}_m"])
        year = year_of(f"{kind}_y") if kind != "m" else default_year
        if year is None or not 1 <= month <= 12 or not MIN_YEAR <= year <= MAX_YEAR:
            return None
        return end_of_month(year, month), "month"
    if kind == "q":
        token = groups["q_n"]
        quarter = int(token) if token.isdigit() else roman_to_int(token)
        year = year_of("q_y")
        if year is None or quarter is None or not 1 <= quarter <= 4:
            return None
        return end_of_quarter(year, quarter), "quarter"
    if kind == "half":
        year = year_of("half_y")
        if year is None:
            return None
        first = groups["half_which"].lower() == "đầu"
        return (date(year, 6, 30) if first else date(year, 12, 31)), "half"
    if kind == "ye":
        year = year_of("ye_y")
        if year is None:
            return None
        middle = groups["ye_which"].lower() == "giữa"
        return (date(year, 6, 30) if middle else date(year, 12, 31)), "half" if middle else "year"
    if kind == "y":
        year = int(groups["y_y"])
        if not MIN_YEAR <= year <= MAX_YEAR:
            return None
        return date(year, 12, 31), "year"
    return None


def find_date_expressions(text: str, default_year: int | None) -> list[DateHit]:
    """Find every date expression in `text`, deadline or not, resolving missing years to `default_year`."""
    hits = []
    for match in _EXPRESSION.finditer(text):
        resolved = _resolve(match, default_year)
        if resolved:
            hits.append(DateHit(resolved[0], match.group(0).strip(), resolved[1], match.start(), match.end()))
    return hits


def _has_cue(text: str, hit: DateHit, kind: str) -> bool:
    before = text[max(0, hit.start - 40) : hit.start]
    if kind in _SELF_CUED or _LABEL_CUE.search(before):
        return True
    if not _CUE_BEFORE.search(before):
        return False
    if _WEAK_CUES.search(before):
        # "đến ngày 30/6", "trong tháng 6/2024", "trong quý III": precise enough to be a deadline.
        return hit.precision in ("day", "month") or bool(_STRONG_FOR_YEAR.search(before))
    return True


_LIST_GAP = re.compile(r"\s*(?:,|và|hoặc|;)\s*(?:ngày\s*)?", re.IGNORECASE)


def find_deadlines(text: str, default_year: int | None) -> list[DateHit]:
    """Find the deadlines in a task's text: date expressions introduced by a deadline cue."""
    found: list[DateHit] = []
    for match in _EXPRESSION.finditer(text):
        resolved = _resolve(match, default_year)
        if not resolved:
            continue
        hit = DateHit(resolved[0], match.group(0).strip(), resolved[1], match.start(), match.end())
        if _has_cue(text, hit, match.lastgroup or ""):
            found.append(_with_cue_text(text, hit))
        elif found and _LIST_GAP.fullmatch(text[found[-1].end : hit.start]):
            found.append(hit)  # "trước ngày 15/6 và 15/12": the cue covers the whole list
    return found


def _with_cue_text(text: str, hit: DateHit) -> DateHit:
    """Widen the quoted words to include the cue ("trước ngày 25/9/2024") for the reviewer."""
    before = text[max(0, hit.start - 40) : hit.start]
    cue = _CUE_BEFORE.search(before) or _LABEL_CUE.search(before)
    start = hit.start - (len(before) - cue.start()) if cue else hit.start
    return DateHit(hit.date, " ".join(text[start : hit.end].split()), hit.precision, start, hit.end)




_MONTH_RANGE = re.compile(
    r"tháng\s*(?P<a>\d{1,2})\s*(?:[-–—]|đến)\s*(?:tháng\s*)?(?P<b>\d{1,2})\s*(?:/|năm)\s*(?P<y>\d{4})", re.IGNORECASE
)


_BARE_YEARS = re.compile(r"(?<![\d/.])((?:19|20)\d{2})(?![\d/])")


def parse_time_cell(cell: str, default_year: int | None) -> list[DateHit]:
    """Read the "Thời gian" cell of an assignment table: the date each period it names ends.

    Periods joined by ";" are separate deadlines ("2025; 2026"); within one, a range ("Từ 01/6 - 30/6/2023",
    "Tháng 11-12/2025", "2026 - 2030") or several periods ("Quý III, quý IV/2025", "2025 và những năm tiếp
    theo") end with the last one. A bare year in a time column ("2026", "Năm 2026") ends on 31 December.
    """
    out: list[DateHit] = []
    offset = 0
    for part in cell.split(";"):
        for hit in _time_part(part, default_year):
            out.append(DateHit(hit.date, hit.text, hit.precision, offset + hit.start, offset + hit.end))
        offset += len(part) + 1
    return out


_RANGE_GAP = re.compile(r"^\s*(?:[-–—]|đến(?:\s+hết)?|tới)\s*(?:ngày\s*)?$", re.IGNORECASE)


def _time_part(part: str, default_year: int | None) -> list[DateHit]:
    text = part.strip()
    if not text:
        return []
    months = _MONTH_RANGE.search(part)
    if months and 1 <= int(months.group("b")) <= 12 and MIN_YEAR <= int(months.group("y")) <= MAX_YEAR:
        due = end_of_month(int(months.group("y")), int(months.group("b")))
        return [DateHit(due, text, "month", months.start(), months.end())]
    # "Từ 01/6 - 30/6/2023": a date without its year takes the year the period states.
    stated = re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", part)
    hits = find_date_expressions(part, int(stated[-1]) if stated else default_year)
    years = [
        DateHit(date(int(m.group(1)), 12, 31), text, "year", m.start(), m.end())
        for m in _BARE_YEARS.finditer(part)
        if not any(h.start <= m.start() < h.end for h in hits)
    ]
    days = [hit for hit in hits if hit.precision == "day"]
    if len(days) > 1 and len(days) == len(hits) and not any(
        _RANGE_GAP.match(part[a.end : b.start]) for a, b in itertools.pairwise(days)
    ):
        return days  # "Trước 15/6 và 15/12": two days, two deadlines
    candidates = hits + years
    if not candidates:
        return []
    last = max(candidates, key=lambda h: (h.date, -len(h.text)))
    return [DateHit(last.date, text, last.precision, last.start, last.end)]


RECURRENCE_ORDER = ("daily", "weekly", "monthly", "quarterly", "semiannual", "annual")
_RECURRENCE_PATTERNS = {
    "daily": re.compile(
        r"(?:hằng|hàng|mỗi)\s+ngày|báo\s+cáo\s+ngày(?!\s*\d)|\d+\s*(?:lần|đợt)\s*/\s*ngày", re.IGNORECASE
    ),
    "weekly": re.compile(
        r"(?:hằng|hàng|mỗi)\s+tuần|báo\s+cáo\s+tuần|định\s+kỳ\s+tuần|\d+\s*(?:lần|đợt|kỳ)\s*/\s*tuần", re.IGNORECASE
    ),
    "monthly": re.compile(
        r"(?:hằng|hàng|mỗi)\s+tháng|định\s+kỳ\s+(?:hằng\s+|hàng\s+)?tháng|báo\s+cáo\s+tháng"
        r"|\d+\s*(?:lần|đợt|kỳ)\s*/\s*tháng",
        re.IGNORECASE,
    ),
    "quarterly": re.compile(
        r"(?:hằng|hàng|mỗi)\s+quý|định\s+kỳ\s+(?:hằng\s+|hàng\s+)?quý|báo\s+cáo\s+quý|theo\s+quý"
        r"|\d+\s*(?:lần|đợt|kỳ)\s*/\s*quý|(?:0?4|bốn)\s*(?:lần|đợt|kỳ)\s*/\s*năm"
        # "trước ngày 20 tháng cuối quý": the last month of every quarter, not of one named quarter.
        r"|tháng\s+cuối\s+(?:của\s+)?(?:mỗi\s+|hằng\s+|hàng\s+)?quý(?!\s*(?:IV|III|II|I|[1-4])\b)",
        re.IGNORECASE,
    ),
    "semiannual": re.compile(
        r"(?<!\d)(?:6|sáu)\s+tháng(?!\s+(?:trở|trước(?!\s+ngày)|sau|kể|liên|tuổi))|nửa\s+năm|bán\s+niên"
        r"|(?:0?2|hai)\s*(?:lần|đợt|kỳ)\s*/\s*năm",
        re.IGNORECASE,
    ),
    "annual": re.compile(
        r"(?:hằng|hàng|mỗi)\s+năm|báo\s+cáo\s+năm(?!\s*\d)|tổng\s+kết\s+năm(?!\s*\d)"
        r"|(?:,|và|hoặc)\s*(?:1|một|cả)?\s*năm(?!\s*\d)(?!\s+(?:học|tài|tiếp))|(?:0?1|một)\s*(?:lần|đợt|kỳ)\s*/\s*năm"
        # "năm 2025 và các năm tiếp theo": a first year, then every year after it
        r"|\d{4}\s*(?:\(\d{4}\)\s*)?(?:và|,)\s*(?:các|những)\s+năm\s+tiếp\s+theo",
        re.IGNORECASE,
    ),
}
_PERIODIC = re.compile(r"định\s+kỳ", re.IGNORECASE)


# A duty that recurs, not a noun that does: "Hằng năm, tổ chức ...", "Hàng năm thực hiện ...", "định kỳ kiểm
# tra ...", "..., hằng quý báo cáo"; never "kế hoạch hằng năm" or "kinh phí hàng năm", which name a thing.
_DUTY_FREQUENCY = re.compile(
    r"(?:^|[,;:(]\s*)(?:[-+*•]\s*)?(?:định\s+kỳ\s+)?(?:hằng|hàng|mỗi)\s+(?:ngày|tuần|tháng|quý|năm)\b(?!\s+(?:học|tài))"
    r"|\bđịnh\s+kỳ\s+(?:hằng|hàng|mỗi)\s+(?:ngày|tuần|tháng|quý|năm)\b",
    re.IGNORECASE,
)
_PERIODIC_DUTY = re.compile(r"(?:^|[,;:(]\s*)(?:[-+*•]\s*)?định\s+kỳ\s+(?=\S)", re.IGNORECASE)


def duty_frequency(clause: str) -> bool:
    """Tell whether a clause says that the duty itself recurs ("Hằng năm, tổ chức ...", "định kỳ kiểm tra")."""
    from tracker.importer.unitphrase import opens_with_verb

    if _DUTY_FREQUENCY.search(clause) or _PERIODIC_DUTY.search(clause):
        return True
    return any(opens_with_verb(clause[m.end() :]) for m in re.finditer(r"\bđịnh\s+kỳ\s+", clause, re.IGNORECASE))


def find_recurrence(text: str) -> list[str]:
    """Find the reporting frequencies named in `text`, in a fixed order.

    "6 tháng, 1 năm" gives ["semiannual", "annual"]. "định kỳ" with no period named gives
    ["periodic"]: the caller decides the default period and warns.
    """
    found = [name for name in RECURRENCE_ORDER if _RECURRENCE_PATTERNS[name].search(text)]
    if not found and _PERIODIC.search(text):
        return ["periodic"]
    return found


_MONTH_DAY = re.compile(
    r"(?:trước\s+)?ngày\s*(?P<a>\d{1,2})\s+(?:hằng|hàng|mỗi|của)\s+tháng"
    # "định kỳ hằng tháng (trước ngày 20)", "hằng tháng, chậm nhất ngày 25": the day of each month.
    r"|(?:hằng|hàng|mỗi)\s+tháng\s*[,(]?\s*(?:báo\s+cáo\s+)?(?:trước|chậm\s+nhất(?:\s+là)?|vào)\s+(?:ngày\s*)?"
    r"(?P<b>\d{1,2})(?![\d/.]|\s*tháng)",
    re.IGNORECASE,
)


def monthly_rule(text: str) -> str | None:
    """Return an RRULE for "trước ngày 20 hằng tháng" or "hằng tháng (trước ngày 20)", or None."""
    match = _MONTH_DAY.search(text)
    day = int(match.group("a") or match.group("b")) if match else 0
    if 1 <= day <= 31:
        return f"RRULE:FREQ=MONTHLY;BYMONTHDAY={day}"
    return None


# "trước ngày 31/01 hằng năm", "trước ngày 05/6 và ngày 05/12 hằng năm": days of the year that recur.
_DAY_MONTH = r"(?:(?<![\d/.])\d{1,2}\s?/\s?\d{1,2}(?![\d/])|\d{1,2}\s+tháng\s+\d{1,2}(?!\s*(?:/|năm)\s*\d))"
_YEARLY_DAYS = re.compile(
    rf"(?P<days>{_DAY_MONTH}(?:\s*(?:,|và|;)\s*(?:ngày\s*)?{_DAY_MONTH})*)\s*(?:của\s+)?(?:hằng|hàng|mỗi)\s+năm",
    re.IGNORECASE,
)
_YEARLY_COUNT = {1: ["annual"], 2: ["semiannual", "annual"], 4: ["quarterly"]}


def yearly_days(text: str) -> list[tuple[int, int]]:
    """Return the (month, day) pairs that recur every year in `text` ("trước 31/12 hằng năm" -> [(12, 31)])."""
    out: list[tuple[int, int]] = []
    for match in _YEARLY_DAYS.finditer(text):
        for day, month in re.findall(r"(\d{1,2})\s*(?:/|tháng)\s*(\d{1,2})", match.group("days")):
            if 1 <= int(month) <= 12 and 1 <= int(day) <= 31:
                out.append((int(month), int(day)))
    return out


def yearly_recurrence(text: str) -> tuple[list[str], str | None]:
    """Return (frequencies, RRULE) for recurring days of the year, or ([], None).

    One day a year is "annual" with an RRULE ("RRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31"); two days
    ("trước ngày 15/6 và 15/12 hằng năm") are the six-month and the year report, ["semiannual", "annual"];
    four are "quarterly".
    """
    days = sorted(set(yearly_days(text)))
    if not days:
        return [], None
    names = _YEARLY_COUNT.get(len(days), ["annual"])
    if len(days) == 1:
        month, day = days[0]
        return names, f"RRULE:FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={day}"
    return names, None


def without_yearly_days(text: str) -> str:
    """Return `text` with its recurring days of the year blanked out (their "hằng năm" is already read)."""
    return _YEARLY_DAYS.sub(lambda m: " " * len(m.group(0)), text)


def is_yearly(text: str, hit: DateHit) -> bool:
    """Tell whether a day-and-month deadline recurs every year ("trước ngày 31/01 hằng năm")."""
    if hit.precision != "day" or re.search(r"\d{4}", hit.text):
        return False
    return any(m.start("days") < hit.end <= m.end("days") for m in _YEARLY_DAYS.finditer(text))
